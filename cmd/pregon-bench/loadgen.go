package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pregon/pregon/client"
)

// The load generator is the hidden subcommand `pregon-bench loadgen`: the
// bench re-executes itself with it, so that the load comes from a process
// other than the one that measures. It runs -clients concurrent clients for
// -duration against Pregón's API, each looping over loadMix, prints one JSON
// summary (loadSummary) to stdout and, with -samples, writes every request
// to a CSV file so that the bench can take the part while a release was sent.

// The endpoints of the load, as the summary names them.
const (
	epCreate     = "POST /v1/releases"
	epReleases   = "GET /v1/releases"
	epRelease    = "GET /v1/releases/{id}"
	epDeliveries = "GET /v1/releases/{id}/deliveries"
	epList       = "GET /v1/lists/{id}"
)

// loadMix is what each client does, in a loop: per 10 requests, 1 draft
// release created, 2 pages of releases, 3 reads of the big release, 3 pages
// of its deliveries and 1 read of its list. Client k starts at step k.
var loadMix = []string{epCreate, epReleases, epRelease, epDeliveries, epList,
	epRelease, epDeliveries, epReleases, epRelease, epDeliveries}

// loadTokenEnv is the environment variable that hands the loadgen its API
// token (an argument would show in ps).
const loadTokenEnv = "PREGON_BENCH_TOKEN"

// sample is one request the load made.
type sample struct {
	start    time.Time
	endpoint string
	dur      time.Duration
	outcome  string // "" for 2xx; else "HTTP 503", "timeout" or "transport"
}

// latency is the latency of one endpoint (or all), in milliseconds.
type latency struct {
	Requests int     `json:"requests"`
	Errors   int     `json:"errors"`
	P50      float64 `json:"p50_ms"`
	P90      float64 `json:"p90_ms"`
	P99      float64 `json:"p99_ms"`
	Max      float64 `json:"max_ms"`
}

// loadSummary is the loadgen's output. Latencies count every request that
// ended, failed or not (a timeout counts as the timeout).
type loadSummary struct {
	Clients      int                 `json:"clients"`
	Duration     float64             `json:"duration_s"`
	Elapsed      float64             `json:"elapsed_s"` // first request sent to last answer
	Requests     int                 `json:"requests"`
	Errors       map[string]int      `json:"errors"` // by kind: "HTTP 500", "timeout", "transport"
	ErrorSamples []string            `json:"error_samples,omitempty"`
	Overall      latency             `json:"overall"`
	Endpoints    map[string]*latency `json:"endpoints"`
}

// summarize computes the counts and latencies of samples.
func summarize(samples []sample) *loadSummary {
	s := &loadSummary{Requests: len(samples), Errors: map[string]int{}, Endpoints: map[string]*latency{}}
	all := make([]time.Duration, 0, len(samples))
	byEP := map[string][]time.Duration{}
	var first, last time.Time
	for _, sm := range samples {
		all = append(all, sm.dur)
		byEP[sm.endpoint] = append(byEP[sm.endpoint], sm.dur)
		if sm.outcome != "" {
			s.Errors[sm.outcome]++
			s.Overall.Errors++
			if s.Endpoints[sm.endpoint] == nil {
				s.Endpoints[sm.endpoint] = &latency{}
			}
			s.Endpoints[sm.endpoint].Errors++
		}
		if first.IsZero() || sm.start.Before(first) {
			first = sm.start
		}
		if end := sm.start.Add(sm.dur); end.After(last) {
			last = end
		}
	}
	s.Elapsed = last.Sub(first).Seconds()
	errs := s.Overall.Errors
	s.Overall = percentiles(all)
	s.Overall.Errors = errs
	for ep, ds := range byEP {
		l := percentiles(ds)
		if s.Endpoints[ep] != nil {
			l.Errors = s.Endpoints[ep].Errors
		}
		s.Endpoints[ep] = &l
	}
	return s
}

// percentiles sorts ds and returns its nearest-rank percentiles.
func percentiles(ds []time.Duration) latency {
	l := latency{Requests: len(ds)}
	if len(ds) == 0 {
		return l
	}
	slices.Sort(ds)
	at := func(p float64) float64 {
		i := int(math.Ceil(float64(len(ds))*p)) - 1 // nearest rank
		return float64(ds[max(0, min(i, len(ds)-1))]) / float64(time.Millisecond)
	}
	l.P50, l.P90, l.P99, l.Max = at(0.50), at(0.90), at(0.99), at(1)
	return l
}

// loadgenConfig is the loadgen's command line.
type loadgenConfig struct {
	url, token, listID, releaseID, samples string
	clients                                int
	duration, timeout                      time.Duration
}

// runLoadgen is `pregon-bench loadgen`; it returns the exit code.
func runLoadgen(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var cfg loadgenConfig
	fs := flag.NewFlagSet("pregon-bench loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.url, "url", "", "Pregón's base URL, e.g. http://127.0.0.1:8080")
	fs.StringVar(&cfg.listID, "list", "", "id of the list the draft releases go to")
	fs.StringVar(&cfg.releaseID, "release", "", "id of the release whose deliveries are read")
	fs.IntVar(&cfg.clients, "clients", 50, "concurrent clients")
	fs.DurationVar(&cfg.duration, "duration", 20*time.Second, "how long the clients start requests")
	fs.DurationVar(&cfg.timeout, "timeout", 10*time.Second, "timeout of each request")
	fs.StringVar(&cfg.samples, "samples", "", "write every request to this CSV file")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg.token = os.Getenv(loadTokenEnv)
	if cfg.url == "" || cfg.listID == "" || cfg.releaseID == "" || cfg.token == "" ||
		cfg.clients < 1 || cfg.duration <= 0 || cfg.timeout <= 0 {
		fmt.Fprintf(stderr, "pregon-bench loadgen: want -url, -list, -release, $%s and positive -clients, -duration, -timeout\n", loadTokenEnv)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	log.Info("load starting", "clients", cfg.clients, "duration", cfg.duration, "url", cfg.url)
	samples, errs := generateLoad(ctx, &cfg)
	if ctx.Err() != nil {
		log.Error("interrupted", "requests", len(samples))
		return 1
	}
	sum := summarize(samples)
	sum.Clients, sum.Duration, sum.ErrorSamples = cfg.clients, cfg.duration.Seconds(), errs.list
	if cfg.samples != "" {
		if err := writeSamples(cfg.samples, samples); err != nil {
			log.Error("cannot write the samples", "error", err)
			return 1
		}
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(sum); err != nil {
		return 1
	}
	log.Info("load done", "requests", sum.Requests, "errors", sum.Overall.Errors, "elapsed_s", sum.Elapsed)
	return 0
}

// generateLoad runs the clients until cfg.duration has passed and returns
// what they did, and the first distinct errors. A request started before the
// end may finish up to cfg.timeout after it.
func generateLoad(ctx context.Context, cfg *loadgenConfig) ([]sample, *errorNotes) {
	hc := &http.Client{
		Timeout:   cfg.timeout,
		Transport: &http.Transport{MaxIdleConnsPerHost: cfg.clients, IdleConnTimeout: time.Minute},
	}
	defer hc.CloseIdleConnections()
	deadline := time.Now().Add(cfg.duration)
	var (
		mu   sync.Mutex
		all  []sample
		wg   sync.WaitGroup
		errs = &errorNotes{}
	)
	for k := range cfg.clients {
		wg.Go(func() {
			lc := &loadClient{cfg: cfg, http: hc, errs: errs, id: k}
			var mine []sample
			for step := k; time.Now().Before(deadline) && ctx.Err() == nil; step++ {
				sm := lc.request(ctx, loadMix[step%len(loadMix)])
				if ctx.Err() == nil { // an interrupted request says nothing
					mine = append(mine, sm)
				}
			}
			mu.Lock()
			all = append(all, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	return all, errs
}

// loadClient is one of the loadgen's clients.
type loadClient struct {
	cfg      *loadgenConfig
	http     *http.Client
	errs     *errorNotes
	id       int
	n        int    // drafts created
	cursor   string // next page of deliveries to read; "" = the first
	followed int    // pages followed from the first
}

// request makes one request to endpoint and says how it went.
func (c *loadClient) request(ctx context.Context, endpoint string) sample {
	method, path, body := http.MethodGet, "", ""
	switch endpoint {
	case epCreate:
		c.n++
		method, path = http.MethodPost, "/v1/releases"
		in := client.NewRelease{
			Title:     fmt.Sprintf("Borrador de carga %d-%d", c.id, c.n),
			Body:      "Texto breve de un borrador creado por la prueba de carga. «Sin envío».",
			Language:  "es",
			Audiences: client.Audiences{Lists: []string{c.cfg.listID}, TelegramChannels: []string{}},
		}
		b, _ := json.Marshal(in)
		body = string(b)
	case epReleases:
		path = "/v1/releases?limit=20"
	case epRelease:
		path = "/v1/releases/" + c.cfg.releaseID
	case epDeliveries:
		path = "/v1/releases/" + c.cfg.releaseID + "/deliveries?limit=100"
		if c.cursor != "" {
			path += "&cursor=" + url.QueryEscape(c.cursor)
		}
	case epList:
		path = "/v1/lists/" + c.cfg.listID
	}
	sm := sample{start: time.Now(), endpoint: endpoint}
	status, data, err := c.do(ctx, method, path, body)
	sm.dur = time.Since(sm.start)
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		sm.outcome = "timeout"
	case err != nil:
		sm.outcome = "transport"
	case status < 200 || status > 299:
		sm.outcome = "HTTP " + strconv.Itoa(status)
	}
	if sm.outcome != "" && ctx.Err() == nil {
		detail := fmt.Sprint(err)
		if err == nil {
			detail = string(data[:min(len(data), 300)])
		}
		c.errs.add(endpoint + ": " + sm.outcome + ": " + detail)
	}
	if endpoint == epDeliveries {
		// Follow next_cursor for up to 3 pages, then start again.
		var page struct {
			NextCursor string `json:"next_cursor"`
		}
		_ = json.Unmarshal(data, &page)
		if c.followed++; sm.outcome != "" || page.NextCursor == "" || c.followed >= 3 {
			c.cursor, c.followed = "", 0
		} else {
			c.cursor = page.NextCursor
		}
	}
	return sm
}

// do sends one request and reads the whole answer.
func (c *loadClient) do(ctx context.Context, method, path, body string) (int, []byte, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.cfg.url+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.cfg.token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp.StatusCode, data, err
}

// errorNotes keeps the first few distinct errors, for the summary.
type errorNotes struct {
	mu   sync.Mutex
	list []string
}

func (e *errorNotes) add(msg string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.list) < 10 && !slices.Contains(e.list, msg) {
		e.list = append(e.list, msg)
	}
}

// writeSamples writes samples as CSV: start (Unix ns), duration (ns),
// endpoint, outcome.
func writeSamples(path string, samples []sample) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	for _, s := range samples {
		_ = w.Write([]string{strconv.FormatInt(s.start.UnixNano(), 10), strconv.FormatInt(int64(s.dur), 10), s.endpoint, s.outcome})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// readSamples reads a file writeSamples wrote.
func readSamples(path string) ([]sample, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	out := make([]sample, 0, len(recs))
	for _, r := range recs {
		if len(r) != 4 {
			return nil, fmt.Errorf("%s: bad line %q", path, r)
		}
		start, err1 := strconv.ParseInt(r[0], 10, 64)
		dur, err2 := strconv.ParseInt(r[1], 10, 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("%s: bad line %q", path, r)
		}
		out = append(out, sample{start: time.Unix(0, start), dur: time.Duration(dur), endpoint: r[2], outcome: r[3]})
	}
	return out, nil
}
