package main

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pregon/pregon/client"
	"github.com/pregon/pregon/dispatcher"
)

// importResult is the measure of one large contact import in one upload.
type importResult struct {
	n, bytes    int
	wall        time.Duration
	peakRSS     int64         // of pregon serve, over the import
	slowest     time.Duration // the longest command in Redis's SLOWLOG
	slowestCmd  string        // its name
	slowCount   int           // SLOWLOG entries (commands over 1 ms)
	latencyMax  time.Duration // the highest spike the latency monitor saw (0: none over its threshold)
	latencyEvs  string        // the monitor's events: name=max ms
	execs       int64         // transactions (MULTI … EXEC) Redis ran
	execAvg     time.Duration // their average duration
	execP99     time.Duration // the 99th percentile of their durations (LATENCY HISTOGRAM's bucket)
	execMax     time.Duration // the longest one (its bucket)
	execOver    int64         // how many took longer than overBound
	overBound   time.Duration // the histogram's largest bucket bound up to 50 ms
	intrinsic   time.Duration // the machine's own longest pause for a busy process, measured just after (0: unknown)
	readyOK     int64         // /readyz answers 200 during the import
	readyFailed int64         // other answers or errors
	report      *client.ImportReport
	members     int64 // members of the list in Redis afterwards
}

// importCSVBytes returns a CSV of n contacts with addresses as short as can
// be (base-36 numbers at x.io), so that a million rows fit in the API's
// 10 MiB upload limit.
func importCSVBytes(n int) []byte {
	var b bytes.Buffer
	b.Grow(n*10 + 8)
	b.WriteString("email\n")
	for i := range n {
		b.WriteString(strconv.FormatInt(int64(i), 36))
		b.WriteString("@x.io\n")
	}
	return b.Bytes()
}

// runImport starts `pregon serve` on a flushed Redis and imports n contacts
// in one CSV upload, measuring the time, pregon's peak RSS, the longest
// Redis stall (SLOWLOG with a 1 ms threshold, and the latency monitor with
// a 10 ms one) and whether /readyz kept answering meanwhile.
func (b *bench) runImport(ctx context.Context, n int) (*importResult, error) {
	st, err := b.startStack(ctx, "import", [][2]string{{"serve", "import"}})
	defer st.stop()
	if err != nil {
		return nil, err
	}
	pg, c := st.pgs[0], st.c
	list, err := c.CreateList(ctx, client.NewList{Name: "Bench import", Kind: dispatcher.ListPress})
	if err != nil {
		return nil, err
	}
	for _, cmd := range [][]any{
		{"CONFIG", "SET", "slowlog-log-slower-than", "1000"},
		{"CONFIG", "SET", "latency-monitor-threshold", "10"},
		{"SLOWLOG", "RESET"},
		{"LATENCY", "RESET"},
		{"CONFIG", "RESETSTAT"},
	} {
		if err := b.rdb.Do(ctx, cmd...).Err(); err != nil {
			return nil, fmt.Errorf("redis %v: %w", cmd, err)
		}
	}
	csv := importCSVBytes(n)
	res := &importResult{n: n, bytes: len(csv)}
	if err := resetPeakRSS(pg.pid()); err != nil {
		return nil, err
	}

	probeCtx, stopProbe := context.WithCancel(ctx)
	probed := make(chan struct{})
	go func() {
		defer close(probed)
		b.probeReady(probeCtx, pg.httpAddr, &res.readyOK, &res.readyFailed)
	}()
	b.log.Info("importing in one upload", "rows", n, "bytes", len(csv))
	start := time.Now()
	res.report, err = c.ImportCSV(ctx, list.ID, csv)
	res.wall = time.Since(start)
	stopProbe()
	<-probed
	if err != nil {
		return nil, fmt.Errorf("import %d rows: %w", n, err)
	}
	res.peakRSS = mustRSS(pg.pid())
	if res.members, err = b.rdb.ZCard(ctx, "pregon:{"+list.ID+"}:members").Result(); err != nil {
		return nil, err
	}
	logs, err := b.rdb.SlowLogGet(ctx, 128).Result()
	if err != nil {
		return nil, err
	}
	res.slowCount = len(logs)
	for _, l := range logs {
		b.log.Debug("redis slowlog", "command", l.Args[:min(len(l.Args), 3)], "duration", l.Duration, "time", l.Time)
		if l.Duration > res.slowest && len(l.Args) > 0 {
			res.slowest, res.slowestCmd = l.Duration, l.Args[0]
		}
	}
	stats, err := b.rdb.Info(ctx, "commandstats").Result()
	if err != nil {
		return nil, err
	}
	for line := range strings.Lines(stats) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "cmdstat_exec:"); ok {
			var usec float64
			for kv := range strings.SplitSeq(v, ",") {
				k, val, _ := strings.Cut(kv, "=")
				switch k {
				case "calls":
					res.execs, _ = strconv.ParseInt(val, 10, 64)
				case "usec_per_call":
					usec, _ = strconv.ParseFloat(val, 64)
				}
			}
			res.execAvg = time.Duration(usec * float64(time.Microsecond))
		}
	}
	if err := res.readHistogram(ctx, b.rdb); err != nil {
		return nil, err
	}
	res.intrinsic = intrinsicLatency(ctx, 5*time.Second)
	latest, err := b.rdb.Do(ctx, "LATENCY", "LATEST").Slice()
	if err != nil {
		return nil, err
	}
	for _, ev := range latest { // [event, time, latest ms, max ms]
		if f, ok := ev.([]any); ok && len(f) >= 4 {
			if ms, ok := f[3].(int64); ok {
				res.latencyMax = max(res.latencyMax, time.Duration(ms)*time.Millisecond)
				res.latencyEvs += fmt.Sprintf(" %v=%dms", f[0], ms)
			}
		}
	}
	if res.report.Added != n || int(res.members) != n {
		return res, fmt.Errorf("import %d rows: report added %d, updated %d, %d errors; Redis holds %d members",
			n, res.report.Added, res.report.Updated, len(res.report.Errors), res.members)
	}
	return res, nil
}

// readHistogram reads Redis's histogram of EXEC durations (cumulative
// counts per power-of-two microsecond bucket) into the p99, the longest and
// the number over the largest bucket bound up to 50 ms (the buckets double,
// so that bound is 33.8 ms; the latency monitor gives the longest exactly).
func (r *importResult) readHistogram(ctx context.Context, rdb *redis.Client) error {
	v, err := rdb.Do(ctx, "LATENCY", "HISTOGRAM", "exec").Result()
	if err != nil {
		return fmt.Errorf("redis LATENCY HISTOGRAM: %w", err)
	}
	var calls int64
	var buckets []any
	walk := func(kv []any) {
		for i := 0; i+1 < len(kv); i += 2 {
			switch kv[i] {
			case "calls":
				calls, _ = kv[i+1].(int64)
			case "histogram_usec":
				buckets, _ = kv[i+1].([]any)
			}
		}
	}
	switch h := v.(type) {
	case map[any]any: // RESP3
		if m, ok := h["exec"].(map[any]any); ok {
			calls, _ = m["calls"].(int64)
			if hm, ok := m["histogram_usec"].(map[any]any); ok {
				for k, c := range hm {
					buckets = append(buckets, k, c)
				}
			}
		}
	case []any: // RESP2: ["exec", ["calls", n, "histogram_usec", [bucket, cumulative, ...]]]
		if len(h) == 2 {
			if kv, ok := h[1].([]any); ok {
				walk(kv)
			}
		}
	}
	type bucket struct{ usec, cum int64 }
	var bs []bucket
	for i := 0; i+1 < len(buckets); i += 2 {
		u, ok1 := buckets[i].(int64)
		c, ok2 := buckets[i+1].(int64)
		if ok1 && ok2 {
			bs = append(bs, bucket{u, c})
		}
	}
	slices.SortFunc(bs, func(a, b bucket) int { return cmp.Compare(a.usec, b.usec) })
	if calls == 0 || len(bs) == 0 {
		return nil
	}
	var under int64
	for _, x := range bs {
		if r.execP99 == 0 && float64(x.cum) >= 0.99*float64(calls) {
			r.execP99 = time.Duration(x.usec) * time.Microsecond
		}
		if x.usec <= 50_000 {
			under, r.overBound = x.cum, time.Duration(x.usec)*time.Microsecond
		}
	}
	r.execMax = time.Duration(bs[len(bs)-1].usec) * time.Microsecond
	r.execOver = calls - under
	return nil
}

// intrinsicLatency runs `redis-cli --intrinsic-latency` for d and returns the
// longest time the machine kept a busy process from running (0 when
// redis-cli is missing): what no Redis stall on this machine can be below.
func intrinsicLatency(ctx context.Context, d time.Duration) time.Duration {
	ctx, cancel := context.WithTimeout(ctx, d+5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "redis-cli", "--intrinsic-latency", strconv.Itoa(int(d.Seconds()))).Output()
	if err != nil {
		return 0
	}
	var worst time.Duration
	for line := range strings.Lines(string(out)) {
		// "Max latency so far: 68 microseconds."
		if _, rest, ok := strings.Cut(line, "Max latency so far: "); ok {
			if us, err := strconv.ParseInt(strings.Fields(rest)[0], 10, 64); err == nil {
				worst = max(worst, time.Duration(us)*time.Microsecond)
			}
		}
	}
	return worst
}

// probeReady asks /readyz every 100 ms until ctx ends, counting answers.
func (b *bench) probeReady(ctx context.Context, addr string, ok, failed *int64) {
	client := &http.Client{Timeout: 5 * time.Second}
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/readyz", nil)
		if err != nil {
			return
		}
		resp, err := client.Do(req)
		switch {
		case err != nil && ctx.Err() != nil:
			return
		case err == nil && resp.StatusCode == http.StatusOK:
			atomic.AddInt64(ok, 1)
		default:
			atomic.AddInt64(failed, 1)
		}
		if resp != nil {
			resp.Body.Close()
		}
	}
}

// String renders the import run as a Markdown paragraph and table.
func (r *importResult) String() string {
	latency := "none over 10 ms"
	if r.latencyMax > 0 {
		latency = r.latencyMax.String() + " (" + strings.TrimSpace(r.latencyEvs) + ")"
	}
	intrinsic := "?"
	if r.intrinsic > 0 {
		intrinsic = r.intrinsic.Round(100 * time.Microsecond).String()
	}
	rows := [][]string{{
		thousands(r.n), megabytes(int64(r.bytes)), seconds(r.wall), megabytes(r.peakRSS),
		fmt.Sprintf("%s (%s; %d over 1 ms)", r.slowest.Round(time.Microsecond), r.slowestCmd, r.slowCount), latency,
		fmt.Sprintf("%d, %s avg, p99 ≤ %s, max ≤ %s, %d over %s", r.execs, r.execAvg.Round(time.Microsecond),
			r.execP99, r.execMax, r.execOver, r.overBound),
		intrinsic,
		fmt.Sprintf("%d/%d", r.readyOK, r.readyOK+r.readyFailed),
		fmt.Sprintf("%d added, %d errors; %d in Redis", r.report.Added, len(r.report.Errors), r.members),
	}}
	return "Contact import, one CSV upload to `pregon serve` (peak RSS is VmHWM over the import; " +
		"Redis stalls from SLOWLOG at a 1 ms threshold and the latency monitor at 10 ms, both wall time, so they include " +
		"the time the machine did not run Redis; the transactions' p99 and longest are LATENCY HISTOGRAM's power-of-two buckets; " +
		"\"machine's pause\" is redis-cli --intrinsic-latency for 5 s just after, the longest the machine kept a busy process from running, " +
		"which no stall here can be below):\n\n" +
		table([]string{"rows", "CSV MB", "wall s", "pregon peak RSS MB", "longest Redis command", "latency monitor max", "transactions", "machine's pause", "/readyz 200", "report"}, rows)
}
