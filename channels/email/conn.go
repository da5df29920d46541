package email

import (
	"bufio"
	"context"
	"crypto/tls"
	"net"
	"sync"
	"time"
)

// coalescingConn holds back what the SMTP client writes until it next reads
// (or 64 KiB wait): SMTP is request-reply, so the server never waits for
// bytes held here, and a message goes out in one write instead of one per
// 4 KiB of the client's own buffer. Write syscalls were a quarter of the CPU
// a message cost.
type coalescingConn struct {
	net.Conn
	mu  sync.Mutex
	w   *bufio.Writer
	now func() time.Time // for the deadline of the last flush
}

func newCoalescingConn(c net.Conn, now func() time.Time) *coalescingConn {
	cc := &coalescingConn{Conn: c, now: now}
	cc.w = bufio.NewWriterSize(writerFunc(c.Write), 64<<10)
	return cc
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func (c *coalescingConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.w.Write(p)
}

// Read sends what is held back, then reads.
func (c *coalescingConn) Read(p []byte) (int, error) {
	if err := c.flush(); err != nil {
		return 0, err
	}
	return c.Conn.Read(p)
}

func (c *coalescingConn) flush() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.w.Buffered() == 0 {
		return nil
	}
	return c.w.Flush()
}

// Close sends what is held back (a QUIT), then closes.
func (c *coalescingConn) Close() error {
	c.Conn.SetWriteDeadline(c.now().Add(time.Second))
	c.flush()
	return c.Conn.Close()
}

// dialer returns go-mail's dial function for ep: TCP (and TLS from the
// first byte for smtps) over a coalescingConn. STARTTLS, when used, wraps
// the connection this returns.
func dialer(ep Endpoint, tlsConfig *tls.Config, now func() time.Time) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		raw, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		conn := net.Conn(newCoalescingConn(raw, now))
		if ep.TLS == TLSImplicit {
			tc := tls.Client(conn, tlsConfig)
			if err := tc.HandshakeContext(ctx); err != nil {
				raw.Close()
				return nil, err
			}
			conn = tc
		}
		return conn, nil
	}
}
