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
	// Live, by MEMORY USAGE: the average delivery hash (of a sample), the
	// release's ZSET of delivery ids, per delivery.
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
	sample, err := rdb.ZRange(ctx, "pregon:{"+rid+"}:deliveries", 0, 999).Result()
	if err != nil || len(sample) == 0 {
		m.err = fmt.Sprintf("sample deliveries: %v", err)
		return m
	}
	var sum int64
	for _, id := range sample {
		v, err := rdb.MemoryUsage(ctx, "pregon:{"+rid+"}:d:"+id).Result()
		if err != nil {
			m.err = fmt.Sprintf("MEMORY USAGE: %v", err)
			return m
		}
		sum += v
	}
	m.hash = float64(sum) / float64(len(sample))
	if z, err := rdb.MemoryUsage(ctx, "pregon:{"+rid+"}:deliveries", 0).Result(); err == nil {
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
	return fmt.Sprintf("Redis per delivery, live by MEMORY USAGE: hash %.0f B + ids ZSET %.0f B = %.0f B; "+
		"archived (POST /archive, %s s): archive %.1f B, used_memory after archiving %.0f B per delivery (counts, failure log, queue leftovers included)",
		m.hash, m.zset, m.hash+m.zset, seconds(m.archiveTime), m.archive, m.usedAfter)
}
