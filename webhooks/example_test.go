package webhooks_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/pregon/pregon/webhooks"
)

// A receiver checks each request's signature with the secret it was given
// when the webhook was registered, refuses one outside the replay window,
// and drops an event id it has seen (delivery is at least once).
func ExampleVerify() {
	const secret = "whsec_example-secret-shown-once"
	seen := map[string]bool{}
	receiver := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "cannot read", http.StatusBadRequest)
			return
		}
		if err := webhooks.Verify(secret, r.Header.Get("Pregon-Signature"), body, time.Now(), webhooks.ReplayWindow); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		id := r.Header.Get("Pregon-Event-Id")
		if !seen[id] {
			seen[id] = true
			fmt.Printf("event %s: %s\n", id, body)
		}
		w.WriteHeader(http.StatusNoContent)
	})

	// What Pregón sends:
	body := []byte(`{"id":"evt_1","type":"release.sent","created_at":"2026-02-04T16:00:00Z","data":{"release_id":"rel_1"}}`)
	for range 2 { // the same event twice, as a retry may bring it
		req := httptest.NewRequest("POST", "/hooks/pregon", strings.NewReader(string(body)))
		req.Header.Set("Pregon-Signature", webhooks.Sign(secret, time.Now(), body))
		req.Header.Set("Pregon-Event-Id", "evt_1")
		rec := httptest.NewRecorder()
		receiver.ServeHTTP(rec, req)
		fmt.Println(rec.Code)
	}
	// A forged request:
	req := httptest.NewRequest("POST", "/hooks/pregon", strings.NewReader(string(body)))
	req.Header.Set("Pregon-Signature", webhooks.Sign("not-the-secret", time.Now(), body))
	rec := httptest.NewRecorder()
	receiver.ServeHTTP(rec, req)
	fmt.Println(rec.Code)
	// Output:
	// event evt_1: {"id":"evt_1","type":"release.sent","created_at":"2026-02-04T16:00:00Z","data":{"release_id":"rel_1"}}
	// 204
	// 204
	// 401
}
