package dispatcher

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"
)

// NewWorkerID returns an id for this process start: host name, process id
// and a random nonce, so that a worker restarted on the same host with the
// same pid is never taken for the one that died.
func NewWorkerID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	host = strings.Map(func(r rune) rune {
		if r <= ' ' || r == 0x7f {
			return '_'
		}
		return r
	}, host)
	var b [6]byte
	_, _ = rand.Read(b[:]) // crypto/rand never fails on supported platforms
	return fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// WorkerID returns the id this worker's claims carry.
func (s *Service) WorkerID() string { return s.cfg.WorkerID }

// StartHeartbeat sets this worker's liveness key (see Config.LivenessTTL),
// and keeps renewing it every third of its TTL until stop is called. Start
// it before the worker takes tasks. stop(leave) ends the renewals; with
// leave true (call it once every delivery in flight has been recorded, see
// Drain) it also removes the key, so that nothing waits for it to expire.
// It returns an error when the first beat fails.
func (s *Service) StartHeartbeat(ctx context.Context) (stop func(leave bool), err error) {
	id, ttl := s.cfg.WorkerID, s.cfg.LivenessTTL
	if err := s.cfg.Store.Heartbeat(ctx, id, ttl); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() {
		every(ctx, ttl/3, func() {
			if err := s.cfg.Store.Heartbeat(ctx, id, ttl); err != nil && ctx.Err() == nil {
				s.log.Warn("cannot renew this worker's liveness key", "error", err)
			}
		})
	})
	s.log.Info("worker liveness", "ttl", ttl.String())
	return func(leave bool) {
		cancel()
		wg.Wait()
		if leave {
			lctx, done := context.WithTimeout(context.Background(), 5*time.Second)
			defer done()
			if err := s.cfg.Store.Leave(lctx, id); err != nil {
				s.log.Warn("cannot remove this worker's liveness key", "error", err)
			}
		}
	}, nil
}
