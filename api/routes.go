package api

import (
	"net/http"
	"strings"

	"github.com/pregon/pregon/auth"
)

// handlerFunc is an endpoint: it writes a success response itself and returns
// any failure, which endpoint turns into a problem response.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// route is one endpoint of the API and the least role that may call it.
type route struct {
	pattern string    // http.ServeMux pattern: "METHOD /path/{wildcard}"
	role    auth.Role // a token's role, or rolePublic, roleProbe or roleLive
	handle  handlerFunc
	page    bool // answers HTML pages for people, errors included
}

// Access to the endpoints that take no token. A route must name one of
// these or a token role: New refuses a route without one (or with a role
// that does not exist, which any token would pass), so that no endpoint is
// public by mistake.
const (
	// rolePublic is a public page, for anyone on the internet: no token,
	// and at most Config.PublicRate requests a minute from one client.
	rolePublic auth.Role = "public"
	// roleProbe is a health check for load balancers and orchestrators: no
	// token, at most Config.ProbeRate requests a minute from one client.
	roleProbe auth.Role = "probe"
	// roleLive is the liveness check alone: no token and no rate limit,
	// since the limit lives in Redis and liveness must not depend on it;
	// the handler does no I/O at all, so answering it costs nothing.
	roleLive auth.Role = "live"
	// roleNone is only for the fallback that answers 404 and 405.
	roleNone auth.Role = "none"
)

// routes is the API's route table: every endpoint is registered from it, and
// the tests walk it to check authentication on every one. Reading needs a
// viewer token, changing anything a coordinator's; admin-only routes (token
// management) go here too, with auth.RoleAdmin. Endpoints without a
// token say so with rolePublic or roleProbe, and are rate-limited (but for
// the liveness check, roleLive).
func (s *Server) routes() []route {
	const (
		viewer      = auth.RoleViewer
		coordinator = auth.RoleCoordinator
	)
	return []route{
		{"GET /healthz", roleLive, s.healthz, false},
		{"GET /readyz", roleProbe, s.readyz, false},

		{"GET /u/{token}", rolePublic, s.unsubscribePage, true},
		{"POST /u/{token}", rolePublic, s.unsubscribe, true},

		{"POST /v1/lists", coordinator, s.createList, false},
		{"GET /v1/lists", viewer, s.getLists, false},
		{"GET /v1/lists/{id}", viewer, s.getList, false},
		{"POST /v1/lists/{id}/contacts", coordinator, s.importContacts, false},
		{"GET /v1/lists/{id}/contacts", viewer, s.getContacts, false},
		{"DELETE /v1/lists/{id}/contacts/{email}", coordinator, s.removeContact, false},

		{"POST /v1/telegram/channels", coordinator, s.createChannel, false},
		{"GET /v1/telegram/channels", viewer, s.getChannels, false},

		{"POST /v1/releases", coordinator, s.createRelease, false},
		{"GET /v1/releases", viewer, s.getReleases, false},
		{"GET /v1/releases/{id}", viewer, s.getRelease, false},
		{"POST /v1/releases/{id}/send", coordinator, s.sendRelease, false},
		{"POST /v1/releases/{id}/cancel", coordinator, s.cancelRelease, false},
		{"POST /v1/releases/{id}/retry", coordinator, s.retryRelease, false},
		{"GET /v1/releases/{id}/deliveries", viewer, s.getDeliveries, false},
		{"GET /v1/releases/{id}/preview", viewer, s.previewRelease, false},
		{"PATCH /v1/releases/{id}", coordinator, s.editRelease, false},
		{"POST /v1/releases/{id}/approve", coordinator, s.approveRelease, false},
		{"POST /v1/releases/{id}/test", coordinator, s.testRelease, false},
		{"GET /v1/releases/{id}/tests/{test_id}", viewer, s.getTest, false},
		{"GET /v1/releases/{id}/checks", viewer, s.getChecks, false},
		{"GET /v1/releases/{id}/events", viewer, s.releaseEvents, false},
		{"POST /v1/releases/{id}/corrections", coordinator, s.correctRelease, false},
		{"GET /v1/releases/{id}/corrections", viewer, s.getCorrections, false},

		{"GET /v1/audit", auth.RoleAdmin, s.getAudit, false},

		{"GET /v1/tokens", auth.RoleAdmin, s.getTokens, false},
		{"DELETE /v1/tokens/{id}", auth.RoleAdmin, s.revokeToken, false},

		{"GET /metrics", auth.RoleAdmin, s.metrics, false},
		{"GET /monitoring/", auth.RoleAdmin, s.monitoring, false},
		{"POST /monitoring/", auth.RoleAdmin, s.monitoring, false},
		{"DELETE /monitoring/", auth.RoleAdmin, s.monitoring, false},

		// Newsroom (issue 15): public pages and feeds, rate-limited per client.
		{"GET /news", rolePublic, s.news, true},
		{"GET /news/", rolePublic, s.news, true},
		{"GET /robots.txt", rolePublic, s.news, true},
		// Double opt-in (optin, issue 10): pages for people; a POST
		// /subscribe with a JSON body is answered in JSON (see jsonAnswer).
		{"GET /subscribe/{list_id}", rolePublic, s.subscribeFormPage, true},
		{subscribePost, rolePublic, s.subscribe, true},
		{"GET /confirm/{token}", rolePublic, s.confirmPage, true},
		{"POST /confirm/{token}", rolePublic, s.confirm, true},
		// Outgoing webhooks.
		{"POST /v1/webhooks", coordinator, s.createWebhook, false},
		{"GET /v1/webhooks", viewer, s.getWebhooks, false},
		{"GET /v1/webhooks/{id}", viewer, s.getWebhook, false},
		{"DELETE /v1/webhooks/{id}", coordinator, s.deleteWebhook, false},
		{"POST /v1/webhooks/{id}/enable", coordinator, s.enableWebhook, false},
		{"GET /v1/webhooks/{id}/deliveries", viewer, s.getWebhookDeliveries, false},
		// Bounces and complaints (suppressions.go).
		{"GET /v1/suppressions", auth.RoleAdmin, s.getSuppressions, false},
		{"DELETE /v1/suppressions/{email}", auth.RoleAdmin, s.liftSuppression, false},
		// Erasure on request (erase.go; issue 14 item 5).
		{"POST /v1/contacts/{email}/erase", coordinator, s.eraseContact, false},
		{"GET /v1/suppressions/{email}", auth.RoleAdmin, s.getSuppression, false},
		{"POST /webhooks/{provider}", rolePublic, s.providerWebhook, false}, // webhooks.go
		// Telegram (issue 11): channel health, modes, resuming partial posts.
		{"POST /v1/telegram/channels/{id}/enable", coordinator, s.enableChannel, false},
		{"PATCH /v1/telegram/channels/{id}", coordinator, s.editChannel, false},
		{"POST /v1/releases/{id}/deliveries/{delivery_id}/resume", coordinator, s.resumeDelivery, false},
		// Retention (archive.go): archive a final release now; one delivery, live or archived.
		{"POST /v1/releases/{id}/archive", coordinator, s.archiveRelease, false},
		{"GET /v1/releases/{id}/deliveries/{delivery_id}", viewer, s.getDelivery, false},
		// Telegram followers via the bot (followers.go): chat ids are
		// personal data, so the list is for coordinators and admins; the
		// webhook takes Telegram's secret-token header instead of a token.
		{"GET /v1/telegram/followers", coordinator, s.getFollowers, false},
		{"POST /v1/telegram/channels/{id}/approve", coordinator, s.approveChannel, false},
		{"POST /telegram/webhook", rolePublic, s.telegramWebhook, false},
		// Attachments (attachments.go; issue 10 item 5).
		{"POST /v1/releases/{id}/attachments", coordinator, s.addAttachment, false},
		{"DELETE /v1/releases/{id}/attachments/{attachment_id}", coordinator, s.deleteAttachment, false},
		// What each audience adds, for the compose form (audiencecount.go).
		{"POST /v1/audiences/count", viewer, s.countAudiences, false},
		// The web app's management pages (manage.go; issue 14 item 5).
		{"POST /v1/tokens", auth.RoleAdmin, s.createToken, false},
		{"GET /v1/contacts/{email}", viewer, s.getContact, false},
		{"PATCH /v1/contacts/{email}", coordinator, s.editContact, false},
	}
}

// endpoint wraps a route with authentication and authorisation (or, for an
// endpoint without a token, the rate limit) and error handling.
func (s *Server) endpoint(rt route) http.Handler {
	fail := s.fail
	if rt.page {
		fail = s.failPage
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := infoFrom(r.Context())
		info.pattern = rt.pattern
		switch rt.role {
		case roleNone, roleLive:
		case rolePublic, roleProbe:
			if err := s.limit(r, rt); err != nil {
				fail(w, r, err)
				return
			}
		default:
			tok, err := s.authenticate(w, r)
			if err != nil {
				fail(w, r, err)
				return
			}
			info.token = tok.Name
			if !tok.Role.Allows(rt.role) {
				fail(w, r, &Problem{Status: http.StatusForbidden,
					Detail: "This token's role (" + string(tok.Role) + ") may not do this; it needs " + string(rt.role) + "."})
				return
			}
		}
		if err := rt.handle(w, r); err != nil {
			fail(w, r, err)
		}
	})
}

// unmatched answers requests no route matches: 405 with an Allow header when
// the path exists with other methods, 404 otherwise.
func (s *Server) unmatched(mux *http.ServeMux) handlerFunc {
	methods := []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}
	return func(w http.ResponseWriter, r *http.Request) error {
		var allow []string
		for _, m := range methods {
			probe := &http.Request{Method: m, URL: r.URL, Host: r.Host, Header: http.Header{}}
			if _, p := mux.Handler(probe); p != "" && p != "/" {
				allow = append(allow, m)
			}
		}
		if len(allow) == 0 {
			return &Problem{Status: http.StatusNotFound, Detail: "There is no such endpoint."}
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		return &Problem{Status: http.StatusMethodNotAllowed,
			Detail: "This endpoint accepts " + strings.Join(allow, ", ") + "."}
	}
}
