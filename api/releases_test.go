package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pregon/pregon/dispatcher"
)

// statement is a release body in the shape of a real one.
const statement = `Las comunidades de la Sierra Norte exigen la cancelación de las concesiones.

> «No vamos a permitir que se lleven el agua», dijo María Hernández, vocera del Consejo.

Firman: Consejo Comunitario del Valle, Colectivo Río Vivo, Red de Radios Comunitarias.`

// releaseJSON returns a valid release body with audiences, changed by edit.
func releaseJSON(t *testing.T, lists, channels []string, edit func(map[string]any)) string {
	t.Helper()
	m := map[string]any{
		"title":    "Comunidades exigen cancelar concesiones mineras",
		"summary":  "Cambiemos… el rumbo",
		"body":     statement,
		"language": "es",
		"translations": []any{map[string]any{
			"language": "en", "title": "Communities demand mining concessions be cancelled", "body": "The communities…",
		}},
		"contact":       map[string]any{"name": "Lucía Gómez", "email": "prensa@example.org", "phone": "+52 55 0000 0000"},
		"source_url":    "https://example.org/comunicados/1",
		"audiences":     map[string]any{"lists": lists, "telegram_channels": channels},
		"embargo_until": "2025-06-02T09:00:00-06:00",
	}
	if edit != nil {
		edit(m)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCreateReleaseValidation(t *testing.T) {
	h := newHarness(t)
	list, list2 := h.newList("Prensa"), h.newList("Suscriptores")
	var sl dispatcher.List
	h.mustJSON("POST", "/v1/lists", `{"name":"Público","kind":"subscribers"}`, http.StatusCreated, &sl)
	subs := sl.ID
	channel := h.newChannel("@canal_prensa")
	lists, channels := []string{list, list2}, []string{channel}
	writes := h.store.writes
	body := func(edit func(map[string]any)) string { return releaseJSON(t, lists, channels, edit) }
	set := func(k string, v any) string { return body(func(m map[string]any) { m[k] = v }) }
	tr := func(lang, title, body string) map[string]any {
		return map[string]any{"language": lang, "title": title, "body": body}
	}
	checkBad(t, h, "/v1/releases", []badRequest{
		{name: "title missing", body: set("title", ""), fields: []string{"title"}},
		{name: "title two lines", body: set("title", "Comunidades exigen\r\ncancelar concesiones"), fields: []string{"title"}, detailHas: "single line"},
		{name: "title too long", body: set("title", strings.Repeat("á", 301)), fields: []string{"title"}},
		{name: "body missing, to send", body: body(func(m map[string]any) { m["body"], m["send"] = " \n ", true }), fields: []string{"body"}, detailHas: "required to send it"},
		{name: "body over 100 KB", body: set("body", strings.Repeat("x", 100<<10+1)), fields: []string{"body"}},
		{name: "language missing", body: set("language", ""), fields: []string{"language"}},
		{name: "language not a code", body: set("language", "español"), fields: []string{"language"}},
		{name: "translation repeats the original", body: set("translations", []any{tr("ES", "T", "B")}), fields: []string{"translations[0].language"}},
		{name: "translations repeat each other", body: set("translations", []any{tr("en", "T", "B"), tr("pt-BR", "T", "B"), tr("en", "T", "B")}), fields: []string{"translations[2].language"}},
		{name: "translation incomplete", body: set("translations", []any{tr("en", "", ""), tr("", "T", "B")}),
			fields: []string{"translations[0].title", "translations[1].language"}},
		{name: "translation without text, to send", body: body(func(m map[string]any) { m["translations"], m["send"] = []any{tr("en", "T", "")}, true }),
			fields: []string{"translations[0].body"}},
		{name: "contact email", body: set("contact", map[string]any{"name": "Lucía", "email": "prensa@"}), fields: []string{"contact.email"}},
		{name: "source_url relative", body: set("source_url", "/comunicados/1"), fields: []string{"source_url"}},
		{name: "source_url ftp", body: set("source_url", "ftp://example.org/x"), fields: []string{"source_url"}},
		{name: "no audiences, to send", body: body(func(m map[string]any) { m["audiences"], m["send"] = map[string]any{}, true }),
			fields: []string{"audiences"}, detailHas: "at least one list or Telegram channel"},
		{name: "empty audiences, to send", body: body(func(m map[string]any) {
			m["audiences"], m["send"] = map[string]any{"lists": []string{}, "telegram_channels": []string{}}, true
		}), fields: []string{"audiences"}, detailHas: `leave out "send" to save it as a draft`},
		{name: "no audiences field, to send", body: body(func(m map[string]any) { delete(m, "audiences"); m["send"] = true }), fields: []string{"audiences"}},
		{name: "unknown list", body: set("audiences", map[string]any{"lists": []string{list, "l404"}}), fields: []string{"audiences.lists[1]"}, detailHas: `unknown list id "l404"`},
		{name: "unknown channel", body: set("audiences", map[string]any{"telegram_channels": []string{"c404"}}), fields: []string{"audiences.telegram_channels[0]"}},
		{name: "unknown early list", body: set("audiences", map[string]any{"lists": []string{list}, "early_lists": []string{"l404"}}), fields: []string{"audiences.early_lists[0]"}},
		{name: "subscribers as an early list", body: set("audiences", map[string]any{"lists": []string{list}, "early_lists": []string{list, subs, subs}}),
			fields: []string{"audiences.early_lists[1]"}, detailHas: "subscribers are a public audience"},
		{name: "unknown time zone", body: set("timezone", "America/Springfield"), fields: []string{"timezone"}, detailHas: "IANA time zone"},
		{name: "the server's local zone", body: set("timezone", "Local"), fields: []string{"timezone"}},
		{name: "time zone not a string", body: set("timezone", -6), fields: []string{"timezone"}},
		{name: "audiences wrong type", body: set("audiences", map[string]any{"lists": list}), fields: []string{"audiences.lists"}},
		{name: "audiences unknown field", body: set("audiences", map[string]any{"lists": []string{list}, "emails": []string{"a@example.org"}}), fields: []string{"emails"}},
		{name: "embargo not RFC 3339", body: set("embargo_until", "mañana a las 9"), fields: []string{"embargo_until"}, detailHas: "RFC 3339"},
		{name: "embargo without zone", body: set("embargo_until", "2025-06-02T09:00:00"), fields: []string{"embargo_until"}},
		{name: "send not a boolean", body: set("send", "yes"), fields: []string{"send"}},
		{name: "unknown top-level field", body: set("attachments_url", "x"), fields: []string{"attachments_url"}},
		{name: "many errors at once", body: body(func(m map[string]any) {
			m["title"], m["body"], m["language"], m["audiences"], m["send"] = "", "", "", map[string]any{}, true
		}), fields: []string{"title", "body", "language", "audiences"}, detailHas: "4 fields"},
		{name: "a draft still needs its title", body: body(func(m map[string]any) {
			m["title"], m["body"], m["audiences"] = " ", "", map[string]any{}
		}), fields: []string{"title"}},
		{name: "truncated", body: body(nil)[:200], detailHas: "ends too early"},
	})
	if h.store.writes != writes || len(h.store.releases) != 0 || len(h.sender.sends) != 0 {
		t.Errorf("refused releases wrote %d times, stored %d, sent %d", h.store.writes-writes, len(h.store.releases), len(h.sender.sends))
	}
}

func TestCreateRelease(t *testing.T) {
	h := newHarness(t)
	list, channel := h.newList("Prensa"), h.newChannel("-1001234567890")
	w := h.json("POST", "/v1/releases", releaseJSON(t, []string{list, list}, []string{channel}, nil))
	if w.Code != http.StatusCreated {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	var got dispatcher.Release
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	embargo := time.Date(2025, 6, 2, 15, 0, 0, 0, time.UTC)
	want := dispatcher.Release{
		ID: got.ID, Status: dispatcher.ReleaseDraft,
		Title: "Comunidades exigen cancelar concesiones mineras", Summary: "Cambiemos… el rumbo", Body: statement, Language: "es",
		Translations: []dispatcher.Translation{{Language: "en", Title: "Communities demand mining concessions be cancelled", Body: "The communities…"}},
		Contact:      &dispatcher.PressContact{Name: "Lucía Gómez", Email: "prensa@example.org", Phone: "+52 55 0000 0000"},
		SourceURL:    "https://example.org/comunicados/1",
		Audiences:    dispatcher.Audiences{Lists: []string{list}, EarlyLists: []string{}, TelegramChannels: []string{channel}},
		EmbargoUntil: &embargo, CreatedAt: t0, UpdatedAt: t0,
		Version: 1, Author: "coordinator-token", Timezone: "UTC", Attachments: []dispatcher.Attachment{},
	}
	opts := cmp.Options{
		cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) }),
		cmp.FilterPath(func(p cmp.Path) bool { return p.String() == "Counts" }, cmp.Ignore()),
	}
	if diff := cmp.Diff(want, got, opts); diff != "" {
		t.Errorf("release (-want +got):\n%s", diff)
	}
	if loc := w.Header().Get("Location"); loc != "/v1/releases/"+got.ID {
		t.Errorf("Location = %q", loc)
	}
	checkZeroCounts(t, w.Body.Bytes())
	if len(h.sender.sends) != 0 {
		t.Errorf("sent without send: true: %+v", h.sender.sends)
	}

	w = h.do("GET", "/v1/releases/"+got.ID, viewerToken, "", "")
	if w.Code != http.StatusOK {
		t.Fatalf("GET release = %d", w.Code)
	}
	checkZeroCounts(t, w.Body.Bytes())
	problemOf(t, h.do("GET", "/v1/releases/r404", viewerToken, "", ""), http.StatusNotFound)
}

// checkZeroCounts checks that a release's JSON holds counts with zeros.
func checkZeroCounts(t *testing.T, body []byte) {
	t.Helper()
	var r struct {
		Counts map[string]any `json:"counts"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"total", "queued", "sent", "failed", "cancelled"} {
		if r.Counts[k] != 0.0 {
			t.Errorf("counts[%s] = %v in %s", k, r.Counts[k], body)
		}
	}
	if _, ok := r.Counts["by_channel"].(map[string]any); !ok {
		t.Errorf("counts.by_channel missing in %s", body)
	}
}

func TestCreateReleaseAndSend(t *testing.T) {
	h := newHarness(t)
	list := h.newList("Prensa")
	h.addMember(list, "ana@example.org")
	body := releaseJSON(t, []string{list}, nil, func(m map[string]any) {
		m["send"], m["embargo_until"] = true, "2025-06-02T00:00:00Z"
	})
	var got dispatcher.Release
	h.mustJSON("POST", "/v1/releases", body, http.StatusCreated, &got)
	if got.Status != dispatcher.ReleaseSending {
		t.Errorf("status %q, want sending", got.Status)
	}
	if diff := cmp.Diff([]sendCall{{ID: got.ID}}, h.sender.sends); diff != "" {
		t.Errorf("sends (-want +got):\n%s", diff)
	}
}

func TestReleaseActions(t *testing.T) {
	h := newHarness(t)
	list := h.newList("Prensa")
	h.addMember(list, "ana@example.org")
	newRelease := func() string {
		var r dispatcher.Release
		h.mustJSON("POST", "/v1/releases", releaseJSON(t, []string{list}, nil, nil), http.StatusCreated, &r)
		return r.ID
	}
	id := newRelease()
	at := "2025-06-02T09:00:00-06:00"

	// send with a time, then again: idempotent, 202 both times.
	var r dispatcher.Release
	h.mustJSON("POST", "/v1/releases/"+id+"/send", `{"at":"`+at+`"}`, http.StatusAccepted, &r)
	if r.Status != dispatcher.ReleaseScheduled {
		t.Errorf("status %q, want scheduled", r.Status)
	}
	if w := h.do("POST", "/v1/releases/"+id+"/send", coordToken, "", ""); w.Code != http.StatusAccepted {
		t.Errorf("second send = %d %s", w.Code, w.Body)
	}
	if s := h.sender.sends; len(s) != 2 || s[0].At == nil || !s[0].At.Equal(time.Date(2025, 6, 2, 15, 0, 0, 0, time.UTC)) || s[1].At != nil {
		t.Errorf("sends = %+v", s)
	}
	checkBad(t, h, "/v1/releases/"+id+"/send", []badRequest{
		{name: "bad at", body: `{"at":"tomorrow"}`, fields: []string{"at"}},
		{name: "at not a string", body: `{"at":1}`, fields: []string{"at"}},
		{name: "unknown field", body: `{"when":"x"}`, fields: []string{"when"}},
	})
	problemOf(t, h.json("POST", "/v1/releases/r404/send", ""), http.StatusNotFound)

	// cancel, then send and cancel conflict.
	h.mustJSON("POST", "/v1/releases/"+id+"/cancel", "", http.StatusOK, &r)
	if r.Status != dispatcher.ReleaseCancelled {
		t.Errorf("status %q, want cancelled", r.Status)
	}
	problemOf(t, h.json("POST", "/v1/releases/"+id+"/send", `{}`), http.StatusConflict)
	sent := newRelease()
	h.store.release(sent).Status = dispatcher.ReleaseSent
	problemOf(t, h.json("POST", "/v1/releases/"+sent+"/cancel", ""), http.StatusConflict)
	problemOf(t, h.json("POST", "/v1/releases/r404/cancel", ""), http.StatusNotFound)

	// retry
	h.store.deliveries[sent] = []*dispatcher.Delivery{
		{ID: "d1", Status: dispatcher.DeliveryFailed}, {ID: "d2", Status: dispatcher.DeliverySent}, {ID: "d3", Status: dispatcher.DeliveryFailed},
	}
	w := h.json("POST", "/v1/releases/"+sent+"/retry", "")
	if w.Code != http.StatusAccepted || strings.TrimSpace(w.Body.String()) != `{"requeued":2}` {
		t.Errorf("retry = %d %s", w.Code, w.Body)
	}
	problemOf(t, h.json("POST", "/v1/releases/r404/retry", ""), http.StatusNotFound)
}

func TestReleasesPage(t *testing.T) {
	h := newHarness(t)
	list := h.newList("Prensa")
	var ids []string
	for i := range 5 {
		var r dispatcher.Release
		h.mustJSON("POST", "/v1/releases", releaseJSON(t, []string{list}, nil, func(m map[string]any) {
			m["title"] = fmt.Sprintf("Comunicado %d", i)
		}), http.StatusCreated, &r)
		ids = append([]string{r.ID}, ids...) // newest first
	}
	h.store.release(ids[0]).Status = dispatcher.ReleaseSent

	var got []string
	for cursor, n := "", 0; n < 5; n++ {
		var page Page[dispatcher.Release]
		h.mustJSON("GET", "/v1/releases?limit=2&cursor="+cursor, "", http.StatusOK, &page)
		for _, r := range page.Items {
			got = append(got, r.ID)
			if r.Counts == nil {
				t.Errorf("release %s without counts", r.ID)
			}
		}
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	if diff := cmp.Diff(ids, got); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}
	var page Page[dispatcher.Release]
	h.mustJSON("GET", "/v1/releases?status=draft", "", http.StatusOK, &page)
	if len(page.Items) != 4 {
		t.Errorf("%d drafts, want 4", len(page.Items))
	}
	p := problemOf(t, h.do("GET", "/v1/releases?status=published&limit=0", viewerToken, "", ""), http.StatusBadRequest)
	if diff := cmp.Diff([]string{"limit", "status"}, fieldsOf(p)); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
}

func TestDeliveries(t *testing.T) {
	h := newHarness(t)
	list := h.newList("Prensa")
	var rel dispatcher.Release
	h.mustJSON("POST", "/v1/releases", releaseJSON(t, []string{list}, nil, nil), http.StatusCreated, &rel)
	h.store.deliveries[rel.ID] = []*dispatcher.Delivery{
		{ID: "d1", Channel: dispatcher.ChannelEmail, Recipient: "ana@example.org", Status: dispatcher.DeliverySent, MessageIDs: []string{"<1@example.org>"}},
		{ID: "d2", Channel: dispatcher.ChannelEmail, Recipient: "beto@example.org", Status: dispatcher.DeliveryFailed, LastError: "550 no such user"},
		{ID: "d3", Channel: dispatcher.ChannelTelegram, Recipient: "@canal_prensa", Status: dispatcher.DeliverySent},
	}
	for _, c := range []struct {
		query string
		want  []string
	}{
		{"", []string{"d1", "d2", "d3"}},
		{"?status=sent", []string{"d1", "d3"}},
		{"?channel=email&status=failed", []string{"d2"}},
		{"?channel=telegram", []string{"d3"}},
		{"?status=retrying", []string{}},
	} {
		w := h.do("GET", "/v1/releases/"+rel.ID+"/deliveries"+c.query, viewerToken, "", "")
		var page Page[dispatcher.Delivery]
		if err := json.Unmarshal(w.Body.Bytes(), &page); err != nil || w.Code != 200 {
			t.Fatalf("%s: %d %s", c.query, w.Code, w.Body)
		}
		got := []string{}
		for _, d := range page.Items {
			got = append(got, d.ID)
			if d.MessageIDs == nil {
				t.Errorf("delivery %s: message_ids null", d.ID)
			}
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", c.query, diff)
		}
	}
	p := problemOf(t, h.do("GET", "/v1/releases/"+rel.ID+"/deliveries?status=lost&channel=fax&limit=x", viewerToken, "", ""), http.StatusBadRequest)
	if diff := cmp.Diff([]string{"limit", "status", "channel"}, fieldsOf(p)); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
	problemOf(t, h.do("GET", "/v1/releases/r404/deliveries", viewerToken, "", ""), http.StatusNotFound)
}

func TestPreview(t *testing.T) {
	h := newHarness(t)
	list := h.newList("Prensa")
	var rel dispatcher.Release
	h.mustJSON("POST", "/v1/releases", releaseJSON(t, []string{list}, nil, nil), http.StatusCreated, &rel)
	base := "/v1/releases/" + rel.ID + "/preview"
	for _, c := range []struct {
		query string
		want  map[string]any
	}{
		{"?channel=email", map[string]any{"channel": "email", "language": "es", "copy": "public",
			"subject": "Comunidades exigen cancelar concesiones mineras", "text": statement, "html": "<p>" + statement + "</p>"}},
		{"?channel=email&language=en", map[string]any{"channel": "email", "language": "en", "copy": "public",
			"subject": "Communities demand mining concessions be cancelled", "text": "The communities…", "html": "<p>The communities…</p>"}},
		{"?channel=telegram&language=fr", map[string]any{"channel": "telegram", "language": "es",
			"messages": []any{"<b>Comunidades exigen cancelar concesiones mineras</b>", statement}}},
	} {
		w := h.do("GET", base+c.query, viewerToken, "", "")
		var got map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || w.Code != 200 {
			t.Fatalf("%s: %d %s", c.query, w.Code, w.Body)
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", c.query, diff)
		}
	}
	for _, c := range []struct {
		query  string
		fields []string
	}{
		{"", []string{"channel"}},
		{"?channel=sms", []string{"channel"}},
		{"?channel=email&language=es_MX!", []string{"language"}},
		{"?channel=email&copy=embargoed", []string{"copy"}},
		{"?channel=telegram&copy=early", []string{"copy"}},
	} {
		p := problemOf(t, h.do("GET", base+c.query, viewerToken, "", ""), http.StatusBadRequest)
		if diff := cmp.Diff(c.fields, fieldsOf(p)); diff != "" {
			t.Errorf("%s fields (-want +got):\n%s", c.query, diff)
		}
	}
	problemOf(t, h.do("GET", "/v1/releases/r404/preview?channel=email", viewerToken, "", ""), http.StatusNotFound)
	// No embargo and no early lists: no early copy to show.
	if p := problemOf(t, h.do("GET", base+"?channel=email&copy=early", viewerToken, "", ""), http.StatusConflict); !strings.Contains(p.Detail, "no early copy") {
		t.Errorf("early copy of a release without one: %q", p.Detail)
	}
}

func TestCreateReleaseSendFails(t *testing.T) {
	for _, c := range []struct {
		err    error
		status int
	}{
		{errors.New("queue: redis down"), http.StatusInternalServerError},
		{fmt.Errorf("release cancelled: %w", dispatcher.ErrConflict), http.StatusConflict},
	} {
		h := newHarness(t)
		h.sender.sendErr = c.err
		list := h.newList("Prensa")
		h.addMember(list, "ana@example.org")
		w := h.json("POST", "/v1/releases", releaseJSON(t, []string{list}, nil, func(m map[string]any) { m["send"] = true }))
		p := problemOf(t, w, c.status)
		if len(h.store.releases) != 1 || p.ReleaseID != h.store.releases[0].ID || !strings.Contains(p.Detail, "draft") {
			t.Errorf("problem %+v: want the id of the draft kept", p)
		}
		if strings.Contains(p.Detail, "redis") {
			t.Errorf("detail shows the internal error: %q", p.Detail)
		}
		if c.status == 500 && !strings.Contains(h.logs.String(), "queue: redis down") {
			t.Errorf("log lacks the send error:\n%s", h.logs)
		}
	}
}

func TestSendEmptyBodyAnyType(t *testing.T) {
	h := newHarness(t)
	var rel dispatcher.Release
	list := h.newList("Prensa")
	h.addMember(list, "ana@example.org")
	h.mustJSON("POST", "/v1/releases", releaseJSON(t, []string{list}, nil, nil), http.StatusCreated, &rel)
	// curl -X POST -d '' sends this Content-Type.
	if w := h.do("POST", "/v1/releases/"+rel.ID+"/send", coordToken, "application/x-www-form-urlencoded", ""); w.Code != http.StatusAccepted {
		t.Errorf("send = %d %s", w.Code, w.Body)
	}
	if w := h.do("POST", "/v1/releases/"+rel.ID+"/send", coordToken, "text/plain", `{"at":null}`); w.Code != http.StatusUnsupportedMediaType {
		t.Errorf("send with a text body = %d %s", w.Code, w.Body)
	}
}
