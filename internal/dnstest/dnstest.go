// Package dnstest is a real DNS server over UDP on loopback, for tests: it
// answers TXT queries from a zone the test changes as it goes, NXDOMAIN for
// names not in it, and SERVFAIL for names set to fail.
package dnstest

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

// Server is a running DNS server. It is safe for concurrent use.
type Server struct {
	addr     string
	mu       sync.Mutex
	zone     map[string][]string // lower-case name without the final dot → TXT records
	servfail map[string]bool
}

// Start starts a server that stops when tb's test ends.
func Start(tb testing.TB) *Server {
	tb.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	s := &Server{addr: pc.LocalAddr().String(), zone: map[string][]string{}, servfail: map[string]bool{}}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(s.serve)}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go func() { _ = srv.ActivateAndServe() }()
	<-started
	tb.Cleanup(func() { _ = srv.Shutdown() })
	return s
}

// Addr is the server's host:port.
func (s *Server) Addr() string { return s.addr }

// SetTXT makes name answer with the TXT records txt (none: the name exists
// without TXT records).
func (s *Server) SetTXT(name string, txt ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.zone[key(name)] = txt
}

// ServFail makes queries for name fail with SERVFAIL.
func (s *Server) ServFail(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.servfail[key(name)] = true
}

// Resolver returns a resolver that asks this server only.
func (s *Server) Resolver() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "udp", s.addr)
	}}
}

func key(name string) string { return strings.TrimSuffix(strings.ToLower(name), ".") }

func (s *Server) serve(w dns.ResponseWriter, req *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(req)
	if len(req.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		_ = w.WriteMsg(m)
		return
	}
	q := req.Question[0]
	s.mu.Lock()
	txt, ok := s.zone[key(q.Name)]
	fail := s.servfail[key(q.Name)]
	s.mu.Unlock()
	switch {
	case fail:
		m.Rcode = dns.RcodeServerFailure
	case !ok:
		m.Rcode = dns.RcodeNameError
	case q.Qtype == dns.TypeTXT:
		for _, t := range txt {
			// A TXT record is a list of strings of at most 255 bytes: long
			// ones (an RSA key) come split, as they do from real zones.
			var parts []string
			for len(t) > 255 {
				parts, t = append(parts, t[:255]), t[255:]
			}
			m.Answer = append(m.Answer, &dns.TXT{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60}, Txt: append(parts, t)})
		}
	}
	_ = w.WriteMsg(m)
}
