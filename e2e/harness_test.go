package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pregon/pregon/client"
	"github.com/pregon/pregon/internal/redistest"
	"github.com/pregon/pregon/internal/smtptest"
	"github.com/pregon/pregon/internal/telegramtest"
	"github.com/pregon/pregon/internal/testkit"
)

const botToken = "424242:E2E-CRASH-TOKEN"

// stack is one Pregón installation under test: a redis-server with AOF (as
// the README configures production), an SMTP server and, when asked for, a
// fake Telegram Bot API in the test process, and the pregon processes the
// test starts against them.
type stack struct {
	t      *testing.T
	redis  *redistest.Server
	smtp   *smtptest.Server
	tg     *telegramtest.Server
	env    map[string]string
	dir    string // logs
	apiURL string
	token  string
	api    *client.Client // with token
	procs  []*proc
	n      int // processes started, for log names
}

// stackOption changes a stack before its processes start.
type stackOption func(*stack)

// withEnv sets (or, with "", removes) PREGON_* variables.
func withEnv(kv ...string) stackOption {
	return func(s *stack) {
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "" {
				delete(s.env, kv[i])
			} else {
				s.env[kv[i]] = kv[i+1]
			}
		}
	}
}

// withTelegram starts a fake Bot API without rate limits and points Pregón at it.
func withTelegram() stackOption {
	return func(s *stack) {
		s.tg = telegramtest.Start(s.t, botToken, telegramtest.NoRateLimits())
		s.env["PREGON_TELEGRAM_TOKEN"] = botToken
		s.env["PREGON_TELEGRAM_API_URL"] = s.tg.URL()
		s.env["PREGON_TELEGRAM_RATE"] = "0"
		s.env["PREGON_TELEGRAM_CHAT_RATE"] = "0"
	}
}

// newStack starts Redis and the SMTP server, and makes an admin token. It
// starts no pregon service: see startAPI, startWorker and startServe.
func newStack(t *testing.T, opts ...stackOption) *stack {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end crash and fault test: skipped with -short")
	}
	s := &stack{t: t, dir: t.TempDir()}
	s.redis = redistest.StartWith(t, redistest.Options{AppendOnly: true})
	s.smtp = smtptest.Start(t)
	addr := testkit.FreeAddr(t)
	s.apiURL = "http://" + addr
	s.env = map[string]string{
		"PREGON_REDIS_URL":     s.redis.URL(),
		"PREGON_HTTP_ADDR":     addr,
		"PREGON_SMTP_URL":      "smtp://" + s.smtp.Addr + "?tls=none",
		"PREGON_FROM":          "Unión de Cooperativas <prensa@cooperativas.example>",
		"PREGON_OUTBOX_DIR":    filepath.Join(s.dir, "outbox"),
		"PREGON_CLAIM_TIMEOUT": "3s",
		"PREGON_RETRY_BASE":    "200ms",
		"PREGON_CONCURRENCY":   "8",
		"PREGON_LOG_LEVEL":     "info",
	}
	for _, o := range opts {
		o(s)
	}
	// Registered after the temporary directories, so it runs before they go.
	t.Cleanup(func() {
		if t.Failed() {
			s.dumpLogs()
		}
	})
	s.token = s.createToken("admin")
	s.api = s.newAPI()
	return s
}

// environ is the environment of a pregon process: the test's own, without
// any PREGON_* variable, plus the stack's.
func (s *stack) environ() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PREGON_") {
			env = append(env, kv)
		}
	}
	for k, v := range s.env {
		env = append(env, k+"="+v)
	}
	return env
}

// createToken runs `pregon token create`, as an operator would, and returns the token.
func (s *stack) createToken(role string) string {
	s.t.Helper()
	cmd := exec.Command(pregonBin, "token", "create", "--name", "e2e-"+role, "--role", role)
	cmd.Env = s.environ()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := runWithin(cmd, 30*time.Second); err != nil {
		s.t.Fatalf("pregon token create: %v\n%s", err, errb.String())
	}
	tok := strings.TrimSpace(out.String())
	if tok == "" || strings.ContainsAny(tok, " \n") {
		s.t.Fatalf("pregon token create printed %q, want the token alone", out.String())
	}
	return tok
}

// runWithin runs cmd and kills it if it has not ended after d.
func runWithin(cmd *exec.Cmd, d time.Duration) error {
	if err := cmd.Start(); err != nil {
		return err
	}
	t := time.AfterFunc(d, func() { cmd.Process.Kill() })
	defer t.Stop()
	return cmd.Wait()
}

// proc is a running pregon process.
type proc struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{} // closed when it has exited
	err     error         // Wait's result, once done is closed
	exited  time.Time
}

// start starts `pregon <args>` with the stack's environment, its output in
// a log file.
func (s *stack) start(args ...string) *proc {
	s.t.Helper()
	s.n++
	name := fmt.Sprintf("%s-%d", strings.Join(args, "-"), s.n)
	p := &proc{name: name, logPath: filepath.Join(s.dir, name+".log"), done: make(chan struct{})}
	f, err := os.Create(p.logPath)
	if err != nil {
		s.t.Fatal(err)
	}
	p.cmd = exec.Command(pregonBin, args...)
	p.cmd.Env = s.environ()
	p.cmd.Stdout, p.cmd.Stderr = f, f
	// Its own process group, and killed if the test process dies first.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := p.cmd.Start(); err != nil {
		f.Close()
		s.t.Fatalf("start pregon %s: %v", name, err)
	}
	go func() {
		p.err = p.cmd.Wait()
		p.exited = time.Now()
		f.Close()
		close(p.done)
	}()
	s.procs = append(s.procs, p)
	s.t.Cleanup(func() {
		if p.running() {
			p.signal(syscall.SIGKILL)
			<-p.done
		}
	})
	return p
}

// startAPI starts `pregon api` and waits until /readyz answers 200.
func (s *stack) startAPI() *proc {
	s.t.Helper()
	p := s.start("api")
	s.waitReady(p)
	return p
}

// startServe starts `pregon serve` and waits until /readyz answers 200 and
// its workers have started.
func (s *stack) startServe() *proc {
	s.t.Helper()
	p := s.start("serve")
	s.waitReady(p)
	s.waitLog(p, "workers started")
	return p
}

// startWorker starts `pregon worker` and waits until its workers have started.
func (s *stack) startWorker() *proc {
	s.t.Helper()
	p := s.start("worker")
	s.waitLog(p, "workers started")
	return p
}

func (s *stack) waitReady(p *proc) {
	s.t.Helper()
	waitFor(s.t, "pregon "+p.name+" ready", 30*time.Second, 20*time.Millisecond, func() (bool, string) {
		if !p.running() {
			s.t.Fatalf("pregon %s exited before it was ready: %v", p.name, p.err)
		}
		code, err := s.readyz()
		return code == 200, fmt.Sprintf("readyz %d %v", code, err)
	})
}

// waitLog waits until p's log has a record whose msg is msg.
func (s *stack) waitLog(p *proc, msg string) {
	s.t.Helper()
	want := fmt.Sprintf("%q:%q", "msg", msg)
	waitFor(s.t, fmt.Sprintf("%q in the log of pregon %s", msg, p.name), 30*time.Second, 20*time.Millisecond, func() (bool, string) {
		if !p.running() {
			s.t.Fatalf("pregon %s exited: %v", p.name, p.err)
		}
		data, _ := os.ReadFile(p.logPath)
		return bytes.Contains(data, []byte(want)), ""
	})
}

func (p *proc) running() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

func (p *proc) signal(sig syscall.Signal) {
	_ = syscall.Kill(-p.cmd.Process.Pid, sig)
}

// kill9 kills the process with SIGKILL and waits until it is gone.
func (p *proc) kill9(t *testing.T) {
	t.Helper()
	p.signal(syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		t.Fatalf("pregon %s still running 10s after SIGKILL", p.name)
	}
}

// stop sends SIGTERM and waits up to timeout for the process to exit; it
// returns its exit code and how long it took.
func (p *proc) stop(t *testing.T, timeout time.Duration) (int, time.Duration) {
	t.Helper()
	start := time.Now()
	p.signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(timeout):
		t.Fatalf("pregon %s still running %s after SIGTERM", p.name, timeout)
	}
	return p.cmd.ProcessState.ExitCode(), p.exited.Sub(start)
}

// dumpLogs prints the end of each process's log, for a failed test.
func (s *stack) dumpLogs() {
	for _, p := range s.procs {
		s.t.Logf("---- pregon %s log (last lines of %s, without the access log):\n%s", p.name, p.logPath, tail(p.logPath, 150))
	}
	s.t.Logf("---- redis log:\n%s", tail(filepath.Join(s.redis.Dir, "redis.log"), 20))
}

// tail returns the last n lines of a log, leaving out the API's access log.
func tail(path string, n int) string {
	f, err := os.Open(path)
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	var lines []string
	skipped := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		if strings.Contains(sc.Text(), `"msg":"http request"`) {
			skipped++
			continue
		}
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	if skipped > 0 {
		lines = append([]string{fmt.Sprintf("(%d access log lines left out)", skipped)}, lines...)
	}
	return strings.Join(lines, "\n")
}

// logCount counts the records in p's log whose msg is msg.
func logCount(p *proc, msg string) int {
	data, _ := os.ReadFile(p.logPath)
	return bytes.Count(data, []byte(fmt.Sprintf("%q:%q", "msg", msg)))
}

// waitFor is testkit.WaitFor, under the name the scenarios call.
func waitFor(t *testing.T, what string, timeout, interval time.Duration, cond func() (bool, string)) {
	t.Helper()
	testkit.WaitFor(t, what, timeout, interval, cond)
}
