// Command smtpsink is an SMTP server that accepts every message and keeps none,
// for benchmarks. It prints "listening on ADDR", then a JSON line with its
// counts every -report interval and once more when it stops (SIGINT, SIGTERM):
//
//	{"messages":1000,"bytes":5242880,"connections":4,"recipients":1000,"duplicates":0,
//	 "first_unix_nano":1767225600000000000,"last_unix_nano":1767225600400000000}
//
// With -stats ADDR it also serves the same counts over HTTP at GET /stats, and
// prints "stats on ADDR" as its second line (so that port 0 can be used).
// first_unix_nano and last_unix_nano are the times the first and the last
// message were accepted (0 before any). recipients counts the distinct first
// recipients of the accepted messages; duplicates the messages whose first
// recipient had been accepted before.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/pregon/pregon/internal/smtptest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// counts is one report line, and the answer to GET /stats.
type counts struct {
	Messages      int64 `json:"messages"`
	Bytes         int64 `json:"bytes"`
	Connections   int64 `json:"connections"`
	Recipients    int64 `json:"recipients"`
	Duplicates    int64 `json:"duplicates"`
	FirstUnixNano int64 `json:"first_unix_nano"`
	LastUnixNano  int64 `json:"last_unix_nano"`
}

// run serves until ctx ends and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("smtpsink", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:2525", "address to listen on (port 0 picks a free one)")
	report := fs.Duration("report", 0, "print counts this often (0: only when stopping)")
	statsAddr := fs.String("stats", "", "also serve the counts as JSON at http://ADDR/stats (port 0 picks a free one)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 || *report < 0 {
		fmt.Fprintln(stderr, "usage: smtpsink [-addr HOST:PORT] [-report DURATION] [-stats HOST:PORT]")
		return 2
	}
	srv, err := smtptest.New(smtptest.Discard(), smtptest.ListenAddr(*addr))
	if err != nil {
		fmt.Fprintln(stderr, "smtpsink:", err)
		return 1
	}
	st := newStats(time.Now)
	srv.SetDataHandler(st.accept)
	snapshot := func() counts { return st.counts(srv) }
	fmt.Fprintf(stdout, "listening on %s\n", srv.Addr)

	if *statsAddr != "" {
		hs, err := serveStats(*statsAddr, snapshot, stderr)
		if err != nil {
			_ = srv.Close()
			fmt.Fprintln(stderr, "smtpsink: -stats:", err)
			return 1
		}
		defer hs.Close()
		fmt.Fprintf(stdout, "stats on %s\n", hs.Addr)
	}

	var tick <-chan time.Time
	if *report > 0 {
		t := time.NewTicker(*report)
		defer t.Stop()
		tick = t.C
	}
	enc := json.NewEncoder(stdout)
	emit := func() error { return enc.Encode(snapshot()) }
	for {
		select {
		case <-tick:
			if err := emit(); err != nil {
				fmt.Fprintln(stderr, "smtpsink:", err)
				_ = srv.Close()
				return 1
			}
		case <-ctx.Done():
			_ = srv.Close()
			if err := emit(); err != nil {
				fmt.Fprintln(stderr, "smtpsink:", err)
				return 1
			}
			return 0
		}
	}
}

// serveStats serves GET /stats on addr until Close. Its Addr is the address
// it listens on.
func serveStats(addr string, snapshot func() counts, stderr io.Writer) (*http.Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(snapshot())
	})
	hs := &http.Server{Addr: ln.Addr().String(), Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(stderr, "smtpsink: stats:", err)
		}
	}()
	return hs, nil
}
