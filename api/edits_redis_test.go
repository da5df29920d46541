package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/pregon/pregon/auth"
	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/queue"
	"github.com/pregon/pregon/store"
)

// newApprovalAPI is newRedisAPI with approval required, as `pregon api`
// wires it with PREGON_REQUIRE_APPROVAL=true, and a second coordinator
// token, otherCoordToken, named "luis".
func newApprovalAPI(t *testing.T) *redisAPI {
	t.Helper()
	a := newRedisAPI(t, func(c *Config) {
		st := c.Store.(*store.Store)
		svc, err := dispatcher.NewService(dispatcher.Config{Store: st, Queue: queue.NewClient(st.Client()), Logger: c.Logger, RequireApproval: true})
		if err != nil {
			t.Fatal(err)
		}
		c.Sender, c.RequireApproval = svc, true
	})
	if err := a.store.CreateToken(context.Background(), auth.Hash(otherCoordToken), &auth.Token{Name: "luis", Role: auth.RoleCoordinator}); err != nil {
		t.Fatal(err)
	}
	return a
}

// versionOut is the part of a release the approval tests read.
type versionOut struct {
	Status          string `json:"status"`
	Title           string `json:"title"`
	Version         int    `json:"version"`
	Author          string `json:"author"`
	ApprovedBy      string `json:"approved_by"`
	ApprovedVersion int    `json:"approved_version"`
}

func (a *redisAPI) release(id string) versionOut {
	a.t.Helper()
	var v versionOut
	a.must("GET", "/v1/releases/"+id, "", http.StatusOK, &v)
	return v
}

// TestApprovalOnRedis: with approval required, the author's approval is
// refused, another coordinator's accepted, an edit withdraws it, and send
// is refused until the current version is approved.
func TestApprovalOnRedis(t *testing.T) {
	a := newApprovalAPI(t)
	list := a.newList()
	a.addMember(list, "marta@diario.example")
	id := a.newRelease(list, 200, nil)
	if v := a.release(id); v.Version != 1 || v.Author != "coordinator" {
		t.Fatalf("new release: %+v", v)
	}
	send := func() *Problem {
		w := a.do("POST", "/v1/releases/"+id+"/send", coordToken, `{}`)
		if w.Code == http.StatusAccepted {
			return nil
		}
		p := problemOf(t, w, http.StatusConflict)
		return &p
	}
	if p := send(); p == nil || !strings.Contains(p.Detail, "needs approval of version 1 by a coordinator other than coordinator") {
		t.Fatalf("send before approval: %+v", p)
	}
	p := problemOf(t, a.do("POST", "/v1/releases/"+id+"/approve", coordToken, `{"version": 1}`), http.StatusForbidden)
	if !strings.Contains(p.Detail, "a coordinator other than its author must approve it") {
		t.Fatalf("approval by the author: %q", p.Detail)
	}
	if w := a.do("POST", "/v1/releases/"+id+"/approve", otherCoordToken, `{"version": 1}`); w.Code != http.StatusOK {
		t.Fatalf("approval by luis: %d %s", w.Code, w.Body)
	}
	if v := a.release(id); v.ApprovedBy != "luis" || v.ApprovedVersion != 1 {
		t.Fatalf("after approval: %+v", v)
	}

	var ed versionOut
	a.must("PATCH", "/v1/releases/"+id, `{"title": "Las comunidades logran detener el dragado"}`, http.StatusOK, &ed)
	if ed.Version != 2 || ed.ApprovedVersion != 1 || ed.Title != "Las comunidades logran detener el dragado" {
		t.Fatalf("after the edit: %+v", ed)
	}
	if p := send(); p == nil || !strings.Contains(p.Detail, "needs approval of version 2") {
		t.Fatalf("send after the edit withdrew the approval: %+v", p)
	}
	if v := a.release(id); v.Status != "draft" {
		t.Fatalf("status after refused sends: %s", v.Status)
	}
	problemOf(t, a.do("POST", "/v1/releases/"+id+"/approve", otherCoordToken, `{"version": 1}`), http.StatusConflict)
	if w := a.do("POST", "/v1/releases/"+id+"/approve", otherCoordToken, `{"version": 2}`); w.Code != http.StatusOK {
		t.Fatalf("approval of version 2: %d %s", w.Code, w.Body)
	}
	if p := send(); p != nil {
		t.Fatalf("send of an approved version: %+v", p)
	}
	if v := a.release(id); v.Status != "scheduled" {
		t.Fatalf("status after send: %s", v.Status)
	}

	// An edit of the scheduled release withdraws its approval, and so takes
	// it back to draft: it cannot go out unapproved.
	a.must("PATCH", "/v1/releases/"+id, `{"summary": "Resumen corregido."}`, http.StatusOK, &ed)
	if ed.Status != "draft" || ed.Version != 3 || ed.ApprovedVersion != 2 {
		t.Fatalf("edit of the scheduled release: %+v", ed)
	}

	// Once sending, the release can be neither edited nor approved.
	if _, err := a.store.SetReleaseStatus(context.Background(), id, dispatcher.ReleaseSending, dispatcher.ReleaseDraft); err != nil {
		t.Fatal(err)
	}
	p = problemOf(t, a.do("PATCH", "/v1/releases/"+id, coordToken, `{"title": "Otro"}`), http.StatusConflict)
	if !strings.Contains(p.Detail, "The release is sending; it can no longer be edited") {
		t.Fatalf("edit while sending: %q", p.Detail)
	}
	problemOf(t, a.do("POST", "/v1/releases/"+id+"/approve", otherCoordToken, `{"version": 3}`), http.StatusConflict)
	if v := a.release(id); v.Version != 3 || v.Title != "Las comunidades logran detener el dragado" {
		t.Fatalf("after refused changes: %+v", v)
	}
}

// TestConcurrentPatchesOfOneVersion: of PATCHes that all expect the same
// version, exactly one is stored; the others get 409 naming the version
// that won.
func TestConcurrentPatchesOfOneVersion(t *testing.T) {
	a := newRedisAPI(t)
	id := a.newRelease(a.newList(), 200, nil)
	const n = 6
	codes := make([]int, n)
	bodies := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body, _ := json.Marshal(map[string]any{"version": 1, "title": "Título " + string(rune('A'+i))})
			w := a.do("PATCH", "/v1/releases/"+id, coordToken, string(body))
			codes[i], bodies[i] = w.Code, w.Body.String()
		}()
	}
	wg.Wait()
	won := 0
	for i, c := range codes {
		switch c {
		case http.StatusOK:
			won++
		case http.StatusConflict:
			if !strings.Contains(bodies[i], "at version 2, not 1") {
				t.Errorf("losing PATCH: %s", bodies[i])
			}
		default:
			t.Errorf("PATCH: %d %s", c, bodies[i])
		}
	}
	if v := a.release(id); won != 1 || v.Version != 2 {
		t.Fatalf("%d PATCHes won, version %d; want 1 and 2", won, v.Version)
	}

	// Without an expected version, concurrent patches of different fields
	// are each applied, one after the other.
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := a.do("PATCH", "/v1/releases/"+id, coordToken, `{"source_url": "https://example.org/`+string(rune('a'+i))+`"}`)
			codes[i], bodies[i] = w.Code, w.Body.String()
		}()
	}
	wg.Wait()
	ok := 0
	for i, c := range codes {
		if c == http.StatusOK {
			ok++
		} else if c != http.StatusConflict || !strings.Contains(bodies[i], "kept changing") {
			t.Errorf("PATCH without a version: %d %s", c, bodies[i])
		}
	}
	if v := a.release(id); v.Version != 2+ok || ok == 0 {
		t.Fatalf("%d PATCHes stored, version %d", ok, v.Version)
	}
}
