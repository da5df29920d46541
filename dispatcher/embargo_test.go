package dispatcher_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/pregon/pregon/channels/email"
	"github.com/pregon/pregon/channels/telegram"
	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/internal/redistest"
	"github.com/pregon/pregon/internal/smtptest"
	"github.com/pregon/pregon/internal/telegramtest"
	"github.com/pregon/pregon/internal/testkit"
	"github.com/pregon/pregon/mock"
	"github.com/pregon/pregon/store"
	"github.com/pregon/pregon/templates"
	"github.com/redis/go-redis/v9"
)

// TestSendAtBeforeEmbargoIsAConflict: Send with an at before the release's
// embargo used to schedule it for then, handing it to its audiences early.
// For a release without early lists it is ErrConflict and leaves the
// release a draft, whoever calls Send.
func TestSendAtBeforeEmbargoIsAConflict(t *testing.T) {
	h := newIdleHarness(t, dispatcher.Config{})
	ctx := context.Background()
	embargo := time.Now().Add(time.Hour).UTC().Truncate(time.Millisecond)
	r := &dispatcher.Release{Title: "Comunicado", Body: "Texto.", Language: "es", EmbargoUntil: &embargo,
		Audiences: dispatcher.Audiences{Lists: []string{h.list(t, "ana@example.org")}}}
	if err := h.store.CreateRelease(ctx, r); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if _, err := h.svc.Send(ctx, r.ID, &now); !errors.Is(err, dispatcher.ErrConflict) {
		t.Fatalf("Send at now, embargo in an hour: err = %v, want ErrConflict", err)
	}
	if got, err := h.store.Release(ctx, r.ID); err != nil || got.Status != dispatcher.ReleaseDraft {
		t.Fatalf("after the refused send: %v, %v; want a draft", got, err)
	}
	got, err := h.svc.Send(ctx, r.ID, &embargo)
	if err != nil || got.Status != dispatcher.ReleaseScheduled {
		t.Fatalf("Send at the embargo = %v, %v; want scheduled", got, err)
	}
}

// tierRig is a dispatcher on real Redis, a real SMTP server and the fake
// Telegram Bot API, with the templates' renderer, whose clock and queue the
// test drives: a recording queue whose tasks the test runs itself, so that
// "before the lift" and "at the lift" are steps of the test, not races.
type tierRig struct {
	clock *testkit.Clock
	store *store.Store
	rdb   *redis.Client
	smtp  *smtptest.Server
	tg    *telegramtest.Server
	queue *mock.Queue
	svc   *dispatcher.Service
	chat  string // the Telegram channel's id in the store

	mu      sync.Mutex
	ran     int                // batches taken from the queue so far
	delayed []dispatcher.Batch // retries put aside by run
}

// The embargo of the tier tests: 10:00 in Mexico City, seven hours after
// t0 (the rig's clock starts at t0).
var lift = time.Date(2026, 12, 4, 16, 0, 0, 0, time.UTC)

const (
	zone          = "America/Mexico_City"
	embargoLineES = "EMBARGO HASTA 4 de diciembre de 2026, 10:00 (America/Mexico_City)"
)

func newTierRig(t *testing.T) *tierRig {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	r := &tierRig{clock: testkit.NewClock(t0), smtp: smtptest.Start(t), tg: telegramtest.Start(t, botToken), queue: mock.NewQueue()}
	r.rdb = redistest.Start(t).Client(t)
	r.store = store.New(r.rdb, r.clock.Now)
	r.tg.AddChat("@canal")
	mail, err := email.New(email.Config{URL: "smtp://" + r.smtp.Addr + "?tls=none", From: dispatcher.Address{Name: "Coalición", Email: "prensa@coalicion.example"}, PoolSize: 2, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mail.Close() })
	tgc, err := telegram.New(telegram.Config{Token: botToken, APIURL: r.tg.URL(), Timeout: 5 * time.Second, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	rend, err := templates.New()
	if err != nil {
		t.Fatal(err)
	}
	r.svc = newService(t, dispatcher.Config{Store: r.store, Queue: r.queue, Renderer: rend, Email: mail, Telegram: tgc,
		Logger: log, Now: r.clock.Now, MaxAttempts: 3, WorkerID: "w1"}, false)
	ch := &dispatcher.TelegramChannel{ChatID: "@canal", Language: "es"}
	if err := r.store.CreateChannel(context.Background(), ch); err != nil {
		t.Fatal(err)
	}
	r.chat = ch.ID
	return r
}

func (r *tierRig) list(t *testing.T, emails ...string) string {
	t.Helper()
	h := &harness{store: r.store}
	return h.list(t, emails...)
}

// release stores a release under embargo until lift, in Mexico City's
// time zone, to the lists early (early) and public, and the channel.
func (r *tierRig) release(t *testing.T, early, public string) string {
	t.Helper()
	emb := lift
	rel := &dispatcher.Release{Title: "Comunicado", Body: "Texto del comunicado.", Language: "es", EmbargoUntil: &emb, Timezone: zone,
		Audiences: dispatcher.Audiences{EarlyLists: []string{early}, Lists: []string{public}, TelegramChannels: []string{r.chat}}}
	if err := r.store.CreateRelease(context.Background(), rel); err != nil {
		t.Fatal(err)
	}
	return rel.ID
}

// dispatch runs the release's dispatch task, as asynq would when it is due.
func (r *tierRig) dispatch(t *testing.T, rid string) {
	t.Helper()
	if err := r.svc.Dispatch(context.Background(), rid); err != nil {
		t.Fatal(err)
	}
}

// run runs the delivery tasks enqueued since the last run, and those they
// enqueue without a delay, until none is left; tasks enqueued with a delay
// (retries) are put aside for runDelayed.
func (r *tierRig) run(t *testing.T) {
	t.Helper()
	for {
		all := r.queue.Batches()
		r.mu.Lock()
		next := all[r.ran:]
		r.ran = len(all)
		r.mu.Unlock()
		if len(next) == 0 {
			return
		}
		for _, b := range next {
			if b.Delay > 0 {
				r.delayed = append(r.delayed, b.Batch)
				continue
			}
			if err := r.svc.Deliver(context.Background(), b.Batch); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// runDelayed runs the tasks run put aside, then what they enqueue.
func (r *tierRig) runDelayed(t *testing.T) {
	t.Helper()
	bs := r.delayed
	r.delayed = nil
	for _, b := range bs {
		if err := r.svc.Deliver(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	r.run(t)
}

func (r *tierRig) get(t *testing.T, rid string) *dispatcher.Release {
	t.Helper()
	rel, err := r.store.Release(context.Background(), rid)
	if err != nil {
		t.Fatal(err)
	}
	return rel
}

// mails returns the emails the SMTP server got, in the order it got them.
func (r *tierRig) mails(t *testing.T) []sentEmail {
	t.Helper()
	var out []sentEmail
	for _, m := range r.smtp.Messages() {
		e := parseEmail(t, m.Data)
		e.to = strings.Join(m.To, ",")
		out = append(out, e)
	}
	return out
}

// posts returns the texts the Telegram channel got.
func (r *tierRig) posts() []string {
	var out []string
	for _, m := range r.tg.Messages("@canal") {
		out = append(out, m.Text)
	}
	return out
}

// setEmbargo changes the embargo of a stored release, as PATCH
// /v1/releases/{id} does: it rewrites the release's JSON (and its summary)
// in its hash. The dispatcher is told with Reschedule.
func (r *tierRig) setEmbargo(t *testing.T, rid string, at time.Time) {
	t.Helper()
	ctx := context.Background()
	key := "pregon:{" + rid + "}:release"
	data, err := r.rdb.HGet(ctx, key, "data").Result()
	if err != nil {
		t.Fatal(err)
	}
	var rel dispatcher.Release
	if err := json.Unmarshal([]byte(data), &rel); err != nil {
		t.Fatal(err)
	}
	rel.EmbargoUntil = &at
	full, _ := json.Marshal(&rel)
	rel.Body = ""
	sum, _ := json.Marshal(&rel)
	if err := r.rdb.HSet(ctx, key, "data", full, "sum", sum).Err(); err != nil {
		t.Fatal(err)
	}
}

type sentEmail struct {
	to, subject, text, html string
}

// mentions reports whether any part of the email mentions the embargo.
func (e sentEmail) mentions() bool {
	for _, s := range []string{e.subject, e.text, e.html} {
		if strings.Contains(s, "EMBARGO") || strings.Contains(s, "10:00") {
			return true
		}
	}
	return false
}

// embargoed reports whether the email is the early lists' copy: the
// embargo line first in its subject, its text and its HTML's card.
func (e sentEmail) embargoed() bool {
	card := e.html[strings.Index(e.html, `class="card"`)+1:]
	text := strings.ReplaceAll(e.text, "\r\n", "\n")
	return strings.HasPrefix(e.subject, embargoLineES+": ") && strings.HasPrefix(text, embargoLineES+"\n") &&
		strings.Contains(card, embargoLineES) && strings.Index(card, embargoLineES) < strings.Index(card, "<h1")
}

func parseEmail(t *testing.T, data []byte) sentEmail {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("parse message: %v", err)
	}
	var e sentEmail
	if e.subject, err = new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject")); err != nil {
		t.Fatalf("decode subject: %v", err)
	}
	_, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var rd io.Reader = p
		if p.Header.Get("Content-Transfer-Encoding") == "quoted-printable" {
			rd = quotedprintable.NewReader(p)
		}
		b, _ := io.ReadAll(rd)
		switch ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); ct {
		case "text/plain":
			e.text = string(b)
		case "text/html":
			e.html = string(b)
		}
	}
	if e.text == "" || e.html == "" {
		t.Fatalf("message lacks a text or an HTML part:\n%s", data)
	}
	return e
}

// TestEmbargoTiers is the embargo tier end to end: sent ahead of its
// embargo, a release gives the members of its early list the embargoed copy
// at once and nothing to anyone else; at the lift every other audience gets
// the plain release, and an address in both lists keeps its one early
// email. No Telegram post and no email but the early ones sent before the
// lift mentions the embargo: not the public ones, and not an early one
// whose retry comes after the lift.
func TestEmbargoTiers(t *testing.T) {
	r := newTierRig(t)
	ctx := context.Background()
	// late@ is answered 451 at its first attempt: its retry comes after the lift.
	r.smtp.SetHandler(func(rcpt string, attempt int) *smtp.SMTPError {
		if strings.HasPrefix(rcpt, "late@") && attempt == 1 {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
		}
		return nil
	})
	early := r.list(t, "ana@early.example", "both@example.org", "late@early.example")
	public := r.list(t, "both@example.org", "luis@example.org")
	rid := r.release(t, early, public)

	if _, err := r.svc.Send(ctx, rid, nil); err != nil {
		t.Fatal(err)
	}
	if got := r.queue.DispatchTimes(rid); len(got) != 1 || !got[0].Equal(t0) {
		t.Fatalf("Send enqueued dispatches at %v, want one at once (%s): the early tier goes now", got, t0)
	}
	r.dispatch(t, rid)
	r.run(t)

	// Before the lift: the early list's copies only, embargoed.
	mails := r.mails(t)
	var to []string
	for _, m := range mails {
		to = append(to, m.to)
		if !m.embargoed() {
			t.Errorf("early email to %s is not under the embargo line %q:\nsubject %q\n%s\n%s", m.to, embargoLineES, m.subject, m.text, m.html)
		}
	}
	slices.Sort(to)
	if want := []string{"ana@early.example", "both@example.org"}; !slices.Equal(to, want) {
		t.Fatalf("before the lift, emails went to %v; want %v (late@ is retrying)", to, want)
	}
	if p := r.posts(); len(p) != 0 {
		t.Fatalf("before the lift, the channel got %q", p)
	}
	rel := r.get(t, rid)
	if rel.Status != dispatcher.ReleaseScheduled || rel.ScheduledAt == nil || !rel.ScheduledAt.Equal(lift) {
		t.Errorf("before the lift: %s, scheduled_at %v; want scheduled at the lift %s", rel.Status, rel.ScheduledAt, lift)
	}
	if c := rel.Counts.ByChannel; c[dispatcher.ChannelEmail][dispatcher.DeliverySent] != 2 || c[dispatcher.ChannelEmail][dispatcher.DeliveryRetrying] != 1 ||
		rel.Counts.Total != 3 {
		t.Errorf("before the lift, counts %v: want the three early deliveries only", c)
	}
	if _, err := r.store.Delivery(ctx, rid, dispatcher.DeliveryID(rid, dispatcher.ChannelEmail, "luis@example.org")); !errors.Is(err, dispatcher.ErrNotFound) {
		t.Errorf("before the lift, luis@ (public list only) has a delivery: %v", err)
	}
	if got := r.queue.DispatchTimes(rid); !got[len(got)-1].Equal(lift) {
		t.Errorf("dispatches enqueued at %v; want the last at the lift %s", got, lift)
	}
	// The sweeper leaves the early tier alone until it stalls, and does not
	// end the release when the early deliveries are done.
	if _, err := r.svc.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if st := r.get(t, rid).Status; st != dispatcher.ReleaseScheduled {
		t.Errorf("after a sweep before the lift: %s, want scheduled", st)
	}

	// The lift.
	r.clock.Set(lift)
	r.dispatch(t, rid)
	r.run(t)
	r.runDelayed(t)

	mails = r.mails(t)
	count := map[string]int{}
	for i, m := range mails {
		count[m.to]++
		switch {
		case i < 2:
			// The early ones, above.
		case m.to == "luis@example.org" || m.to == "late@early.example":
			if m.mentions() || m.subject != "Comunicado" {
				t.Errorf("email to %s sent at the lift mentions the embargo:\nsubject %q\n%s\n%s", m.to, m.subject, m.text, m.html)
			}
		default:
			t.Errorf("email %d to %s after the lift, want only luis@ and late@", i, m.to)
		}
	}
	if len(mails) != 4 || count["both@example.org"] != 1 {
		t.Errorf("emails to %v; want 4, one to each address (both@ once, its early copy)", count)
	}
	posts := r.posts()
	if len(posts) != 1 || !strings.Contains(posts[0], "Comunicado") {
		t.Fatalf("the channel got %q; want the release, once", posts)
	}
	if strings.Contains(strings.ToUpper(posts[0]), "EMBARGO") || strings.Contains(posts[0], "10:00") {
		t.Errorf("the Telegram post mentions the embargo:\n%s", posts[0])
	}
	if rel := r.get(t, rid); rel.Status != dispatcher.ReleaseSent || rel.Counts.Total != 5 {
		t.Errorf("after the lift: %s with %d deliveries; want sent with 5", rel.Status, rel.Counts.Total)
	}
}

// TestEmbargoLiftMoved: the lift of a release whose early tier is out can
// be moved. Moved later, the dispatch at the old time sends nothing public
// and enqueues itself for the new one, where everyone else gets it; moved
// earlier, the release goes at the new time and the dispatch at the old one
// does nothing. The early list gets nothing twice.
func TestEmbargoLiftMoved(t *testing.T) {
	for _, tt := range []struct {
		name string
		to   time.Time
	}{
		{"later", lift.Add(2 * time.Hour)},
		{"earlier", lift.Add(-3 * time.Hour)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := newTierRig(t)
			ctx := context.Background()
			rid := r.release(t, r.list(t, "ana@early.example"), r.list(t, "luis@example.org"))
			if _, err := r.svc.Send(ctx, rid, nil); err != nil {
				t.Fatal(err)
			}
			r.dispatch(t, rid)
			r.run(t)
			if n := len(r.mails(t)); n != 1 {
				t.Fatalf("the early tier sent %d emails, want 1", n)
			}

			r.clock.Add(time.Hour)
			r.setEmbargo(t, rid, tt.to)
			rel, err := r.svc.Reschedule(ctx, rid)
			if err != nil {
				t.Fatal(err)
			}
			if rel.Status != dispatcher.ReleaseScheduled || !rel.ScheduledAt.Equal(tt.to) {
				t.Fatalf("Reschedule: %s, scheduled_at %v; want scheduled at %s", rel.Status, rel.ScheduledAt, tt.to)
			}
			if got := r.queue.DispatchTimes(rid); !got[len(got)-1].Equal(tt.to) {
				t.Fatalf("dispatches enqueued at %v; want the last at the new lift %s", got, tt.to)
			}

			first, second := tt.to, lift
			if lift.Before(tt.to) {
				first, second = lift, tt.to
			}
			// The earlier of the two dispatches fires.
			r.clock.Set(first)
			r.dispatch(t, rid)
			r.run(t)
			if tt.name == "later" {
				if n, p := len(r.mails(t)), r.posts(); n != 1 || len(p) != 0 {
					t.Fatalf("at the old lift: %d emails, posts %q; want nothing more", n, p)
				}
				if rel := r.get(t, rid); rel.Status != dispatcher.ReleaseScheduled {
					t.Fatalf("at the old lift: %s, want still scheduled", rel.Status)
				}
				if got := r.queue.DispatchTimes(rid); !got[len(got)-1].Equal(tt.to) {
					t.Errorf("the dispatch at the old lift enqueued %v; want itself again at %s", got, tt.to)
				}
			}
			// Then the later one.
			r.clock.Set(second)
			r.dispatch(t, rid)
			r.run(t)

			mails := r.mails(t)
			if len(mails) != 2 || mails[0].to != "ana@early.example" || mails[1].to != "luis@example.org" || !mails[0].embargoed() || mails[1].mentions() {
				t.Errorf("emails %+v; want ana@'s embargoed copy, then luis@'s plain one, once each", mails)
			}
			if p := r.posts(); len(p) != 1 {
				t.Errorf("posts %q; want one", p)
			}
			if rel := r.get(t, rid); rel.Status != dispatcher.ReleaseSent {
				t.Errorf("after both dispatches: %s, want sent", rel.Status)
			}
		})
	}
}

// TestEmbargoLiftCancelled: cancelling a release whose early tier is out
// cancels its early deliveries still pending, and the lift sends nothing.
func TestEmbargoLiftCancelled(t *testing.T) {
	r := newTierRig(t)
	ctx := context.Background()
	r.smtp.SetHandler(func(rcpt string, attempt int) *smtp.SMTPError {
		if strings.HasPrefix(rcpt, "late@") {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
		}
		return nil
	})
	rid := r.release(t, r.list(t, "ana@early.example", "late@early.example"), r.list(t, "luis@example.org"))
	if _, err := r.svc.Send(ctx, rid, nil); err != nil {
		t.Fatal(err)
	}
	r.dispatch(t, rid)
	r.run(t)

	rel, err := r.svc.Cancel(ctx, rid)
	if err != nil {
		t.Fatal(err)
	}
	late := dispatcher.DeliveryID(rid, dispatcher.ChannelEmail, "late@early.example")
	if d, err := r.store.Delivery(ctx, rid, late); err != nil || d.Status != dispatcher.DeliveryCancelled {
		t.Errorf("late@'s retrying early delivery after the cancel: %+v, %v; want cancelled", d, err)
	}
	if rel.Status != dispatcher.ReleaseCancelled {
		t.Errorf("cancelled release is %s", rel.Status)
	}
	r.clock.Set(lift)
	r.dispatch(t, rid)
	r.run(t)
	r.runDelayed(t)
	if m, p := r.mails(t), r.posts(); len(m) != 1 || m[0].to != "ana@early.example" || len(p) != 0 {
		t.Errorf("after the lift of a cancelled release: emails %+v, posts %q; want ana@'s early copy only", m, p)
	}
	if _, err := r.store.Delivery(ctx, rid, dispatcher.DeliveryID(rid, dispatcher.ChannelEmail, "luis@example.org")); !errors.Is(err, dispatcher.ErrNotFound) {
		t.Errorf("luis@ has a delivery in a release cancelled before its lift: %v", err)
	}
}

// failEarlyPlanned is a Store whose EarlyPlanned fails: the early tier's
// planning stops before it is recorded as done.
type failEarlyPlanned struct{ *store.Store }

func (failEarlyPlanned) EarlyPlanned(context.Context, string) error {
	return errors.New("redis: connection reset")
}

// TestEarlyTierSwept: the sweeper watches a scheduled release whose early
// tier is out as it does a sending one: it enqueues again the early
// deliveries no task moves on, and dispatches again an early tier whose
// planning stalled, which plans the early lists (not the lift) and leaves
// the release scheduled.
func TestEarlyTierSwept(t *testing.T) {
	r := newTierRig(t)
	ctx := context.Background()
	rid := r.release(t, r.list(t, "ana@early.example", "eva@early.example"), r.list(t, "luis@example.org"))
	if _, err := r.svc.Send(ctx, rid, nil); err != nil {
		t.Fatal(err)
	}
	failing := failEarlyPlanned{Store: r.store}
	stalled := newService(t, dispatcher.Config{Store: failing, Queue: r.queue, Now: r.clock.Now, WorkerID: "w2"}, false)
	if err := stalled.Dispatch(ctx, rid); err == nil {
		t.Fatal("Dispatch with EarlyPlanned failing returned nil")
	}
	// Its tasks are lost: nothing runs them.
	r.mu.Lock()
	r.ran = len(r.queue.Batches())
	r.mu.Unlock()
	before := len(r.queue.DispatchTimes(rid))

	r.clock.Add(3 * time.Minute) // past the claim timeout (2m)
	if n, err := r.svc.Sweep(ctx); err != nil || n != 1 {
		t.Fatalf("Sweep = %d, %v; want the stalled early tier set going", n, err)
	}
	got := r.queue.DispatchTimes(rid)
	if len(got) != before+1 || !got[len(got)-1].Equal(r.clock.Now()) {
		t.Fatalf("dispatches %v; want one more, now", got)
	}
	r.dispatch(t, rid)
	r.run(t)
	mails := r.mails(t)
	if len(mails) != 2 || !mails[0].embargoed() || !mails[1].embargoed() {
		t.Fatalf("after the sweep: %d emails %+v; want the two early ones, embargoed", len(mails), mails)
	}
	if rel := r.get(t, rid); rel.Status != dispatcher.ReleaseScheduled || rel.Counts.Total != 2 {
		t.Errorf("after the early tier: %s with %d deliveries; want scheduled with the 2 early ones", rel.Status, rel.Counts.Total)
	}
	// Nothing left to sweep: the early tier is planned and sent.
	r.clock.Add(3 * time.Minute)
	if n, err := r.svc.Sweep(ctx); err != nil || n != 0 {
		t.Errorf("a second Sweep = %d, %v; want nothing to do", n, err)
	}
}

// TestRescheduleFollowsTheEmbargo: a scheduled release's due time follows
// its embargo when it was sent without an "at" (either way), stays at an
// "at" that is still at or after the embargo, and moves to the embargo when
// the embargo passes that "at" (it is never dispatched before its embargo).
func TestRescheduleFollowsTheEmbargo(t *testing.T) {
	r := newTierRig(t)
	ctx := context.Background()
	list := r.list(t, "luis@example.org")
	newRelease := func() string {
		emb := lift
		rel := &dispatcher.Release{Title: "T", Body: "B", Language: "es", EmbargoUntil: &emb, Audiences: dispatcher.Audiences{Lists: []string{list}}}
		if err := r.store.CreateRelease(ctx, rel); err != nil {
			t.Fatal(err)
		}
		return rel.ID
	}
	at := lift.Add(time.Hour)
	for _, tt := range []struct {
		name    string
		at      *time.Time
		embargo time.Time
		want    time.Time
	}{
		{"no at, earlier", nil, lift.Add(-time.Hour), lift.Add(-time.Hour)},
		{"no at, later", nil, lift.Add(time.Hour), lift.Add(time.Hour)},
		{"at, earlier", &at, lift.Add(-time.Hour), at},
		{"at, passed", &at, lift.Add(2 * time.Hour), lift.Add(2 * time.Hour)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rid := newRelease()
			if _, err := r.svc.Send(ctx, rid, tt.at); err != nil {
				t.Fatal(err)
			}
			r.setEmbargo(t, rid, tt.embargo)
			rel, err := r.svc.Reschedule(ctx, rid)
			if err != nil {
				t.Fatal(err)
			}
			if rel.ScheduledAt == nil || !rel.ScheduledAt.Equal(tt.want) {
				t.Errorf("scheduled_at %v, want %s", rel.ScheduledAt, tt.want)
			}
			if got := r.queue.DispatchTimes(rid); !got[len(got)-1].Equal(tt.want) {
				t.Errorf("dispatches enqueued at %v, want the last at %s", got, tt.want)
			}
		})
	}
}

// TestEarlySendTime: with early lists, an "at" before the embargo is when
// the early tier goes (the lift stays at the embargo), and one at or after
// it sends everything, plainly, then.
func TestEarlySendTime(t *testing.T) {
	r := newTierRig(t)
	ctx := context.Background()
	early, public := r.list(t, "ana@early.example"), r.list(t, "luis@example.org")

	rid := r.release(t, early, public)
	at := lift.Add(-2 * time.Hour)
	rel, err := r.svc.Send(ctx, rid, &at)
	if err != nil || rel.Status != dispatcher.ReleaseScheduled || !rel.ScheduledAt.Equal(at) {
		t.Fatalf("Send at %s: %+v, %v; want scheduled then", at, rel, err)
	}
	r.clock.Set(at)
	r.dispatch(t, rid)
	r.run(t)
	if m := r.mails(t); len(m) != 1 || !m[0].embargoed() {
		t.Fatalf("at the early send time: %+v; want ana@'s embargoed copy", m)
	}
	if rel := r.get(t, rid); !rel.ScheduledAt.Equal(lift) {
		t.Errorf("after the early tier, scheduled_at %v; want the lift %s", rel.ScheduledAt, lift)
	}

	// An at after the embargo: everything, plain, then.
	rid2 := r.release(t, early, public)
	at2 := lift.Add(time.Hour)
	if _, err := r.svc.Send(ctx, rid2, &at2); err != nil {
		t.Fatal(err)
	}
	r.clock.Set(at2)
	r.dispatch(t, rid2)
	r.run(t)
	mails := r.mails(t)[1:]
	if len(mails) != 2 {
		t.Fatalf("at %s: %d emails, want 2", at2, len(mails))
	}
	for _, m := range mails {
		if m.mentions() {
			t.Errorf("email to %s sent after the embargo mentions it: %q", m.to, m.subject)
		}
	}
}

// TestEmbargoLiftThroughTheQueue runs the embargo tiers on the whole
// pipeline, asynq workers included: the early list's email comes first,
// under the embargo line, while nothing public goes; the lift, moved to now
// and rescheduled, is asynq's task; the public list's email and the
// channel's post come after, plainly, and were planned no earlier than the
// lift.
func TestEmbargoLiftThroughTheQueue(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	ch := &dispatcher.TelegramChannel{ChatID: "@canal", Language: "es"}
	if err := h.store.CreateChannel(ctx, ch); err != nil {
		t.Fatal(err)
	}
	// The embargo is an hour ahead, so that the early tier goes out before
	// it however slow the machine; then the lift is moved to now, as a PATCH
	// would, and asynq fires it.
	emb := time.Now().Add(time.Hour).UTC().Truncate(time.Millisecond)
	rel := &dispatcher.Release{Title: "Comunicado", Body: "Texto del comunicado.", Language: "es", EmbargoUntil: &emb, Timezone: "UTC",
		Audiences: dispatcher.Audiences{EarlyLists: []string{h.list(t, "ana@early.example")}, Lists: []string{h.list(t, "luis@example.org")},
			TelegramChannels: []string{ch.ID}}}
	if err := h.store.CreateRelease(ctx, rel); err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.Send(ctx, rel.ID, nil); err != nil {
		t.Fatal(err)
	}
	early := parseEmail(t, h.smtp.WaitFor(t, 1, 30*time.Second)[0].Data)
	line := "EMBARGO HASTA " + strings.TrimLeft(emb.Format("_2"), " ") + " de "
	if !strings.HasPrefix(early.subject, line) {
		t.Errorf("early email subject %q, want it under the embargo line %q…", early.subject, line)
	}
	cur, err := h.store.Release(ctx, rel.ID)
	if err != nil {
		t.Fatal(err)
	}
	if cur.Status != dispatcher.ReleaseScheduled || len(h.tg.Messages("@canal")) != 0 {
		t.Fatalf("before the lift: release %s, %d posts; want scheduled and none", cur.Status, len(h.tg.Messages("@canal")))
	}

	lift := time.Now().UTC().Truncate(time.Millisecond)
	cur.EmbargoUntil = &lift
	if _, err := h.store.EditRelease(ctx, &dispatcher.Edit{Release: cur, Base: cur.Version, OnlyEmbargo: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.Reschedule(ctx, rel.ID); err != nil {
		t.Fatal(err)
	}
	if got := h.wait(t, rel.ID); got.Status != dispatcher.ReleaseSent {
		t.Fatalf("release ended %s, want sent", got.Status)
	}
	var mails []sentEmail
	for _, m := range h.smtp.Messages() {
		e := parseEmail(t, m.Data)
		e.to = strings.Join(m.To, ",")
		mails = append(mails, e)
	}
	if len(mails) != 2 || mails[0].to != "ana@early.example" ||
		mails[1].to != "luis@example.org" || strings.Contains(mails[1].subject+mails[1].text+mails[1].html, "EMBARGO") {
		t.Errorf("emails %+v; want ana@'s first, then luis@'s without the embargo", mails)
	}
	posts := h.tg.Messages("@canal")
	if len(posts) != 1 || strings.Contains(strings.ToUpper(posts[0].Text), "EMBARGO") {
		t.Errorf("posts %+v; want one, without the embargo", posts)
	}
	for _, to := range []struct {
		ch dispatcher.ChannelKind
		to string
	}{{dispatcher.ChannelEmail, "luis@example.org"}, {dispatcher.ChannelTelegram, "@canal"}} {
		if d := h.delivery(t, rel.ID, to.ch, to.to); d.CreatedAt.Before(lift) {
			t.Errorf("the public delivery to %s was planned at %s, before the lift %s", to.to, d.CreatedAt, lift)
		}
	}
}
