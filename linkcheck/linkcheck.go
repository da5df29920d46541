// Package linkcheck checks that the links in a release answer, without
// letting the check reach the server's own network.
//
// A link is asked with HEAD, then with GET when the server refuses HEAD
// (405 or 501), within a short timeout, following a few redirects. Only
// http and https links are asked. Unless Config.AllowPrivate is set, every
// connection is refused when the address it goes to (after the name was
// resolved, and on every redirect) is not on the public internet, so that
// the check cannot be used to probe an internal network or a cloud metadata
// service.
package linkcheck

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Errors in a Result (wrapped); check them with errors.Is.
var (
	// ErrPrivateAddress is a link whose server is on a private, loopback,
	// link-local or other non-public address, which is not checked.
	ErrPrivateAddress = errors.New("linkcheck: not a public internet address")
	// ErrNotWeb is a link that is not an absolute http or https URL.
	ErrNotWeb = errors.New("linkcheck: not an http or https address")
	// ErrTooManyRedirects is a link that redirected more than
	// Config.MaxRedirects times.
	ErrTooManyRedirects = errors.New("linkcheck: too many redirects")
)

// Defaults of Config.
const (
	DefaultTimeout      = 5 * time.Second
	DefaultConcurrency  = 4
	DefaultMaxLinks     = 25
	DefaultMaxRedirects = 5
)

// Config configures a Checker; its zero value checks with the defaults and
// refuses non-public addresses.
type Config struct {
	// Timeout bounds the check of one link, redirects included
	// (0: DefaultTimeout).
	Timeout time.Duration
	// Concurrency is how many links are checked at once (0: DefaultConcurrency).
	Concurrency int
	// MaxLinks is how many distinct links one Check asks at most; the rest
	// are reported as unchecked (0: DefaultMaxLinks).
	MaxLinks int
	// MaxRedirects is how many redirects a link may follow (0:
	// DefaultMaxRedirects).
	MaxRedirects int
	// AllowPrivate lets links reach private, loopback and other non-public
	// addresses (PREGON_CHECK_PRIVATE_LINKS=true): for tests, whose
	// servers listen on loopback, and for a server whose own network is
	// nobody else's.
	AllowPrivate bool
	// Allow lets links reach the non-public addresses in these blocks alone,
	// say a newsroom on an intranet (PREGON_CHECK_PRIVATE_LINKS=10.1.2.0/24).
	Allow []netip.Prefix
	// UserAgent is sent with each request (default "Pregón link check").
	UserAgent string
}

// Checker checks links. It is safe for concurrent use.
type Checker struct {
	cfg    Config
	client *http.Client
}

// New returns a Checker.
func New(cfg Config) *Checker {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.MaxLinks <= 0 {
		cfg.MaxLinks = DefaultMaxLinks
	}
	if cfg.MaxRedirects <= 0 {
		cfg.MaxRedirects = DefaultMaxRedirects
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "Pregón link check"
	}
	dialer := &net.Dialer{Timeout: cfg.Timeout}
	if !cfg.AllowPrivate {
		dialer.Control = refusePrivate(cfg.Allow)
	}
	tr := &http.Transport{
		// No proxy, whatever the environment says: a proxy would connect
		// on our behalf, out of reach of the dialer's address check.
		Proxy:                  nil,
		DialContext:            dialer.DialContext,
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    cfg.Timeout,
		ResponseHeaderTimeout:  cfg.Timeout,
		MaxResponseHeaderBytes: 64 << 10,
		MaxIdleConns:           cfg.Concurrency,
		IdleConnTimeout:        30 * time.Second,
	}
	c := &Checker{cfg: cfg}
	c.client = &http.Client{Transport: tr, CheckRedirect: c.redirect}
	return c
}

// redirect follows at most MaxRedirects redirects, to http and https URLs only.
func (c *Checker) redirect(req *http.Request, via []*http.Request) error {
	if len(via) > c.cfg.MaxRedirects {
		return fmt.Errorf("%w (more than %d)", ErrTooManyRedirects, c.cfg.MaxRedirects)
	}
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return fmt.Errorf("redirect to %s: %w", req.URL.Redacted(), ErrNotWeb)
	}
	return nil
}

// Result is the answer to one link.
type Result struct {
	URL string
	// Status is the HTTP status of the last answer (after redirects); 0
	// when no answer came.
	Status int
	// Err says why no answer came, or why the link was not asked.
	Err error
}

// OK reports whether the link answered with a status below 400.
func (r Result) OK() bool { return r.Err == nil && r.Status > 0 && r.Status < 400 }

// Problem describes, in a few words for a person, what is wrong with the
// link ("" when it is fine).
func (r Result) Problem() string {
	switch r.ProblemKind() {
	case "":
		return ""
	case "status":
		return fmt.Sprintf("answered %d %s", r.Status, http.StatusText(r.Status))
	case "private":
		return "not checked: it points to a private network address"
	case "not_web":
		return "not a web address (http or https)"
	case "redirects":
		return "redirects too many times"
	case "timeout":
		return "no answer in time"
	case "no_host":
		return "its server name was not found"
	}
	return "no answer"
}

// ProblemKind names what is wrong with the link, for a program: "status"
// (it answered 400 or more), "private", "not_web", "redirects", "timeout",
// "no_host" or "no_answer"; "" when it is fine.
func (r Result) ProblemKind() string {
	var nerr net.Error
	var dns *net.DNSError
	switch {
	case r.OK():
		return ""
	case r.Err == nil:
		return "status"
	case errors.Is(r.Err, ErrPrivateAddress):
		return "private"
	case errors.Is(r.Err, ErrNotWeb):
		return "not_web"
	case errors.Is(r.Err, ErrTooManyRedirects):
		return "redirects"
	case errors.Is(r.Err, context.DeadlineExceeded), errors.As(r.Err, &nerr) && nerr.Timeout():
		return "timeout"
	case errors.As(r.Err, &dns):
		return "no_host"
	}
	return "no_answer"
}

// Report is the result of a Check.
type Report struct {
	// Results holds one result per distinct link checked, in the order given.
	Results []Result
	// Unchecked are the distinct links past Config.MaxLinks, not asked.
	Unchecked []string
}

// Check asks each distinct link in urls (at most Config.MaxLinks of them)
// and returns what each answered. It never fails: a link that cannot be
// asked has a Result with Err set. When ctx ends, the links not answered
// yet get its error.
func (c *Checker) Check(ctx context.Context, urls []string) Report {
	var uniq []string
	seen := map[string]bool{}
	for _, u := range urls {
		if u = strings.TrimSpace(u); u != "" && !seen[u] {
			seen[u] = true
			uniq = append(uniq, u)
		}
	}
	var rep Report
	if len(uniq) > c.cfg.MaxLinks {
		uniq, rep.Unchecked = uniq[:c.cfg.MaxLinks], uniq[c.cfg.MaxLinks:]
	}
	rep.Results = make([]Result, len(uniq))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(c.cfg.Concurrency, len(uniq)) {
		wg.Go(func() {
			for i := range next {
				rep.Results[i] = c.one(ctx, uniq[i])
			}
		})
	}
	for i := range uniq {
		next <- i
	}
	close(next)
	wg.Wait()
	return rep
}

// one checks one link: HEAD, then GET when HEAD is refused.
func (c *Checker) one(ctx context.Context, raw string) Result {
	res := Result{URL: raw}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		res.Err = ErrNotWeb
		return res
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	res.Status, res.Err = c.ask(ctx, http.MethodHead, u)
	if res.Err == nil && (res.Status == http.StatusMethodNotAllowed || res.Status == http.StatusNotImplemented) {
		res.Status, res.Err = c.ask(ctx, http.MethodGet, u)
	}
	return res
}

// ask sends one request and returns the status of the answer; the body
// is not read.
func (c *Checker) ask(ctx context.Context, method string, u *url.URL) (int, error) {
	req, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
	if err != nil {
		return 0, fmt.Errorf("%w: %v", ErrNotWeb, err)
	}
	req.Header.Set("User-Agent", c.cfg.UserAgent)
	resp, err := c.client.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}
