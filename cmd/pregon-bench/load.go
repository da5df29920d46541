package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/pregon/pregon/client"
)

// loadRequestTimeout is the loadgen's timeout for each request.
const loadRequestTimeout = 10 * time.Second

// loadResult is what the load run measured.
type loadResult struct {
	clients  int
	duration time.Duration
	n        int

	summary *loadSummary // the loadgen's, over the whole load
	sending *loadSummary // the requests that started while the release was being sent
	failure string       // why the run is incomplete; "" when it is not

	loadStart, sendStart time.Time
	release              *client.Release
	sink                 sinkStats
	pregonCPU, genCPU    time.Duration
	redisCPU, sinkCPU    time.Duration
	otherCPU, window     time.Duration // the rest of the machine's CPU time, over window
	log                  logSummary
}

// runLoad measures the API under load while a release is being sent: it
// starts `pregon serve`, imports b.opts.loadN contacts, creates a release to
// them as a draft, starts `pregon-bench loadgen` (this program, in another
// process) against the API, sends the release once the load has run for a
// fifth of its time, and waits for both.
func (b *bench) runLoad(ctx context.Context) (*loadResult, error) {
	o := b.opts
	res := &loadResult{clients: o.loadClients, duration: o.loadDuration, n: o.loadN}
	log := b.log.With("run", "load", "n", o.loadN, "clients", o.loadClients)
	st, err := b.startStack(ctx, "load", [][2]string{{"serve", "load"}})
	defer st.stop()
	if err != nil {
		return nil, err
	}
	sk, pg, c := st.sk, st.pgs[0], st.c
	listID, err := createList(ctx, c, "Bench load")
	if err != nil {
		return nil, err
	}
	log.Info("importing contacts")
	if _, err := b.importContacts(ctx, c, listID, o.loadN); err != nil {
		return nil, err
	}
	in, err := emailRelease(listID)
	if err != nil {
		return nil, err
	}
	in.Send = false
	rel, err := c.CreateRelease(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("create release: %w", err)
	}

	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	samplesPath := b.outPath("load-samples.csv")
	var stdout bytes.Buffer
	gen, err := b.procs.start(procSpec{
		name: "loadgen", path: self, logPath: b.outPath("loadgen.log"), stdout: &stdout,
		env: append(os.Environ(), loadTokenEnv+"="+st.token),
		args: []string{"loadgen", "-url", "http://" + pg.httpAddr, "-list", listID, "-release", rel.ID,
			"-clients", itoa(o.loadClients), "-duration", o.loadDuration.String(),
			"-timeout", loadRequestTimeout.String(), "-samples", samplesPath},
	})
	if err != nil {
		return nil, err
	}
	defer b.procs.stop(gen, 5*time.Second)
	res.loadStart = time.Now()
	// The loadgen may run for its duration, then finish the requests it
	// started; past that (and a margin to start and write), it is killed.
	genDeadline := time.NewTimer(o.loadDuration + loadRequestTimeout + 15*time.Second)
	defer genDeadline.Stop()
	pids := []int{pg.pid(), sk.pid(), b.redis.pid(), os.Getpid()}
	cpu0 := readCPU(pids...)
	busy0, busyErr := machineBusy()

	log.Info("load started; sending the release after a warm-up", "warmup", o.loadDuration/5)
	select {
	case <-time.After(o.loadDuration / 5):
	case <-gen.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	res.sendStart = time.Now()
	if _, err := c.Send(ctx, rel.ID, time.Time{}); err != nil {
		return nil, fmt.Errorf("send release: %w", err)
	}
	last, err := b.waitRelease(ctx, c, rel.ID, []*pregon{pg}, b.emailTimeout(o.loadN))
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		res.failure = err.Error()
		log.Error("release did not finish", "error", err)
	}
	res.release = last

	select {
	case <-gen.done:
	case <-genDeadline.C:
		b.procs.stop(gen, 5*time.Second)
		res.failure = strings.Join(slices.DeleteFunc([]string{res.failure, "the loadgen overran its time and was killed"},
			func(s string) bool { return s == "" }), "; ")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	cpu1 := readCPU(pids...)
	res.window = time.Since(res.loadStart)
	res.pregonCPU = cpu1.since(cpu0, pg.pid())
	res.redisCPU, res.sinkCPU = cpu1.since(cpu0, b.redis.pid()), cpu1.since(cpu0, sk.pid())
	if st := gen.cmd.ProcessState; st != nil {
		res.genCPU = st.UserTime() + st.SystemTime()
	}
	if busy1, err := machineBusy(); err == nil && busyErr == nil {
		res.otherCPU = busy1 - busy0 - res.genCPU
		for _, pid := range pids {
			res.otherCPU -= cpu1.since(cpu0, pid)
		}
		res.otherCPU = max(res.otherCPU, 0)
		if share := res.otherShare(); share > 0.05 {
			log.Warn("other processes were busy during the load: the figures are not reliable",
				"other_cpu", res.otherCPU.Round(10*time.Millisecond), "machine_share", fmt.Sprintf("%.0f%%", share*100))
		}
	}
	if gen.err != nil && res.failure == "" {
		res.failure = fmt.Sprintf("loadgen %v (see %s)", gen.err, b.outPath("loadgen.log"))
	}
	if res.sink, err = sk.stats(ctx); err != nil {
		return nil, err
	}
	res.log = scanLog(pg.logPath)
	if gen.err == nil {
		res.summary = &loadSummary{}
		if err := json.Unmarshal(stdout.Bytes(), res.summary); err != nil {
			return nil, fmt.Errorf("loadgen's summary: %w", err)
		}
		samples, err := readSamples(samplesPath)
		if err != nil {
			return nil, err
		}
		end := res.sendEnd()
		res.sending = summarize(slices.DeleteFunc(samples, func(s sample) bool {
			return s.start.Before(res.sendStart) || s.start.After(end)
		}))
	}
	log.Info("done", "requests", res.requests(), "errors", res.errors())
	return res, nil
}

// sendEnd is when the SMTP sink accepted the last message, or now when it
// accepted none.
func (r *loadResult) sendEnd() time.Time {
	if r.sink.LastUnixNano == 0 {
		return time.Now()
	}
	return time.Unix(0, r.sink.LastUnixNano)
}

func (r *loadResult) requests() int {
	if r.summary == nil {
		return 0
	}
	return r.summary.Requests
}

func (r *loadResult) errors() int {
	if r.summary == nil {
		return 0
	}
	return r.summary.Overall.Errors
}

// otherShare is the share of the machine's CPUs that other processes used
// during the load.
func (r *loadResult) otherShare() float64 {
	return r.otherCPU.Seconds() / (r.window.Seconds() * float64(runtime.NumCPU()))
}

// loadHeader is the header of the load table.
var loadHeader = []string{"window", "endpoint", "requests", "errors", "p50 ms", "p90 ms", "p99 ms", "max ms"}

// String renders the load run's section of the report; serve is the email
// run without load at the same N, if there was one.
func (r *loadResult) String(serve *result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### API under load\n\n%d clients for %s from a second process (pregon-bench loadgen, %s timeout per request) "+
		"against pregon serve, each looping over: create a draft release, list releases (limit 20), read the big release, "+
		"read its deliveries (limit 100, following next_cursor up to 3 pages), read its list. "+
		"The release to %s recipients was sent %.1f s into the load.\n\n",
		r.clients, r.duration, loadRequestTimeout, thousands(r.n), r.sendStart.Sub(r.loadStart).Seconds())
	if r.failure != "" {
		fmt.Fprintf(&b, "INCOMPLETE: %s\n\n", r.failure)
	}
	if s := r.summary; s != nil {
		fmt.Fprintf(&b, "requests %d in %.2f s = %.0f req/s; errors %d (goal: 0)", s.Requests, s.Elapsed,
			float64(s.Requests)/max(s.Elapsed, 1e-9), s.Overall.Errors)
		if len(s.Errors) > 0 {
			var kinds []string
			for k, n := range s.Errors {
				kinds = append(kinds, fmt.Sprintf("%d × %s", n, k))
			}
			slices.Sort(kinds)
			fmt.Fprintf(&b, ": %s", strings.Join(kinds, ", "))
		}
		b.WriteString("\n\n")
		var rows [][]string
		add := func(which string, sum *loadSummary) {
			rows = append(rows, latencyRow(which, "all", &sum.Overall))
			for _, ep := range []string{epCreate, epReleases, epRelease, epDeliveries, epList} {
				if l := sum.Endpoints[ep]; l != nil {
					rows = append(rows, latencyRow(which, ep, l))
				}
			}
		}
		add("whole load", s)
		if r.sending != nil && r.sending.Requests > 0 {
			add("while sending", r.sending)
		}
		b.WriteString(table(loadHeader, rows))
		b.WriteString("\n")
		for _, e := range s.ErrorSamples {
			fmt.Fprintf(&b, "- error: %s\n", e)
		}
	}
	b.WriteString(r.releaseLine(serve) + "\n")
	fmt.Fprintf(&b, "- CPU over the load (%.2f s): pregon %.2f s, loadgen %.2f s, Redis %.2f s, sink %.2f s, "+
		"other processes on the machine %.2f s (%.0f %% of %d CPUs)\n",
		r.window.Seconds(), r.pregonCPU.Seconds(), r.genCPU.Seconds(), r.redisCPU.Seconds(), r.sinkCPU.Seconds(), r.otherCPU.Seconds(),
		r.otherShare()*100, runtime.NumCPU())
	fmt.Fprintf(&b, "- \"while sending\": the requests started between the send and the last email; latencies include failed requests\n- %s\n",
		strings.ReplaceAll(r.log.String(), "\n", "\n  "))
	return b.String()
}

// releaseLine says whether the release completed under the load, and how fast.
func (r *loadResult) releaseLine(serve *result) string {
	rel := r.release
	if rel == nil {
		return "- the release: never seen"
	}
	cs := flatCounts(rel)
	send := r.sendEnd().Sub(r.sendStart)
	done := "completed"
	if r.failure != "" || !rel.Final() || cs["sent"] != int64(r.n) || r.sink.Recipients != int64(r.n) || r.sink.Duplicates > 0 {
		done = "NOT completed"
	}
	s := fmt.Sprintf("- the release %s: %s, sent/failed %d/%d of %d; last email %.2f s after send (%.0f emails/s",
		done, rel.Status, cs["sent"], cs["failed"], r.n, send.Seconds(), float64(r.sink.Messages)/send.Seconds())
	if serve != nil && serve.wall() > 0 {
		s += fmt.Sprintf("; %.0f without load in the table above", float64(serve.n)/serve.wall().Seconds())
	}
	s += fmt.Sprintf("); sink %d messages, %d duplicates", r.sink.Messages, r.sink.Duplicates)
	if loadEnd := r.loadStart.Add(r.duration); r.sendEnd().After(loadEnd) {
		s += fmt.Sprintf("; the send outlasted the load by %.2f s", r.sendEnd().Sub(loadEnd).Seconds())
	}
	return s
}

// latencyRow is one row of the load table.
func latencyRow(which, endpoint string, l *latency) []string {
	ms := func(v float64) string { return fmt.Sprintf("%.1f", v) }
	return []string{which, endpoint, itoa(l.Requests), itoa(l.Errors), ms(l.P50), ms(l.P90), ms(l.P99), ms(l.Max)}
}
