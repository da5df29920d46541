package dispatcher

import (
	"context"
	"errors"
	"fmt"
)

// DeliveryResumer moves a Telegram delivery whose post stopped part way
// back to queued (store.Store implements it).
type DeliveryResumer interface {
	// ResumeDelivery returns ErrNotFound for an unknown delivery, and an
	// error wrapping ErrConflict, saying why, for one that cannot be resumed.
	ResumeDelivery(ctx context.Context, rid, id string) error
}

// deliveryReader reads one delivery (store.Store implements it).
type deliveryReader interface {
	// Delivery returns one delivery of rid, or ErrNotFound.
	Delivery(ctx context.Context, rid, id string) (*Delivery, error)
}

// ErrNoResume is returned by Resume when the Store cannot resume deliveries.
var ErrNoResume = errors.New("this store cannot resume deliveries")

// ResumeReport says what a resume does with the parts of a post.
type ResumeReport struct {
	// Parts are the post's parts as they were when it was resumed: those
	// "sent" stay, the others are posted (nil when the store cannot say).
	Parts []DeliveryPart `json:"parts,omitempty"`
	// Reposted is the part (from 1) that was uncertain and is posted
	// again (0: none). An earlier copy of it may be in the chat, just
	// after the message After (the part before it).
	Reposted int    `json:"reposted_part,omitempty"`
	After    string `json:"reposted_after_message_id,omitempty"`
	// Warning says the same in words, for a coordinator ("" when no part
	// was uncertain).
	Warning string `json:"warning,omitempty"`
}

// Resume finishes a Telegram post that stopped part way (its delivery is
// uncertain or failed after some parts were posted): the parts not posted
// are posted, as replies to the first, and the parts posted are never
// posted again. A part that was uncertain (it may have been posted) is
// posted again, and the report says so, with the message it may follow;
// once posted, the delivery marks it "reposted". It returns ErrNotFound, or
// an error wrapping ErrConflict for a delivery that cannot be resumed.
func (s *Service) Resume(ctx context.Context, rid, id string) (*ResumeReport, error) {
	r, ok := s.cfg.Store.(DeliveryResumer)
	if !ok {
		return nil, ErrNoResume
	}
	rep := &ResumeReport{}
	if dr, ok := s.cfg.Store.(deliveryReader); ok {
		d, err := dr.Delivery(ctx, rid, id)
		if err != nil {
			return nil, err
		}
		rep = reportResume(d.Parts)
	}
	if err := r.ResumeDelivery(ctx, rid, id); err != nil {
		return nil, err
	}
	s.log.Info("delivery resumed", "release_id", rid, "delivery_id", id, "reposted_part", rep.Reposted)
	if err := s.enqueueRefs(ctx, rid, []Ref{{ID: id, Channel: ChannelTelegram}}, 0); err != nil {
		return nil, err
	}
	return rep, nil
}

// reportResume returns the report of a resume of a post whose parts are
// parts.
func reportResume(parts []DeliveryPart) *ResumeReport {
	rep := &ResumeReport{Parts: parts}
	for i, p := range parts {
		if p.Status != "uncertain" {
			continue
		}
		rep.Reposted = p.N
		if i > 0 {
			rep.After = parts[i-1].MessageID
		}
		rep.Warning = fmt.Sprintf("Part %d of %d got no answer from Telegram and may already be in the channel", p.N, len(parts))
		if rep.After != "" {
			rep.Warning += fmt.Sprintf(", right after message %s (part %d)", rep.After, p.N-1)
		}
		rep.Warning += ". It is posted again: if it appears twice, delete the earlier copy."
	}
	return rep
}
