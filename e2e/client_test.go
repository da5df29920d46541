package e2e

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"
)

//go:embed testdata/statement_es.md
var statementES string

//go:embed testdata/statement_en.md
var statementEN string

var httpClient = &http.Client{Timeout: 15 * time.Second}

// call sends a request to the API and decodes a JSON answer into out (when
// not nil). It returns the status, or an error when no answer came.
func (s *stack) call(method, path, ctype string, body []byte, out any) (int, error) {
	req, err := http.NewRequest(method, s.apiURL+path, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("Authorization", "Bearer "+s.token)
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if out != nil && resp.StatusCode/100 == 2 {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: decode %.200q: %w", method, path, data, err)
		}
	}
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, fmt.Errorf("%s %s: %d %.300s", method, path, resp.StatusCode, data)
	}
	return resp.StatusCode, nil
}

// mustCall is call for requests that must succeed with want.
func (s *stack) mustCall(method, path string, in any, want int, out any) {
	s.t.Helper()
	var body []byte
	ctype := ""
	switch b := in.(type) {
	case nil:
	case csvBody:
		body, ctype = []byte(b), "text/csv"
	default:
		j, err := json.Marshal(b)
		if err != nil {
			s.t.Fatal(err)
		}
		body, ctype = j, "application/json"
	}
	code, err := s.call(method, path, ctype, body, out)
	if code != want {
		s.t.Fatalf("%s %s: status %d, want %d: %v", method, path, code, want, err)
	}
}

func (s *stack) readyz() (int, error) {
	resp, err := httpClient.Get(s.apiURL + "/readyz")
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

type obj = map[string]any

type csvBody string

type list struct {
	ID string `json:"id"`
}

type importReport struct {
	Added   int   `json:"added"`
	Updated int   `json:"updated"`
	Skipped int   `json:"skipped"`
	Errors  []any `json:"errors"`
}

// counts is a release's counts: "total", one field per status, and "by_channel".
type counts map[string]json.RawMessage

func (c counts) n(status string) int {
	var v int
	_ = json.Unmarshal(c[status], &v)
	return v
}

func (c counts) byChannel() map[string]map[string]int {
	var m map[string]map[string]int
	_ = json.Unmarshal(c["by_channel"], &m)
	return m
}

type release struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Counts counts `json:"counts"`
}

type delivery struct {
	ID         string   `json:"id"`
	Channel    string   `json:"channel"`
	Recipient  string   `json:"recipient"`
	Status     string   `json:"status"`
	Attempts   int      `json:"attempts"`
	LastError  string   `json:"last_error"`
	MessageIDs []string `json:"message_ids"`
}

// statuses are the delivery statuses the API reports.
var statuses = []string{"queued", "retrying", "sending", "sent", "failed", "suppressed", "skipped", "uncertain", "cancelled"}

// recipients returns n generated addresses, r00001@… to rNNNNN@….
func recipients(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%05d@prensa.example", prefix, i+1)
	}
	return out
}

// pressList creates a press list and imports addrs into it as a CSV file.
func (s *stack) pressList(name string, addrs []string) string {
	s.t.Helper()
	var l list
	s.mustCall("POST", "/v1/lists", obj{"name": name, "kind": "press"}, 201, &l)
	var b strings.Builder
	b.WriteString("email,name,outlet,language\n")
	for i, a := range addrs {
		lang := "es"
		if i%4 == 3 {
			lang = "en"
		}
		fmt.Fprintf(&b, "%s,Periodista %d,Diario %d,%s\n", a, i+1, i%37, lang)
	}
	var rep importReport
	s.mustCall("POST", "/v1/lists/"+l.ID+"/contacts", csvBody(b.String()), 200, &rep)
	if rep.Added != len(addrs) || len(rep.Errors) != 0 {
		s.t.Fatalf("import of %d contacts: %+v", len(addrs), rep)
	}
	return l.ID
}

// channels registers each chat id as a Telegram channel and returns their ids.
func (s *stack) channels(chatIDs []string) []string {
	s.t.Helper()
	var ids []string
	for _, c := range chatIDs {
		var ch list
		s.mustCall("POST", "/v1/telegram/channels", obj{"chat_id": c, "title": "Canal " + c, "language": "es"}, 201, &ch)
		ids = append(ids, ch.ID)
	}
	return ids
}

// sendRelease creates a release of the statement for the audiences, with
// send: true, and returns its id.
func (s *stack) sendRelease(lists, channels []string) string {
	s.t.Helper()
	if lists == nil {
		lists = []string{}
	}
	if channels == nil {
		channels = []string{}
	}
	var rel release
	s.mustCall("POST", "/v1/releases", obj{
		"title":        "Las cooperativas exigen detener el dragado del canal norte",
		"summary":      "Diecinueve cooperativas pesqueras piden suspender las obras en la Laguna de Santa Brígida.",
		"body":         statementES,
		"language":     "es",
		"translations": []obj{{"language": "en", "title": "Cooperatives demand a halt to the dredging of the northern channel", "body": statementEN}},
		"contact":      obj{"name": "Marisol Quiñones Ávila", "email": "prensa@cooperativas.example", "phone": "+52 954 000 1234"},
		"source_url":   "https://cooperativas.example/comunicados/dragado",
		"audiences":    obj{"lists": lists, "telegram_channels": channels},
		"send":         true,
	}, 201, &rel)
	return rel.ID
}

// release returns the release, or an error while the API cannot answer.
func (s *stack) release(id string) (*release, error) {
	var r release
	if _, err := s.call("GET", "/v1/releases/"+url.PathEscape(id), "", nil, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// waitFinal polls the release until it is sent, sent_with_failures or
// cancelled, tolerating errors meanwhile (e.g. while Redis is away).
func (s *stack) waitFinal(id string, timeout time.Duration) *release {
	s.t.Helper()
	var final *release
	waitFor(s.t, "release "+id+" to finish", timeout, 100*time.Millisecond, func() (bool, string) {
		r, err := s.release(id)
		if err != nil {
			return false, err.Error()
		}
		switch r.Status {
		case "sent", "sent_with_failures", "cancelled":
			final = r
			return true, ""
		}
		return false, fmt.Sprintf("status %s, counts %s", r.Status, compactCounts(r.Counts))
	})
	return final
}

// deliveries lists the release's deliveries matching query (e.g.
// "status=sending"), following next_cursor.
func (s *stack) deliveries(id, query string) []delivery {
	s.t.Helper()
	var all []delivery
	cursor := ""
	for {
		var page struct {
			Items      []delivery `json:"items"`
			NextCursor string     `json:"next_cursor"`
		}
		q := "limit=1000&" + query
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		s.mustCall("GET", "/v1/releases/"+id+"/deliveries?"+q, nil, 200, &page)
		all = append(all, page.Items...)
		if page.NextCursor == "" {
			return all
		}
		cursor = page.NextCursor
	}
}

// telegramParts returns the messages the release is posted as, in language.
func (s *stack) telegramParts(id, language string) []string {
	s.t.Helper()
	var p struct {
		Messages []string `json:"messages"`
	}
	s.mustCall("GET", "/v1/releases/"+id+"/preview?channel=telegram&language="+language, nil, 200, &p)
	return p.Messages
}

// checkCounts checks that the release's counts add up, in total and per
// channel, and match the deliveries one by one.
func checkCounts(t *testing.T, r *release, ds []delivery) {
	t.Helper()
	c := r.Counts
	sum := 0
	byStatus := map[string]int{}
	byChannel := map[string]map[string]int{}
	for _, d := range ds {
		byStatus[d.Status]++
		if byChannel[d.Channel] == nil {
			byChannel[d.Channel] = map[string]int{}
		}
		byChannel[d.Channel][d.Status]++
	}
	for _, st := range statuses {
		sum += c.n(st)
		if c.n(st) != byStatus[st] {
			t.Errorf("counts.%s = %d, but %d deliveries are %s", st, c.n(st), byStatus[st], st)
		}
	}
	if c.n("total") != sum || c.n("total") != len(ds) {
		t.Errorf("counts.total = %d; sum of statuses %d; deliveries listed %d", c.n("total"), sum, len(ds))
	}
	bc := c.byChannel()
	for _, st := range statuses {
		chSum := 0
		for ch, m := range bc {
			chSum += m[st]
			if m[st] != byChannel[ch][st] {
				t.Errorf("counts.by_channel.%s.%s = %d, but %d such deliveries", ch, st, m[st], byChannel[ch][st])
			}
		}
		if chSum != c.n(st) {
			t.Errorf("counts.by_channel sums to %d %s, counts.%s = %d", chSum, st, st, c.n(st))
		}
	}
	for ch, m := range bc {
		chTotal := 0
		for _, st := range statuses {
			chTotal += m[st]
		}
		if m["total"] != chTotal {
			t.Errorf("counts.by_channel.%s.total = %d, sum of its statuses %d", ch, m["total"], chTotal)
		}
	}
}

func compactCounts(c counts) string {
	var parts []string
	for k, v := range c {
		if k == "by_channel" || string(v) == "0" {
			continue
		}
		parts = append(parts, k+"="+string(v))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}
