package bouncebox_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"github.com/pregon/pregon/bouncebox"
	"github.com/pregon/pregon/bounces"
	"github.com/pregon/pregon/channels/email"
	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/internal/redistest"
	"github.com/pregon/pregon/internal/smtptest"
	"github.com/pregon/pregon/internal/testkit"
	"github.com/pregon/pregon/queue"
	"github.com/pregon/pregon/store"
	"github.com/pregon/pregon/templates"
)

const wait = 30 * time.Second

// events records what the reader tells the outgoing webhooks.
type events struct {
	mu  sync.Mutex
	got []dispatcher.Event
}

func (e *events) Notify(_ context.Context, ev dispatcher.Event) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.got = append(e.got, ev)
	return nil
}

func (e *events) list() []dispatcher.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]dispatcher.Event(nil), e.got...)
}

// pipeline is Pregón on real components: redis-server, asynq workers, the
// email channel with a VERP envelope sender, an SMTP server over TCP, and
// an IMAP server (go-imap's memory backend) holding the bounce mailbox.
type pipeline struct {
	store *store.Store
	svc   *dispatcher.Service
	smtp  *smtptest.Server
	verp  *bounces.VERP
	user  *imapmemserver.User
	imap  string // host:port
}

func newPipeline(t *testing.T) *pipeline {
	t.Helper()
	rdb := redistest.Start(t).Client(t)
	log := slog.New(slog.DiscardHandler)
	verp, err := bounces.NewVERP("bounces@coalicion.example", []byte("0123456789abcdef-test-secret"))
	if err != nil {
		t.Fatal(err)
	}
	p := &pipeline{store: store.New(rdb, nil), smtp: smtptest.Start(t), verp: verp}
	ch, err := email.New(email.Config{URL: "smtp://" + p.smtp.Addr + "?tls=none", PoolSize: 2, Logger: log,
		From: dispatcher.Address{Name: "Coalición", Email: "prensa@coalicion.example"}, EnvelopeSender: verp})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ch.Close() })
	r, err := templates.New()
	if err != nil {
		t.Fatal(err)
	}
	q := queue.NewClient(rdb)
	if p.svc, err = dispatcher.NewService(dispatcher.Config{Store: p.store, Queue: q, Renderer: r, Email: ch, Logger: log,
		MaxAttempts: 2, RetryBase: 50 * time.Millisecond, MessageIDDomain: "coalicion.example"}); err != nil {
		t.Fatal(err)
	}
	w := queue.NewServer(rdb, queue.Config{Concurrency: 2, RetryBase: 50 * time.Millisecond, PollInterval: 20 * time.Millisecond,
		ShutdownTimeout: time.Second, Logger: log}, p.svc)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Shutdown)

	mem := imapmemserver.New()
	p.user = imapmemserver.NewUser("bounces", "mailbox-password")
	if err := p.user.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	mem.AddUser(p.user)
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
		InsecureAuth: true,
		Logger:       nopLogger{},
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	p.imap = ln.Addr().String()
	return p
}

type nopLogger struct{}

func (nopLogger) Printf(string, ...any) {}
func (nopLogger) Println(...any)        {}

// send sends a release to a list of emails and waits until it is sent.
func (p *pipeline) send(t *testing.T, listID string) string {
	t.Helper()
	ctx := context.Background()
	rel := &dispatcher.Release{Title: "Comunicado", Body: "Texto del comunicado.", Language: "es",
		Audiences: dispatcher.Audiences{Lists: []string{listID}}}
	if err := p.store.CreateRelease(ctx, rel); err != nil {
		t.Fatal(err)
	}
	if _, err := p.svc.Send(ctx, rel.ID, nil); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, "the release to be sent", wait, 20*time.Millisecond, func() (bool, string) {
		r, err := p.store.Release(ctx, rel.ID)
		if err != nil {
			return false, err.Error()
		}
		return r.Status == dispatcher.ReleaseSent || r.Status == dispatcher.ReleaseSentWithFailures, string(r.Status)
	})
	return rel.ID
}

func (p *pipeline) reader(t *testing.T, holder string, n *events, logs io.Writer) *bouncebox.Reader {
	t.Helper()
	mb, err := bouncebox.ParseURL("imap://bounces:mailbox-password@" + p.imap + "/INBOX")
	if err != nil {
		t.Fatal(err)
	}
	r, err := bouncebox.New(bouncebox.Config{Mailbox: mb, VERP: p.verp, Store: p.store, Notifier: n, Holder: holder,
		Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// deliver puts a message in the bounce mailbox, unseen.
func (p *pipeline) deliver(t *testing.T, msg []byte) {
	t.Helper()
	if _, err := p.user.Append("INBOX", bytes.NewReader(msg), &imap.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
}

func (p *pipeline) count(t *testing.T, mailbox string, unseen bool) uint32 {
	t.Helper()
	st, err := p.user.Status(mailbox, &imap.StatusOptions{NumMessages: true, NumUnseen: true})
	if err != nil {
		t.Fatal(err)
	}
	if unseen {
		return *st.NumUnseen
	}
	return *st.NumMessages
}

// sent is what the SMTP server received for one recipient.
type sent struct{ envelope, messageID string }

func (p *pipeline) sentTo(t *testing.T, n int) map[string]sent {
	t.Helper()
	out := map[string]sent{}
	for _, m := range p.smtp.WaitFor(t, n, wait) {
		msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
		if err != nil {
			t.Fatal(err)
		}
		out[m.To[0]] = sent{envelope: m.From, messageID: strings.Trim(msg.Header.Get("Message-Id"), "<>")}
	}
	return out
}

// fill returns the testdata message name with its placeholders replaced.
func fill(t *testing.T, name, envelope, rcpt, messageID string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	s := strings.NewReplacer("{{ENVELOPE}}", envelope, "{{RCPT}}", rcpt, "{{MESSAGE_ID}}", messageID).Replace(string(b))
	return []byte(strings.ReplaceAll(s, "\n", "\r\n"))
}

// forge changes the last character of the token of a VERP address: the
// release and delivery it names are right, its MAC is not.
func forge(addr string) string {
	i := strings.IndexByte(addr, '@') - 1
	c := byte('a')
	if addr[i] == 'a' {
		c = 'b'
	}
	return addr[:i] + string(c) + addr[i+1:]
}

func TestBounceMailbox(t *testing.T) {
	p := newPipeline(t)
	ctx := context.Background()
	l := &dispatcher.List{Name: "Prensa", Kind: dispatcher.ListPress}
	if err := p.store.CreateList(ctx, l); err != nil {
		t.Fatal(err)
	}
	ana, luis, maria := "ana@diario.example", "luis@radio.example", "maria@revista.example"
	var cs []dispatcher.Contact
	for _, e := range []string{ana, luis, maria} {
		cs = append(cs, dispatcher.Contact{Email: e, Language: "es"})
	}
	if _, _, err := p.store.UpsertContacts(ctx, l.ID, cs); err != nil {
		t.Fatal(err)
	}
	rid := p.send(t, l.ID)
	got := p.sentTo(t, 3)

	// Every message went out with its own authenticated bounce address.
	for rcpt, s := range got {
		local, domain, _ := strings.Cut(s.envelope, "@")
		if !strings.HasPrefix(local, "bounces+") || domain != "coalicion.example" || len(local) > 64 {
			t.Errorf("envelope sender to %s = %q, want bounces+TOKEN@coalicion.example within 64 characters", rcpt, s.envelope)
		}
		id, prefix, m := p.verp.Parse(s.envelope)
		did := dispatcher.DeliveryID(rid, dispatcher.ChannelEmail, rcpt)
		if m != bounces.VERPValid || id != rid || !strings.HasPrefix(did, prefix) {
			t.Errorf("envelope sender to %s reads as %s %s (%v), want %s %s", rcpt, id, prefix, m, rid, did)
		}
	}

	// A DSN for ana (to her VERP address), an ARF complaint for luis (to
	// the plain address, his VERP address in the returned Return-Path), a
	// DSN for maria with a forged token, and an auto-reply.
	p.deliver(t, fill(t, "dsn-hard.eml", got[ana].envelope, ana, got[ana].messageID))
	p.deliver(t, fill(t, "arf-complaint.eml", got[luis].envelope, luis, got[luis].messageID))
	p.deliver(t, fill(t, "dsn-hard.eml", forge(got[maria].envelope), maria, got[maria].messageID))
	p.deliver(t, fill(t, "autoreply.eml", got[maria].envelope, maria, got[maria].messageID))

	n := &events{}
	logs := &testkit.Buffer{}
	r := p.reader(t, "reader-a", n, logs)
	polled, res, err := r.Tick(ctx)
	if err != nil || !polled {
		t.Fatalf("Tick = %v, %v", polled, err)
	}
	if res.Acted != 2 || res.Skipped != 2 {
		t.Errorf("poll result = %+v, want 2 acted and 2 skipped", res)
	}

	// Suppressed with the right reasons and sources; maria is not.
	for _, c := range []struct {
		email  string
		reason dispatcher.SuppressionReason
		source string
		kind   dispatcher.BounceKind
	}{{ana, dispatcher.ReasonHardBounce, "dsn", dispatcher.BounceHard}, {luis, dispatcher.ReasonComplaint, "arf", dispatcher.BounceComplaint}} {
		sup, err := p.store.Suppression(ctx, c.email)
		if err != nil {
			t.Errorf("%s not suppressed: %v", c.email, err)
			continue
		}
		if sup.Reason != c.reason || sup.Source != c.source {
			t.Errorf("suppression of %s = %s from %q, want %s from %q", c.email, sup.Reason, sup.Source, c.reason, c.source)
		}
		d, err := p.store.Delivery(ctx, rid, dispatcher.DeliveryID(rid, dispatcher.ChannelEmail, c.email))
		if err != nil {
			t.Fatal(err)
		}
		if d.Bounce == nil || d.Bounce.Kind != c.kind || d.Bounce.Source != c.source {
			t.Errorf("delivery to %s has bounce %+v, want %s from %s", c.email, d.Bounce, c.kind, c.source)
		}
	}
	if _, err := p.store.Suppression(ctx, maria); !errors.Is(err, dispatcher.ErrNotFound) {
		t.Errorf("a forged VERP token suppressed maria: %v", err)
	}
	if d, _ := p.store.Delivery(ctx, rid, dispatcher.DeliveryID(rid, dispatcher.ChannelEmail, maria)); d == nil || d.Bounce != nil {
		t.Errorf("a forged VERP token marked maria's delivery: %+v", d)
	}
	evs := n.list()
	kinds := map[string]string{}
	for _, e := range evs {
		if e.Type != dispatcher.EventDeliveryBounced {
			t.Errorf("event %s, want %s", e.Type, dispatcher.EventDeliveryBounced)
		}
		kinds[fmt.Sprint(e.Data["recipient"])] = fmt.Sprint(e.Data["kind"])
	}
	if len(evs) != 2 || kinds[ana] != "hard" || kinds[luis] != "complaint" {
		t.Errorf("events = %v, want a hard bounce for ana and a complaint for luis", kinds)
	}

	// The two acted on are seen and moved; the others stay unseen in the inbox.
	if moved, left := p.count(t, bouncebox.DefaultFolder, false), p.count(t, "INBOX", true); moved != 2 || left != 2 {
		t.Errorf("%d moved and %d left unseen, want 2 and 2", moved, left)
	}

	// Another process does not poll while this one holds the lease.
	if polled, _, err := p.reader(t, "reader-b", n, io.Discard).Tick(ctx); err != nil || polled {
		t.Errorf("a second reader polled (%v, %v)", polled, err)
	}

	// The same DSN again is put away but not acted on twice.
	p.deliver(t, fill(t, "dsn-hard.eml", got[ana].envelope, ana, got[ana].messageID))
	if _, res, err := r.Tick(ctx); err != nil || res.Acted != 1 {
		t.Fatalf("second poll = %+v, %v", res, err)
	}
	if len(n.list()) != 2 {
		t.Errorf("a message acted on twice: %d events", len(n.list()))
	}
	if moved := p.count(t, bouncebox.DefaultFolder, false); moved != 3 {
		t.Errorf("%d moved, want 3", moved)
	}
	// The two left alone were logged once each, though read twice.
	if n := strings.Count(logs.String(), "left alone"); n != 2 {
		t.Errorf("%d lines of messages left alone, want 2:\n%s", n, logs)
	}
	if !strings.Contains(logs.String(), "forged VERP token") {
		t.Errorf("the forged report is not logged as such:\n%s", logs)
	}

	// The next release records suppressed for ana and luis, and mails maria.
	rid2 := p.send(t, l.ID)
	for _, c := range []struct {
		email string
		want  dispatcher.DeliveryStatus
	}{{ana, dispatcher.DeliverySuppressed}, {luis, dispatcher.DeliverySuppressed}, {maria, dispatcher.DeliverySent}} {
		d, err := p.store.Delivery(ctx, rid2, dispatcher.DeliveryID(rid2, dispatcher.ChannelEmail, c.email))
		if err != nil {
			t.Fatal(err)
		}
		if d.Status != c.want {
			t.Errorf("next release to %s: %s, want %s", c.email, d.Status, c.want)
		}
	}
}

// Run polls at once, then gives the lease up when its context ends, so
// that another process takes over.
func TestRunReleasesLease(t *testing.T) {
	p := newPipeline(t)
	l := &dispatcher.List{Name: "Prensa", Kind: dispatcher.ListPress}
	ctx := context.Background()
	if err := p.store.CreateList(ctx, l); err != nil {
		t.Fatal(err)
	}
	if _, _, err := p.store.UpsertContacts(ctx, l.ID, []dispatcher.Contact{{Email: "ana@diario.example", Language: "es"}}); err != nil {
		t.Fatal(err)
	}
	p.send(t, l.ID)
	s := p.sentTo(t, 1)["ana@diario.example"]
	p.deliver(t, fill(t, "dsn-hard.eml", s.envelope, "ana@diario.example", s.messageID))

	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.reader(t, "reader-a", &events{}, io.Discard).Run(rctx)
	}()
	testkit.WaitFor(t, "the report to be put away", wait, 10*time.Millisecond, func() (bool, string) {
		st, err := p.user.Status(bouncebox.DefaultFolder, &imap.StatusOptions{NumMessages: true})
		if err != nil {
			return false, err.Error()
		}
		return *st.NumMessages == 1, fmt.Sprintf("%d moved", *st.NumMessages)
	})
	if polled, _, err := p.reader(t, "reader-b", &events{}, io.Discard).Tick(ctx); err != nil || polled {
		t.Fatalf("reader-b polled while reader-a runs (%v, %v)", polled, err)
	}
	cancel()
	<-done
	if polled, _, err := p.reader(t, "reader-b", &events{}, io.Discard).Tick(ctx); err != nil || !polled {
		t.Errorf("reader-b did not take the lease over (%v, %v)", polled, err)
	}
}
