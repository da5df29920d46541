package dispatcher

import (
	"context"
	"errors"
)

// DeliveryResumer moves a Telegram delivery whose post stopped part way
// back to queued (store.Store implements it).
type DeliveryResumer interface {
	// ResumeDelivery returns ErrNotFound for an unknown delivery, and an
	// error wrapping ErrConflict, saying why, for one that cannot be resumed.
	ResumeDelivery(ctx context.Context, rid, id string) error
}

// ErrNoResume is returned by Resume when the Store cannot resume deliveries.
var ErrNoResume = errors.New("this store cannot resume deliveries")

// Resume finishes a Telegram post that stopped part way (its delivery is
// uncertain or failed after some parts were posted): the parts not posted
// are posted, as replies to the first, and the parts posted are never
// posted again. A part that was uncertain is posted again: check the
// channel first. It returns ErrNotFound, or an error wrapping ErrConflict
// for a delivery that cannot be resumed.
func (s *Service) Resume(ctx context.Context, rid, id string) error {
	r, ok := s.cfg.Store.(DeliveryResumer)
	if !ok {
		return ErrNoResume
	}
	if err := r.ResumeDelivery(ctx, rid, id); err != nil {
		return err
	}
	s.log.Info("delivery resumed", "release_id", rid, "delivery_id", id)
	return s.enqueueRefs(ctx, rid, []Ref{{ID: id, Channel: ChannelTelegram}}, 0)
}
