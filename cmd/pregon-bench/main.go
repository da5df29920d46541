// Command pregon-bench measures Pregón's whole pipeline on this machine, end
// to end, and reports; it never asserts a time.
//
// It builds bin/pregon and bin/smtpsink, starts its own redis-server
// (appendonly, fsync every second, like production), a discarding SMTP
// server (bin/smtpsink) and the fake Telegram Bot API (in process, with
// Telegram's limits). For each N it starts `pregon serve`, imports N contacts
// through the API's CSV import, sends one ~5 KB release to them and waits
// until every delivery is final; then the same with `pregon api` and two
// `pregon worker` processes; then the API under load (load.go: a second
// process, `pregon-bench loadgen`, runs concurrent clients against `pregon
// serve` while a release is being sent); then a Telegram run. With -import N
// it also imports N contacts in one CSV upload (importrun.go) and reports the
// time, pregon's peak RSS and Redis's longest stall. It prints one
// Markdown table and writes it, with pprof profiles and the processes' logs,
// to -out.
//
// Run it from the module's root: make bench, or go run ./cmd/pregon-bench.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pregon/pregon/internal/telegramtest"
	"github.com/redis/go-redis/v9"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	var code int
	if len(os.Args) > 1 && os.Args[1] == "loadgen" {
		// Hidden: the load run's second process (loadgen.go).
		code = runLoadgen(ctx, os.Args[2:], os.Stdout, os.Stderr)
	} else {
		code = run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	}
	stop()
	os.Exit(code)
}

// options are the command line's flags.
type options struct {
	sizes       []int
	concurrency int
	telegram    bool
	channels    int
	multi       int // channels of the multi-part Telegram run (0: none)
	scaleout    bool
	out         string
	chunk       int
	timeout     time.Duration
	profile     time.Duration
	env         []string
	verbose     bool

	load         bool
	loadClients  int
	loadDuration time.Duration
	loadN        int

	importRows int
	memory     int // deliveries of the memory run (memory.go; 0: none)
	yardstick  bool
	dkim       []string
	// Steady in a long-lived Redis (preload.go): deliveries of older
	// releases written before one more run at the largest N.
	preload     int
	preloadMode string
}

const maxChunk = 50000

const usage = `usage: go run ./cmd/pregon-bench [flags]   (or: make bench BENCH_FLAGS="...")

Measures Pregón end to end on this machine: for each N, N contacts imported
through the API, one ~5 KB release sent to them through a discarding SMTP
server on loopback, then the same rendered messages sent by a plain net/smtp
client (the yardstick), and, with -dkim rsa,ed25519, the email runs again with
signing; the same with one api and two worker processes; the API
under load from a second process while a release is being sent; and 1,000
Telegram channels, one message each, and 30 channels, a 3-part post each,
against a fake Bot API that enforces Telegram's limits (30 messages a second,
1 a second and 20 a minute per chat);
with -import N, N contacts imported in one CSV upload (-import 1000000 fits
the 10 MiB limit). Prints one Markdown table and writes it to OUT/results.md, with CPU, allocs and
heap profiles (OUT/cpu-N.pprof, ...) and every process's log. Run it inside
Pregón's module; nothing else should run on the machine meanwhile.

Flags:
`

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("pregon-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	sizes := fs.String("n", "10000,100000", "recipients of each email run, comma-separated")
	million := fs.Bool("million", false, "add a run with 1,000,000 recipients")
	fs.IntVar(&o.concurrency, "concurrency", 0, "PREGON_CONCURRENCY of each pregon process (0: pregon's default)")
	fs.BoolVar(&o.telegram, "telegram", true, "run the Telegram benchmark")
	fs.IntVar(&o.channels, "channels", 1000, "Telegram channels of the Telegram run, one post each")
	fs.IntVar(&o.multi, "multi-channels", 30, "Telegram channels of the multi-part Telegram run, one 3-part post each (0: no such run)")
	fs.BoolVar(&o.scaleout, "scaleout", true, "also run \"pregon api\" + 2 \"pregon worker\" at the largest N, at most 100,000")
	fs.StringVar(&o.out, "out", "bench-out", "folder for results.md, profiles and logs")
	fs.IntVar(&o.chunk, "chunk", maxChunk, "contacts per CSV upload (at most 50,000)")
	fs.DurationVar(&o.timeout, "timeout", 0, "longest wait for one release to finish (0: 2m + 0.6 ms per recipient)")
	fs.DurationVar(&o.profile, "profile", 10*time.Second, "length of the CPU profile taken from the start of each send (0: no profiles)")
	fs.Func("env", "`KEY=VALUE` added to every pregon process's environment, e.g. PREGON_BATCH_SIZE=500 (repeatable)", func(v string) error {
		if k, _, ok := strings.Cut(v, "="); !ok || !strings.HasPrefix(k, "PREGON_") {
			return errors.New("want PREGON_NAME=VALUE")
		}
		o.env = append(o.env, v)
		return nil
	})
	fs.BoolVar(&o.load, "load", true, "run the API under load while a release is being sent")
	fs.IntVar(&o.loadClients, "load-clients", 50, "concurrent API clients of the load run")
	fs.DurationVar(&o.loadDuration, "load-duration", 20*time.Second, "length of the load")
	fs.IntVar(&o.loadN, "load-n", 10000, "recipients of the release sent during the load")
	fs.IntVar(&o.importRows, "import", 0, "also import this many contacts in one CSV upload and report time, peak RSS and Redis stalls (0: no import run; 1000000 fits the 10 MiB limit)")
	fs.BoolVar(&o.yardstick, "yardstick", true, "after each email run, send the same rendered messages with a plain net/smtp client over as many connections, for comparison")
	dkim := fs.String("dkim", "off", "DKIM modes of the email runs, comma-separated: off, rsa (RSA-2048), ed25519; each repeats the runs of -n")
	fs.IntVar(&o.preload, "preload", 0, "also run the largest N once more on a Redis preloaded with this many deliveries of older sent releases (e.g. 1000000), to compare")
	fs.StringVar(&o.preloadMode, "preload-mode", "archived", "how the preloaded deliveries are kept: live or archived")
	fs.IntVar(&o.memory, "memory", 100_000, "last, write this many deliveries of one release through the store and report Redis memory per delivery, queued and sent (0: no memory run)")
	fs.BoolVar(&o.verbose, "v", false, "log more")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if o.preloadMode != "live" && o.preloadMode != "archived" {
		return nil, fmt.Errorf("-preload-mode: want live or archived, got %q", o.preloadMode)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var err error
	if o.dkim, err = parseDKIMModes(*dkim); err != nil {
		return nil, err
	}
	for s := range strings.SplitSeq(*sizes, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		n, err := strconv.Atoi(strings.ReplaceAll(s, "_", ""))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("-n: want positive numbers separated by commas, got %q", s)
		}
		o.sizes = append(o.sizes, n)
	}
	if *million {
		o.sizes = append(o.sizes, 1_000_000)
	}
	slices.Sort(o.sizes)
	o.sizes = slices.Compact(o.sizes)
	switch {
	case len(o.sizes) == 0 && !o.telegram && !o.load && o.importRows == 0 && o.memory == 0:
		return nil, errors.New("nothing to run: give -n, -load, -telegram, -import or -memory")
	case o.memory < 0:
		return nil, fmt.Errorf("-memory: want a number of deliveries, got %d", o.memory)
	case o.importRows < 0:
		return nil, fmt.Errorf("-import: want a number of rows, got %d", o.importRows)
	case o.chunk < 1 || o.chunk > maxChunk:
		return nil, fmt.Errorf("-chunk: want 1 to %d, got %d", maxChunk, o.chunk)
	case o.concurrency < 0 || o.concurrency > 1000:
		return nil, fmt.Errorf("-concurrency: want 0 to 1000, got %d", o.concurrency)
	case o.channels < 1 && o.telegram:
		return nil, fmt.Errorf("-channels: want at least 1, got %d", o.channels)
	case o.multi < 0:
		return nil, fmt.Errorf("-multi-channels: want 0 or more, got %d", o.multi)
	case o.timeout < 0 || o.profile < 0:
		return nil, errors.New("-timeout and -profile must not be negative")
	case o.load && (o.loadClients < 1 || o.loadClients > 1000):
		return nil, fmt.Errorf("-load-clients: want 1 to 1000, got %d", o.loadClients)
	case o.load && (o.loadDuration < time.Second || o.loadDuration > 10*time.Minute):
		return nil, fmt.Errorf("-load-duration: want 1s to 10m, got %s", o.loadDuration)
	case o.load && o.loadN < 1:
		return nil, fmt.Errorf("-load-n: want at least 1, got %d", o.loadN)
	}
	return o, nil
}

// bench is one benchmark session: its options and the servers it started.
type bench struct {
	opts        *options
	loadAtStart string
	log         *slog.Logger
	procs       *procs
	cleanups    []func()

	redis     *proc
	redisAddr string
	rdb       *redis.Client
	tg        *telegramtest.Server
	dkim      map[string]string // PREGON_DKIM_* of the email runs under way
	preloadN  int               // deliveries to preload before the run under way (preload.go)
}

func (b *bench) outPath(name string) string { return filepath.Join(b.opts.out, name) }

// run runs the benchmark and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	opts, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "pregon-bench:", err)
		return 2
	}
	level := slog.LevelInfo
	if opts.verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	b := &bench{opts: opts, log: log, procs: newProcs(log)}
	defer func() {
		b.procs.stopAll(15 * time.Second)
		for _, f := range slices.Backward(b.cleanups) {
			f()
		}
	}()
	if err := b.run(ctx, stdout); err != nil {
		log.Error("benchmark failed", "error", err)
		return 1
	}
	return 0
}

func (b *bench) run(ctx context.Context, stdout io.Writer) error {
	out, err := filepath.Abs(b.opts.out)
	if err != nil {
		return err
	}
	b.opts.out = out
	if err := chdirModuleRoot(ctx); err != nil {
		return err
	}
	if err := b.cleanOut(); err != nil {
		return err
	}
	if err := b.build(ctx); err != nil {
		return err
	}
	if err := b.startRedis(ctx); err != nil {
		return err
	}
	b.cleanups = append(b.cleanups, func() { b.rdb.Close() })
	b.tg = telegramtest.New(telegramToken, telegramtest.PerChatPerSecond(1))
	b.cleanups = append(b.cleanups, b.tg.Close)

	started := time.Now()
	b.loadAtStart = loadAverage()
	var results []*result
	for _, mode := range b.opts.dkim {
		if b.dkim, err = b.dkimEnv(mode); err != nil {
			return fmt.Errorf("DKIM key: %w", err)
		}
		for _, n := range b.opts.sizes {
			r, err := b.runEmail(ctx, n, false)
			if err != nil {
				return fmt.Errorf("run N=%d DKIM %s: %w", n, mode, err)
			}
			if mode != "off" {
				r.run += ", DKIM " + mode
			}
			results = append(results, r)
			if !b.opts.yardstick || mode != "off" {
				continue
			}
			y, err := b.runYardstick(ctx, n, b.poolSize())
			if err != nil {
				return fmt.Errorf("yardstick N=%d: %w", n, err)
			}
			if y.complete() && y.rate() > 0 {
				r.vsYardstick = r.rate() / y.rate()
			}
			results = append(results, y)
		}
	}
	b.dkim = nil
	if b.opts.scaleout && len(b.opts.sizes) > 0 {
		n := min(slices.Max(b.opts.sizes), 100_000)
		r, err := b.runEmail(ctx, n, true)
		if err != nil {
			return fmt.Errorf("scale-out run N=%d: %w", n, err)
		}
		results = append(results, r)
	}
	if b.opts.preload > 0 && len(b.opts.sizes) > 0 {
		b.preloadN = b.opts.preload
		n := slices.Max(b.opts.sizes)
		r, err := b.runEmail(ctx, n, false)
		b.preloadN = 0
		if err != nil {
			return fmt.Errorf("preloaded run N=%d: %w", n, err)
		}
		r.run += fmt.Sprintf(", +%s %s older", thousands(b.opts.preload), b.opts.preloadMode)
		results = append(results, r)
	}
	var imp *importResult
	if b.opts.importRows > 0 {
		var err error
		if imp, err = b.runImport(ctx, b.opts.importRows); err != nil {
			return fmt.Errorf("import run: %w", err)
		}
	}
	var load *loadResult
	if b.opts.load {
		var err error
		if load, err = b.runLoad(ctx); err != nil {
			return fmt.Errorf("load run: %w", err)
		}
	}
	var tg []*tgResult
	if b.opts.telegram {
		scenarios := []tgScenario{{name: "single", channels: b.opts.channels, parts: 1}}
		if b.opts.multi > 0 {
			scenarios = append(scenarios, tgScenario{name: "multi", channels: b.opts.multi, parts: 3})
		}
		for _, sc := range scenarios {
			r, err := b.runTelegram(ctx, sc)
			if err != nil {
				return fmt.Errorf("telegram run %s: %w", sc.name, err)
			}
			tg = append(tg, r)
		}
	}
	var mem *memoryResult
	if b.opts.memory > 0 {
		if mem, err = b.runMemory(ctx, b.opts.memory); err != nil {
			return fmt.Errorf("memory run: %w", err)
		}
	}
	report := b.report(ctx, started, results, imp, load, tg, mem)
	fmt.Fprint(stdout, report)
	if err := os.WriteFile(b.outPath("results.md"), []byte(report), 0o644); err != nil {
		return err
	}
	b.log.Info("wrote " + b.outPath("results.md"))
	return nil
}

// report renders the whole report as Markdown.
func (b *bench) report(ctx context.Context, started time.Time, results []*result, imp *importResult, load *loadResult, tg []*tgResult, mem *memoryResult) string {
	var s strings.Builder
	fmt.Fprintf(&s, "## Pregón benchmark, %s\n\n", started.Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&s, "```\n%s\nload average at start: %s\nflags: %s\n```\n\n", machine(ctx), b.loadAtStart, b.describeFlags())
	if len(results) > 0 {
		rows := make([][]string, len(results))
		for i, r := range results {
			rows[i] = r.row()
		}
		s.WriteString(table(header, rows))
		s.WriteString("\n")
	}
	for _, r := range tg {
		s.WriteString(r.String() + "\n\n")
	}
	if len(results) > 0 {
		s.WriteString("Notes (wall = from just before POST /v1/releases with send: true to the last message the SMTP sink accepted; " +
			"CPU and Redis memory are deltas over the send; peak RSS is VmHWM, reset after the import; * = incomplete run):\n\n")
		for _, r := range results {
			for _, n := range r.notes() {
				s.WriteString("- " + strings.ReplaceAll(n, "\n", "\n  ") + "\n")
			}
		}
		s.WriteString("\n")
	}
	if imp != nil {
		s.WriteString(imp.String() + "\n")
	}
	if mem != nil {
		s.WriteString(mem.String() + "\n")
	}
	if load != nil {
		var serve *result
		for _, r := range results {
			if r.run == "serve" && r.n == load.n && r.complete() {
				serve = r
			}
		}
		s.WriteString(load.String(serve) + "\n")
	}
	var largest *result
	for _, r := range results {
		if r.cpuProfile != "" && (largest == nil || r.n > largest.n) {
			largest = r
		}
	}
	if largest != nil {
		fmt.Fprintf(&s, "CPU profile of pregon serve, N=%s, first %s of the send (go tool pprof -top -nodecount=15 bin/pregon %s):\n\n```\n%s\n```\n",
			thousands(largest.n), b.opts.profile, largest.cpuProfile, pprofTop(ctx, largest.cpuProfile))
	}
	return s.String()
}

// poolSize is the SMTP connections each pregon process keeps: its
// concurrency (PREGON_CONCURRENCY, default 20).
func (b *bench) poolSize() int {
	if b.opts.concurrency > 0 {
		return b.opts.concurrency
	}
	return 20
}

func (b *bench) describeFlags() string {
	conc := "default"
	if b.opts.concurrency > 0 {
		conc = strconv.Itoa(b.opts.concurrency)
	}
	out := fmt.Sprintf("-n %s -concurrency %s -scaleout=%t -telegram=%t -channels %d -multi-channels %d",
		strings.Trim(strings.Join(strings.Fields(fmt.Sprint(b.opts.sizes)), ","), "[]"), conc,
		b.opts.scaleout, b.opts.telegram, b.opts.channels, b.opts.multi)
	if b.opts.load {
		out += fmt.Sprintf(" -load-clients %d -load-duration %s -load-n %d", b.opts.loadClients, b.opts.loadDuration, b.opts.loadN)
	} else {
		out += " -load=false"
	}
	if b.opts.importRows > 0 {
		out += fmt.Sprintf(" -import %d", b.opts.importRows)
	}
	out += fmt.Sprintf(" -memory %d", b.opts.memory)
	if b.opts.preload > 0 {
		out += fmt.Sprintf(" -preload %d -preload-mode %s", b.opts.preload, b.opts.preloadMode)
	}
	out += " -dkim " + strings.Join(b.opts.dkim, ",")
	for _, e := range b.opts.env {
		out += " -env " + e
	}
	return out
}

// chdirModuleRoot moves to the root of the module the bench is run in.
func chdirModuleRoot(ctx context.Context) error {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return errors.New("run pregon-bench inside Pregón's module (make bench)")
	}
	return os.Chdir(filepath.Dir(gomod))
}

// cleanOut creates the output folder and removes what an earlier run left in it.
func (b *bench) cleanOut() error {
	if err := os.MkdirAll(b.opts.out, 0o755); err != nil {
		return err
	}
	for _, pat := range []string{"*.pprof", "pregon-*.log", "smtpsink-*.log", "redis.log", "results.md", "loadgen.log", "load-samples.csv", "dkim-*.pem"} {
		old, _ := filepath.Glob(b.outPath(pat))
		for _, f := range old {
			if err := os.Remove(f); err != nil {
				return err
			}
		}
	}
	return nil
}
