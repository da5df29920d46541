package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// result is what one email run measured.
type result struct {
	run string // "serve" or "api + 2 workers"
	n   int

	t0         time.Time // just before the release was created and sent
	importTime time.Duration
	doneAfter  time.Duration // from t0 until the release's status was final (or the wait ended)
	sink       sinkStats

	// Per pregon process, in the order started (api first): the peak RSS
	// during the import, during the send, and the CPU time of the send.
	importRSS, sendRSS []int64
	pregonCPU          []time.Duration
	sinkCPU, redisCPU  time.Duration
	// otherCPU is the CPU time the rest of the machine (not pregon, the
	// sink, Redis or the bench) used during the send.
	otherCPU time.Duration

	redisPerDelivery float64
	commands         commandStats  // Redis commands over the send
	memory           memoryFigures // live by MEMORY USAGE, and archived (retention.go)
	preload          *preloadResult
	status           string
	counts           map[string]int64
	failure          string   // why the run did not finish; "" when it did
	pending          []string // some deliveries still pending when the wait ended
	cpuProfile       string
	logs             []logSummary

	// yardstick marks the plain SMTP client's run (yardstick.go): its
	// "pregon" CPU is the client's.
	yardstick bool
	// vsYardstick is this run's rate over the yardstick's at the same N (0: none).
	vsYardstick float64
}

// wall is the time from t0 to the last message the SMTP server accepted.
func (r *result) wall() time.Duration {
	if r.sink.LastUnixNano == 0 {
		return 0
	}
	return time.Unix(0, r.sink.LastUnixNano).Sub(r.t0)
}

// firstEmail is the time from t0 to the first message the SMTP server accepted.
func (r *result) firstEmail() time.Duration {
	if r.sink.FirstUnixNano == 0 {
		return 0
	}
	return time.Unix(0, r.sink.FirstUnixNano).Sub(r.t0)
}

// complete reports whether every recipient got exactly one message and the
// release says so.
func (r *result) complete() bool {
	return r.failure == "" && r.sink.Recipients == int64(r.n) && r.sink.Duplicates == 0 &&
		r.sink.Messages == int64(r.n) && r.counts["sent"] == int64(r.n)
}

// otherShare is the share of the machine's CPUs that other processes used
// during the send.
func (r *result) otherShare() float64 {
	return r.otherCPU.Seconds() / (r.doneAfter.Seconds() * float64(runtime.NumCPU()))
}

const mb = 1 << 20

var header = []string{"run", "N", "wall s", "emails/s", "× yardstick", "first email ms", "pregon peak RSS MB",
	"Redis B/delivery", "pregon CPU ms/email", "Redis CPU ms/email", "sink CPU ms/email", "(pregon+Redis)/sink",
	"sink msgs", "sent/failed"}

// rate returns the emails per second the sink accepted (0 when unknown).
func (r *result) rate() float64 {
	if w := r.wall(); w > 0 {
		return float64(r.n) / w.Seconds()
	}
	return 0
}

// row returns the run's cells in the order of header.
func (r *result) row() []string {
	wall := r.wall()
	rate := "–"
	if wall > 0 {
		rate = fmt.Sprintf("%.0f", float64(r.n)/wall.Seconds())
		if !r.complete() {
			rate += "*"
		}
	}
	var rss []string
	var cpu time.Duration
	for i := range r.sendRSS {
		rss = append(rss, megabytes(max(r.importRSS[i], r.sendRSS[i])))
		cpu += r.pregonCPU[i]
	}
	perEmail := func(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()/float64(r.n)*1000) }
	vs, ratio := "–", "–"
	if r.vsYardstick > 0 {
		vs = fmt.Sprintf("%.2f", r.vsYardstick)
	}
	if r.sinkCPU > 0 {
		ratio = fmt.Sprintf("%.2f", (cpu+r.redisCPU).Seconds()/r.sinkCPU.Seconds())
	}
	redis := perEmail(r.redisCPU)
	if r.yardstick {
		redis = "–"
		ratio = fmt.Sprintf("%.2f client", cpu.Seconds()/r.sinkCPU.Seconds())
	}
	msgs := strconv.FormatInt(r.sink.Messages, 10)
	if r.sink.Duplicates > 0 {
		msgs += fmt.Sprintf(" (%d dup)", r.sink.Duplicates)
	}
	if missing := int64(r.n) - r.sink.Recipients; missing > 0 {
		msgs += fmt.Sprintf(" (%d missing)", missing)
	}
	sent := fmt.Sprintf("%d/%d", r.counts["sent"], r.counts["failed"])
	if r.failure != "" {
		sent += " TIMEOUT"
	} else if r.status != "sent" {
		sent += " " + r.status
	}
	return []string{r.run, thousands(r.n), seconds(wall), rate, vs, fmt.Sprintf("%.0f", float64(r.firstEmail())/1e6),
		strings.Join(rss, "+"), fmt.Sprintf("%.0f", r.redisPerDelivery), perEmail(cpu), redis, perEmail(r.sinkCPU), ratio, msgs, sent}
}

// notes returns the run's details that the table has no room for.
func (r *result) notes() []string {
	name := fmt.Sprintf("%s N=%s", r.run, thousands(r.n))
	var out []string
	add := func(format string, args ...any) { out = append(out, name+": "+fmt.Sprintf(format, args...)) }
	if r.yardstick {
		add("the same rendered messages (%d distinct) sent by net/smtp from the bench process, whose CPU is the \"pregon CPU\" column; "+
			"sink %d messages, %.1f MB, %d connections; client CPU %.2f s, sink CPU %.2f s",
			min(r.n, yardstickPool), r.sink.Messages, float64(r.sink.Bytes)/mb, r.sink.Connections,
			r.pregonCPU[0].Seconds(), r.sinkCPU.Seconds())
		if r.failure != "" {
			add("FAILED: %s", r.failure)
		}
		return out
	}
	add("import %s (%.0f contacts/s); release %s after %s; sink %d messages, %.1f MB, %d connections, %d distinct recipients, %d duplicates",
		seconds(r.importTime)+" s", float64(r.n)/r.importTime.Seconds(), orDash(r.status), seconds(r.doneAfter)+" s",
		r.sink.Messages, float64(r.sink.Bytes)/mb, r.sink.Connections, r.sink.Recipients, r.sink.Duplicates)
	var other []string
	for k, v := range r.counts {
		if v != 0 && k != "total" && k != "sent" && k != "failed" {
			other = append(other, fmt.Sprintf("%s %d", k, v))
		}
	}
	if len(other) > 0 {
		add("other delivery counts: %s (total %d)", strings.Join(other, ", "), r.counts["total"])
	}
	var rss, cpu []string
	for i := range r.sendRSS {
		rss = append(rss, megabytes(r.importRSS[i])+"/"+megabytes(r.sendRSS[i]))
		cpu = append(cpu, fmt.Sprintf("%.2f s", r.pregonCPU[i].Seconds()))
	}
	add("peak RSS MB import/send %s; pregon CPU %s; sink CPU %.2f s; Redis CPU %.2f s (%.3f s/1k); "+
		"other processes on the machine %.2f CPU s (%.0f %% of %d CPUs over the send)",
		strings.Join(rss, ", "), strings.Join(cpu, " + "), r.sinkCPU.Seconds(), r.redisCPU.Seconds(),
		r.redisCPU.Seconds()/float64(r.n)*1000, r.otherCPU.Seconds(), r.otherShare()*100, runtime.NumCPU())
	if note := r.commands.note(r.n); note != "" {
		add("%s", note)
	}
	if p := r.preload; p != nil {
		add("preloaded %s deliveries of older sent releases (%s) in %s s before the run: used_memory %.0f MB; %s",
			thousands(p.deliveries), p.mode, seconds(p.took), float64(p.usedMemory)/mb, p.aof)
	}
	if r.memory != (memoryFigures{}) {
		add("%s", r.memory.note())
	}
	if r.failure != "" {
		add("FAILED: %s", r.failure)
		for _, p := range r.pending {
			add("still pending: %s", p)
		}
	}
	for _, l := range r.logs {
		add("%s", l)
	}
	return out
}

// table renders rows under header as a Markdown table with aligned columns:
// the first two to the left, the others to the right.
func table(header []string, rows [][]string) string {
	width := make([]int, len(header))
	for _, r := range append([][]string{header}, rows...) {
		for i, c := range r {
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	var b strings.Builder
	line := func(cells []string) {
		b.WriteString("|")
		for i, c := range cells {
			pad := strings.Repeat(" ", width[i]-len([]rune(c)))
			if i < 2 {
				fmt.Fprintf(&b, " %s%s |", c, pad)
			} else {
				fmt.Fprintf(&b, " %s%s |", pad, c)
			}
		}
		b.WriteString("\n")
	}
	line(header)
	sep := make([]string, len(header))
	for i := range sep {
		sep[i] = strings.Repeat("-", width[i])
		if i >= 2 {
			sep[i] = sep[i][1:] + ":"
		}
	}
	line(sep)
	for _, r := range rows {
		line(r)
	}
	return b.String()
}

// machine describes this machine, the Go version and the Redis version.
func machine(ctx context.Context) string {
	model := "unknown CPU"
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	mem := "unknown"
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		for line := range strings.Lines(string(data)) {
			if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
				mem = fmt.Sprintf("%.1f GiB", kb/(1<<20))
			}
		}
	}
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	redisVersion := "redis-server ?"
	if out, err := exec.CommandContext(ctx, "redis-server", "--version").Output(); err == nil {
		f := strings.Fields(string(out))
		redisVersion = strings.Join(f[:min(3, len(f))], " ")
	}
	return fmt.Sprintf("machine: %d CPUs (nproc), %s, %s RAM, Linux %s\ngo: %s %s/%s; %s",
		runtime.NumCPU(), model, mem, strings.TrimSpace(string(kernel)),
		runtime.Version(), runtime.GOOS, runtime.GOARCH, redisVersion)
}

// pprofTop returns `go tool pprof -top -nodecount=15 bin/pregon PROFILE`.
func pprofTop(ctx context.Context, profile string) string {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", "-nodecount=15", "bin/pregon", profile).CombinedOutput()
	if err != nil {
		return fmt.Sprintf("go tool pprof %s: %v\n%s", profile, err, out)
	}
	return strings.TrimRight(string(out), "\n")
}

// thousands writes n with commas: 100,000.
func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// megabytes writes n bytes in MiB, "?" for a negative n (unknown).
func megabytes(n int64) string {
	if n < 0 {
		return "?"
	}
	return fmt.Sprintf("%.0f", float64(n)/mb)
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.2f", d.Seconds()) }

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}
