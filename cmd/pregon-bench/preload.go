package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pregon/pregon/store"
	"github.com/redis/go-redis/v9"
)

// preloadRelease is how many deliveries each older release of the preload has.
const preloadRelease = 100_000

// preloadResult is what preloading older releases into Redis took and left.
type preloadResult struct {
	deliveries int
	mode       string // live or archived
	took       time.Duration
	usedMemory int64  // used_memory after the preload
	aof        string // what a BGREWRITEAOF after the preload did
}

// preload writes n deliveries of older, sent releases into the bench's
// Redis through the store (as the workers would leave them: created,
// claimed, finished sent), in releases of preloadRelease, and archives
// them when mode is "archived". Then it rewrites the AOF and reports how
// long that took and its size.
func (b *bench) preload(ctx context.Context, n int, mode string) (*preloadResult, error) {
	res := &preloadResult{deliveries: n, mode: mode}
	start := time.Now()
	s := store.New(b.rdb, nil)
	for from := 0; from < n; from += preloadRelease {
		if err := preloadOne(ctx, s, from, min(preloadRelease, n-from), mode == "archived"); err != nil {
			return nil, err
		}
		b.log.Info("preloaded", "deliveries", min(from+preloadRelease, n), "mode", mode)
	}
	res.took = time.Since(start)
	var err error
	if res.usedMemory, err = usedMemory(ctx, b.rdb); err != nil {
		return nil, err
	}
	res.aof = rewriteAOF(ctx, b.rdb)
	return res, nil
}

func preloadOne(ctx context.Context, s *store.Store, from, n int, archive bool) error {
	rid, err := sendingRelease(ctx, s)
	if err != nil {
		return err
	}
	ds := benchDeliveries(rid, from, n)
	if err := createDeliveries(ctx, s, rid, ds); err != nil {
		return err
	}
	if _, err := s.SnapshotDone(ctx, rid); err != nil {
		return err
	}
	if err := sendDeliveries(ctx, s, rid, ds); err != nil {
		return err
	}
	if archive {
		if _, err := s.ArchiveRelease(ctx, rid); err != nil {
			return err
		}
	}
	return nil
}

// rewriteAOF asks Redis to rewrite its AOF and says how long it took and
// how large the result is.
func rewriteAOF(ctx context.Context, rdb *redis.Client) string {
	start := time.Now()
	if err := rdb.BgRewriteAOF(ctx).Err(); err != nil {
		return "BGREWRITEAOF: " + err.Error()
	}
	var info string
	err := waitFor(ctx, "the AOF rewrite", 10*time.Minute, 100*time.Millisecond, func(ctx context.Context) (bool, error) {
		var err error
		info, err = rdb.Info(ctx, "persistence").Result()
		return err == nil && strings.Contains(info, "aof_rewrite_in_progress:0") && !strings.Contains(info, "aof_rewrite_scheduled:1"), err
	})
	if err != nil {
		return "AOF rewrite: " + err.Error()
	}
	field := func(name string) string {
		for line := range strings.Lines(info) {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+":"); ok {
				return v
			}
		}
		return "?"
	}
	return fmt.Sprintf("BGREWRITEAOF done after %s s (Redis: %s s, status %s, copy-on-write %s MB, AOF %s MB)", seconds(time.Since(start)),
		field("aof_last_rewrite_time_sec"), field("aof_last_bgrewrite_status"), mbOf(field("aof_last_cow_size")), mbOf(field("aof_current_size")))
}

func mbOf(v string) string {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return v
	}
	return fmt.Sprintf("%.1f", float64(n)/mb)
}
