package api

import (
	"net/http"
	"strings"

	"github.com/pregon/pregon/dispatcher"
)

// handlerFunc is an endpoint: it writes a success response itself and returns
// any failure, which endpoint turns into a problem response.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// route is one endpoint of the API and the least role that may call it.
type route struct {
	pattern string          // http.ServeMux pattern: "METHOD /path/{wildcard}"
	role    dispatcher.Role // "" for public endpoints that take no token
	handle  handlerFunc
}

// routes is the API's route table: every endpoint is registered from it, and
// the tests walk it to check authentication on every one. Reading needs a
// viewer token, changing anything a coordinator's; admin-only routes (token
// management) go here too, with dispatcher.RoleAdmin.
func (s *Server) routes() []route {
	const (
		viewer      = dispatcher.RoleViewer
		coordinator = dispatcher.RoleCoordinator
	)
	return []route{
		{"GET /healthz", "", s.healthz},
		{"GET /readyz", "", s.readyz},

		{"POST /v1/lists", coordinator, s.createList},
		{"GET /v1/lists", viewer, s.getLists},
		{"GET /v1/lists/{id}", viewer, s.getList},
		{"POST /v1/lists/{id}/contacts", coordinator, s.importContacts},
		{"GET /v1/lists/{id}/contacts", viewer, s.getContacts},
		{"DELETE /v1/lists/{id}/contacts/{email}", coordinator, s.removeContact},

		{"POST /v1/telegram/channels", coordinator, s.createChannel},
		{"GET /v1/telegram/channels", viewer, s.getChannels},

		{"POST /v1/releases", coordinator, s.createRelease},
		{"GET /v1/releases", viewer, s.getReleases},
		{"GET /v1/releases/{id}", viewer, s.getRelease},
		{"POST /v1/releases/{id}/send", coordinator, s.sendRelease},
		{"POST /v1/releases/{id}/cancel", coordinator, s.cancelRelease},
		{"POST /v1/releases/{id}/retry", coordinator, s.retryRelease},
		{"GET /v1/releases/{id}/deliveries", viewer, s.getDeliveries},
		{"GET /v1/releases/{id}/preview", viewer, s.previewRelease},
	}
}

// endpoint wraps a route with authentication, authorisation and error handling.
func (s *Server) endpoint(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := infoFrom(r.Context())
		info.pattern = rt.pattern
		if rt.role != "" {
			tok, err := s.authenticate(w, r)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			info.token = tok.Name
			if !tok.Role.Allows(rt.role) {
				s.fail(w, r, &Problem{Status: http.StatusForbidden,
					Detail: "This token's role (" + string(tok.Role) + ") may not do this; it needs " + string(rt.role) + "."})
				return
			}
		}
		if err := rt.handle(w, r); err != nil {
			s.fail(w, r, err)
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
