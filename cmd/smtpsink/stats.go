package main

import (
	"hash/maphash"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/pregon/pregon/internal/smtptest"
)

// stats keeps what the server's counters do not: when the first and the last
// message were accepted, and which recipients were seen, to count duplicates.
type stats struct {
	now  func() time.Time
	seed maphash.Seed

	mu         sync.Mutex
	first      int64
	last       int64
	seen       map[uint64]struct{} // hashes of the first recipients accepted
	duplicates int64
}

func newStats(now func() time.Time) *stats {
	return &stats{now: now, seed: maphash.MakeSeed(), seen: make(map[uint64]struct{})}
}

// accept is the server's data handler: it records one accepted message whose
// first recipient is rcpt, and accepts it. Recipients are kept as 64-bit
// hashes, small enough for millions of them.
func (s *stats) accept(rcpt string, _ int) *smtp.SMTPError {
	h := maphash.String(s.seed, rcpt)
	t := s.now().UnixNano()
	s.mu.Lock()
	if s.first == 0 {
		s.first = t
	}
	s.last = max(s.last, t)
	if _, dup := s.seen[h]; dup {
		s.duplicates++
	} else {
		s.seen[h] = struct{}{}
	}
	s.mu.Unlock()
	return nil
}

// counts returns srv's counts with the times and recipients added.
func (s *stats) counts(srv *smtptest.Server) counts {
	c := counts{Messages: srv.Count(), Bytes: srv.Bytes(), Connections: srv.Connections()}
	s.mu.Lock()
	c.FirstUnixNano, c.LastUnixNano = s.first, s.last
	c.Recipients, c.Duplicates = int64(len(s.seen)), s.duplicates
	s.mu.Unlock()
	return c
}
