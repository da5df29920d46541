// Command pregon is Pregón's one binary: the service (serve, api, worker)
// and its admin commands (token create, list, revoke).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	// The time zone database, embedded: PREGON_TIMEZONE and release time
	// zones work on hosts and images without tzdata.
	_ "time/tzdata"
)

const usage = `usage: pregon <command> [flags]

Commands:
  serve                 run the HTTP API and the workers in one process (the default)
  api                   run the HTTP API only
  worker                run the workers only (run many, on many machines, against one Redis)
  token create --name N --role admin|coordinator|viewer [--expires 720h]
                        create an API token; prints it once on stdout and stores only its hash
  token list            the API tokens: id, name, role, created, expires, last used
  token revoke ID       stop a token at once
  list create|import|contacts ...
  channel add|list ...
  release send|status|deliveries|cancel|retry|test ...
                        client commands: talk to a running Pregón's HTTP API
                        (PREGON_API_URL, PREGON_TOKEN); run "pregon release help"
  user create|list|disable|enable ...
                        people who sign in to the web app at / (run "pregon user")
  audit verify|list     check the audit log's hash chain, or print its entries (admin token)
  webhooks add|list|rm|enable|deliveries ...
                        outgoing webhooks: signed events posted to your URLs
  suppressions list|show|lift EMAIL
                        the addresses never mailed again (admin token)
  contact erase EMAIL --yes
                        erase an address on request, leaving only a keyed hash
  dns check [--domain D] [--server HOST:PORT]
                        read the SPF, DKIM and DMARC records of PREGON_FROM's domain
                        and say what to publish (fails when one is missing or wrong)
  version               print the module version, commit and Go version it was built from

Configuration comes from PREGON_* environment variables; see README.md.
`

func main() {
	tuneGC(os.Getenv)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// run runs pregon with args and returns the process exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = serve(ctx, args, stderr, getenv, roleAPI|roleWorker)
	case "api":
		err = serve(ctx, args, stderr, getenv, roleAPI)
	case "worker":
		err = serve(ctx, args, stderr, getenv, roleWorker)
	case "token":
		err = tokenCmd(ctx, args, stdout, stderr, getenv)
	case "user": // web app (issue 14)
		err = userCmd(ctx, args, stdout, stderr, getenv)
	case "dns":
		err = dnsCmd(ctx, args, stdout, stderr, getenv)
	case "list", "channel", "release", "audit", "webhooks", "suppressions", "contact":
		err = clientCmd(ctx, cmd, args, stdout, stderr, getenv)
	case "version":
		fmt.Fprintln(stdout, readVersion())
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "pregon: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 2
		}
		fmt.Fprintln(stderr, "pregon:", err)
		return 1
	}
	return 0
}

// tuneGC sets the garbage collector for a mail pipeline, unless GOGC or
// GOMEMLIMIT say otherwise: collect a third as often as Go's default
// (GOGC=300: the collector took a tenth of a worker's CPU), and harder as the
// heap nears 100 MiB, so that memory stays bounded where it matters.
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(300)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(100 << 20)
	}
}
