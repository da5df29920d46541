package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// startSink runs smtpsink with args and returns the lines it prints, after
// the first one ("listening on ADDR"), and the SMTP address.
func startSink(t *testing.T, ctx context.Context, args ...string) (*bufio.Scanner, string, <-chan int) {
	t.Helper()
	pr, pw := io.Pipe()
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, args, pw, io.Discard)
		_ = pw.Close()
	}()
	lines := bufio.NewScanner(pr)
	if !lines.Scan() {
		t.Fatalf("no output: %v", lines.Err())
	}
	addr, ok := strings.CutPrefix(lines.Text(), "listening on ")
	if !ok {
		t.Fatalf("first line %q", lines.Text())
	}
	return lines, addr, code
}

func sendTo(t *testing.T, addr string, rcpts ...string) {
	t.Helper()
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, r := range rcpts {
		if err := c.SendMail("f@example.org", []string{r}, strings.NewReader("Subject: x\r\n\r\nhola\r\n")); err != nil {
			t.Fatal(err)
		}
	}
	_ = c.Quit()
}

func TestStats(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	lines, addr, code := startSink(t, ctx, "-addr", "127.0.0.1:0", "-stats", "127.0.0.1:0")
	if !lines.Scan() {
		t.Fatalf("no stats line: %v", lines.Err())
	}
	statsAddr, ok := strings.CutPrefix(lines.Text(), "stats on ")
	if !ok {
		t.Fatalf("second line %q, want \"stats on ADDR\"", lines.Text())
	}
	get := func() counts {
		t.Helper()
		resp, err := http.Get("http://" + statsAddr + "/stats")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("GET /stats: %s, Content-Type %q", resp.Status, resp.Header.Get("Content-Type"))
		}
		var c counts
		if err := json.NewDecoder(resp.Body).Decode(&c); err != nil {
			t.Fatal(err)
		}
		return c
	}

	if got := get(); got != (counts{}) {
		t.Errorf("before any message: %+v, want all zero", got)
	}
	before := time.Now().UnixNano()
	sendTo(t, addr, "a@example.org", "b@example.org")
	sendTo(t, addr, "a@example.org")
	after := time.Now().UnixNano()

	got := get()
	if got.Messages != 3 || got.Connections != 2 || got.Recipients != 2 || got.Duplicates != 1 {
		t.Errorf("stats %+v, want 3 messages, 2 connections, 2 recipients, 1 duplicate", got)
	}
	if got.Bytes < int64(3*len("hola\r\n")) {
		t.Errorf("bytes %d, want at least the 3 bodies", got.Bytes)
	}
	if got.FirstUnixNano < before || got.LastUnixNano < got.FirstUnixNano || got.LastUnixNano > after {
		t.Errorf("first %d, last %d: want before %d <= first <= last <= after %d",
			got.FirstUnixNano, got.LastUnixNano, before, after)
	}

	resp, err := http.Post("http://"+statsAddr+"/stats", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /stats: %s, want 405", resp.Status)
	}

	cancel()
	if !lines.Scan() {
		t.Fatalf("no report: %v", lines.Err())
	}
	var final counts
	if err := json.Unmarshal(lines.Bytes(), &final); err != nil {
		t.Fatalf("report %q: %v", lines.Text(), err)
	}
	if final != got {
		t.Errorf("final report %+v, want the last stats %+v", final, got)
	}
	if c := <-code; c != 0 {
		t.Errorf("exit code %d", c)
	}
}

func TestStatsBadAddr(t *testing.T) {
	var out, errOut strings.Builder
	if c := run(context.Background(), []string{"-addr", "127.0.0.1:0", "-stats", "not-an-address"}, &out, &errOut); c != 1 {
		t.Errorf("exit code %d, want 1; stderr %q", c, errOut.String())
	}
}
