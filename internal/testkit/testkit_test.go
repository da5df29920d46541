package testkit

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestFreeAddr(t *testing.T) {
	addr := FreeAddr(t)
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen on %s: %v", addr, err)
	}
	l.Close()
	if !strings.HasPrefix(addr, "127.0.0.1:") || FreePort(t) <= 0 {
		t.Errorf("FreeAddr = %q", addr)
	}
}

func TestBufferConcurrentWrites(t *testing.T) {
	var b Buffer
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 100 {
				fmt.Fprintf(&b, "%d\n", i)
			}
		})
	}
	wg.Wait()
	if n := strings.Count(b.String(), "\n"); n != 800 {
		t.Errorf("Buffer holds %d lines, want 800", n)
	}
}

func TestClock(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c := NewClock(t0)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 100 {
				c.Add(time.Second)
				_ = c.Now()
			}
		})
	}
	wg.Wait()
	if got, want := c.Now(), t0.Add(400*time.Second); !got.Equal(want) {
		t.Errorf("Now = %v, want %v", got, want)
	}
	c.Set(t0)
	if !c.Now().Equal(t0) {
		t.Errorf("after Set, Now = %v", c.Now())
	}
}

func TestWaitFor(t *testing.T) {
	n := 0
	WaitFor(t, "three calls", time.Minute, time.Millisecond, func() (bool, string) {
		n++
		return n == 3, ""
	})
	if n != 3 {
		t.Errorf("cond called %d times, want 3", n)
	}
	msg := Failure(t, func(tb testing.TB) {
		WaitFor(tb, "never", 5*time.Millisecond, time.Millisecond, func() (bool, string) { return false, "still no" })
	})
	if !strings.Contains(msg, "for never; last: still no") {
		t.Errorf("WaitFor's failure = %q", msg)
	}
}

func TestWantErr(t *testing.T) {
	for _, tt := range []struct {
		name       string
		err        error
		want       string
		wanted     bool
		wantFailed string // "" when it must not fail
	}{
		{name: "none wanted, none came", wanted: false},
		{name: "wanted and came", err: errors.New("line 2: bad"), want: "line 2", wanted: true},
		{name: "none wanted, one came", err: errors.New("boom"), wantFailed: "err = boom, want none"},
		{name: "wanted, none came", want: "line 2", wantFailed: `err = <nil>, want one containing "line 2"`},
		{name: "wanted, another came", err: errors.New("boom"), want: "line 2", wantFailed: `err = boom, want one containing "line 2"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var wanted bool
			msg := Failure(t, func(tb testing.TB) { wanted = WantErr(tb, tt.err, tt.want) })
			if msg != tt.wantFailed {
				t.Errorf("failure %q, want %q", msg, tt.wantFailed)
			}
			if tt.wantFailed == "" && wanted != tt.wanted {
				t.Errorf("WantErr = %v, want %v", wanted, tt.wanted)
			}
		})
	}
}

func TestDoJSON(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"type":"about:blank","title":"Unauthorized","status":401,"detail":"no token","errors":[{"field":"token","message":"missing"}]}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"got":%q,"type":%q}`, r.Method, r.Header.Get("Content-Type"))
	}))
	defer srv.Close()

	var out struct{ Got, Type string }
	DoJSON(t, Request{Method: "POST", URL: srv.URL, Token: "tok", Body: map[string]int{"a": 1}}, 201, &out)
	if out.Got != "POST" || out.Type != "application/json" {
		t.Errorf("answer %+v", out)
	}
	DoJSON(t, Request{Method: "POST", URL: srv.URL, Token: "tok", Body: "a,b\n", ContentType: "text/csv"}, 201, &out)
	if out.Type != "text/csv" {
		t.Errorf("Content-Type sent = %q, want text/csv", out.Type)
	}

	p := Do(t, Request{Method: "GET", URL: srv.URL}).Problem(t)
	if p.Status != 401 || p.Detail != "no token" || len(p.Errors) != 1 || p.Errors[0].Field != "token" {
		t.Errorf("problem %+v", p)
	}
	msg := Failure(t, func(tb testing.TB) { DoJSON(tb, Request{Method: "GET", URL: srv.URL}, 200, nil) })
	if !strings.Contains(msg, "status 401, want 200") || !strings.Contains(msg, "no token") {
		t.Errorf("DoJSON's failure = %q, want the status and the body", msg)
	}
}
