package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/pregon/pregon/audit"
	"github.com/pregon/pregon/auth"
	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/store"
)

const userUsage = `usage: pregon user create --email E --role admin|coordinator|viewer [--name N] [--password-file F]
       pregon user list
       pregon user disable EMAIL
       pregon user enable EMAIL`

// userCmd runs "pregon user ...": it manages the web app's people directly
// in Redis (PREGON_REDIS_URL), so that the first admin can be made before
// anyone can sign in. Without --password-file, create makes a random
// password and prints it, once, on stdout.
func userCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 {
		return fmt.Errorf("%s", userUsage)
	}
	switch args[0] {
	case "create":
		fs := flag.NewFlagSet("user create", flag.ContinueOnError)
		fs.SetOutput(stderr)
		email := fs.String("email", "", "the person's email, with which they sign in (required)")
		name := fs.String("name", "", "the person's name, as the audit log shows it")
		role := fs.String("role", "", "admin, coordinator or viewer (required)")
		pwFile := fs.String("password-file", "", "read the password from this file's first line (default: make one and print it)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if fs.NArg() > 0 {
			return fmt.Errorf("user create: unexpected arguments %q", fs.Args())
		}
		addr, err := dispatcher.NormalizeEmail(*email)
		if err != nil {
			return fmt.Errorf("user create: --email: %w", err)
		}
		r := auth.Role(*role)
		if !r.Valid() {
			return fmt.Errorf("user create: --role must be admin, coordinator or viewer, got %q", *role)
		}
		password, printed := "", false
		if *pwFile != "" {
			b, err := os.ReadFile(*pwFile)
			if err != nil {
				return fmt.Errorf("user create: --password-file: %w", err)
			}
			password, _, _ = strings.Cut(string(b), "\n")
			password = strings.TrimRight(password, "\r")
		} else {
			b := make([]byte, 15)
			if _, err := rand.Read(b); err != nil {
				return err
			}
			password, printed = base64.RawURLEncoding.EncodeToString(b), true
		}
		hash, err := auth.HashPassword(password)
		if err != nil {
			return fmt.Errorf("user create: %w", err)
		}
		u := &auth.User{Email: addr, Name: strings.TrimSpace(*name), Role: r, PasswordHash: hash}
		return withStore(ctx, getenv, func(st *store.Store) error {
			if err := st.CreateUser(ctx, u); err != nil {
				return err
			}
			err := st.AppendAudit(ctx, &audit.Entry{Actor: cliActor(getenv), Action: audit.UserCreate, Target: u.Email,
				Client: "local", Detail: map[string]any{"role": string(u.Role)}})
			if err != nil {
				return fmt.Errorf("user %s was created, but it could not be recorded in the audit log: %w", u.Email, err)
			}
			if printed {
				fmt.Fprintln(stdout, password)
				fmt.Fprintf(stderr, "user %s (%s) created; the password above is shown only this once\n", u.Email, u.Role)
			} else {
				fmt.Fprintf(stderr, "user %s (%s) created\n", u.Email, u.Role)
			}
			return nil
		})
	case "list":
		if len(args) > 1 {
			return fmt.Errorf("user list: unexpected arguments %q", args[1:])
		}
		return withStore(ctx, getenv, func(st *store.Store) error {
			us, err := st.Users(ctx)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "EMAIL\tNAME\tROLE\tSTATUS\tCREATED")
			for _, u := range us {
				status := "active"
				if u.Disabled {
					status = "disabled"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.Email, u.Name, u.Role, status, u.CreatedAt.UTC().Format("2006-01-02 15:04"))
			}
			return tw.Flush()
		})
	case "disable", "enable":
		if len(args) != 2 {
			return fmt.Errorf("usage: pregon user %s EMAIL", args[0])
		}
		disabled := args[0] == "disable"
		return withStore(ctx, getenv, func(st *store.Store) error {
			if err := st.SetUserDisabled(ctx, args[1], disabled); err != nil {
				return err
			}
			err := st.AppendAudit(ctx, &audit.Entry{Actor: cliActor(getenv), Action: audit.UserDisable, Target: strings.ToLower(args[1]),
				Client: "local", Detail: map[string]any{"disabled": disabled}})
			if err != nil {
				return fmt.Errorf("user %s changed, but the change could not be recorded in the audit log: %w", args[1], err)
			}
			fmt.Fprintf(stderr, "user %s %sd\n", args[1], args[0])
			return nil
		})
	}
	return fmt.Errorf("user: unknown command %q\n%s", args[0], userUsage)
}
