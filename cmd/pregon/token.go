package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/pregon/pregon/auth"
)

func tokenCmd(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) == 0 || args[0] != "create" {
		return fmt.Errorf("usage: pregon token create --name N --role admin|coordinator|viewer")
	}
	fs := flag.NewFlagSet("token create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("name", "", "who or what the token is for (required)")
	role := fs.String("role", "", "admin, coordinator or viewer (required)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *name == "" {
		return fmt.Errorf("token create: --name is required")
	}
	r := auth.Role(*role)
	if !r.Valid() {
		return fmt.Errorf("token create: --role must be admin, coordinator or viewer, got %q", *role)
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	st, closeRedis, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeRedis()
	tok, err := auth.NewSecret()
	if err != nil {
		return err
	}
	if err := st.CreateToken(ctx, auth.Hash(tok), &auth.Token{Name: *name, Role: r}); err != nil {
		return err
	}
	fmt.Fprintln(stdout, tok)
	return nil
}
