package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"
)

func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	var stderr strings.Builder
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, []string{"-addr", "127.0.0.1:0"}, pw, &stderr)
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
	body := "Subject: x\r\n\r\nhola\r\n"
	for range 3 {
		c, err := smtp.Dial(addr)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.SendMail("f@example.org", []string{"t@example.org"}, strings.NewReader(body)); err != nil {
			t.Fatal(err)
		}
		_ = c.Quit()
	}
	cancel()
	if !lines.Scan() {
		t.Fatalf("no report: %v", lines.Err())
	}
	var got counts
	if err := json.Unmarshal(lines.Bytes(), &got); err != nil {
		t.Fatalf("report %q: %v", lines.Text(), err)
	}
	if got.Messages != 3 || got.Bytes < int64(3*len("hola\r\n")) || got.Connections != 3 {
		t.Errorf("report %+v, want 3 messages on 3 connections", got)
	}
	if c := <-code; c != 0 {
		t.Errorf("exit code %d, stderr %q", c, stderr.String())
	}
}

func TestRunBadFlags(t *testing.T) {
	var out, errOut strings.Builder
	if c := run(context.Background(), []string{"-report", "-1s"}, &out, &errOut); c != 2 {
		t.Errorf("exit code %d, want 2", c)
	}
}
