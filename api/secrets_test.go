package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pregon/pregon/auth"
	"github.com/pregon/pregon/links"
)

// TestSecretsNeverLogged runs the API with a known links secret and known
// bearer tokens, makes requests that succeed and requests that fail in
// every way (bad tokens, tokens where ids go, forged and expired links, a
// store failure, a panic), and checks that neither the log nor any answer
// holds the secret, the key derived from it, a token or a token's hash.
func TestSecretsNeverLogged(t *testing.T) {
	h := newHarness(t)
	list := h.newList("Prensa")
	good := h.unsubscribePath("ana@example.org")
	forger, err := links.New([]byte("guessed-secret-0123456789"), "https://prensa.example.org", h.clock.Now, 0)
	if err != nil {
		t.Fatal(err)
	}
	forged := strings.TrimPrefix(forger.UnsubscribeURL("ana@example.org", "rel_1"), "https://prensa.example.org")

	var answers strings.Builder
	req := func(method, path, auth, body string) {
		r := httptest.NewRequest(method, path, strings.NewReader(body))
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		r.Header.Set("Content-Type", "application/json")
		w := h.serve(r)
		answers.WriteString(w.Body.String())
		for k, vs := range w.Header() {
			answers.WriteString(k + ": " + strings.Join(vs, ",") + "\n")
		}
	}
	req("GET", "/v1/lists", "Bearer "+viewerToken, "")
	req("POST", "/v1/lists", "Bearer "+coordToken, `{"name":"x","kind":"vip"}`)
	req("POST", "/v1/lists", "Bearer "+viewerToken, `{"name":"x","kind":"press"}`) // 403
	req("GET", "/v1/lists", "Bearer "+adminToken+"x", "")                          // unknown token
	req("GET", "/v1/lists", "Basic "+adminToken, "")                               // wrong scheme
	req("GET", "/v1/lists", adminToken, "")                                        // no scheme
	req("GET", "/v1/lists/"+adminToken, "Bearer "+adminToken, "")                  // a token where an id goes
	req("DELETE", "/v1/lists/"+list+"/contacts/"+coordToken, "Bearer "+coordToken, "")
	req("GET", "/v1/lists?token="+adminToken, "", "")
	req("PUT", "/v1/lists/"+adminToken, "Bearer "+adminToken, "") // 405
	req("GET", good, "", "")
	req("POST", good, "", "List-Unsubscribe=One-Click")
	req("GET", forged, "", "")
	req("POST", good+"x", "", "List-Unsubscribe=One-Click")
	h.store.listsErr = errors.New("redis: connection refused")
	req("GET", "/v1/lists", "Bearer "+adminToken, "")
	h.store.listsErr, h.store.panicLists = nil, true
	req("GET", "/v1/lists", "Bearer "+adminToken, "")
	h.store.panicLists = false
	h.clock.Add(links.DefaultTTL)
	req("POST", good, "", "List-Unsubscribe=One-Click") // expired

	logs := h.logs.String()
	if !strings.Contains(logs, `"status":500`) || !strings.Contains(logs, `"status":410`) || !strings.Contains(logs, `"status":401`) {
		t.Fatalf("the log does not have the failures it should:\n%s", logs)
	}
	mac := hmac.New(sha256.New, []byte(linksSecret))
	mac.Write([]byte("pregon links v1"))
	key := mac.Sum(nil)
	secrets := map[string]string{
		"links secret":               linksSecret,
		"links secret, hex":          hex.EncodeToString([]byte(linksSecret)),
		"links secret, base64":       base64.StdEncoding.EncodeToString([]byte(linksSecret)),
		"derived key, hex":           hex.EncodeToString(key),
		"derived key, base64":        base64.StdEncoding.EncodeToString(key),
		"derived key, base64 URL":    base64.RawURLEncoding.EncodeToString(key),
		"Authorization header value": "Bearer ",
	}
	for _, tok := range []string{adminToken, coordToken, viewerToken} {
		secrets["token "+tok] = tok
		secrets["hash of "+tok] = auth.Hash(tok)
	}
	for name, s := range secrets {
		if strings.Contains(logs, s) {
			t.Errorf("the log holds the %s (%q):\n%s", name, s, logs)
		}
		if name != "Authorization header value" && !strings.HasPrefix(name, "token ") && strings.Contains(answers.String(), s) {
			t.Errorf("an answer holds the %s", name)
		}
	}
	// Answers may echo what the client itself sent (a path), but never a
	// token the client did not send: the admin token is only in requests
	// that carried it.
	if strings.Contains(answers.String(), viewerToken) {
		t.Errorf("an answer holds the viewer token")
	}
	// Unsubscribe links hold an address, which must not reach the log either.
	if strings.Contains(logs, "ana@example.org") {
		t.Errorf("the log holds a subscriber's address:\n%s", logs)
	}
}
