package api

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/pregon/pregon/store"
)

// editingStore is the API's store that, once armed, runs edit the first
// time the pre-send checks read whether addresses are suppressed: an edit
// that lands between the checks of a send and its scheduling.
type editingStore struct {
	*store.Store
	mu    sync.Mutex
	armed bool
	edit  func()
}

func (e *editingStore) Suppressed(ctx context.Context, emails []string) ([]bool, error) {
	e.mu.Lock()
	fire := e.armed
	e.armed = false
	e.mu.Unlock()
	if fire {
		e.edit()
	}
	return e.Store.Suppressed(ctx, emails)
}

// TestSendSchedulesOnlyTheCheckedVersion: a PATCH that lands after a send's
// checks passed and before it schedules the release makes the send answer
// 409 and schedule nothing, since the version it checked is not the one
// that would go out; sending again checks and sends the new version. On
// Redis, with the dispatcher's service: the version is compared in the
// script that schedules.
func TestSendSchedulesOnlyTheCheckedVersion(t *testing.T) {
	var es *editingStore
	a := newRedisAPI(t, func(c *Config) {
		es = &editingStore{Store: c.Store.(*store.Store)}
		c.Store = es
	})
	list := a.newList()
	a.addMember(list, "marta@diario.example")
	id := a.newRelease(list, 100, nil)
	es.edit = func() {
		a.must("PATCH", "/v1/releases/"+id, `{"title":"Un título que nadie revisó"}`, http.StatusOK, nil)
	}
	es.mu.Lock()
	es.armed = true
	es.mu.Unlock()

	w := a.do("POST", "/v1/releases/"+id+"/send", coordToken, `{}`)
	if w.Code != http.StatusConflict || !strings.Contains(w.Body.String(), "version 1 passed the pre-send checks, but it is at version 2 now") {
		t.Fatalf("send with an edit between its checks and its scheduling: %d %s; want 409 naming both versions", w.Code, w.Body)
	}
	var rel versionOut
	a.must("GET", "/v1/releases/"+id, "", http.StatusOK, &rel)
	if rel.Status != "draft" || rel.Version != 2 {
		t.Fatalf("after the refused send: %s at version %d; want a draft at version 2", rel.Status, rel.Version)
	}
	a.must("POST", "/v1/releases/"+id+"/send", `{}`, http.StatusAccepted, &rel)
	if rel.Status != "scheduled" || rel.Version != 2 {
		t.Errorf("sent again: %s at version %d; want version 2 scheduled", rel.Status, rel.Version)
	}
}
