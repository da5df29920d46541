package main

import (
	"context"
	"fmt"
	"time"

	"github.com/pregon/pregon/client"
	"github.com/redis/go-redis/v9"
)

// memoryFigures is what a release's deliveries hold in Redis, live and
// once archived (retention).
type memoryFigures struct {
	// Live, by MEMORY USAGE, per delivery: the buckets that hold the
	// deliveries' records, and the ZSET that lists the buckets (store's
	// record.go).
	hash, zset float64
	// archive is MEMORY USAGE of the release's archive per delivery;
	// usedAfter is used_memory after archiving, less before the import,
	// per delivery (everything the release left, counts, failure log and
	// the queue's leftovers included).
	archive, usedAfter float64
	archiveTime        time.Duration
	err                string
}

// measureRetention measures the live deliveries of release rid by MEMORY
// USAGE, archives the release through the API (POST .../archive) and
// measures the archive.
func measureRetention(ctx context.Context, rdb *redis.Client, c *client.Client, rid string, n int, memImport int64) memoryFigures {
	var m memoryFigures
	if n == 0 {
		return m
	}
	buckets, err := rdb.ZRange(ctx, "pregon:{"+rid+"}:dblocks", 0, -1).Result()
	if err != nil || len(buckets) == 0 {
		m.err = fmt.Sprintf("list delivery buckets: %v", err)
		return m
	}
	p := rdb.Pipeline()
	sizes := make([]*redis.IntCmd, len(buckets))
	for i, bk := range buckets {
		sizes[i] = p.MemoryUsage(ctx, "pregon:{"+rid+"}:db:"+bk, 0)
	}
	if _, err := p.Exec(ctx); err != nil {
		m.err = fmt.Sprintf("MEMORY USAGE: %v", err)
		return m
	}
	var sum int64
	for _, c := range sizes {
		sum += c.Val()
	}
	m.hash = float64(sum) / float64(n)
	if z, err := rdb.MemoryUsage(ctx, "pregon:{"+rid+"}:dblocks", 0).Result(); err == nil {
		m.zset = float64(z) / float64(n)
	}
	start := time.Now()
	if _, err := c.Archive(ctx, rid); err != nil {
		m.err = fmt.Sprintf("archive: %v", err)
		return m
	}
	m.archiveTime = time.Since(start)
	if a, err := rdb.MemoryUsage(ctx, "pregon:{"+rid+"}:archive", 0).Result(); err == nil {
		m.archive = float64(a) / float64(n)
	}
	if used, err := usedMemory(ctx, rdb); err == nil {
		m.usedAfter = float64(used-memImport) / float64(n)
	}
	return m
}

// note is the line the report gives the figures.
func (m memoryFigures) note() string {
	if m.err != "" {
		return "retention: " + m.err
	}
	return fmt.Sprintf("Redis per delivery, live by MEMORY USAGE: records in buckets %.0f B + buckets ZSET %.1f B = %.0f B; "+
		"archived (POST /archive, %s s): archive %.1f B, used_memory after archiving %.0f B per delivery (counts, failure log, queue leftovers included)",
		m.hash, m.zset, m.hash+m.zset, seconds(m.archiveTime), m.archive, m.usedAfter)
}
