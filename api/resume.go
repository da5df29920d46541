package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/pregon/pregon/audit"
	"github.com/pregon/pregon/dispatcher"
)

// Resumer finishes Telegram posts that stopped part way. The Sender
// (dispatcher.Service) implements it; a Sender that does not makes the
// resume endpoint answer 501.
type Resumer interface {
	Resume(ctx context.Context, releaseID, deliveryID string) (*dispatcher.ResumeReport, error)
}

// resumeAnswer is the answer to a resume: the delivery queued, and what
// becomes of each part of its post.
type resumeAnswer struct {
	ID        string `json:"id"`
	ReleaseID string `json:"release_id"`
	Status    string `json:"status"`
	*dispatcher.ResumeReport
}

// resumeDelivery handles POST /v1/releases/{id}/deliveries/{delivery_id}/resume
// → 202 {id, release_id, status: "queued", parts, reposted_part, reposted_after_message_id, warning}:
// the parts of an uncertain or failed Telegram post that were not posted are posted, replying to
// its first part; an uncertain part is posted again, and the answer says which and after which message.
func (s *Server) resumeDelivery(w http.ResponseWriter, r *http.Request) error {
	res, ok := s.sender.(Resumer)
	if !ok {
		return &Problem{Status: http.StatusNotImplemented, Detail: "This server cannot resume deliveries."}
	}
	rid, did := r.PathValue("id"), r.PathValue("delivery_id")
	if rel, err := s.store.Release(r.Context(), rid); err == nil { // retention: archived deliveries are read-only
		if err := archivedConflict(rel); err != nil {
			return err
		}
	}
	rep, err := res.Resume(r.Context(), rid, did)
	switch {
	case errors.Is(err, dispatcher.ErrNotFound):
		return &Problem{Status: http.StatusNotFound, Detail: "Release " + rid + " has no delivery " + did + "."}
	case errors.Is(err, dispatcher.ErrConflict):
		return &Problem{Status: http.StatusConflict, Detail: err.Error()}
	case err != nil:
		return err
	}
	detail := map[string]any{"delivery_id": did}
	if rep.Reposted > 0 {
		detail["reposted_part"] = rep.Reposted
	}
	if err := s.audit(r, audit.Entry{Action: audit.ReleaseResume, Target: rid, Detail: detail}); err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, resumeAnswer{ID: did, ReleaseID: rid, Status: string(dispatcher.DeliveryQueued), ResumeReport: rep})
}
