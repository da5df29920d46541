package api

import (
	"context"
	"errors"
	"io"
	"net/http"

	"github.com/pregon/pregon/dispatcher"
)

// BounceRecorder acts on the bounces and complaints providers report
// (store.Store implements it).
type BounceRecorder interface {
	// RecordBounce marks the delivery ev names, if any, and suppresses the
	// address for a hard bounce or a complaint; it reports whether a
	// delivery was marked.
	RecordBounce(ctx context.Context, ev dispatcher.BounceEvent) (bool, error)
}

// maxWebhookBody caps a provider's webhook request (SendGrid batches events).
const maxWebhookBody = 1 << 20

// providerWebhook handles POST /webhooks/{provider}, public and
// rate-limited: a provider not configured is a 404 (as any unknown path),
// a request the provider did not sign (or without its secret) a 401, and
// either changes nothing. A verified report's hard bounces and complaints
// suppress their address, and mark the delivery its Message-ID names. The
// answer says how many events were read, never whether an address or a
// message was known.
func (s *Server) providerWebhook(w http.ResponseWriter, r *http.Request) error {
	p, ok := s.bounceProviders[r.PathValue("provider")]
	if !ok || s.bounces == nil {
		return &Problem{Status: http.StatusNotFound, Detail: "There is no such endpoint."}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return &Problem{Status: http.StatusRequestEntityTooLarge, Detail: "The report is too large."}
		}
		return &Problem{Status: http.StatusBadRequest, Detail: "The report could not be read."}
	}
	if err := p.Verify(r, body); err != nil {
		s.log.WarnContext(r.Context(), "provider webhook refused", "provider", r.PathValue("provider"), "error", err)
		return &Problem{Status: http.StatusUnauthorized, Detail: "The request is not signed by the provider."}
	}
	evs, err := p.Parse(body)
	if err != nil {
		return &Problem{Status: http.StatusBadRequest, Detail: "The report is not one this provider sends."}
	}
	ctx := context.WithoutCancel(r.Context())
	for _, ev := range evs {
		matched, err := s.bounces.RecordBounce(ctx, ev)
		if err != nil {
			return err
		}
		if rid, did, ok := dispatcher.ParseMessageID(ev.MessageID); ok && matched {
			at := ev.At
			if at.IsZero() {
				at = s.now()
			}
			s.notify(ctx, dispatcher.BouncedEvent(rid, did, ev.Email, string(ev.Kind), ev.Source, at))
		}
	}
	s.log.InfoContext(r.Context(), "provider webhook", "provider", r.PathValue("provider"), "events", len(evs))
	return writeJSON(w, http.StatusOK, map[string]int{"received": len(evs)})
}
