package api

import (
	"context"
	"net/http"
	"net/netip"
	"strings"

	"github.com/pregon/pregon/auth"
)

// People (issue 14): the web app serves people who signed in with a
// password rather than tokens. It calls the API in process through People,
// so that a person's actions go through the same decoding, validation,
// checks and audit as a token's, recorded under the person's name.

type personKey struct{}

type person struct {
	name string
	role auth.Role
}

// WithPerson returns ctx carrying a signed-in person, by the name the audit
// log records (auth.User.Actor) and their role, for a request to People.
func WithPerson(ctx context.Context, name string, role auth.Role) context.Context {
	return context.WithValue(ctx, personKey{}, person{name: name, role: role})
}

// People returns a handler of the API's /v1 endpoints for the person in
// the request's context (WithPerson) instead of a bearer token: 401 without
// one, 403 when their role may not do what the route needs. Whoever mounts
// it authenticates the person first; it is never served on the network as
// it is.
func (s *Server) People() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range s.routes() {
		if !rt.role.Valid() || !strings.Contains(rt.pattern, " /v1/") {
			continue
		}
		mux.Handle(rt.pattern, s.personEndpoint(rt))
	}
	mux.Handle("/", s.endpoint(route{pattern: "/", role: roleNone, handle: s.unmatched(mux)}))
	return s.observe(mux)
}

// personEndpoint is endpoint for a person instead of a token.
func (s *Server) personEndpoint(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := infoFrom(r.Context())
		info.pattern = rt.pattern
		p, ok := r.Context().Value(personKey{}).(person)
		if !ok || p.name == "" {
			s.fail(w, r, &Problem{Status: http.StatusUnauthorized, Detail: "Sign in first."})
			return
		}
		info.token = p.name
		if !p.role.Allows(rt.role) {
			s.fail(w, r, &Problem{Status: http.StatusForbidden,
				Detail: "Your role (" + string(p.role) + ") may not do this; it needs " + string(rt.role) + "."})
			return
		}
		if err := rt.handle(w, r); err != nil {
			s.fail(w, r, err)
		}
	})
}

// ClientAddr returns the address a request came from, past the trusted
// proxies (see Config.TrustedProxies), or "unknown": the web app limits
// sign-ins and records its audit entries by it, as the API does.
func ClientAddr(r *http.Request, trusted []netip.Prefix) string {
	if a, ok := clientAddr(r, trusted); ok {
		return a.String()
	}
	return "unknown"
}
