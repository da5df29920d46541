package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/pregon/pregon/client"
)

// contactsCSV returns the generated contacts from to to (exclusive) as a CSV
// upload: bench000123@example.org, half of them in Spanish, half in English.
func contactsCSV(from, to int) []byte {
	var b bytes.Buffer
	b.Grow((to-from)*72 + 40)
	b.WriteString("email,name,outlet,language,tags\n")
	for i := from; i < to; i++ {
		lang := "es"
		if i%2 == 1 {
			lang = "en"
		}
		fmt.Fprintf(&b, "bench%06d@example.org,Periodista %d,Medio %d,%s,bench;prensa\n", i, i, i%500, lang)
	}
	return b.Bytes()
}

// emailTimeout is how long the bench waits for a release to n recipients.
func (b *bench) emailTimeout(n int) time.Duration {
	if b.opts.timeout > 0 {
		return b.opts.timeout
	}
	return 2*time.Minute + time.Duration(n)*600*time.Microsecond
}

// runEmail sends one release to n generated contacts through `pregon serve`,
// or through `pregon api` and two `pregon worker` when scaleout is set, and
// measures it. A release that does not finish in time gives a result with
// the figures so far and its failure set; other errors end the run.
func (b *bench) runEmail(ctx context.Context, n int, scaleout bool) (*result, error) {
	label, res := strconv.Itoa(n), &result{run: "serve", n: n}
	if sel := b.dkim["PREGON_DKIM_SELECTOR"]; sel != "" {
		label += "-" + sel // bench-rsa: its own logs and profiles
	}
	roles := [][2]string{{"serve", label}}
	if scaleout {
		label, res.run = "scaleout", "api + 2 workers"
		roles = [][2]string{{"api", label + "-api"}, {"worker", label + "-worker1"}, {"worker", label + "-worker2"}}
	}
	log := b.log.With("run", res.run, "n", n)
	st, err := b.startStack(ctx, label, roles)
	defer st.stop()
	if err != nil {
		return nil, err
	}
	sk, pgs, c := st.sk, st.pgs, st.c
	if b.preloadN > 0 {
		if res.preload, err = b.preload(ctx, b.preloadN, b.opts.preloadMode); err != nil {
			return nil, fmt.Errorf("preload: %w", err)
		}
	}
	api := pgs[0]
	listID, err := createList(ctx, c, "Bench "+label)
	if err != nil {
		return nil, err
	}
	log.Info("importing contacts", "chunk", b.opts.chunk)
	if res.importTime, err = b.importContacts(ctx, c, listID, n); err != nil {
		return nil, err
	}
	memImport, err := usedMemory(ctx, b.rdb)
	if err != nil {
		return nil, err
	}
	for _, p := range pgs {
		// The peak so far is the import's; reset it to see the send's.
		res.importRSS = append(res.importRSS, mustRSS(p.pid()))
		if err := resetPeakRSS(p.pid()); err != nil {
			log.Warn("cannot reset the peak RSS: the send's peak will include the import's", "error", err)
		}
	}
	in, err := emailRelease(listID)
	if err != nil {
		return nil, err
	}

	pids := []int{sk.pid(), b.redis.pid(), os.Getpid()}
	for _, p := range pgs {
		pids = append(pids, p.pid())
	}
	log.Info("sending", "import", res.importTime.Round(time.Millisecond))
	cpu0 := readCPU(pids...)
	cmds0, cmdsErr := readCommandStats(ctx, b.rdb)
	busy0, busyErr := machineBusy()
	res.t0 = time.Now()
	rel, err := c.CreateRelease(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("create release: %w", err)
	}
	prof := make(chan error, 1)
	if scaleout || b.opts.profile == 0 {
		close(prof)
	} else {
		go func() { prof <- b.cpuProfile(ctx, api, "cpu-"+label+".pprof") }()
	}

	last, err := b.waitRelease(ctx, c, rel.ID, pgs, b.emailTimeout(n))
	res.doneAfter = time.Since(res.t0)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		res.failure = err.Error()
		if last != nil {
			res.failure += fmt.Sprintf(" (last seen: status %s, counts %v)", last.Status, flatCounts(last))
		}
		res.pending = pending(context.WithoutCancel(ctx), c, rel.ID, 5)
		log.Error("release did not finish", "error", err, "pending", res.pending)
	}
	if last != nil {
		res.status, res.counts = string(last.Status), flatCounts(last)
	}

	cpu1 := readCPU(pids...)
	if cmds1, err := readCommandStats(ctx, b.rdb); err == nil && cmdsErr == nil {
		res.commands = cmds1.since(cmds0)
	}
	if busy1, err := machineBusy(); err == nil && busyErr == nil {
		// What the machine did beyond the bench, its servers and pregon.
		res.otherCPU = busy1 - busy0
		for _, pid := range pids {
			res.otherCPU -= cpu1.since(cpu0, pid)
		}
		res.otherCPU = max(res.otherCPU, 0)
		if share := res.otherShare(); share > 0.05 {
			log.Warn("other processes were busy during the send: the figures are not reliable",
				"other_cpu", res.otherCPU.Round(10*time.Millisecond), "machine_share", fmt.Sprintf("%.0f%%", share*100))
		}
	}
	for _, p := range pgs {
		res.pregonCPU = append(res.pregonCPU, cpu1.since(cpu0, p.pid()))
		res.sendRSS = append(res.sendRSS, mustRSS(p.pid()))
	}
	res.sinkCPU = cpu1.since(cpu0, sk.pid())
	res.redisCPU = cpu1.since(cpu0, b.redis.pid())
	if res.sink, err = sk.stats(ctx); err != nil {
		return nil, err
	}
	if memDone, err := usedMemory(ctx, b.rdb); err == nil {
		res.redisPerDelivery = float64(memDone-memImport) / float64(n)
	}
	if res.failure == "" && !scaleout {
		res.memory = measureRetention(ctx, b.rdb, c, rel.ID, n, memImport) // retention
	}

	if err := <-prof; err != nil {
		log.Warn("CPU profile failed", "error", err)
	} else if !scaleout && b.opts.profile > 0 {
		res.cpuProfile = b.outPath("cpu-" + label + ".pprof")
	}
	if !scaleout && b.opts.profile > 0 {
		for _, kind := range []string{"allocs", "heap"} {
			url := "http://" + api.pprofAddr + "/debug/pprof/" + kind
			if err := fetch(ctx, url, b.outPath(kind+"-"+label+".pprof"), time.Minute); err != nil {
				log.Warn("profile failed", "profile", kind, "error", err)
			}
		}
	}
	for _, p := range pgs {
		res.logs = append(res.logs, scanLog(p.logPath))
	}
	log.Info("done", "status", res.status, "wall", res.wall().Round(time.Millisecond), "sink", res.sink.Messages)
	return res, nil
}

// importContacts uploads n generated contacts to the list in CSV chunks and
// checks that each chunk was imported whole. It returns the time it took.
func (b *bench) importContacts(ctx context.Context, c *client.Client, listID string, n int) (time.Duration, error) {
	start := time.Now()
	for from := 0; from < n; from += b.opts.chunk {
		to := min(from+b.opts.chunk, n)
		rep, err := c.ImportCSV(ctx, listID, contactsCSV(from, to))
		if err != nil {
			return 0, fmt.Errorf("import contacts %d-%d: %w", from, to-1, err)
		}
		if rep.Added != to-from || rep.Updated != 0 || rep.Skipped != 0 || len(rep.Errors) > 0 {
			first := ""
			if len(rep.Errors) > 0 {
				first = fmt.Sprintf(" (first: row %d %s: %s)", rep.Errors[0].Row, rep.Errors[0].Email, rep.Errors[0].Message)
			}
			return 0, fmt.Errorf("import contacts %d-%d: added %d, updated %d, skipped %d, %d errors%s; want %d added",
				from, to-1, rep.Added, rep.Updated, rep.Skipped, len(rep.Errors)+rep.ErrorsOmitted, first, to-from)
		}
	}
	return time.Since(start), nil
}

// waitRelease polls the release every 100 ms until it is final, a pregon
// process exits, or timeout passes. It returns the release as last seen.
func (b *bench) waitRelease(ctx context.Context, c *client.Client, id string, pgs []*pregon, timeout time.Duration) (*client.Release, error) {
	var last *client.Release
	err := waitFor(ctx, "release "+id+" to finish", timeout, 100*time.Millisecond, func(ctx context.Context) (bool, error) {
		for _, p := range pgs {
			if done, err := p.exited(); done {
				return false, fmt.Errorf("pregon %s %w: see %s", p.role, err, p.logPath)
			}
		}
		r, err := c.GetRelease(ctx, id)
		if err != nil {
			return false, transient(err)
		}
		last = r
		return r.Final(), nil
	})
	return last, err
}

// cpuProfile takes a CPU profile of -profile length from p into the file name.
func (b *bench) cpuProfile(ctx context.Context, p *pregon, name string) error {
	secs := max(1, int(b.opts.profile.Round(time.Second).Seconds()))
	url := fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", p.pprofAddr, secs)
	return fetch(ctx, url, b.outPath(name), time.Duration(secs)*time.Second+time.Minute)
}

// resetPeakRSS resets the process's peak RSS (VmHWM) to its current RSS.
func resetPeakRSS(pid int) error {
	return os.WriteFile("/proc/"+itoa(pid)+"/clear_refs", []byte("5"), 0)
}

// mustRSS returns the process's peak RSS, or -1 when it cannot be read.
func mustRSS(pid int) int64 {
	n, err := peakRSS(pid)
	if err != nil {
		return -1
	}
	return n
}
