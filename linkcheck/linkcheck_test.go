package linkcheck

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// server is a test web server that counts the requests it gets.
type server struct {
	*httptest.Server
	mu   sync.Mutex
	seen []string // "METHOD /path"
}

func newServer(t *testing.T, h http.HandlerFunc) *server {
	t.Helper()
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.seen = append(s.seen, r.Method+" "+r.URL.Path)
		s.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// listenOn returns a server listening on addr ("127.0.0.2:0").
func listenOn(t *testing.T, addr string, h http.HandlerFunc) *server {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot listen on %s: %v", addr, err)
	}
	s := &server{}
	s.Server = &httptest.Server{Listener: ln, Config: &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.seen = append(s.seen, r.Method+" "+r.URL.Path)
		s.mu.Unlock()
		h(w, r)
	})}}
	s.Start()
	t.Cleanup(s.Close)
	return s
}

func (s *server) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.seen...)
}

func ok(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) }

// allowed is a checker that may reach the tests' servers on loopback.
func allowed(cfg Config) *Checker {
	cfg.AllowPrivate = true
	return New(cfg)
}

func TestPublic(t *testing.T) {
	private := []string{
		"127.0.0.1", "127.8.9.10", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254", "100.64.0.1",
		"0.0.0.0", "224.0.0.251", "255.255.255.255", "192.0.2.10", "198.18.0.1",
		"::", "::1", "::ffff:127.0.0.1", "::ffff:10.1.2.3", "fe80::1", "fe80::1%eth0", "fd00::1", "ff02::1",
		"64:ff9b::a00:1", "2002:a00:1::1", "2001:db8::1",
	}
	public := []string{"8.8.8.8", "1.1.1.1", "93.184.216.34", "::ffff:8.8.8.8", "2606:4700:4700::1111", "2a00:1450:4001::200e"}
	for _, addr := range private {
		if Public(netip.MustParseAddr(addr)) {
			t.Errorf("Public(%s) = true, want false", addr)
		}
	}
	for _, addr := range public {
		if !Public(netip.MustParseAddr(addr)) {
			t.Errorf("Public(%s) = false, want true", addr)
		}
	}
}

// TestPrivateRefusedByDefault: a default checker connects to no address
// that is not public, whether named by a literal address or by a name that
// resolves to one; the server behind the loopback links gets no request.
func TestPrivateRefusedByDefault(t *testing.T) {
	srv := newServer(t, ok)
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	links := []string{
		srv.URL + "/a",
		fmt.Sprintf("http://localhost:%d/b", port),
		fmt.Sprintf("http://[::1]:%d/c", port),
		"http://10.0.0.1/d",
		"http://169.254.169.254/latest/meta-data/",
		"http://0.0.0.0/e",
		"http://[::ffff:127.0.0.1]:1/f",
		"https://192.168.0.1/g",
	}
	rep := New(Config{}).Check(context.Background(), links)
	if len(rep.Results) != len(links) {
		t.Fatalf("%d results for %d links", len(rep.Results), len(links))
	}
	for _, r := range rep.Results {
		if !errors.Is(r.Err, ErrPrivateAddress) || r.OK() || r.Status != 0 {
			t.Errorf("%s: status %d, error %v; want ErrPrivateAddress", r.URL, r.Status, r.Err)
		}
		if got := r.Problem(); !strings.Contains(got, "private network") {
			t.Errorf("%s: problem %q", r.URL, got)
		}
	}
	if got := srv.requests(); len(got) != 0 {
		t.Errorf("the loopback server got requests: %v", got)
	}
}

// TestRedirectToPrivateRefused: a server the configuration allows redirects
// to another loopback address, which stays refused; the server there gets
// nothing.
func TestRedirectToPrivateRefused(t *testing.T) {
	inside := listenOn(t, "127.0.0.2:0", ok)
	outside := listenOn(t, "127.0.0.1:0", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, inside.URL+"/secret", http.StatusFound)
	})
	c := New(Config{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	rep := c.Check(context.Background(), []string{outside.URL + "/go"})
	if r := rep.Results[0]; !errors.Is(r.Err, ErrPrivateAddress) {
		t.Errorf("redirect to %s: status %d, error %v; want ErrPrivateAddress", inside.URL, r.Status, r.Err)
	}
	if got := outside.requests(); len(got) != 1 {
		t.Errorf("the allowed server got %v, want the one HEAD", got)
	}
	if got := inside.requests(); len(got) != 0 {
		t.Errorf("the server redirected to got requests: %v", got)
	}
}

func TestAnswers(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ok":
		case "/missing":
			w.WriteHeader(http.StatusNotFound)
		case "/gone":
			w.WriteHeader(http.StatusGone)
		case "/nohead":
			if r.Method == http.MethodHead {
				w.WriteHeader(http.StatusMethodNotAllowed)
			}
		case "/nohead-missing":
			if r.Method == http.MethodHead {
				w.WriteHeader(http.StatusNotImplemented)
			} else {
				w.WriteHeader(http.StatusNotFound)
			}
		case "/moved":
			http.Redirect(w, r, "/ok", http.StatusMovedPermanently)
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		case "/to-ftp":
			http.Redirect(w, r, "ftp://example.org/file", http.StatusFound)
		case "/error":
			w.WriteHeader(http.StatusInternalServerError)
		}
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/"
	ln.Close()

	type want struct {
		ok      bool
		status  int
		problem string
	}
	cases := map[string]want{
		srv.URL + "/ok":             {true, 200, ""},
		srv.URL + "/missing":        {false, 404, "answered 404 Not Found"},
		srv.URL + "/gone":           {false, 410, "answered 410 Gone"},
		srv.URL + "/nohead":         {true, 200, ""},
		srv.URL + "/nohead-missing": {false, 404, "answered 404 Not Found"},
		srv.URL + "/moved":          {true, 200, ""},
		srv.URL + "/loop":           {false, 0, "redirects too many times"},
		srv.URL + "/to-ftp":         {false, 0, "not a web address (http or https)"},
		srv.URL + "/error":          {false, 500, "answered 500 Internal Server Error"},
		closed:                      {false, 0, "no answer"},
		"ftp://example.org/file":    {false, 0, "not a web address (http or https)"},
		"informe.pdf":               {false, 0, "not a web address (http or https)"},
		"http:///nohost":            {false, 0, "not a web address (http or https)"},
	}
	var links []string
	for u := range cases {
		links = append(links, u)
	}
	rep := allowed(Config{MaxRedirects: 3}).Check(context.Background(), links)
	if len(rep.Results) != len(links) || len(rep.Unchecked) != 0 {
		t.Fatalf("%d results and %d unchecked for %d links", len(rep.Results), len(rep.Unchecked), len(links))
	}
	for i, r := range rep.Results {
		if r.URL != links[i] {
			t.Errorf("result %d is for %s, want %s (the order given)", i, r.URL, links[i])
		}
		w := cases[r.URL]
		if got := (want{r.OK(), r.Status, r.Problem()}); got != w {
			t.Errorf("%s: got %+v (error %v), want %+v", r.URL, got, r.Err, w)
		}
	}
	reqs := srv.requests()
	count := func(s string) int {
		n := 0
		for _, r := range reqs {
			if r == s {
				n++
			}
		}
		return n
	}
	// HEAD first; GET only where HEAD was refused.
	for req, n := range map[string]int{"HEAD /nohead": 1, "GET /nohead": 1, "HEAD /nohead-missing": 1, "GET /nohead-missing": 1,
		"GET /ok": 0, "GET /missing": 0, "HEAD /loop": 4} {
		if got := count(req); got != n {
			t.Errorf("%q asked %d times, want %d", req, got, n)
		}
	}
}

// TestTimeout: a server that never answers is reported as such once the
// checker's timeout passes.
func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	rep := allowed(Config{Timeout: 50 * time.Millisecond}).Check(context.Background(), []string{srv.URL + "/slow"})
	if r := rep.Results[0]; r.OK() || r.Problem() != "no answer in time" {
		t.Errorf("got status %d, problem %q, error %v; want no answer in time", r.Status, r.Problem(), r.Err)
	}
}

// TestCap: at most MaxLinks distinct links are asked, duplicates once; the
// rest are reported unchecked; no more than Concurrency at once.
func TestCap(t *testing.T) {
	var inFlight, most atomic.Int64
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
	})
	var links []string
	for i := range 30 {
		links = append(links, fmt.Sprintf("%s/p%d", srv.URL, i))
	}
	links = append(links, srv.URL+"/p0", srv.URL+"/p1") // asked once each
	rep := allowed(Config{MaxLinks: 25, Concurrency: 3}).Check(context.Background(), links)
	if len(rep.Results) != 25 {
		t.Fatalf("%d results, want 25", len(rep.Results))
	}
	if diff := cmp.Diff(links[25:30], rep.Unchecked); diff != "" {
		t.Errorf("unchecked (-want +got):\n%s", diff)
	}
	for _, r := range rep.Results {
		if !r.OK() {
			t.Errorf("%s: %d %v", r.URL, r.Status, r.Err)
		}
	}
	if got := len(srv.requests()); got != 25 {
		t.Errorf("%d requests, want 25", got)
	}
	if m := most.Load(); m > 3 {
		t.Errorf("%d requests at once, want at most 3", m)
	}
}

func TestLinks(t *testing.T) {
	src := `# Comunicado

Lea el [informe completo](https://example.org/informe.pdf "Informe") y la
[nota](https://example.org/nota) en <https://example.org/auto>; también
https://example.org/bare y www.example.org/www, o escriba a prensa@example.org
o a <mailto:prensa@example.org> o [llame](tel:+525555555555).

![Foto](https://example.org/foto.jpg)

Véase [el anexo][anexo] y otra vez la [nota](https://example.org/nota).

` + "`https://example.org/code` no es un enlace.\n\n[anexo]: https://example.org/anexo\n"
	want := []string{
		"https://example.org/informe.pdf", "https://example.org/nota", "https://example.org/auto",
		"https://example.org/bare", "http://www.example.org/www", "mailto:prensa@example.org", "tel:+525555555555",
		"https://example.org/foto.jpg", "https://example.org/anexo",
	}
	if diff := cmp.Diff(want, Links(src)); diff != "" {
		t.Errorf("Links (-want +got):\n%s", diff)
	}
	for link, web := range map[string]bool{"mailto:a@example.org": false, "tel:+52": false, "https://a.example": true,
		"informe.pdf": true, "ftp://example.org": true, "/ruta:con:dos-puntos": true} {
		if got := Web(link); got != web {
			t.Errorf("Web(%q) = %v, want %v", link, got, web)
		}
	}
}
