package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/pregon/pregon/client"
)

const clientUsage = `Client commands talk to a running Pregón through its HTTP API v1.
They read PREGON_API_URL (default http://127.0.0.1:8080) and PREGON_TOKEN;
the flags --api-url and --token, accepted by every command, override them.

  pregon list create --name N --kind press|subscribers [--description D]
                                  create a list; prints its id
  pregon list import LIST_ID FILE.csv|FILE.json
                                  add or update contacts; prints the report
  pregon list contacts LIST_ID    print the list's members

  pregon channel add --chat @name|-100... [--title T] [--language es] [--exists-ok]
                                  register a Telegram channel; prints its id
  pregon channel list             print the registered channels

  pregon release send FILE.md [--list ID]... [--early-list ID]... [--channel ID]... [--translation FILE.md]...
                      [--embargo RFC3339] [--draft] [--wait [--timeout 2m]]
                                  create a release from a Markdown file with front
                                  matter and send it, unless its pre-send checklist
                                  (printed on stderr) has an error; prints its id
  pregon release checks ID        print the release's pre-send checklist: ok, warning
                                  or error (✓ ! ✗ on a terminal) and a sentence each
  pregon release status ID [--watch]
                                  print the release's status and delivery counts;
                                  --watch follows it live until it is final (a bar per
                                  channel on a terminal) and exits 0 only if it ends sent
  pregon release deliveries ID [--status S] [--channel email|telegram] [--csv]
                                  print one line per delivery (--csv: every column, as CSV)
  pregon release preview ID [--channel email|telegram] [--language L]
                                  print the release as recipients will get it
  pregon release cancel ID        stop a release that is not sent yet
  pregon release retry ID         send the failed deliveries again
  pregon release archive ID       compact a sent or cancelled release's deliveries into
                                  its archive now (they stay readable, read-only)
  pregon release edit ID [-f FILE.md] [--translation FILE.md]... [--title T] [--summary S]
                      [--source-url URL] [--embargo RFC3339|none] [--list ID]...
                      [--early-list ID]... [--channel ID]... [--version N]
                                  change a draft or scheduled release; prints its new
                                  version (an edit withdraws an approval)
  pregon release approve ID [--version N]
                                  approve a release someone else wrote (default: its
                                  current version, which is shown)
  pregon release test ID [--email ADDRESS]... [--telegram @name|-100...]... [--language L]
                                  send the release as it is now to a few addresses or
                                  chats, marked [TEST]; prints each one's result
  pregon release correct ID --note "..." [-f CORRECTED.md] [--translation FILE.md]... [--retract]
                                  correct a sent release: edits its Telegram posts and
                                  mails those who got it; prints the correction's id
  pregon release corrections ID   print the release's corrections and their counts
` + attachUsage + `
` + auditUsage + `
` + webhooksUsage + `
` + suppressionsUsage + `
` + eraseUsage + `
A release file starts with a front matter block of "key: value" lines between
two "---" lines (keys: title, summary, language, contact_name, contact_email,
contact_phone, source_url); the Markdown body follows. A translation file has
the same block with its own language, title and summary.
`

// Defaults of the client commands.
const (
	defaultAPIURL = "http://127.0.0.1:8080"
	defaultPoll   = 500 * time.Millisecond
	defaultWait   = 2 * time.Minute
)

// cli runs the client commands. Its fields are what the commands need from
// the outside world, so that tests can replace them.
type cli struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	http           *http.Client
	poll           time.Duration // how often release send --wait asks for the status
}

// clientCmd runs the client command cmd ("list", "channel", "release" or "audit") with
// args, against the HTTP API named by PREGON_API_URL or --api-url.
func clientCmd(ctx context.Context, cmd string, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	c := &cli{stdout: stdout, stderr: stderr, getenv: getenv, http: &http.Client{Timeout: time.Minute}, poll: defaultPoll}
	return c.run(ctx, cmd, args)
}

// clientCommands maps "group sub" to the function that runs it.
func (c *cli) commands() map[string]func(context.Context, []string) error {
	return map[string]func(context.Context, []string) error{
		"list create":         c.listCreate,
		"list import":         c.listImport,
		"list contacts":       c.listContacts,
		"channel add":         c.channelAdd,
		"channel list":        c.channelList,
		"release send":        c.releaseSend,
		"release status":      c.releaseStatus,
		"release deliveries":  c.releaseDeliveries,
		"release preview":     c.releasePreview,
		"release checks":      c.releaseChecks,
		"release cancel":      c.releaseCancel,
		"release retry":       c.releaseRetry,
		"release archive":     c.releaseArchive, // retention (client_archive.go)
		"audit verify":        c.auditVerify,
		"audit list":          c.auditList,
		"release edit":        c.releaseEdit,
		"release approve":     c.releaseApprove,
		"release test":        c.releaseTest,
		"release correct":     c.releaseCorrect, // client_corrections.go
		"release corrections": c.releaseCorrections,
		// Outgoing webhooks (client_webhooks.go).
		"webhooks add":        c.webhooksAdd,
		"webhooks list":       c.webhooksList,
		"webhooks rm":         c.webhooksRm,
		"webhooks enable":     c.webhooksEnable,
		"webhooks deliveries": c.webhooksDeliveries,
		// Bounces and complaints (client_suppressions.go).
		"suppressions list": c.suppressionsList,
		"suppressions lift": c.suppressionsLift,
		// Erasure on request (client_erase.go; issue 14 item 5).
		"contact erase":     c.contactErase,
		"suppressions show": c.suppressionsShow,
		// Attachments (client_attach.go; issue 10 item 5).
		"release attach": c.releaseAttach,
		"release detach": c.releaseDetach,
	}
}

func (c *cli) run(ctx context.Context, group string, args []string) error {
	if len(args) == 0 {
		return usageErr(group+": which command?", clientUsage)
	}
	sub := args[0]
	switch sub {
	case "help", "-h", "-help", "--help":
		fmt.Fprint(c.stdout, clientUsage)
		return nil
	}
	run, ok := c.commands()[group+" "+sub]
	if !ok {
		return usageErr(fmt.Sprintf("%s: unknown command %q", group, sub), clientUsage)
	}
	return explain(ctx, run(ctx, args[1:]))
}

// usageError is a mistake in a command line; its message ends with the usage.
type usageError struct{ msg, usage string }

func (e *usageError) Error() string { return e.msg + "\n\n" + strings.TrimRight(e.usage, "\n") }

func usageErr(msg, usage string) error { return &usageError{msg: msg, usage: usage} }

// command is the flag set of one client command, with the connection flags
// every command accepts.
type command struct {
	name, usage   string
	fs            *flag.FlagSet
	apiURL, token string
}

// flags returns a command named name ("release send") whose usage line is usage.
func (c *cli) flags(name, usage string) *command {
	cm := &command{name: name, usage: "usage: pregon " + usage + "\n"}
	cm.fs = flag.NewFlagSet(name, flag.ContinueOnError)
	cm.fs.SetOutput(c.stderr)
	cm.fs.StringVar(&cm.apiURL, "api-url", "", "Pregón's base URL (default $PREGON_API_URL, else "+defaultAPIURL+")")
	cm.fs.StringVar(&cm.token, "token", "", "API token (default $PREGON_TOKEN)")
	cm.fs.Usage = func() {
		fmt.Fprint(c.stderr, cm.usage)
		cm.fs.PrintDefaults()
	}
	return cm
}

// parse parses args, where flags may come before or after the positional
// arguments, and checks that there are exactly npos of those.
func (cm *command) parse(args []string, npos int, names string) ([]string, error) {
	var pos, rest []string
	for i, a := range args {
		if a == "--" {
			args, rest = args[:i], args[i+1:]
			break
		}
	}
	for {
		if err := cm.fs.Parse(args); err != nil {
			return nil, err
		}
		args = cm.fs.Args()
		if len(args) == 0 {
			break
		}
		pos, args = append(pos, args[0]), args[1:]
	}
	pos = append(pos, rest...)
	switch {
	case len(pos) < npos:
		return nil, usageErr(fmt.Sprintf("%s: missing %s", cm.name, names), cm.usage)
	case len(pos) > npos:
		return nil, usageErr(fmt.Sprintf("%s: unexpected argument %q", cm.name, pos[npos]), cm.usage)
	}
	for i, p := range pos {
		if strings.TrimSpace(p) == "" {
			return nil, usageErr(fmt.Sprintf("%s: argument %d is empty", cm.name, i+1), cm.usage)
		}
	}
	return pos, nil
}

// connect parses args like parse, then returns the positional arguments
// and a client of the API that cm's flags or the environment name.
func (c *cli) connect(cm *command, args []string, npos int, names string) ([]string, *client.Client, error) {
	pos, err := cm.parse(args, npos, names)
	if err != nil {
		return nil, nil, err
	}
	a, err := c.api(cm)
	return pos, a, err
}

// api returns a client of the API that cm's flags or the environment name.
func (c *cli) api(cm *command) (*client.Client, error) {
	base := firstNonEmpty(cm.apiURL, c.getenv("PREGON_API_URL"), defaultAPIURL)
	token := firstNonEmpty(cm.token, c.getenv("PREGON_TOKEN"))
	a, err := client.New(base, token, client.WithHTTPClient(c.http), client.WithUserAgent("pregon-cli/"+readVersion().Module))
	if err != nil {
		return nil, fmt.Errorf("PREGON_API_URL or --api-url: want an http(s) URL like %s, got %q", defaultAPIURL, base)
	}
	if token == "" {
		return nil, errors.New("no API token: set PREGON_TOKEN or pass --token " +
			"(an admin makes one with: pregon token create --name NAME --role coordinator)")
	}
	return a, nil
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return ""
}

// stringsFlag is a flag that may be repeated; each use adds a value.
type stringsFlag []string

func (f *stringsFlag) String() string { return strings.Join(*f, ",") }

func (f *stringsFlag) Set(v string) error {
	v = strings.TrimSpace(v)
	if v == "" {
		return errors.New("must not be empty")
	}
	*f = append(*f, v)
	return nil
}
