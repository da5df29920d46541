// Package smtptest runs a real SMTP server over TCP (github.com/emersion/go-smtp)
// for tests and benchmarks. It records what it receives and can answer 4xx/5xx
// or drop the connection on demand.
//
// New gives a server for any program (cmd/smtpsink uses it); Start gives one
// that is closed when a test ends.
package smtptest

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Message is one message the server accepted.
type Message struct {
	From string
	To   []string
	Data []byte
	// User is the name the client authenticated as; empty without AUTH.
	User string
}

// Option changes how New and Start set up the server.
type Option func(*config)

type config struct {
	addr        string
	discard     bool
	tlsConfig   *tls.Config
	implicitTLS bool
}

// Discard makes the server count messages and bytes but keep no data:
// Messages returns nothing. Use it for benchmarks.
func Discard() Option { return func(c *config) { c.discard = true } }

// ListenAddr makes the server listen on addr instead of 127.0.0.1:0.
func ListenAddr(addr string) Option { return func(c *config) { c.addr = addr } }

// StartTLS makes the server offer STARTTLS with cfg (see SelfSigned).
func StartTLS(cfg *tls.Config) Option {
	return func(c *config) { c.tlsConfig, c.implicitTLS = cfg, false }
}

// ImplicitTLS makes the server speak TLS from the first byte (smtps) with cfg.
func ImplicitTLS(cfg *tls.Config) Option {
	return func(c *config) { c.tlsConfig, c.implicitTLS = cfg, true }
}

// rcptFunc decides about one recipient; attempt counts the RCPT commands the
// server has seen for rcpt, from 1.
type rcptFunc func(rcpt string, attempt int) *smtp.SMTPError

// Server is a running SMTP server. Every client may AUTH PLAIN with any user
// name and password, with or without TLS. Its methods are safe for concurrent use.
type Server struct {
	// Addr is the host:port the server listens on.
	Addr string

	srv     *smtp.Server
	ln      net.Listener
	served  chan struct{}
	discard bool

	count atomic.Int64
	bytes atomic.Int64
	conns atomic.Int64

	mu       sync.Mutex
	msgs     []Message
	attempts map[string]int
	rcptFn   rcptFunc
	dataFn   rcptFunc
	dropFn   func(rcpt string, attempt int) bool
	changed  chan struct{} // closed and replaced whenever a message arrives
	open     map[*trackedConn]struct{}
	closed   bool
	closeErr error
}

// New starts a server on 127.0.0.1:0 (or ListenAddr). It returns an error when
// it cannot listen. Close stops it.
func New(opts ...Option) (*Server, error) {
	cfg := config{addr: "127.0.0.1:0"}
	for _, o := range opts {
		o(&cfg)
	}
	tcp, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return nil, fmt.Errorf("smtptest: listen: %w", err)
	}
	s := &Server{
		Addr:     tcp.Addr().String(),
		open:     make(map[*trackedConn]struct{}),
		served:   make(chan struct{}),
		discard:  cfg.discard,
		attempts: make(map[string]int),
		changed:  make(chan struct{}),
	}
	s.srv = smtp.NewServer(smtp.BackendFunc(s.newSession))
	s.srv.Domain = "smtptest.invalid"
	s.srv.AllowInsecureAuth = true
	s.srv.EnableSMTPUTF8 = true
	s.srv.MaxMessageBytes = 64 << 20
	s.srv.ReadTimeout = time.Minute
	s.srv.WriteTimeout = time.Minute
	s.srv.ErrorLog = log.New(io.Discard, "", 0)
	if cfg.tlsConfig != nil && !cfg.implicitTLS {
		s.srv.TLSConfig = cfg.tlsConfig
	}
	// Track the TCP connections below any TLS layer, so that go-smtp still
	// sees a *tls.Conn.
	s.ln = &trackingListener{Listener: tcp, s: s}
	if cfg.tlsConfig != nil && cfg.implicitTLS {
		s.ln = tls.NewListener(s.ln, cfg.tlsConfig)
	}
	go func() {
		defer close(s.served)
		_ = s.srv.Serve(s.ln)
	}()
	return s, nil
}

// Start starts a server like New and closes it when tb ends. It fails the test
// when the server cannot start.
func Start(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s, err := New(opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// Close stops listening and closes every open connection. Calling it again
// returns the first call's result.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return s.closeErr
	}
	s.closed = true
	s.mu.Unlock()

	// srv.Close closes the listeners Serve has registered; close ours too in
	// case Serve has not started yet.
	err := s.srv.Close()
	if lerr := s.ln.Close(); lerr != nil && !errors.Is(lerr, net.ErrClosed) && err == nil {
		err = lerr
	}
	<-s.served
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	s.mu.Lock()
	s.closeErr = err
	s.mu.Unlock()
	return err
}

// Messages returns a copy of the messages accepted so far, in arrival order.
// It returns nothing for a Discard server.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return cloneMessages(s.msgs)
}

// Count returns the number of messages accepted so far.
func (s *Server) Count() int64 { return s.count.Load() }

// Bytes returns the number of message bytes accepted so far.
func (s *Server) Bytes() int64 { return s.bytes.Load() }

// Connections returns the number of TCP connections accepted so far.
func (s *Server) Connections() int64 { return s.conns.Load() }

// WaitFor waits until the server has accepted at least n messages and returns
// them (nothing for a Discard server). It fails the test when timeout passes first.
func (s *Server) WaitFor(tb testing.TB, n int, timeout time.Duration) []Message {
	tb.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		if s.count.Load() >= int64(n) {
			msgs := cloneMessages(s.msgs)
			s.mu.Unlock()
			return msgs
		}
		changed := s.changed
		s.mu.Unlock()
		select {
		case <-changed:
		case <-deadline.C:
			tb.Fatalf("smtptest: waited %s for %d messages, got %d", timeout, n, s.count.Load())
			return nil
		}
	}
}

// FirstAttempt returns a handler, for SetHandler or SetDataHandler, that
// answers e to each recipient's first attempt and accepts the others.
func FirstAttempt(e *smtp.SMTPError) func(rcpt string, attempt int) *smtp.SMTPError {
	return func(_ string, attempt int) *smtp.SMTPError {
		if attempt == 1 {
			return e
		}
		return nil
	}
}

// SetHandler sets the function that answers each RCPT command: nil accepts
// the recipient, an error (e.g. 451 or 550) is the server's reply. A nil fn
// accepts every recipient.
func (s *Server) SetHandler(fn func(rcpt string, attempt int) *smtp.SMTPError) {
	s.mu.Lock()
	s.rcptFn = fn
	s.mu.Unlock()
}

// SetDataHandler sets the function that answers after the message data has
// been received, for the transaction's first recipient: nil accepts the
// message, an error rejects it with that reply.
func (s *Server) SetDataHandler(fn func(rcpt string, attempt int) *smtp.SMTPError) {
	s.mu.Lock()
	s.dataFn = fn
	s.mu.Unlock()
}

// DropAfterData sets the function that decides, for the transaction's first
// recipient, whether to close the connection after the message data has been
// received, without answering. A dropped message is not recorded.
func (s *Server) DropAfterData(fn func(rcpt string, attempt int) bool) {
	s.mu.Lock()
	s.dropFn = fn
	s.mu.Unlock()
}

// record stores an accepted message and wakes WaitFor.
func (s *Server) record(m Message, size int64) {
	s.mu.Lock()
	if !s.discard {
		s.msgs = append(s.msgs, m)
	}
	s.bytes.Add(size)
	s.count.Add(1)
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
}

func cloneMessages(in []Message) []Message {
	out := make([]Message, len(in))
	for i, m := range in {
		m.To = append([]string(nil), m.To...)
		m.Data = append([]byte(nil), m.Data...)
		out[i] = m
	}
	return out
}

// CloseConnections closes every open client connection, as a server restart
// or idle timeout would; the server goes on listening.
func (s *Server) CloseConnections() {
	s.mu.Lock()
	open := make([]*trackedConn, 0, len(s.open))
	for c := range s.open {
		open = append(open, c)
	}
	s.mu.Unlock()
	for _, c := range open {
		_ = c.Close()
	}
}

// trackingListener counts accepted connections and keeps the open ones.
type trackingListener struct {
	net.Listener
	s *Server
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, s: l.s}
	l.s.mu.Lock()
	l.s.open[tc] = struct{}{}
	l.s.mu.Unlock()
	l.s.conns.Add(1)
	return tc, nil
}

// trackedConn removes itself from the server's open connections on Close.
type trackedConn struct {
	net.Conn
	s    *Server
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.s.mu.Lock()
		delete(c.s.open, c)
		c.s.mu.Unlock()
	})
	return c.Conn.Close()
}
