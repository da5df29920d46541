package email_test

import (
	"bufio"
	"context"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/pregon/pregon/channels/email"
)

// scriptedServer is a minimal SMTP server whose capabilities the test
// chooses; on its first connection it answers the second MAIL FROM with 421
// and hangs up, as a server does that limits messages per connection.
type scriptedServer struct {
	ln        net.Listener
	caps      []string
	conns     atomic.Int64
	delivered atomic.Int64
	wg        sync.WaitGroup
}

func startScripted(t *testing.T, caps ...string) *scriptedServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &scriptedServer{ln: ln, caps: caps}
	s.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n := s.conns.Add(1)
			s.wg.Go(func() { s.serve(c, n == 1) })
		}
	})
	t.Cleanup(func() { ln.Close(); s.wg.Wait() })
	return s
}

func (s *scriptedServer) serve(c net.Conn, limited bool) {
	defer c.Close()
	r, w := bufio.NewReader(c), bufio.NewWriter(c)
	say := func(line string) { w.WriteString(line + "\r\n"); w.Flush() }
	say("220 scripted")
	mails := 0
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"):
			lines := append([]string{"scripted"}, s.caps...)
			for _, l := range lines[:len(lines)-1] {
				w.WriteString("250-" + l + "\r\n")
			}
			say("250 " + lines[len(lines)-1])
		case strings.HasPrefix(cmd, "MAIL FROM:"):
			mails++
			if limited && mails == 2 {
				say("421 4.7.0 too many messages, closing")
				return
			}
			say("250 ok")
		case strings.HasPrefix(cmd, "RCPT TO:"):
			say("250 ok")
		case cmd == "DATA":
			say("354 go on")
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
			}
			s.delivered.Add(1)
			say("250 queued")
		case cmd == "QUIT":
			say("221 bye")
			return
		default:
			say("250 ok")
		}
	}
}

// A pooled connection whose server answers MAIL FROM with 421 and hangs up
// has sent nothing: the message goes on a new connection, with or without
// PIPELINING (where the replies to RCPT TO and DATA never come).
func TestMailFrom421OnPooledConnection(t *testing.T) {
	for _, caps := range [][]string{{"PIPELINING", "8BITMIME"}, {"8BITMIME"}} {
		t.Run(strings.Join(caps, ","), func(t *testing.T) {
			srv := startScripted(t, caps...)
			c := newChannel(t, "smtp://"+srv.ln.Addr().String()+"?tls=none", func(cfg *email.Config) { cfg.PoolSize = 1 })
			for i := range 3 {
				if _, err := c.SendEmail(context.Background(), statement("ana@example.org")); err != nil {
					t.Fatalf("message %d: %v", i+1, err)
				}
			}
			if got := srv.delivered.Load(); got != 3 {
				t.Errorf("delivered %d, want 3", got)
			}
			if got := srv.conns.Load(); got != 2 {
				t.Errorf("connections %d, want 2", got)
			}
		})
	}
}
