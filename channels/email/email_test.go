package email_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	netmail "net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/pregon/pregon/channels/email"
	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/internal/smtptest"
)

const wait = 10 * time.Second

var from = dispatcher.Address{Name: "Coordinación “Río Vivo”", Email: "prensa@rio-vivo.example"}

// statement is a fixture in the shape of a real one: accents, curly quotes,
// long lines, a line starting with a dot and one with "From ".
func statement(to string) *dispatcher.EmailMessage {
	text := "Oaxaca, 3 de marzo de 2026.\n\n" +
		"“Cambiemos…”, dijo Ana Pérez Núñez, vocera de la Asamblea de Pueblos del Istmo, " +
		"al presentar el informe sobre la concesión minera en San José del Progreso — " +
		"una línea de más de setenta y seis caracteres para forzar cortes suaves.\n" +
		".Esta línea empieza con un punto.\n" +
		"From here on, the English summary follows: ‘quoted’ «y así».\n\n" +
		"Contacto de prensa: Lucía Gómez, +52 951 000 0000, lucia@rio-vivo.example\n"
	html := "<p>Oaxaca, 3 de marzo de 2026.</p>\n" +
		"<p>“Cambiemos…”, dijo <strong>Ana Pérez Núñez</strong>, vocera de la Asamblea.</p>\n" +
		"<p>.Esta línea empieza con un punto — ¿y qué?</p>\n"
	return &dispatcher.EmailMessage{
		DeliveryID: "d1",
		To:         dispatcher.Address{Name: "Ana Pérez", Email: to},
		ReplyTo:    &dispatcher.Address{Name: "Lucía Gómez", Email: "lucia@rio-vivo.example"},
		MessageID:  "rel1.d1@rio-vivo.example",
		Content: &dispatcher.EmailContent{
			Subject: "Comunicado: “Cambiemos…” — la acción de las niñas de Ñuu Savi",
			Text:    text,
			HTML:    html,
		},
		Headers: map[string]string{
			"List-Unsubscribe":      "<https://pregon.example/u/abc>",
			"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
		},
	}
}

func serverURL(s *smtptest.Server) string { return "smtp://" + s.Addr + "?tls=none" }

func newChannel(t testing.TB, url string, mod func(*email.Config)) *email.Channel {
	t.Helper()
	cfg := email.Config{URL: url, From: from, Timeout: wait}
	if mod != nil {
		mod(&cfg)
	}
	c, err := email.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestSendEmailMessage(t *testing.T) {
	srv := smtptest.Start(t)
	c := newChannel(t, serverURL(srv), nil)
	in := statement("ana@example.org")

	id, err := c.SendEmail(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if id != "<rel1.d1@rio-vivo.example>" {
		t.Errorf("message id = %q", id)
	}
	got := srv.WaitFor(t, 1, wait)[0]
	if got.From != from.Email || len(got.To) != 1 || got.To[0] != "ana@example.org" {
		t.Errorf("envelope from %q to %q", got.From, got.To)
	}
	checkMessage(t, got.Data, in)
}

// checkMessage parses data as the email built from in and checks every part.
func checkMessage(t *testing.T, data []byte, in *dispatcher.EmailMessage) {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, data)
	}
	h := msg.Header
	to, err := h.AddressList("To")
	if err != nil || len(to) != 1 || to[0].Address != in.To.Email || to[0].Name != in.To.Name {
		t.Errorf("To = %v (%v), want one address %v", to, err, in.To)
	}
	for _, k := range []string{"Cc", "Bcc"} {
		if v, ok := h[k]; ok {
			t.Errorf("unexpected %s: %q", k, v)
		}
	}
	fromList, err := h.AddressList("From")
	if err != nil || len(fromList) != 1 || fromList[0].Address != from.Email || fromList[0].Name != from.Name {
		t.Errorf("From = %v (%v), want %v", fromList, err, from)
	}
	replyTo, err := h.AddressList("Reply-To")
	if err != nil || len(replyTo) != 1 || replyTo[0].Address != in.ReplyTo.Email {
		t.Errorf("Reply-To = %v (%v)", replyTo, err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
	if err != nil || subject != in.Content.Subject {
		t.Errorf("Subject = %q (%v), want %q", subject, err, in.Content.Subject)
	}
	if got, want := h.Get("Message-Id"), "<"+in.MessageID+">"; got != want {
		t.Errorf("Message-ID = %q, want %q", got, want)
	}
	if _, err := h.Date(); err != nil {
		t.Errorf("Date: %v", err)
	}
	for k, v := range in.Headers {
		if got := h.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	mediaType, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || mediaType != "multipart/alternative" {
		t.Fatalf("Content-Type = %q (%v), want multipart/alternative", h.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for i, want := range []struct{ typ, body string }{
		{"text/plain", in.Content.Text},
		{"text/html", in.Content.HTML},
	} {
		p, err := mr.NextRawPart()
		if err != nil {
			t.Fatalf("part %d: %v", i, err)
		}
		typ, tparams, err := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if err != nil || typ != want.typ || !strings.EqualFold(tparams["charset"], "utf-8") {
			t.Errorf("part %d Content-Type = %q, want %s; charset=UTF-8", i, p.Header.Get("Content-Type"), want.typ)
		}
		if cte := p.Header.Get("Content-Transfer-Encoding"); cte != "quoted-printable" {
			t.Errorf("part %d Content-Transfer-Encoding = %q", i, cte)
		}
		body, err := io.ReadAll(quotedprintable.NewReader(p))
		if err != nil {
			t.Fatalf("part %d: %v", i, err)
		}
		if got := strings.ReplaceAll(string(body), "\r\n", "\n"); got != want.body {
			t.Errorf("part %d body:\n got %q\nwant %q", i, got, want.body)
		}
	}
	if _, err := mr.NextRawPart(); err != io.EOF {
		t.Errorf("more than two parts: %v", err)
	}
}

func TestConnectionReuse(t *testing.T) {
	tests := []struct {
		name       string
		pool       int
		concurrent bool
		maxConns   int64
	}{
		{"sequential over pool of 2", 2, false, 1},
		{"concurrent over pool of 2", 2, true, 2},
		{"concurrent over pool of 1", 1, true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.Start(t)
			c := newChannel(t, serverURL(srv), func(cfg *email.Config) { cfg.PoolSize = tt.pool })
			const n = 10
			errs := make(chan error, n)
			var wg sync.WaitGroup
			for i := range n {
				send := func() {
					m := statement("ana@example.org")
					m.MessageID = strings.Replace(m.MessageID, "d1", "d"+string(rune('a'+i)), 1)
					_, err := c.SendEmail(context.Background(), m)
					errs <- err
				}
				if tt.concurrent {
					wg.Go(send)
				} else {
					send()
				}
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			srv.WaitFor(t, n, wait)
			if got := srv.Connections(); got < 1 || got > tt.maxConns {
				t.Errorf("connections = %d, want 1..%d", got, tt.maxConns)
			}
		})
	}
}

func TestStalePooledConnection(t *testing.T) {
	srv := smtptest.Start(t)
	c := newChannel(t, serverURL(srv), nil)
	if _, err := c.SendEmail(context.Background(), statement("ana@example.org")); err != nil {
		t.Fatal(err)
	}
	srv.CloseConnections() // as a server's idle timeout would
	if _, err := c.SendEmail(context.Background(), statement("ana@example.org")); err != nil {
		t.Fatalf("send after the server dropped the pooled connection: %v", err)
	}
	srv.WaitFor(t, 2, wait)
	if got := srv.Connections(); got != 2 {
		t.Errorf("connections = %d, want 2", got)
	}
}

func reply(code int, enh smtp.EnhancedCode, text string) func(string, int) *smtp.SMTPError {
	return func(string, int) *smtp.SMTPError {
		return &smtp.SMTPError{Code: code, EnhancedCode: enh, Message: text}
	}
}

func TestErrorClassification(t *testing.T) {
	type class int
	const (
		transient class = iota
		permanent
		uncertain
	)
	tests := []struct {
		name     string
		setup    func(*smtptest.Server)
		warm     bool // send one message first, so the channel has a pooled connection
		want     class
		code     int // the server's reply code, 0 when there is none
		contains []string
	}{
		{
			name:     "451 at RCPT",
			setup:    func(s *smtptest.Server) { s.SetHandler(reply(451, smtp.EnhancedCode{4, 3, 0}, "try again later")) },
			want:     transient,
			code:     451,
			contains: []string{"RCPT TO: 451 4.3.0 try again later"},
		},
		{
			name:     "550 at RCPT",
			setup:    func(s *smtptest.Server) { s.SetHandler(reply(550, smtp.EnhancedCode{5, 1, 1}, "mailbox unavailable")) },
			want:     permanent,
			code:     550,
			contains: []string{"RCPT TO: 550 5.1.1 mailbox unavailable"},
		},
		{
			name: "452 after DATA",
			setup: func(s *smtptest.Server) {
				s.SetDataHandler(reply(452, smtp.EnhancedCode{4, 3, 1}, "insufficient storage"))
			},
			want:     transient,
			code:     452,
			contains: []string{"end of data: 452 4.3.1 insufficient storage"},
		},
		{
			name:     "554 after DATA",
			setup:    func(s *smtptest.Server) { s.SetDataHandler(reply(554, smtp.EnhancedCode{5, 6, 0}, "content rejected")) },
			want:     permanent,
			code:     554,
			contains: []string{"end of data: 554 5.6.0 content rejected"},
		},
		{
			name:  "dropped after DATA",
			setup: func(s *smtptest.Server) { s.DropAfterData(func(string, int) bool { return true }) },
			want:  uncertain,
		},
		{
			name:  "server closed",
			setup: func(s *smtptest.Server) { _ = s.Close() },
			want:  transient,
		},
		{
			name:  "server closed with a pooled connection",
			setup: func(s *smtptest.Server) { _ = s.Close() },
			warm:  true,
			want:  transient,
		},
		{
			name: "dropped after DATA on a pooled connection",
			setup: func(s *smtptest.Server) {
				s.DropAfterData(func(_ string, attempt int) bool { return attempt == 2 })
			},
			warm: true,
			want: uncertain,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.Start(t)
			c := newChannel(t, serverURL(srv), nil)
			if tt.warm {
				if _, err := c.SendEmail(context.Background(), statement("ana@example.org")); err != nil {
					t.Fatal(err)
				}
			}
			tt.setup(srv)
			_, err := c.SendEmail(context.Background(), statement("ana@example.org"))
			if err == nil {
				t.Fatal("no error")
			}
			var se *dispatcher.SendError
			if !errors.As(err, &se) {
				t.Fatalf("error %v (%T) is not a *dispatcher.SendError", err, err)
			}
			got := transient
			switch {
			case dispatcher.IsPermanent(err):
				got = permanent
			case dispatcher.IsUncertain(err):
				got = uncertain
			}
			if got != tt.want {
				t.Errorf("class %d, want %d: %v", got, tt.want, err)
			}
			var re *email.ReplyError
			if errors.As(err, &re) != (tt.code != 0) || (re != nil && re.Code != tt.code) {
				t.Errorf("ReplyError = %+v, want code %d", re, tt.code)
			}
			msg := err.Error()
			t.Log(msg)
			for _, s := range append(tt.contains, "send to ana@example.org: ") {
				if !strings.Contains(msg, s) {
					t.Errorf("error %q does not contain %q", msg, s)
				}
			}
		})
	}
}

// A 4xx is transient and the next attempt on the same channel goes through.
func TestTransientThenSent(t *testing.T) {
	srv := smtptest.Start(t)
	srv.SetHandler(func(_ string, attempt int) *smtp.SMTPError {
		if attempt == 1 {
			return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 7, 0}, Message: "slow down"}
		}
		return nil
	})
	c := newChannel(t, serverURL(srv), nil)
	_, err := c.SendEmail(context.Background(), statement("ana@example.org"))
	if err == nil || dispatcher.IsPermanent(err) || dispatcher.IsUncertain(err) {
		t.Fatalf("first attempt: %v, want transient", err)
	}
	if _, err := c.SendEmail(context.Background(), statement("ana@example.org")); err != nil {
		t.Fatalf("second attempt: %v", err)
	}
	srv.WaitFor(t, 1, wait)
}

func TestContextCancelled(t *testing.T) {
	srv := smtptest.Start(t)
	entered, release := make(chan struct{}), make(chan struct{})
	t.Cleanup(func() { close(release) }) // runs before the server closes
	var once sync.Once
	srv.SetHandler(func(string, int) *smtp.SMTPError {
		once.Do(func() { close(entered) })
		<-release
		return nil
	})
	c := newChannel(t, serverURL(srv), nil)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-entered
		cancel()
	}()
	_, err := c.SendEmail(ctx, statement("ana@example.org"))
	if err == nil || dispatcher.IsPermanent(err) || dispatcher.IsUncertain(err) {
		t.Fatalf("err = %v, want transient", err)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want it to wrap context.Canceled", err)
	}
}

func TestHeaderInjection(t *testing.T) {
	srv := smtptest.Start(t)
	c := newChannel(t, serverURL(srv), nil)
	in := statement("ana@example.org")
	in.To.Name = "Ana\r\nBcc: evil1@example.org"
	in.Content.Subject = "Hola\r\nBcc: evil2@example.org"
	in.Headers = map[string]string{
		"X-Campaign": "a\r\nBcc: evil3@example.org\r\n\r\nbody",
		"X-Lang":     "es\nCc: evil4@example.org",
	}
	if _, err := c.SendEmail(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	got := srv.WaitFor(t, 1, wait)[0]
	if len(got.To) != 1 || got.To[0] != "ana@example.org" {
		t.Errorf("envelope to %q", got.To)
	}
	msg, err := netmail.ReadMessage(bytes.NewReader(got.Data))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"Bcc", "Cc"} {
		if v, ok := msg.Header[k]; ok {
			t.Errorf("injected %s: %q", k, v)
		}
	}
	dec := new(mime.WordDecoder)
	for k, want := range map[string]string{
		"Subject":    "Hola Bcc: evil2@example.org",
		"X-Campaign": "a Bcc: evil3@example.org body",
		"X-Lang":     "es Cc: evil4@example.org",
	} {
		if v, _ := dec.DecodeHeader(msg.Header.Get(k)); v != want {
			t.Errorf("%s = %q, want %q", k, v, want)
		}
	}
	if to, err := msg.Header.AddressList("To"); err != nil || len(to) != 1 || to[0].Address != "ana@example.org" {
		t.Errorf("To = %v (%v)", to, err)
	}
}

func TestBadMessagesArePermanent(t *testing.T) {
	srv := smtptest.Start(t)
	c := newChannel(t, serverURL(srv), nil)
	tests := []struct {
		name   string
		modify func(*dispatcher.EmailMessage)
	}{
		{"no content", func(m *dispatcher.EmailMessage) { m.Content = nil }},
		{"empty body", func(m *dispatcher.EmailMessage) { m.Content.Text, m.Content.HTML = "", "" }},
		{"bad recipient", func(m *dispatcher.EmailMessage) { m.To.Email = "ana@example.org\r\nRCPT TO:<x@y.z>" }},
		{"two recipients", func(m *dispatcher.EmailMessage) { m.To.Email = "ana@example.org, b@example.org" }},
		{"bad reply-to", func(m *dispatcher.EmailMessage) { m.ReplyTo.Email = "nope" }},
		{"bad message id", func(m *dispatcher.EmailMessage) { m.MessageID = "a b@c" }},
		{"header name with colon", func(m *dispatcher.EmailMessage) { m.Headers = map[string]string{"X-A: b\r\nBcc": "x"} }},
		{"reserved header", func(m *dispatcher.EmailMessage) { m.Headers = map[string]string{"bcc": "evil@example.org"} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := statement("ana@example.org")
			tt.modify(m)
			_, err := c.SendEmail(context.Background(), m)
			if !dispatcher.IsPermanent(err) || !errors.Is(err, email.ErrInvalidMessage) {
				t.Errorf("err = %v, want permanent ErrInvalidMessage", err)
			}
		})
	}
	if srv.Count() != 0 || srv.Connections() != 0 {
		t.Errorf("server saw %d messages on %d connections, want none", srv.Count(), srv.Connections())
	}
}

func TestTLSAndAuth(t *testing.T) {
	tests := []struct {
		name     string
		opts     func(*testing.T) []smtptest.Option
		url      func(addr string) string
		wantUser string
		wantErr  string
	}{
		{
			name:     "plain connection with AUTH PLAIN",
			url:      func(a string) string { return "smtp://ana:s%40creto@" + a + "?tls=none&auth=plain" },
			wantUser: "ana",
		},
		{
			name: "opportunistic STARTTLS, auth discovered",
			opts: func(t *testing.T) []smtptest.Option {
				return []smtptest.Option{smtptest.StartTLS(smtptest.SelfSigned(t))}
			},
			url:      func(a string) string { return "smtp://ana:secreto@" + a + "?insecure=1" },
			wantUser: "ana",
		},
		{
			name: "opportunistic without STARTTLS on offer",
			url:  func(a string) string { return "smtp://" + a },
		},
		{
			name: "implicit TLS",
			opts: func(t *testing.T) []smtptest.Option {
				return []smtptest.Option{smtptest.ImplicitTLS(smtptest.SelfSigned(t))}
			},
			url: func(a string) string { return "smtps://bea:x@" + a + "?insecure=1&auth=plain" }, wantUser: "bea",
		},
		{
			name:    "STARTTLS required but not offered",
			url:     func(a string) string { return "smtp://" + a + "?tls=starttls" },
			wantErr: "STARTTLS",
		},
		{
			name: "certificate not trusted",
			opts: func(t *testing.T) []smtptest.Option {
				return []smtptest.Option{smtptest.StartTLS(smtptest.SelfSigned(t))}
			},
			url:     func(a string) string { return "smtp://" + a },
			wantErr: "certificate",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []smtptest.Option
			if tt.opts != nil {
				opts = tt.opts(t)
			}
			srv := smtptest.Start(t, opts...)
			c := newChannel(t, tt.url(srv.Addr), nil)
			_, err := c.SendEmail(context.Background(), statement("ana@example.org"))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || dispatcher.IsPermanent(err) {
					t.Fatalf("err = %v, want a transient error about %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := srv.WaitFor(t, 1, wait)[0]; got.User != tt.wantUser {
				t.Errorf("authenticated as %q, want %q", got.User, tt.wantUser)
			}
		})
	}
}

func TestClose(t *testing.T) {
	srv := smtptest.Start(t)
	c := newChannel(t, serverURL(srv), nil)
	if _, err := c.SendEmail(context.Background(), statement("ana@example.org")); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	_, err := c.SendEmail(context.Background(), statement("ana@example.org"))
	if !errors.Is(err, email.ErrClosed) || dispatcher.IsPermanent(err) {
		t.Errorf("send after Close: %v, want transient ErrClosed", err)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  email.Config
	}{
		{"bad url", email.Config{URL: "http://x", From: from}},
		{"no from", email.Config{URL: "smtp://localhost:25"}},
		{"bad from", email.Config{URL: "smtp://localhost:25", From: dispatcher.Address{Email: "x"}}},
		{"negative pool", email.Config{URL: "smtp://localhost:25", From: from, PoolSize: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := email.New(tt.cfg); err == nil {
				t.Error("no error")
			}
		})
	}
}

func BenchmarkSendEmail(b *testing.B) {
	for _, pool := range []int{1, 4} {
		b.Run("pool="+string(rune('0'+pool)), func(b *testing.B) {
			srv := smtptest.Start(b, smtptest.Discard())
			c := newChannel(b, serverURL(srv), func(cfg *email.Config) { cfg.PoolSize = pool })
			m := statement("ana@example.org")
			b.ReportAllocs()
			b.SetParallelism(pool)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := c.SendEmail(context.Background(), m); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(srv.Connections()), "conns")
		})
	}
}

// verpSender is a fake VERP: the envelope sender names the Message-ID.
type verpSender struct{}

func (verpSender) EnvelopeSender(id string) string {
	return "bounces+" + strings.ReplaceAll(strings.Split(id, "@")[0], ".", "-") + "@rio-vivo.example"
}

// With VERP, only the envelope sender changes: the message, its
// List-Unsubscribe mailto: and its DKIM signatures are as without.
func TestSendEmailEnvelopeSender(t *testing.T) {
	srv := smtptest.Start(t)
	plain := newChannel(t, serverURL(srv), func(c *email.Config) { c.UnsubscribeMailto = "baja@rio-vivo.example" })
	d, dns := dkimConfig(t, "rsa", "ed25519")
	verp := newChannel(t, serverURL(srv), func(c *email.Config) {
		c.UnsubscribeMailto = "baja@rio-vivo.example"
		c.EnvelopeSender = verpSender{}
		c.DKIM = d
	})
	for _, c := range []*email.Channel{plain, verp} {
		if _, err := c.SendEmail(context.Background(), statement("ana@example.org")); err != nil {
			t.Fatal(err)
		}
	}
	got := srv.WaitFor(t, 2, wait)
	if got[0].From != from.Email {
		t.Errorf("envelope sender without VERP = %q, want %q", got[0].From, from.Email)
	}
	if want := "bounces+rel1-d1@rio-vivo.example"; got[1].From != want {
		t.Errorf("envelope sender with VERP = %q, want %q", got[1].From, want)
	}
	// The message itself, List-Unsubscribe's mailto: included, is the same.
	for _, h := range []string{"From", "List-Unsubscribe", "Return-Path"} {
		a, b := headerOf(t, got[0].Data, h), headerOf(t, got[1].Data, h)
		if a != b {
			t.Errorf("%s differs with VERP: %q and %q", h, a, b)
		}
	}
	if ok := verify(t, got[1].Data, dns); len(ok) != 2 {
		t.Errorf("%d DKIM signatures verified with VERP, want 2", len(ok))
	}
	if !strings.Contains(headerOf(t, got[1].Data, "List-Unsubscribe"), "mailto:baja@rio-vivo.example") {
		t.Errorf("List-Unsubscribe lost its mailto: %q", headerOf(t, got[1].Data, "List-Unsubscribe"))
	}
}

func headerOf(t *testing.T, data []byte, name string) string {
	t.Helper()
	m, err := netmail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return m.Header.Get(name)
}
