package webhooks

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// ErrForbiddenAddress is a webhook destination on an address Pregón does
// not post to: loopback, private or shared (CGNAT) networks unless
// Policy.AllowPrivate, and never link-local (cloud metadata services live
// there), unspecified, multicast or broadcast addresses.
var ErrForbiddenAddress = errors.New("address not allowed for webhooks")

// Policy says where webhooks may post. The zero Policy allows https to
// public addresses only.
type Policy struct {
	// AllowPrivate allows loopback and private addresses
	// (PREGON_WEBHOOKS_ALLOW_PRIVATE): for receivers on the same machine or
	// network.
	AllowPrivate bool
	// AllowHTTP allows plain http:// URLs, to loopback and private
	// addresses only, and only with AllowPrivate (PREGON_WEBHOOKS_ALLOW_HTTP).
	// A signed event over plain HTTP on the internet could be read on the
	// way.
	AllowHTTP bool
}

// sharedSpace is RFC 6598's carrier-grade NAT range, private in practice.
var sharedSpace = netip.MustParsePrefix("100.64.0.0/10")

// private reports whether a is on a loopback or private network.
func private(a netip.Addr) bool {
	return a.IsLoopback() || a.IsPrivate() || sharedSpace.Contains(a)
}

// checkAddr returns nil when a webhook may post to a, with private saying
// whether a private address is needed (plain http).
func (p Policy) checkAddr(a netip.Addr, needPrivate bool) error {
	a = a.Unmap()
	switch {
	case !a.IsValid(), a.IsUnspecified(), a.IsMulticast(), a.IsLinkLocalUnicast(), a.IsLinkLocalMulticast(),
		a.IsInterfaceLocalMulticast(), a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return fmt.Errorf("%s: %w", a, ErrForbiddenAddress)
	case private(a) && !p.AllowPrivate:
		return fmt.Errorf("%s is a loopback or private address (set PREGON_WEBHOOKS_ALLOW_PRIVATE=true to allow): %w", a, ErrForbiddenAddress)
	case needPrivate && !private(a):
		return fmt.Errorf("%s is a public address, and plain http is allowed only to private ones: use https: %w", a, ErrForbiddenAddress)
	}
	return nil
}

// URLError is a webhook URL that Pregón refuses, and why.
type URLError struct{ Reason string }

func (e *URLError) Error() string { return "url " + e.Reason }

// checkURL parses raw and checks its form: https (or http when allowed),
// a host, no user information, no fragment. It does not resolve the host.
func (p Policy) checkURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	switch {
	case err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "":
		return nil, &URLError{"must be an absolute URL such as https://example.org/hooks/pregon"}
	case len(raw) > 2048:
		return nil, &URLError{"must be at most 2048 characters"}
	case u.User != nil:
		return nil, &URLError{"must not hold a user name or password"}
	case u.Fragment != "":
		return nil, &URLError{"must not have a #fragment"}
	case u.Scheme == "https":
	case u.Scheme == "http" && p.AllowHTTP && p.AllowPrivate:
	case u.Scheme == "http":
		return nil, &URLError{"must use https (plain http is allowed only to private addresses, with PREGON_WEBHOOKS_ALLOW_HTTP=true and PREGON_WEBHOOKS_ALLOW_PRIVATE=true)"}
	default:
		return nil, &URLError{"must use https"}
	}
	return u, nil
}

// Resolver looks up a host's addresses; *net.Resolver implements it.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// CheckURL returns nil when a webhook may be registered for raw: its form
// is right and every address its host resolves to is allowed. A refusal is
// a *URLError. (The check is made again when each event is delivered, on
// the address actually dialled: a name may resolve elsewhere later.)
func (p Policy) CheckURL(ctx context.Context, r Resolver, raw string) error {
	u, err := p.checkURL(raw)
	if err != nil {
		return err
	}
	host := u.Hostname()
	addrs := []netip.Addr{}
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = append(addrs, a)
	} else if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		addrs = append(addrs, netip.MustParseAddr("127.0.0.1"))
	} else {
		lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if addrs, err = r.LookupNetIP(lctx, "ip", host); err != nil || len(addrs) == 0 {
			return &URLError{fmt.Sprintf("host %s does not resolve: %v", host, err)}
		}
	}
	for _, a := range addrs {
		if err := p.checkAddr(a, u.Scheme == "http"); err != nil {
			return &URLError{"resolves to a forbidden address: " + err.Error()}
		}
	}
	return nil
}

// Dialer returns a dialer that refuses to connect to an address the policy
// does not allow (with needPrivate, to any public address): the check is on
// the address dialled, after resolution, so a name that resolves to an
// internal address at delivery time is refused too.
func (p Policy) Dialer(needPrivate bool) *net.Dialer {
	return &net.Dialer{
		Timeout: 10 * time.Second,
		Control: func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("dial %s: %w", address, ErrForbiddenAddress)
			}
			return p.checkAddr(ap.Addr(), needPrivate)
		},
	}
}
