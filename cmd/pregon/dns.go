package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/pregon/pregon/api"
	"github.com/pregon/pregon/channels/email"
)

// dnsCmd runs "pregon dns check": it reads the From domain and the DKIM keys
// from the same PREGON_* variables as serve, looks up the SPF, DKIM and
// DMARC records receivers will read, and prints each with what to publish
// when it is missing or wrong. It fails when any record is missing or wrong.
func dnsCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 || args[0] != "check" {
		fmt.Fprintln(stderr, "usage: pregon dns check [--domain D] [--server HOST:PORT]")
		return flag.ErrHelp
	}
	fs := flag.NewFlagSet("dns check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	domain := fs.String("domain", "", "the From domain to check (default: PREGON_FROM's)")
	server := fs.String("server", "", "ask this DNS server (host:port, e.g. your provider's authoritative server, to check before the records spread) instead of the system's")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	d := *domain
	if d == "" {
		_, d, _ = strings.Cut(cfg.From.Address, "@")
	}
	var r email.TXTResolver
	if *server != "" {
		addr := *server
		if _, _, err := net.SplitHostPort(addr); err != nil {
			addr = net.JoinHostPort(addr, "53")
		}
		r = &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		}}
	}
	bad := 0
	for _, c := range email.CheckDNS(ctx, r, d, cfg.DKIM) {
		mark := map[email.DNSLevel]string{email.DNSOK: "ok     ", email.DNSWarning: "warning", email.DNSMissing: "error  "}[c.Level]
		fmt.Fprintf(stdout, "%s  %-14s %s\n", mark, c.Name, c.Message)
		if c.RecordValue != "" {
			fmt.Fprintf(stdout, "         publish: %s TXT %q\n", c.RecordName, c.RecordValue)
		}
		if c.Level == email.DNSMissing {
			bad++
		}
	}
	if bad > 0 {
		return fmt.Errorf("dns check: %d of the records receivers read are missing or wrong", bad)
	}
	return nil
}

// dnsChecker is the pre-send checklist's dns check of the From domain, as
// "pregon dns check" does it: nil (no check) when no SMTP server is
// configured, since then nothing is mailed.
func dnsChecker(cfg *config) api.DNSChecker {
	if cfg.SMTPURL == "" || cfg.From == nil {
		return nil
	}
	_, domain, _ := strings.Cut(cfg.From.Address, "@")
	return &email.DNSChecker{Domain: domain, DKIM: cfg.DKIM}
}
