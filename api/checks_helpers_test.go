package api

import (
	"encoding/json"
	"net/http"
)

// addMember puts contacts on a list, so that a release to it has someone
// to go to (a send to no one is refused).
func (h *harness) addMember(list string, emails ...string) {
	h.t.Helper()
	h.mustJSON("POST", "/v1/lists/"+list+"/contacts", contactsJSON(emails), http.StatusOK, nil)
}

// addMember puts contacts on a list, as harness.addMember does.
func (a *redisAPI) addMember(list string, emails ...string) {
	a.t.Helper()
	a.must("POST", "/v1/lists/"+list+"/contacts", contactsJSON(emails), http.StatusOK, nil)
}

// contactsJSON is an import body of contacts with these addresses alone.
func contactsJSON(emails []string) string {
	cs := make([]map[string]string, len(emails))
	for i, e := range emails {
		cs[i] = map[string]string{"email": e}
	}
	b, _ := json.Marshal(cs)
	return string(b)
}
