package api

import (
	"context"
	"errors"
	"net/http"
	"regexp"

	"github.com/pregon/pregon/audit"
	"github.com/pregon/pregon/dispatcher"
)

// Archiver compacts the deliveries of a final release into its archive
// (retention). *store.Store implements it; a Store that does not makes
// the archive endpoint answer 501.
type Archiver interface {
	// ArchiveRelease archives a sent, sent_with_failures or cancelled
	// release and returns it; dispatcher.ErrNotFound, or
	// dispatcher.ErrConflict (wrapped, with the reason) for a release that
	// is not final.
	ArchiveRelease(ctx context.Context, id string) (*dispatcher.Release, error)
}

// DeliveryReader reads one delivery of a release, live or archived.
// *store.Store implements it.
type DeliveryReader interface {
	Delivery(ctx context.Context, releaseID, id string) (*dispatcher.Delivery, error)
}

// archiveRelease handles POST /v1/releases/{id}/archive → 200 release (with
// archived_at): the release's deliveries are compacted into its archive now,
// rather than once PREGON_RETENTION is over. 409 unless it is sent,
// sent_with_failures or cancelled. Archiving an archived release answers
// it as it is.
func (s *Server) archiveRelease(w http.ResponseWriter, r *http.Request) error {
	ar, ok := s.store.(Archiver)
	if !ok {
		return &Problem{Status: http.StatusNotImplemented, Detail: "This server cannot archive releases."}
	}
	rel, err := s.store.Release(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if rel.ArchivedAt != nil {
		return writeJSON(w, http.StatusOK, present(rel))
	}
	rel, err = ar.ArchiveRelease(r.Context(), rel.ID)
	if errors.Is(err, dispatcher.ErrConflict) {
		return &Problem{Status: http.StatusConflict, Detail: err.Error() + "."}
	}
	if err != nil {
		return err
	}
	var n int64
	if rel.Counts != nil {
		n = rel.Counts.Total
	}
	if err := s.audit(r, audit.Entry{Action: audit.ReleaseArchive, Target: rel.ID, Version: rel.Version,
		Detail: map[string]any{"deliveries": n}}); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, present(rel))
}

// getDelivery handles GET /v1/releases/{id}/deliveries/{delivery_id} → 200
// delivery, live or archived.
func (s *Server) getDelivery(w http.ResponseWriter, r *http.Request) error {
	dr, ok := s.store.(DeliveryReader)
	if !ok {
		return &Problem{Status: http.StatusNotImplemented, Detail: "This server cannot read one delivery."}
	}
	rid, did := r.PathValue("id"), r.PathValue("delivery_id")
	if _, err := s.store.Release(r.Context(), rid); err != nil {
		return err
	}
	if !deliveryIDPattern.MatchString(did) { // never a key built from odd input
		return &Problem{Status: http.StatusNotFound, Detail: "Release " + rid + " has no delivery " + did + "."}
	}
	d, err := dr.Delivery(r.Context(), rid, did)
	if errors.Is(err, dispatcher.ErrNotFound) {
		return &Problem{Status: http.StatusNotFound, Detail: "Release " + rid + " has no delivery " + did + "."}
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, d)
}

// deliveryIDPattern matches the ids dispatcher.DeliveryID makes.
var deliveryIDPattern = regexp.MustCompile(`^[0-9a-f]{24}$`)

// archivedConflict is the answer to what would change the deliveries of an
// archived release (retry, resume): they are kept in the archive, read-only.
func archivedConflict(rel *dispatcher.Release) error {
	if rel.ArchivedAt == nil {
		return nil
	}
	return &Problem{Status: http.StatusConflict, Detail: "Release " + rel.ID + " was archived on " +
		rel.ArchivedAt.UTC().Format("2006-01-02") + ": its deliveries are kept read-only and cannot be retried or resumed."}
}
