package dispatcher

import (
	"context"
	"errors"
	"fmt"
)

// CorrectionStore is what corrections need from storage besides Store. The
// Redis store (store.Store) implements it; a Service whose Store does not
// refuses corrections with ErrNoCorrections.
type CorrectionStore interface {
	// CorrectRelease records a correction of sent release rid made from its
	// version base: rid's text becomes corrected's, the text it replaces is
	// kept, and child (which it gives an ID) is recorded, to be created by
	// CreateCorrection; all in one step. When child's key is that of rid's
	// latest correction it records nothing and returns that correction's id
	// with created false. It returns ErrNotFound, or ErrConflict when rid is
	// not sent or not at version base.
	CorrectRelease(ctx context.Context, rid string, base int, corrected, child *Release) (id string, created bool, err error)
	// CreateCorrection creates, unless it exists, the release of correction
	// id of rid as CorrectRelease recorded it: a draft that no listing shows.
	CreateCorrection(ctx context.Context, rid, id string) error
	// LastCorrection returns the key and id of rid's latest correction ("",
	// "" when none).
	LastCorrection(ctx context.Context, rid string) (key, id string, err error)
	// Corrections returns rid's corrections, oldest first, with their counts.
	Corrections(ctx context.Context, rid string) ([]*Release, error)
	// Delivery returns one delivery of rid, or ErrNotFound.
	Delivery(ctx context.Context, rid, id string) (*Delivery, error)
	// Deliveries returns a page of rid's deliveries that match f, and the
	// next cursor ("" on the last page).
	Deliveries(ctx context.Context, rid string, f DeliveryFilter, cursor string, limit int) ([]*Delivery, string, error)
}

// ErrNoCorrections is returned by the correction methods of a Service whose
// Store is not a CorrectionStore.
var ErrNoCorrections = errors.New("this store keeps no corrections")

// ErrNotSent is wrapped by Correct's ErrConflict for a release that was not
// sent (yet).
var ErrNotSent = errors.New("a correction is for a release that was sent; edit it (PATCH) before sending")

func (s *Service) correctionStore() (CorrectionStore, error) {
	cs, ok := s.cfg.Store.(CorrectionStore)
	if !ok {
		return nil, ErrNoCorrections
	}
	return cs, nil
}

// Correct corrects release rid, which must have been sent (or sent with
// failures): its text becomes the corrected one, at the next version, and
// a correction goes to the people who got it: its Telegram posts are edited
// in place, and the recipients whose email was sent get the correction by
// email. It returns the correction and whether this call made it.
//
// It is idempotent: when req is the same as rid's latest correction (same
// note, fields and retraction), it returns that correction (created false)
// and sends nothing again. It returns ErrNotFound for an unknown release,
// an error wrapping ErrConflict and ErrNotSent for a release not sent, one
// wrapping ErrConflict for a correction of a correction or a release
// changed meanwhile, and ErrNoChange for a correction that changes nothing
// and is not a retraction.
func (s *Service) Correct(ctx context.Context, rid string, req *CorrectionRequest) (*Correction, bool, error) {
	cs, err := s.correctionStore()
	if err != nil {
		return nil, false, err
	}
	key := req.Key()
	if lastKey, lastID, err := cs.LastCorrection(ctx, rid); err != nil {
		return nil, false, err
	} else if lastKey == key {
		c, err := s.startCorrection(ctx, cs, rid, lastID)
		return c, false, err
	}
	rel, err := s.cfg.Store.Release(ctx, rid)
	if err != nil {
		return nil, false, err
	}
	if rel.CorrectionOf != nil {
		return nil, false, fmt.Errorf("release %s is a correction of %s; correct that release instead: %w", rid, rel.CorrectionOf.ReleaseID, ErrConflict)
	}
	if rel.Status != ReleaseSent && rel.Status != ReleaseSentWithFailures {
		return nil, false, fmt.Errorf("release %s is %s: %w: %w", rid, rel.Status, ErrNotSent, ErrConflict)
	}
	corrected, changed := req.Apply(rel)
	if !changed && !req.Retraction {
		// The same correction may have been recorded since the key was
		// read, by a request that raced this one: it is answered as such.
		if lastKey, lastID, err := cs.LastCorrection(ctx, rid); err != nil {
			return nil, false, err
		} else if lastKey == key {
			c, err := s.startCorrection(ctx, cs, rid, lastID)
			return c, false, err
		}
		return nil, false, ErrNoChange
	}
	corrected.Version = rel.Version + 1
	corrected.UpdatedAt = s.cfg.Now().UTC()
	child := correctionRelease(corrected, req, key, s.cfg.Now().UTC())
	id, created, err := cs.CorrectRelease(ctx, rid, rel.Version, corrected, child)
	if err != nil {
		return nil, false, err
	}
	if created {
		s.log.Info("release corrected", "release_id", rid, "correction_id", id, "version", corrected.Version, "retraction", req.Retraction)
	}
	c, err := s.startCorrection(ctx, cs, rid, id)
	return c, created, err
}

// startCorrection creates correction id's release unless it exists and
// sends it (Send is idempotent), so that a request repeated after a crash
// finishes what the first one began. A correction is sent without a second
// person's approval even when releases need one (Config.RequireApproval):
// it was recorded on the release, in the audit log under its author, the
// moment it was asked for, and nothing could approve the correction's own
// release before it is sent; a correction is the urgent fix of something
// already public.
func (s *Service) startCorrection(ctx context.Context, cs CorrectionStore, rid, id string) (*Correction, error) {
	if err := cs.CreateCorrection(ctx, rid, id); err != nil {
		return nil, err
	}
	rel, err := s.send(ctx, id, nil, 0, false)
	if err != nil {
		return nil, err
	}
	c := rel.AsCorrection()
	if c == nil || c.ReleaseID != rid {
		return nil, fmt.Errorf("correction %s of %s: the release stored under its id is not that correction", id, rid)
	}
	return c, nil
}

// Corrections returns the corrections of release rid, oldest first, each
// with its counts. It returns ErrNotFound for an unknown release.
func (s *Service) Corrections(ctx context.Context, rid string) ([]*Correction, error) {
	cs, err := s.correctionStore()
	if err != nil {
		return nil, err
	}
	rs, err := cs.Corrections(ctx, rid)
	if err != nil {
		return nil, err
	}
	out := make([]*Correction, 0, len(rs))
	for _, r := range rs {
		if c := r.AsCorrection(); c != nil {
			out = append(out, c)
		}
	}
	return out, nil
}
