// Package retention compacts the deliveries of releases that have been
// final (sent, sent_with_failures or cancelled) for longer than the
// retention into their archive, periodically, in one process at a time.
package retention

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/pregon/pregon/dispatcher"
)

// Store is what the archiver needs; *store.Store implements it.
type Store interface {
	// ArchiveDue returns up to limit final releases, not archived, last
	// changed at or before before.
	ArchiveDue(ctx context.Context, before time.Time, limit int) ([]string, error)
	// ArchiveRelease archives one release (resumable; see store/archive.go).
	ArchiveRelease(ctx context.Context, id string) (*dispatcher.Release, error)
	// AcquireLease takes or renews a lease; ReleaseLease gives it up.
	AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error)
	ReleaseLease(ctx context.Context, name, owner string) error
}

// LeaseName is the lease that lets one process archive at a time.
const LeaseName = "archiver"

// Defaults.
const (
	DefaultEvery = 10 * time.Minute // how often the archiver looks
	leaseTTL     = 5 * time.Minute  // renewed before each release
	perRound     = 50               // releases archived in one round at most
)

// Config configures an Archiver. Store, Retention (> 0) and Owner are
// required; Every defaults to DefaultEvery, Now to time.Now, Logger to
// slog.Default.
type Config struct {
	Store     Store
	Retention time.Duration
	Every     time.Duration
	Owner     string // this process in the lease (a worker id)
	Now       func() time.Time
	Logger    *slog.Logger
}

// Archiver archives the releases whose retention is over.
type Archiver struct{ cfg Config }

// New returns an Archiver, or an error naming what Config lacks.
func New(cfg Config) (*Archiver, error) {
	switch {
	case cfg.Store == nil:
		return nil, errors.New("retention: Config.Store is required")
	case cfg.Retention <= 0:
		return nil, errors.New("retention: Config.Retention must be positive")
	case cfg.Owner == "":
		return nil, errors.New("retention: Config.Owner is required")
	}
	if cfg.Every <= 0 {
		cfg.Every = DefaultEvery
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Archiver{cfg: cfg}, nil
}

// Run archives what is due every cfg.Every until ctx ends.
func (a *Archiver) Run(ctx context.Context) {
	t := time.NewTicker(a.cfg.Every)
	defer t.Stop()
	for {
		if n, err := a.RunOnce(ctx); err != nil && ctx.Err() == nil {
			a.cfg.Logger.Warn("retention: archiving", "err", err, "archived", n)
		} else if n > 0 {
			a.cfg.Logger.Info("retention: releases archived", "archived", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RunOnce archives up to perRound releases that are due, if this process
// holds the lease (renewed before each), and returns how many it archived.
// A release that fails is logged and left for the next round; the first
// error is returned.
func (a *Archiver) RunOnce(ctx context.Context) (int, error) {
	owner := a.cfg.Owner
	ok, err := a.cfg.Store.AcquireLease(ctx, LeaseName, owner, leaseTTL)
	if err != nil || !ok {
		return 0, err
	}
	defer func() {
		if err := a.cfg.Store.ReleaseLease(context.WithoutCancel(ctx), LeaseName, owner); err != nil {
			a.cfg.Logger.Warn("retention: release the lease", "err", err)
		}
	}()
	due, err := a.cfg.Store.ArchiveDue(ctx, a.cfg.Now().Add(-a.cfg.Retention), perRound)
	if err != nil {
		return 0, err
	}
	n := 0
	var first error
	for _, id := range due {
		if ok, err := a.cfg.Store.AcquireLease(ctx, LeaseName, owner, leaseTTL); err != nil || !ok {
			return n, err // lost: another process goes on
		}
		if _, err := a.cfg.Store.ArchiveRelease(ctx, id); err != nil {
			a.cfg.Logger.Warn("retention: archive a release", "release_id", id, "err", err)
			if first == nil {
				first = fmt.Errorf("archive %s: %w", id, err)
			}
			continue
		}
		a.cfg.Logger.Debug("retention: release archived", "release_id", id)
		n++
	}
	return n, first
}

// ParseRetention reads PREGON_RETENTION: a Go duration ("720h") or a
// number of days ("30d"); "0" turns retention off (0 returned).
func ParseRetention(v string) (time.Duration, error) {
	if v == "0" {
		return 0, nil
	}
	if len(v) > 1 && v[len(v)-1] == 'd' {
		var days int
		if _, err := fmt.Sscanf(v, "%dd", &days); err == nil && fmt.Sprintf("%dd", days) == v && days >= 0 && days <= 36500 {
			return time.Duration(days) * 24 * time.Hour, nil
		}
		return 0, fmt.Errorf("want a number of days such as 30d, got %q", v)
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("want a duration such as 720h or 30d, or 0 for never, got %q", v)
	}
	return d, nil
}
