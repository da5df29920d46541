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
	Resume(ctx context.Context, releaseID, deliveryID string) error
}

// resumeDelivery handles POST /v1/releases/{id}/deliveries/{delivery_id}/resume
// → 202 {id, release_id, status: "queued"}: the parts of an uncertain or failed Telegram post that
// were not posted are posted, replying to its first part.
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
	err := res.Resume(r.Context(), rid, did)
	switch {
	case errors.Is(err, dispatcher.ErrNotFound):
		return &Problem{Status: http.StatusNotFound, Detail: "Release " + rid + " has no delivery " + did + "."}
	case errors.Is(err, dispatcher.ErrConflict):
		return &Problem{Status: http.StatusConflict, Detail: err.Error()}
	case err != nil:
		return err
	}
	if err := s.audit(r, audit.Entry{Action: audit.ReleaseResume, Target: rid, Detail: map[string]any{"delivery_id": did}}); err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, map[string]string{"id": did, "release_id": rid, "status": string(dispatcher.DeliveryQueued)})
}
