package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os/user"
	"text/tabwriter"
	"time"

	"github.com/pregon/pregon/audit"
	"github.com/pregon/pregon/auth"
	"github.com/pregon/pregon/store"
)

const tokenUsage = `usage: pregon token create --name N --role admin|coordinator|viewer [--expires 720h]
       pregon token list
       pregon token revoke TOKEN_ID`

// tokenCmd runs "pregon token ...": it manages API tokens directly in Redis
// (PREGON_REDIS_URL), so it works before any token exists.
func tokenCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		return fmt.Errorf("%s", tokenUsage)
	}
	now := time.Now
	switch args[0] {
	case "create":
		fs := flag.NewFlagSet("token create", flag.ContinueOnError)
		fs.SetOutput(stderr)
		name := fs.String("name", "", "who or what the token is for (required)")
		role := fs.String("role", "", "admin, coordinator or viewer (required)")
		expires := fs.Duration("expires", 0, "how long the token works, e.g. 720h (default: until revoked)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if fs.NArg() > 0 {
			return fmt.Errorf("token create: unexpected arguments %q", fs.Args())
		}
		if *name == "" {
			return fmt.Errorf("token create: --name is required")
		}
		r := auth.Role(*role)
		if !r.Valid() {
			return fmt.Errorf("token create: --role must be admin, coordinator or viewer, got %q", *role)
		}
		if *expires < 0 {
			return fmt.Errorf("token create: --expires must be a positive duration such as 720h, got %v", *expires)
		}
		tok := &auth.Token{Name: *name, Role: r}
		if *expires > 0 {
			at := now().Add(*expires).UTC().Truncate(time.Millisecond)
			tok.ExpiresAt = &at
		}
		return withStore(ctx, getenv, func(st *store.Store) error {
			secret, err := auth.NewSecret()
			if err != nil {
				return err
			}
			if err := st.CreateToken(ctx, auth.Hash(secret), tok); err != nil {
				return err
			}
			err = st.AppendAudit(ctx, &audit.Entry{Actor: cliActor(getenv), Action: audit.TokenCreate, Target: tok.ID,
				Client: "local", Detail: map[string]any{"name": tok.Name, "role": string(tok.Role)}})
			if err != nil {
				// A token that cannot be recorded is not handed out: it was
				// never shown, so taking it back loses nothing.
				if rerr := st.RevokeToken(ctx, tok.ID); rerr != nil {
					return fmt.Errorf("token %s was created but could not be recorded in the audit log (%w), nor revoked (%w): revoke it with pregon token revoke %s", tok.ID, err, rerr, tok.ID)
				}
				return fmt.Errorf("no token created: it could not be recorded in the audit log: %w", err)
			}
			fmt.Fprintln(stdout, secret)
			fmt.Fprintf(stderr, "token %s (%s, %s) created; it is shown only this once\n", tok.ID, tok.Name, tok.Role)
			return nil
		})
	case "list":
		if len(args) > 1 {
			return fmt.Errorf("token list: unexpected arguments %q", args[1:])
		}
		return withStore(ctx, getenv, func(st *store.Store) error {
			ts, err := st.Tokens(ctx)
			if err != nil {
				return err
			}
			return printTokens(stdout, ts, now())
		})
	case "revoke":
		if len(args) != 2 {
			return fmt.Errorf("usage: pregon token revoke TOKEN_ID (the id that pregon token list shows)")
		}
		return withStore(ctx, getenv, func(st *store.Store) error {
			if err := st.RevokeToken(ctx, args[1]); err != nil {
				return err
			}
			err := st.AppendAudit(ctx, &audit.Entry{Actor: cliActor(getenv), Action: audit.TokenRevoke, Target: args[1], Client: "local"})
			if err != nil {
				return fmt.Errorf("token %s revoked, but the revocation could not be recorded in the audit log: %w", args[1], err)
			}
			fmt.Fprintf(stderr, "token %s revoked\n", args[1])
			return nil
		})
	}
	return fmt.Errorf("token: unknown command %q\n%s", args[0], tokenUsage)
}

// cliActor names who runs the pregon command on the server, for the audit
// log: "cli:" and the operating system's user (from the system, else
// $USER), or "cli" when neither says.
func cliActor(getenv func(string) string) string {
	name := getenv("USER")
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	if name == "" {
		return "cli"
	}
	return "cli:" + name
}

// withStore runs f with a store on the configured Redis.
func withStore(ctx context.Context, getenv func(string) string, f func(*store.Store) error) error {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	st, closeRedis, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeRedis()
	return f(st)
}

// printTokens writes one line per token: its id, name, role, and times.
func printTokens(w io.Writer, ts []*auth.Token, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tROLE\tCREATED\tEXPIRES\tLAST USED")
	when := func(t *time.Time, none string) string {
		if t == nil {
			return none
		}
		return t.UTC().Format(time.RFC3339)
	}
	for _, t := range ts {
		exp := when(t.ExpiresAt, "never")
		if t.Expired(now) {
			exp += " (expired)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Role,
			t.CreatedAt.UTC().Format(time.RFC3339), exp, when(t.LastUsedAt, "never"))
	}
	return tw.Flush()
}
