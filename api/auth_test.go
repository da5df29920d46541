package api

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pregon/pregon/auth"
)

// TestRouteTable pins the API v1 contract: a route added, removed or given
// another role shows up here.
func TestRouteTable(t *testing.T) {
	h := newHarness(t)
	var got []string
	for _, rt := range h.srv.routes() {
		got = append(got, rt.pattern+" "+string(rt.role))
	}
	want := []string{
		"GET /healthz live",
		"GET /readyz probe",
		"GET /u/{token} public",
		"POST /u/{token} public",
		"POST /v1/lists coordinator",
		"GET /v1/lists viewer",
		"GET /v1/lists/{id} viewer",
		"POST /v1/lists/{id}/contacts coordinator",
		"GET /v1/lists/{id}/contacts viewer",
		"DELETE /v1/lists/{id}/contacts/{email} coordinator",
		"POST /v1/telegram/channels coordinator",
		"GET /v1/telegram/channels viewer",
		"POST /v1/releases coordinator",
		"GET /v1/releases viewer",
		"GET /v1/releases/{id} viewer",
		"POST /v1/releases/{id}/send coordinator",
		"POST /v1/releases/{id}/cancel coordinator",
		"POST /v1/releases/{id}/retry coordinator",
		"GET /v1/releases/{id}/deliveries viewer",
		"GET /v1/releases/{id}/preview viewer",
		"PATCH /v1/releases/{id} coordinator",
		"POST /v1/releases/{id}/approve coordinator",
		"POST /v1/releases/{id}/test coordinator",
		"GET /v1/releases/{id}/tests/{test_id} viewer",
		"GET /v1/releases/{id}/checks viewer",
		"GET /v1/releases/{id}/events viewer",
		"POST /v1/releases/{id}/corrections coordinator",
		"GET /v1/releases/{id}/corrections viewer",
		"GET /v1/audit admin",
		"GET /v1/tokens admin",
		"DELETE /v1/tokens/{id} admin",
		"GET /metrics admin",
		"GET /monitoring/ admin",
		"POST /monitoring/ admin",
		"DELETE /monitoring/ admin",
		// Newsroom (issue 15).
		"GET /news public",
		"GET /news/ public",
		"GET /robots.txt public",
		// optin
		"GET /subscribe/{list_id} public",
		"POST /subscribe/{list_id} public",
		"GET /confirm/{token} public",
		"POST /confirm/{token} public",
		// Outgoing webhooks.
		"POST /v1/webhooks coordinator",
		"GET /v1/webhooks viewer",
		"GET /v1/webhooks/{id} viewer",
		"DELETE /v1/webhooks/{id} coordinator",
		"POST /v1/webhooks/{id}/enable coordinator",
		"GET /v1/webhooks/{id}/deliveries viewer",
		// Bounces and complaints.
		"GET /v1/suppressions admin",
		"DELETE /v1/suppressions/{email} admin",
		"POST /v1/contacts/{email}/erase coordinator",
		"GET /v1/suppressions/{email} admin",
		"POST /webhooks/{provider} public",
		// Telegram (issue 11)
		"POST /v1/telegram/channels/{id}/enable coordinator",
		"PATCH /v1/telegram/channels/{id} coordinator",
		"POST /v1/releases/{id}/deliveries/{delivery_id}/resume coordinator",
		// Retention.
		"POST /v1/releases/{id}/archive coordinator",
		"GET /v1/releases/{id}/deliveries/{delivery_id} viewer",
		// Telegram followers via the bot.
		"GET /v1/telegram/followers coordinator",
		"POST /v1/telegram/channels/{id}/approve coordinator",
		"POST /telegram/webhook public",
		// Attachments (issue 10 item 5)
		"POST /v1/releases/{id}/attachments coordinator",
		"DELETE /v1/releases/{id}/attachments/{attachment_id} coordinator",
		"POST /v1/audiences/count viewer",
		"POST /v1/tokens admin",
		"GET /v1/contacts/{email} viewer",
		"PATCH /v1/contacts/{email} coordinator",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("routes (-want +got):\n%s", diff)
	}
}

// concrete turns a route pattern into a method and a path that matches it.
func concrete(pattern string) (method, path string) {
	method, path, _ = strings.Cut(pattern, " ")
	path = strings.NewReplacer("{id}", "x1", "{email}", "ana@example.org", "{token}", "not-a-token").Replace(path)
	return method, path
}

// deliberatelyPublic are the only routes that take no token, each with why.
// A route added with rolePublic or roleProbe fails TestAuthEveryRoute until
// it is listed here.
var deliberatelyPublic = map[string]string{
	"GET /healthz":    "liveness probe for orchestrators; says nothing",
	"GET /readyz":     "readiness probe; says only whether Redis answers",
	"GET /u/{token}":  "unsubscribe page; the signed token is the credential",
	"POST /u/{token}": "one-click unsubscribe (RFC 8058); the signed token is the credential",
	// Newsroom (issue 15).
	"GET /news":       "newsroom: redirects to /news/",
	"GET /news/":      "newsroom: published releases only (package newsroom)",
	"GET /robots.txt": "newsroom: says what crawlers may read",
	// optin
	"GET /subscribe/{list_id}":  "public subscribe form of a subscriber list; 404 for others",
	"POST /subscribe/{list_id}": "double opt-in sign-up; the same answer whatever the address; mails capped per address",
	"GET /confirm/{token}":      "confirmation page; the signed token is the credential; confirms nothing",
	"POST /confirm/{token}":     "confirms a subscription; the signed token is the credential",
	// Bounces and complaints.
	"POST /webhooks/{provider}": "provider bounce reports; each provider's signature or secret is the credential",
	// Telegram followers via the bot.
	"POST /telegram/webhook": "the bot's updates from Telegram; the X-Telegram-Bot-Api-Secret-Token header is the credential",
}

// TestAuthEveryRoute walks every registered route: without a token, with an
// unknown or malformed one and with a role too low it must answer 401/403
// problems; with a role high enough, anything else. The only routes without
// a token are those in deliberatelyPublic, none under /v1, and each is
// rate-limited.
func TestAuthEveryRoute(t *testing.T) {
	h := newHarness(t)
	roles := map[string]auth.Role{
		oddToken: "guest", viewerToken: auth.RoleViewer,
		coordToken: auth.RoleCoordinator, adminToken: auth.RoleAdmin,
	}
	public := map[string]bool{}
	for _, rt := range h.srv.routes() {
		method, path := concrete(rt.pattern)
		t.Run(rt.pattern, func(t *testing.T) {
			if rt.role == rolePublic || rt.role == roleProbe || rt.role == roleLive {
				public[rt.pattern] = true
				if _, ok := deliberatelyPublic[rt.pattern]; !ok {
					t.Fatalf("route %s takes no token but is not in deliberatelyPublic", rt.pattern)
				}
				if strings.HasPrefix(path, "/v1/") {
					t.Fatalf("route %s under /v1 takes no token", rt.pattern)
				}
				if w := h.do(method, path, "", "", ""); w.Code == 401 || w.Code == 403 {
					t.Fatalf("public route answered %d", w.Code)
				}
				return
			}
			if !rt.role.Valid() {
				t.Fatalf("route %s has role %q, which is neither a token role nor public", rt.pattern, rt.role)
			}
			for _, c := range []struct{ name, auth string }{
				{"no header", ""},
				{"unknown token", "Bearer pgn_nobody"},
				{"empty bearer", "Bearer "},
				{"basic scheme", "Basic " + coordToken},
				{"raw token", adminToken},
			} {
				r := newRequest(method, path)
				if c.auth != "" {
					r.Header.Set("Authorization", c.auth)
				}
				w := h.serve(r)
				problemOf(t, w, http.StatusUnauthorized)
				if a := w.Header().Get("WWW-Authenticate"); !strings.HasPrefix(a, "Bearer") {
					t.Errorf("%s: WWW-Authenticate %q", c.name, a)
				}
				checkSecurityHeaders(t, w)
			}
			for tok, role := range roles {
				w := h.do(method, path, tok, "", "")
				if role.Allows(rt.role) {
					if w.Code == 401 || w.Code == 403 {
						t.Errorf("role %s: status %d, want it let through", role, w.Code)
					}
					continue
				}
				problemOf(t, w, http.StatusForbidden)
			}
		})
	}
	for p := range deliberatelyPublic {
		if !public[p] {
			t.Errorf("deliberatelyPublic lists %s, which is not a public route", p)
		}
	}
}

func TestAuthNeverLogsToken(t *testing.T) {
	h := newHarness(t)
	h.do("GET", "/v1/lists", viewerToken, "", "")
	h.do("GET", "/v1/lists", "pgn_nobody", "", "")
	logs := h.logs.String()
	for _, secret := range []string{viewerToken, "pgn_nobody", "Bearer"} {
		if strings.Contains(logs, secret) {
			t.Errorf("log holds %q:\n%s", secret, logs)
		}
	}
	if !strings.Contains(logs, `"pattern":"GET /v1/lists"`) || !strings.Contains(logs, `"token":"viewer-token"`) ||
		!strings.Contains(logs, `"status":401`) {
		t.Errorf("log lacks pattern, token name or status:\n%s", logs)
	}
}

func TestUnmatched(t *testing.T) {
	h := newHarness(t)
	problemOf(t, h.do("GET", "/v2/nothing", "", "", ""), http.StatusNotFound)
	w := h.do("PUT", "/v1/lists", coordToken, "", "")
	problemOf(t, w, http.StatusMethodNotAllowed)
	allow := strings.Split(w.Header().Get("Allow"), ", ")
	if !slices.Contains(allow, "GET") || !slices.Contains(allow, "POST") || slices.Contains(allow, "PUT") {
		t.Errorf("Allow = %q", allow)
	}
}
