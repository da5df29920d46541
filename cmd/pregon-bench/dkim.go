package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"strings"
)

// dkimModes are the values of -dkim: the email runs repeated unsigned, with
// an RSA-2048 key, and with an Ed25519 key.
var dkimModes = []string{"off", "rsa", "ed25519"}

// parseDKIMModes parses -dkim's comma-separated modes.
func parseDKIMModes(v string) ([]string, error) {
	var out []string
	for m := range strings.SplitSeq(v, ",") {
		m = strings.TrimSpace(m)
		if m == "" {
			continue
		}
		known := false
		for _, k := range dkimModes {
			known = known || k == m
		}
		if !known {
			return nil, fmt.Errorf("-dkim: want modes among %s, got %q", strings.Join(dkimModes, ","), m)
		}
		out = append(out, m)
	}
	if len(out) == 0 {
		out = []string{"off"}
	}
	return out, nil
}

// dkimEnv writes a fresh key of the mode's kind under the output folder and
// returns the PREGON_DKIM_* variables that make pregon sign with it (none
// for "off").
func (b *bench) dkimEnv(mode string) (map[string]string, error) {
	if mode == "off" {
		return nil, nil
	}
	var key any
	var err error
	if mode == "rsa" {
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	} else {
		_, key, err = ed25519.GenerateKey(rand.Reader)
	}
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	path := b.outPath("dkim-" + mode + ".pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return nil, err
	}
	return map[string]string{
		"PREGON_DKIM_DOMAIN":   "pregon.example.org", // PREGON_FROM's domain
		"PREGON_DKIM_SELECTOR": "bench-" + mode,
		"PREGON_DKIM_KEY_FILE": path,
	}, nil
}
