package api

import (
	"net/http"
	"strings"
)

// addMember puts contacts on a list, so that a release to it has someone
// to go to (a send to no one is refused).
func (h *harness) addMember(list string, emails ...string) {
	h.t.Helper()
	var b strings.Builder
	b.WriteString("[")
	for i, e := range emails {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`{"email":"` + e + `"}`)
	}
	b.WriteString("]")
	h.mustJSON("POST", "/v1/lists/"+list+"/contacts", b.String(), http.StatusOK, nil)
}

// addMember puts contacts on a list, so that a release to it has someone
// to go to (a send to no one is refused).
func (a *redisAPI) addMember(list string, emails ...string) {
	a.t.Helper()
	var b strings.Builder
	b.WriteString("[")
	for i, e := range emails {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`{"email":"` + e + `"}`)
	}
	b.WriteString("]")
	a.must("POST", "/v1/lists/"+list+"/contacts", b.String(), http.StatusOK, nil)
}
