package api

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/pregon/pregon/audit"
	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/webhooks"
)

// Webhooks registers outgoing webhooks and reports on them
// (*webhooks.Service implements it). Config.Webhooks nil means the webhook
// endpoints answer 501.
type Webhooks interface {
	// Create registers a webhook and returns it with its signing secret; a
	// bad field gives a *webhooks.InputError.
	Create(ctx context.Context, in webhooks.Input) (*webhooks.Webhook, string, error)
	List(ctx context.Context) ([]*webhooks.Webhook, error)
	// Get, Delete, Enable and Deliveries return dispatcher.ErrNotFound for
	// an unknown id.
	Get(ctx context.Context, id string) (*webhooks.Webhook, error)
	Delete(ctx context.Context, id string) error
	Enable(ctx context.Context, id string) (*webhooks.Webhook, error)
	Deliveries(ctx context.Context, id string) ([]webhooks.Attempt, error)
}

func (s *Server) webhookService() (Webhooks, error) {
	if s.webhooks == nil {
		return nil, &Problem{Status: http.StatusNotImplemented, Detail: "This server sends no webhooks."}
	}
	return s.webhooks, nil
}

type webhookInput struct {
	URL         string   `json:"url"`
	Events      []string `json:"events"`
	Description string   `json:"description"`
}

// createdWebhook is the answer to POST /v1/webhooks: the webhook and its
// signing secret, shown this once.
type createdWebhook struct {
	*webhooks.Webhook
	Secret string `json:"secret"`
}

// createWebhook handles POST /v1/webhooks {url, events?, description?} →
// 201 webhook with its secret.
func (s *Server) createWebhook(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.webhookService()
	if err != nil {
		return err
	}
	var in webhookInput
	if err := s.readJSON(w, r, &in, false); err != nil {
		return err
	}
	in.URL, in.Description = strings.TrimSpace(in.URL), strings.TrimSpace(in.Description)
	var fe fieldErrors
	if in.URL == "" {
		fe.add("url", "is required")
	}
	checkLine(&fe, "description", in.Description, false, 200)
	if err := fe.err(); err != nil {
		return err
	}
	hook, secret, err := svc.Create(r.Context(), webhooks.Input{URL: in.URL, Events: in.Events,
		Description: in.Description, CreatedBy: infoFrom(r.Context()).token})
	var ie *webhooks.InputError
	if errors.As(err, &ie) {
		fe.add(ie.Field, "%s", ie.Message)
		return fe.err()
	}
	if err != nil {
		return err
	}
	if err := s.audit(r, audit.Entry{Action: audit.WebhookCreate, Target: hook.ID,
		Detail: map[string]any{"url": hook.URL, "events": hook.Events}}); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, createdWebhook{hook, secret})
}

// getWebhooks handles GET /v1/webhooks → page of webhooks (all of them,
// oldest first), without their secrets.
func (s *Server) getWebhooks(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.webhookService()
	if err != nil {
		return err
	}
	hooks, err := svc.List(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, newPage(hooks, ""))
}

// getWebhook handles GET /v1/webhooks/{id}.
func (s *Server) getWebhook(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.webhookService()
	if err != nil {
		return err
	}
	hook, err := svc.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, hook)
}

// deleteWebhook handles DELETE /v1/webhooks/{id} → 204.
func (s *Server) deleteWebhook(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.webhookService()
	if err != nil {
		return err
	}
	id := r.PathValue("id")
	if err := svc.Delete(r.Context(), id); err != nil {
		return err
	}
	if err := s.audit(r, audit.Entry{Action: audit.WebhookDelete, Target: id}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// enableWebhook handles POST /v1/webhooks/{id}/enable → 200 webhook, active
// again with its failures forgotten.
func (s *Server) enableWebhook(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.webhookService()
	if err != nil {
		return err
	}
	hook, err := svc.Enable(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := s.audit(r, audit.Entry{Action: audit.WebhookEnable, Target: hook.ID}); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, hook)
}

// getWebhookDeliveries handles GET /v1/webhooks/{id}/deliveries → page of
// the last attempts, newest first.
func (s *Server) getWebhookDeliveries(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.webhookService()
	if err != nil {
		return err
	}
	as, err := svc.Deliveries(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, newPage(as, ""))
}

// notify tells the Notifier of e, if there is one; a failure is logged.
func (s *Server) notify(ctx context.Context, e dispatcher.Event) {
	if s.notifier == nil {
		return
	}
	if e.CreatedAt.IsZero() {
		e.CreatedAt = s.now().UTC()
	}
	if err := s.notifier.Notify(context.WithoutCancel(ctx), e); err != nil {
		s.log.WarnContext(ctx, "event not queued for webhooks", "event", string(e.Type), "error", err)
	}
}
