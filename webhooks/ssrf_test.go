package webhooks_test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/pregon/pregon/webhooks"
)

// fakeResolver answers every name with its addresses.
type fakeResolver map[string][]string

func (f fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	as, ok := f[host]
	if !ok {
		return nil, errors.New("no such host")
	}
	var out []netip.Addr
	for _, a := range as {
		out = append(out, netip.MustParseAddr(a))
	}
	return out, nil
}

func TestCheckURL(t *testing.T) {
	res := fakeResolver{
		"hooks.example.org":    {"93.184.216.34"},
		"internal.example.org": {"10.0.0.5"},
		"mixed.example.org":    {"93.184.216.34", "127.0.0.1"},
		"metadata.example.org": {"169.254.169.254"},
		"v6.example.org":       {"2606:2800:220:1::1"},
		"v6local.example.org":  {"::1"},
	}
	strict := webhooks.Policy{}
	private := webhooks.Policy{AllowPrivate: true}
	local := webhooks.Policy{AllowPrivate: true, AllowHTTP: true}
	cases := []struct {
		name   string
		policy webhooks.Policy
		url    string
		want   string // "" when allowed; else a text of the refusal
	}{
		{"https public", strict, "https://hooks.example.org/pregon?k=1", ""},
		{"https public v6", strict, "https://v6.example.org/", ""},
		{"http public", strict, "http://hooks.example.org/", "must use https"},
		{"http public even when http is allowed", local, "http://hooks.example.org/", "public address"},
		{"ftp", strict, "ftp://hooks.example.org/", "must use https"},
		{"relative", strict, "/hooks", "absolute URL"},
		{"no host", strict, "https:///x", "absolute URL"},
		{"user info", strict, "https://u:p@hooks.example.org/", "user name"},
		{"fragment", strict, "https://hooks.example.org/#x", "fragment"},
		{"unresolvable", strict, "https://nowhere.example.org/", "does not resolve"},
		{"loopback literal", strict, "https://127.0.0.1/", "loopback or private"},
		{"localhost", strict, "https://localhost:8443/", "loopback or private"},
		{"v6 loopback", strict, "https://[::1]/", "loopback or private"},
		{"v4-mapped v6 loopback", strict, "https://[::ffff:127.0.0.1]/", "loopback or private"},
		{"private by name", strict, "https://internal.example.org/", "loopback or private"},
		{"one of the names' addresses is loopback", strict, "https://mixed.example.org/", "loopback or private"},
		{"v6 loopback by name", strict, "https://v6local.example.org/", "loopback or private"},
		{"private allowed", private, "https://internal.example.org/", ""},
		{"http private, allowed", local, "http://127.0.0.1:9000/hook", ""},
		{"http private, http not allowed", private, "http://127.0.0.1:9000/hook", "must use https"},
		{"link-local metadata, even when private is allowed", local, "http://169.254.169.254/latest/meta-data", "not allowed"},
		{"link-local by name", private, "https://metadata.example.org/", "not allowed"},
		{"unspecified", local, "http://0.0.0.0:80/", "not allowed"},
		{"CGNAT", strict, "https://100.64.1.1/", "loopback or private"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.policy.CheckURL(context.Background(), res, c.url)
			if c.want == "" {
				if err != nil {
					t.Errorf("CheckURL(%q) = %v, want it allowed", c.url, err)
				}
				return
			}
			var ue *webhooks.URLError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("CheckURL(%q) = %v, want a *URLError saying %q", c.url, err, c.want)
			}
		})
	}
}

// TestDialerRefusesLoopback: the dialer checks the address it connects to,
// whatever name led there.
func TestDialerRefusesLoopback(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	ctx := context.Background()
	for _, addr := range []string{ln.Addr().String(), "localhost:" + strings.Split(ln.Addr().String(), ":")[1]} {
		_, err = webhooks.Policy{}.Dialer(false).DialContext(ctx, "tcp", addr)
		if !errors.Is(err, webhooks.ErrForbiddenAddress) {
			t.Errorf("strict dial %s = %v, want ErrForbiddenAddress", addr, err)
		}
	}
	c, err := webhooks.Policy{AllowPrivate: true}.Dialer(false).DialContext(ctx, "tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("dial with private allowed: %v", err)
	}
	c.Close()
}
