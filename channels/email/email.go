// Package email sends Pregón's emails over SMTP with github.com/wneessen/go-mail.
//
// A Composer renders each message to bytes once: go-mail builds it, with
// List-Id, Precedence and List-Unsubscribe, and go-msgauth signs it (DKIM)
// when configured; the outbox uses the same Composer. A Channel keeps a small pool of open SMTP connections and reuses them from
// one message to the next. It classifies every failure at its boundary as
// permanent (SMTP 5xx; a 5.1.x refusal at RCPT is also a hard bounce, see
// dispatcher.HardBounce), transient (SMTP 4xx, network trouble before the message
// was handed over) or uncertain (the connection broke after the message data
// was sent and before the server answered), as dispatcher.SendError.
package email

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"

	"github.com/pregon/pregon/dispatcher"
)

// Defaults for the zero values of Config.
const (
	DefaultPoolSize = 4
	DefaultTimeout  = 30 * time.Second
)

// maxIdle is how long an unused connection stays in the pool. Servers close
// idle connections after a few minutes (Postfix: 300 s); dropping ours first
// saves a failed NOOP.
const maxIdle = 30 * time.Second

// ErrClosed is returned (wrapped, as a transient error) by SendEmail after Close.
var ErrClosed = errors.New("email channel closed")

// Config configures a Channel.
type Config struct {
	// URL is the SMTP server, see ParseURL: smtp://user:pass@host:port uses
	// STARTTLS when offered, smtps:// implicit TLS, ?tls=none no TLS.
	URL string
	// From is the sender of every message. Required.
	From dispatcher.Address
	// PoolSize is the most SMTP connections open at once, reused across
	// messages; it also bounds concurrent sends. Zero means DefaultPoolSize.
	PoolSize int
	// Timeout bounds dialling (with greeting, STARTTLS and AUTH) and sending
	// one message. Zero means DefaultTimeout.
	Timeout time.Duration
	// Logger receives connection events at debug level. Nil discards them.
	Logger *slog.Logger
	// Now is the clock: the Date header, the age of idle connections, and
	// the write deadline of a closing connection (so a wall clock, in
	// production). Nil means time.Now.
	Now func() time.Time
	// DKIM, when set, signs every message.
	DKIM *DKIM
	// UnsubscribeMailto, when set, adds a mailto: URI to List-Unsubscribe
	// (see ComposeConfig).
	UnsubscribeMailto string
	// EnvelopeSender, when set, makes each message's envelope sender (see
	// ComposeConfig).
	EnvelopeSender EnvelopeSender
	// Limiter, when set, is waited on before each message (a rate limit
	// shared by all workers).
	Limiter Limiter
}

// Limiter paces messages: Wait returns when the next one may be sent, or an
// error (a *dispatcher.SendError when the wait would be too long).
type Limiter interface {
	Wait(ctx context.Context) error
}

// Channel sends emails over SMTP. It is safe for concurrent use.
type Channel struct {
	client   *mail.Client // holds the settings; its own connection is never used
	endpoint Endpoint
	timeout  time.Duration
	logger   *slog.Logger
	now      func() time.Time
	limiter  Limiter
	composer *Composer
	buffers  sync.Pool     // *buffers
	slots    chan struct{} // one token per connection that may be open

	mu     sync.Mutex
	idle   []*conn // most recently used last
	closed bool
}

// conn is one open SMTP connection.
type conn struct {
	sc       *smtp.Client
	lastUsed time.Time
}

var _ dispatcher.EmailSender = (*Channel)(nil)

// New returns a Channel for cfg. It does not connect: connections are opened
// when messages are sent. It returns an error wrapping ErrInvalidURL for a bad
// URL, and an error for a missing or bad From or negative sizes.
func New(cfg Config) (*Channel, error) {
	ep, err := ParseURL(cfg.URL)
	if err != nil {
		return nil, err
	}
	composer, err := NewComposer(ComposeConfig{From: cfg.From, DKIM: cfg.DKIM, UnsubscribeMailto: cfg.UnsubscribeMailto,
		EnvelopeSender: cfg.EnvelopeSender})
	if err != nil {
		return nil, err
	}
	if cfg.PoolSize < 0 || cfg.Timeout < 0 {
		return nil, errors.New("email: pool size and timeout must not be negative")
	}
	c := &Channel{
		endpoint: ep,
		composer: composer,
		timeout:  cfg.Timeout,
		logger:   cfg.Logger,
		now:      cfg.Now,
		limiter:  cfg.Limiter,
	}
	if c.timeout == 0 {
		c.timeout = DefaultTimeout
	}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	size := cfg.PoolSize
	if size == 0 {
		size = DefaultPoolSize
	}
	c.slots = make(chan struct{}, size)
	c.buffers.New = func() any { return new(buffers) }
	c.client, err = newClient(ep, c.timeout, c.now)
	if err != nil {
		return nil, fmt.Errorf("email: %w", err)
	}
	c.logger = c.logger.With("channel", "email")
	return c, nil
}

// newClient returns the go-mail client whose settings every connection uses.
func newClient(ep Endpoint, timeout time.Duration, now func() time.Time) (*mail.Client, error) {
	tlsConfig := &tls.Config{
		ServerName:         ep.Host,
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: ep.Insecure, //nolint:gosec // opt-in, for tests
	}
	opts := []mail.Option{
		mail.WithPort(ep.Port),
		mail.WithTimeout(timeout),
		// go-mail sends NOOP before and RSET after every message: two round
		// trips that a pooled connection does not need. A server's reply to
		// DATA ends the transaction (RFC 5321 4.1.1.4), and a connection that
		// went stale in the pool fails at MAIL FROM, before anything was sent,
		// which send retries on a new connection.
		mail.WithoutNoop(),
		mail.WithoutRset(),
		mail.WithTLSConfig(tlsConfig),
		mail.WithDialContextFunc(dialer(ep, tlsConfig, now)),
	}
	switch ep.TLS {
	case TLSImplicit:
		opts = append(opts, mail.WithSSL())
	case TLSStartTLS:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	case TLSNone:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSOpportunistic))
	}
	if ep.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(ep.Auth),
			mail.WithUsername(ep.Username), mail.WithPassword(ep.Password))
	}
	if ep.HELO != "" {
		opts = append(opts, mail.WithHELO(ep.HELO))
	}
	return mail.NewClient(ep.Host, opts...)
}

// SendEmail sends m to its one recipient and returns the Message-ID, with
// angle brackets. On failure the error is a *dispatcher.SendError: permanent
// for a message that cannot be built or an SMTP 5xx reply, uncertain when the
// connection broke after the message data was sent, transient otherwise.
func (c *Channel) SendEmail(ctx context.Context, m *dispatcher.EmailMessage) (string, error) {
	var to string
	if m != nil {
		to = m.To.Email
	}
	buf := c.buffers.Get().(*buffers)
	defer c.buffers.Put(buf)
	r, err := c.composer.Compose(m, c.now(), &buf.msg)
	if err != nil {
		return "", dispatcher.Permanent(fmt.Errorf("send to %s: %w", to, err))
	}
	if c.limiter != nil {
		if err := c.limiter.Wait(ctx); err != nil {
			return "", fmt.Errorf("send to %s: wait for a turn: %w", to, err)
		}
	}
	select {
	case c.slots <- struct{}{}:
	case <-ctx.Done():
		return "", dispatcher.Transient(fmt.Errorf("send to %s: %w", to, context.Cause(ctx)), 0)
	}
	defer func() { <-c.slots }()

	buf.data = appendData(buf.data[:0], r.Data)
	if err := c.send(ctx, envelope{from: r.From, rcpts: r.To}, buf.data); err != nil {
		return "", classify(to, err)
	}
	return r.ID, nil
}

// buffers are one message's rendering and its DATA content, reused.
type buffers struct {
	msg  bytes.Buffer
	data []byte
}

// send sends data on a pooled or new connection. A pooled connection that
// turns out to be stale has sent nothing, so the message is tried again on
// the next one, and at last on a new connection.
func (c *Channel) send(ctx context.Context, env envelope, data []byte) error {
	for {
		cn, reused, err := c.get(ctx)
		if err != nil {
			return err
		}
		delivered, err := c.sendOn(ctx, cn, env, data)
		if err == nil {
			c.put(cn)
			return nil
		}
		closeConn(cn)
		if delivered {
			// The server took the message; what failed came after (ctx ended).
			return nil
		}
		if reused && ctx.Err() == nil && stale(err) {
			c.logger.Debug("smtp pooled connection stale", "error", err)
			continue
		}
		return err
	}
}

// stale reports whether err shows that a pooled connection was no longer
// usable before the message began: it was closed, or the server answered MAIL
// FROM with 421 (closing the connection, e.g. after a number of messages).
func stale(err error) bool {
	var te *txError
	if !errors.As(err, &te) {
		return false
	}
	code := te.code()
	return te.stage == stageMail && (code == 0 || code == 421)
}

// sendOn sends data on cn, closing the connection if ctx ends meanwhile.
func (c *Channel) sendOn(ctx context.Context, cn *conn, env envelope, data []byte) (delivered bool, err error) {
	// Extend the deadline, as go-mail's connection check would, before any
	// command is sent on a connection that has been idle.
	if err := cn.sc.UpdateDeadline(c.timeout); err != nil {
		return false, &connError{err}
	}
	text := cn.sc.Text
	stop := context.AfterFunc(ctx, func() { _ = text.Close() })
	err = transact(cn.sc, env, data)
	if !stop() {
		// ctx ended and the connection was closed under the send.
		cause := context.Cause(ctx)
		if err == nil {
			return true, &connError{cause}
		}
		return false, fmt.Errorf("%w (%w)", err, cause)
	}
	return err == nil, err
}

// connError is a failure of a connection that carried no message.
type connError struct{ err error }

func (e *connError) Error() string { return "smtp connection: " + e.err.Error() }
func (e *connError) Unwrap() error { return e.err }

// get returns an idle pooled connection (reused true) or dials a new one.
func (c *Channel) get(ctx context.Context) (cn *conn, reused bool, err error) {
	var expired []*conn
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, false, ErrClosed
	}
	now := c.now()
	for len(c.idle) > 0 && cn == nil {
		last := c.idle[len(c.idle)-1]
		c.idle = c.idle[:len(c.idle)-1]
		if now.Sub(last.lastUsed) > maxIdle {
			expired = append(expired, last)
			continue
		}
		cn = last
	}
	// Connections below the most recent one have been idle even longer.
	if cn != nil {
		for len(c.idle) > 0 && now.Sub(c.idle[0].lastUsed) > maxIdle {
			expired = append(expired, c.idle[0])
			c.idle = c.idle[1:]
		}
	}
	c.mu.Unlock()
	for _, old := range expired {
		closeConn(old)
	}
	if cn != nil {
		return cn, true, nil
	}
	sc, err := c.client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("connect to %s: %w", c.endpoint.Addr(), err)
	}
	c.logger.Debug("smtp connected", "server", c.endpoint.String())
	return &conn{sc: sc}, false, nil
}

// put returns a healthy connection to the pool, or closes it after Close.
func (c *Channel) put(cn *conn) {
	cn.lastUsed = c.now()
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		c.quit(cn)
		return
	}
	c.idle = append(c.idle, cn)
	c.mu.Unlock()
}

// quit ends a healthy connection politely, with QUIT.
func (c *Channel) quit(cn *conn) {
	_ = cn.sc.UpdateDeadline(min(c.timeout, 5*time.Second))
	if err := c.client.CloseWithSMTPClient(cn.sc); err != nil {
		closeConn(cn)
	}
}

// closeConn drops a connection that may be broken, without QUIT.
func closeConn(cn *conn) { _ = cn.sc.Close() }

// Close sends QUIT on the idle connections and closes them; connections in
// use are closed when their message is done. Later sends fail with ErrClosed.
// It returns nil.
func (c *Channel) Close() error {
	c.mu.Lock()
	idle := c.idle
	c.idle, c.closed = nil, true
	c.mu.Unlock()
	var wg sync.WaitGroup
	for _, cn := range idle {
		wg.Go(func() { c.quit(cn) })
	}
	wg.Wait()
	return nil
}

// classify wraps err, a failure to send one message to addr, as a
// dispatcher.SendError.
func classify(addr string, err error) error {
	var te *txError
	if !errors.As(err, &te) {
		// Dialling, greeting, STARTTLS, AUTH or the pool: nothing was sent.
		return dispatcher.Transient(fmt.Errorf("send to %s: %w", addr, err), 0)
	}
	if code := te.code(); code >= 400 && code < 600 {
		re := te.replyError()
		err = fmt.Errorf("send to %s: %w", addr, re)
		if code >= 500 && te.stage == stageRcpt && noSuchAddress(re) {
			return dispatcher.HardBounce(err, dispatcher.SourceRcpt)
		}
		if code >= 500 {
			return dispatcher.Permanent(err)
		}
		return dispatcher.Transient(err, 0)
	}
	err = fmt.Errorf("send to %s: %w", addr, err)
	if te.stage == stageEnd {
		// The data and its terminating dot were written (or were being
		// flushed) and no reply came: the server may have accepted it.
		return dispatcher.Uncertain(err)
	}
	return dispatcher.Transient(err, 0)
}

// noSuchAddress reports whether re, a 5xx reply to RCPT TO, says that the
// address does not exist: an RFC 3463 status 5.1.x (bad mailbox, bad
// domain, bad syntax). The status is read from the reply's text even when
// the server did not announce ENHANCEDSTATUSCODES, as many put it there
// anyway. Other 5xx replies (policy, spam, size) do not suppress.
func noSuchAddress(re *ReplyError) bool {
	code := re.EnhancedCode
	if code == "" {
		code = enhancedCode(re.Text, re.Code)
	}
	return strings.HasPrefix(code, "5.1.")
}
