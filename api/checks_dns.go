package api

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/pregon/pregon/dispatcher"
)

// checkDNS is the name of the check of the From domain's DNS records.
const checkDNS = "dns"

// DefaultDNSCacheTTL is how long the dns check's finding is kept: the
// records are the same for every release, and seldom change.
const DefaultDNSCacheTTL = 5 * time.Minute

// dnsTimeout bounds the lookups of one dns check.
const dnsTimeout = 5 * time.Second

// DNSChecker reads the DNS records receivers check the server's mail
// against (SPF, DKIM and DMARC of the From domain).
// *email.DNSChecker implements it.
type DNSChecker interface {
	// CheckDNS returns one check per record, at the level the record
	// stands at; it never fails (a lookup that fails is a check saying so).
	CheckDNS(ctx context.Context) []dispatcher.Check
}

// dnsCache keeps the last dns check for a while.
type dnsCache struct {
	mu    sync.Mutex
	at    time.Time // when check was made (zero: never)
	check dispatcher.Check
}

// dnsCheck: the From domain's records are published. One that is missing
// or wrong is a warning, never an error: the server may have no resolver
// that answers. The finding is kept for Config.DNSCacheTTL.
func (s *Server) dnsCheck(ctx context.Context) dispatcher.Check {
	s.dnsCache.mu.Lock()
	defer s.dnsCache.mu.Unlock() // one lookup at a time; the others wait for its finding
	if now := s.now(); !s.dnsCache.at.IsZero() && now.Sub(s.dnsCache.at) < s.dnsTTL && !now.Before(s.dnsCache.at) {
		return s.dnsCache.check
	}
	lctx, cancel := context.WithTimeout(ctx, dnsTimeout)
	defer cancel()
	found := s.dns.CheckDNS(lctx)
	c := dispatcher.Check{Name: checkDNS, Level: dispatcher.CheckOK}
	var bad, badNames, names []string
	for _, f := range found {
		names = append(names, f.Name)
		if f.Level != dispatcher.CheckOK {
			bad = append(bad, f.Name+": "+strings.TrimSuffix(f.Message, "."))
			badNames = append(badNames, f.Name)
		}
	}
	if len(bad) == 0 {
		c.Message = "The records receivers check the mail against are published (" + strings.Join(names, ", ") + ")."
		c.Notes = []dispatcher.Note{note("dns.ok", "records", names)}
	} else {
		c.Level = dispatcher.CheckWarning
		c.Message = fmt.Sprintf("%d of %d DNS %s of the From domain %s missing or weak, so receivers may not trust the mail: %s. Run \"pregon dns check\" for the records to publish.",
			len(bad), len(found), plural(len(found), "record", "records"), plural(len(bad), "is", "are"), strings.Join(bad, "; "))
		c.Notes = []dispatcher.Note{note("dns.weak", "n", len(bad), "total", len(found), "records", badNames)}
	}
	if ctx.Err() == nil { // a finding cut short by the request's end is not kept
		s.dnsCache.at, s.dnsCache.check = s.now(), c
	}
	return c
}
