package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/pregon/pregon/audit"
	"github.com/pregon/pregon/auth"
	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/links"
)

const auditAdminToken = "pgn_audit_admin_secret"

// newAuditAPI returns the API on Redis with an admin token named "admin",
// behind a trusted proxy at 10.0.0.0/8, and the dispatcher's service (to
// dispatch releases, as a worker would).
func newAuditAPI(t *testing.T) (*redisAPI, *dispatcher.Service) {
	t.Helper()
	var svc *dispatcher.Service
	a := newRedisAPI(t, func(c *Config) {
		svc = c.Sender.(*dispatcher.Service)
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
		c.EmailHasher = auditHasher(t)
	})
	if err := a.store.CreateToken(context.Background(), auth.Hash(auditAdminToken), &auth.Token{Name: "admin", Role: auth.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	return a, svc
}

// auditHasher is the EmailHasher of newAuditAPI: a links signer with the
// harness's secret.
func auditHasher(t *testing.T) *links.Signer {
	t.Helper()
	s, err := links.New([]byte(linksSecret), "https://prensa.example.org", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// auditResp is the answer to GET /v1/audit.
type auditResp struct {
	Items      []*audit.Entry `json:"items"`
	NextCursor string         `json:"next_cursor"`
	Head       struct {
		Seq  int64  `json:"seq"`
		Hash string `json:"hash"`
	} `json:"head"`
}

// getAudit reads one page of GET /v1/audit?query as an admin.
func (a *redisAPI) getAudit(query string) auditResp {
	a.t.Helper()
	w := a.do("GET", "/v1/audit?"+query, auditAdminToken, "")
	if w.Code != http.StatusOK {
		a.t.Fatalf("GET /v1/audit?%s: %d %s", query, w.Code, w.Body)
	}
	var p auditResp
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		a.t.Fatal(err)
	}
	return p
}

// TestAuditRecordsEveryChange makes each change the API offers and reads
// the log back: one entry per change, with the token's name, the client's
// address, the target, the release's version and the counts; the chain
// holds.
func TestAuditRecordsEveryChange(t *testing.T) {
	a, svc := newAuditAPI(t)
	ctx := context.Background()
	// A request as a coordinator from addr, through the proxy 10.1.2.3 when
	// via is true.
	send := func(method, path, body string, via bool, want int) []byte {
		t.Helper()
		r := httptest.NewRequest(method, path, strings.NewReader(body))
		r.Header.Set("Authorization", "Bearer "+coordToken)
		if body != "" {
			r.Header.Set("Content-Type", "application/json")
		}
		r.RemoteAddr = "[2001:db8::7]:5123"
		if via {
			r.RemoteAddr = "10.1.2.3:443"
			r.Header.Set("X-Forwarded-For", "198.51.100.9, 203.0.113.7")
		}
		w := httptest.NewRecorder()
		a.srv.ServeHTTP(w, r)
		if w.Code != want {
			t.Fatalf("%s %s: %d %s, want %d", method, path, w.Code, w.Body, want)
		}
		return w.Body.Bytes()
	}
	id := func(b []byte) string {
		var v struct{ ID string }
		if err := json.Unmarshal(b, &v); err != nil || v.ID == "" {
			t.Fatalf("no id in %s", b)
		}
		return v.ID
	}

	list := id(send("POST", "/v1/lists", `{"name":"Prensa MX","kind":"press"}`, true, http.StatusCreated))
	send("POST", "/v1/lists/"+list+"/contacts",
		`[{"email":"ana@example.org"},{"email":"bob@example.org"},{"email":"ana@example.org"},{"email":"nope"}]`, false, http.StatusOK)
	send("DELETE", "/v1/lists/"+list+"/contacts/bob@example.org", "", false, http.StatusNoContent)
	channel := id(send("POST", "/v1/telegram/channels", `{"chat_id":"@canal_prensa"}`, false, http.StatusCreated))
	rel := id(send("POST", "/v1/releases", `{"title":"Comunicado","body":"Texto.","language":"es","audiences":{"lists":["`+list+`"]}}`, false, http.StatusCreated))
	send("POST", "/v1/releases/"+rel+"/send", `{}`, false, http.StatusAccepted)
	if err := svc.Dispatch(ctx, rel); err != nil {
		t.Fatal(err)
	}
	send("POST", "/v1/releases/"+rel+"/retry", "", false, http.StatusAccepted)
	rel2 := id(send("POST", "/v1/releases", `{"title":"Otro","body":"Texto.","language":"es","audiences":{"lists":["`+list+`"]},"send":true}`, false, http.StatusCreated))
	send("POST", "/v1/releases/"+rel2+"/cancel", "", false, http.StatusOK)
	// Refused requests change nothing and record nothing.
	send("POST", "/v1/lists", `{"name":"","kind":"press"}`, false, http.StatusBadRequest)
	send("POST", "/v1/releases/"+rel2+"/send", `{}`, false, http.StatusConflict)

	var tokens struct{ Items []auth.Token }
	w := a.do("GET", "/v1/tokens", auditAdminToken, "")
	if err := json.Unmarshal(w.Body.Bytes(), &tokens); err != nil {
		t.Fatal(err)
	}
	var viewerID string
	for _, tok := range tokens.Items {
		if tok.Role == auth.RoleViewer {
			viewerID = tok.ID
		}
	}
	if w := a.do("DELETE", "/v1/tokens/"+viewerID, auditAdminToken, ""); w.Code != http.StatusNoContent {
		t.Fatalf("revoke: %d %s", w.Code, w.Body)
	}

	p := a.getAudit("order=oldest")
	v6 := "2001:db8::7"
	coord := string(auth.RoleCoordinator) // newRedisAPI names tokens after their role
	want := []*audit.Entry{
		{Seq: 1, Actor: coord, Action: audit.ListCreate, Target: list, Client: "203.0.113.7", Detail: map[string]any{"name": "Prensa MX", "kind": "press"}},
		{Seq: 2, Actor: coord, Action: audit.ContactsImport, Target: list, Client: v6,
			Detail: map[string]any{"added": json.Number("2"), "updated": json.Number("0"), "skipped": json.Number("1"), "errors": json.Number("1"), "suppressed": json.Number("0")}},
		{Seq: 3, Actor: coord, Action: audit.ContactRemove, Target: list, Client: v6, Detail: map[string]any{"email_hmac": auditHasher(t).HashEmail("bob@example.org")}},
		{Seq: 4, Actor: coord, Action: audit.ChannelCreate, Target: channel, Client: v6, Detail: map[string]any{"chat_id": "@canal_prensa"}},
		{Seq: 5, Actor: coord, Action: audit.ReleaseCreate, Target: rel, Version: 1, Client: v6},
		{Seq: 6, Actor: coord, Action: audit.ReleaseSend, Target: rel, Version: 1, Client: v6, Detail: map[string]any{"status": "scheduled"}},
		{Seq: 7, Actor: coord, Action: audit.ReleaseRetry, Target: rel, Version: 1, Client: v6, Detail: map[string]any{"requeued": json.Number("0")}},
		{Seq: 8, Actor: coord, Action: audit.ReleaseCreate, Target: rel2, Version: 1, Client: v6},
		{Seq: 9, Actor: coord, Action: audit.ReleaseSend, Target: rel2, Version: 1, Client: v6, Detail: map[string]any{"status": "scheduled"}},
		{Seq: 10, Actor: coord, Action: audit.ReleaseCancel, Target: rel2, Version: 1, Client: v6},
		{Seq: 11, Actor: "admin", Action: audit.TokenRevoke, Target: viewerID, Client: "192.0.2.1"},
	}
	// The removed address is in no entry, only its keyed hash: the log is
	// never edited, so it must hold nothing an erasure would remove.
	if raw := a.do("GET", "/v1/audit?order=oldest", auditAdminToken, "").Body.String(); strings.Contains(raw, "bob@") {
		t.Errorf("the audit log shows the removed address:\n%s", raw)
	}
	ignore := cmpopts.IgnoreFields(audit.Entry{}, "At", "PrevHash", "Hash")
	if diff := cmp.Diff(want, p.Items, ignore, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("audit log (-want +got):\n%s", diff)
	}
	if p.NextCursor != "" || p.Head.Seq != 11 || p.Head.Hash != p.Items[len(p.Items)-1].Hash {
		t.Errorf("next_cursor %q, head %+v; want one page, the head at entry 11", p.NextCursor, p.Head)
	}
	var v audit.Verifier
	for _, e := range p.Items {
		if e.At.IsZero() {
			t.Errorf("entry %d has no time", e.Seq)
		}
		v.Add(e)
	}
	if bs := v.Finish(audit.Head{Seq: p.Head.Seq, Hash: p.Head.Hash}); len(bs) != 0 {
		t.Errorf("the chain read through the API breaks: %v", bs)
	}
}

// TestAuditReadPagedAndFiltered: newest first by default, oldest first on
// request, filtered by release and time, paged by cursor; bad parameters
// are field errors; only admins may read it.
func TestAuditReadPagedAndFiltered(t *testing.T) {
	a, _ := newAuditAPI(t)
	list := a.newList()
	a.addMember(list, "marta@diario.example") // entry 2: a send to no one is refused
	rel := a.newRelease(list, 100, nil)
	a.must("POST", "/v1/releases/"+rel+"/send", `{}`, http.StatusAccepted, nil)
	a.newList()
	a.newList()

	seqs := func(items []*audit.Entry) []int64 {
		var out []int64
		for _, e := range items {
			out = append(out, e.Seq)
		}
		return out
	}
	var pages [][]int64
	for q := "limit=2"; ; {
		p := a.getAudit(q)
		pages = append(pages, seqs(p.Items))
		if p.NextCursor == "" {
			break
		}
		q = "limit=2&cursor=" + url.QueryEscape(p.NextCursor)
	}
	if diff := cmp.Diff([][]int64{{6, 5}, {4, 3}, {2, 1}}, pages); diff != "" {
		t.Errorf("newest-first pages (-want +got):\n%s", diff)
	}
	if got := seqs(a.getAudit("release=" + rel).Items); !cmp.Equal(got, []int64{4, 3}) {
		t.Errorf("release=%s: entries %v, want [4 3]", rel, got)
	}
	if got := seqs(a.getAudit("release=" + rel + "&order=oldest").Items); !cmp.Equal(got, []int64{3, 4}) {
		t.Errorf("release, oldest first: entries %v, want [3 4]", got)
	}
	all := a.getAudit("order=oldest").Items
	since := all[4].At.Format("2006-01-02T15:04:05.000000000Z07:00")
	if got := seqs(a.getAudit("order=oldest&since=" + url.QueryEscape(since)).Items); len(got) == 0 || got[0] > 5 || got[len(got)-1] != 6 {
		t.Errorf("since entry 5's time: entries %v, want from entry 5 (or before, in the same second) to 6", got)
	}
	if got := a.getAudit("since=2999-01-01T00:00:00Z").Items; len(got) != 0 {
		t.Errorf("since the future: %d entries", len(got))
	}

	for _, tc := range []struct{ query, field string }{
		{"since=yesterday", "since"},
		{"order=random", "order"},
		{"limit=0", "limit"},
		{"cursor=abc", "cursor"},
		{"release=" + url.QueryEscape("rel x"), "release"},
	} {
		p := problemOf(t, a.do("GET", "/v1/audit?"+tc.query, auditAdminToken, ""), http.StatusBadRequest)
		if !cmp.Equal(fieldsOf(p), []string{tc.field}) {
			t.Errorf("?%s: fields %v, want [%s]", tc.query, fieldsOf(p), tc.field)
		}
	}
	// A cursor of another collection is not an audit cursor.
	var lists struct {
		NextCursor string `json:"next_cursor"`
	}
	a.must("GET", "/v1/lists?limit=1", "", http.StatusOK, &lists)
	problemOf(t, a.do("GET", "/v1/audit?cursor="+lists.NextCursor, auditAdminToken, ""), http.StatusBadRequest)

	for _, tok := range []string{coordToken, viewerToken} {
		problemOf(t, a.do("GET", "/v1/audit", tok, ""), http.StatusForbidden)
	}
	problemOf(t, a.do("GET", "/v1/audit", "", ""), http.StatusUnauthorized)
}

// TestChangeNotAuditedAnswers503: when the log cannot be written, the change
// is reported as made but not recorded (503), and the entry is in the
// server's log; when it can, the same request succeeds.
func TestChangeNotAuditedAnswers503(t *testing.T) {
	h := newHarness(t)
	h.audit.err = errors.New("dial tcp: connection refused")
	w := h.json("POST", "/v1/lists", `{"name":"Prensa","kind":"press"}`)
	p := problemOf(t, w, http.StatusServiceUnavailable)
	if p.Type != ProblemAuditUnavailable || !strings.Contains(p.Detail, "list.create") || !strings.Contains(p.Detail, "was made") {
		t.Errorf("problem %+v: want the audit-unavailable type, naming the change, saying it was made", p)
	}
	if w.Header().Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	logs := h.logs.String()
	if !strings.Contains(logs, "not recorded in the audit log") || !strings.Contains(logs, `"action":"list.create"`) || !strings.Contains(logs, `"actor":"coordinator-token"`) {
		t.Errorf("the server's log lacks the entry:\n%s", logs)
	}

	// A release whose creation cannot be recorded is not sent either.
	list := h.store.lists[0].ID
	w = h.json("POST", "/v1/releases", `{"title":"T","body":"B","language":"es","audiences":{"lists":["`+list+`"]},"send":true}`)
	p = problemOf(t, w, http.StatusServiceUnavailable)
	h.sender.mu.Lock()
	sends := len(h.sender.sends)
	h.sender.mu.Unlock()
	if p.ReleaseID == "" || sends != 0 {
		t.Errorf("problem %+v, %d sends: want the release id and no send", p, sends)
	}

	h.audit.err = nil
	h.mustJSON("POST", "/v1/lists", `{"name":"Prensa","kind":"press"}`, http.StatusCreated, nil)
	if got := h.audit.actions(); !cmp.Equal(got, []audit.Action{audit.ListCreate}) {
		t.Errorf("recorded %v, want [list.create]", got)
	}
}
