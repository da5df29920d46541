package api

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// RateLimiter limits how often one client may call an endpoint that takes
// no token. It must be safe for concurrent use.
type RateLimiter interface {
	// Allow takes one turn for key under a limit of rate requests a minute.
	// It returns 0 when the request may go ahead, or how long until it may.
	Allow(ctx context.Context, key string, rate int) (retryAfter time.Duration, err error)
}

// limiterTimeout bounds the rate limiter's answer: past it the request goes
// ahead, so that an unreachable Redis does not stall the readiness check
// (which answers within about ReadyTimeout) or the public pages.
const limiterTimeout = 250 * time.Millisecond

// limit takes a turn for the request's client under the route's rate, or
// returns a 429 problem with a Retry-After. When the limiter fails (Redis is
// down) the request goes ahead, logged: a health check must still answer
// then, and a public page fails on its own without Redis.
func (s *Server) limit(r *http.Request, rt route) error {
	if s.limiter == nil {
		return nil
	}
	key := rateKey(rt.pattern) + ":" + clientKey(r, s.proxies)
	ctx, cancel := context.WithTimeout(r.Context(), limiterTimeout)
	defer cancel()
	wait, err := s.limiter.Allow(ctx, key, s.rates[rt.role])
	if err != nil {
		s.log.WarnContext(r.Context(), "rate limiter unavailable; request let through", "pattern", rt.pattern, "error", err)
		return nil
	}
	if wait <= 0 {
		return nil
	}
	secs := int((wait + time.Second - 1) / time.Second)
	return &Problem{Status: http.StatusTooManyRequests, retryAfter: secs,
		Detail: "Too many requests from this address; try again in " + strconv.Itoa(secs) + " s."}
}

// rateKey turns a route pattern into part of a Redis key: no spaces, and no
// braces, which Redis Cluster would read as a hash tag.
func rateKey(pattern string) string {
	return strings.NewReplacer(" ", "_", "{", "", "}", "").Replace(pattern)
}

// clientKey names the client of r for rate limits: its IP address (see
// clientAddr), or its /64 network for IPv6 (one host usually has a whole
// /64).
func clientKey(r *http.Request, trusted []netip.Prefix) string {
	addr, ok := clientAddr(r, trusted)
	if !ok {
		return "unknown"
	}
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return p.String()
	}
	return addr.String()
}

// clientAddr returns the IP address of r's client: the connection's, or,
// when the connection comes from a trusted proxy, the nearest address in
// X-Forwarded-For that is not a trusted proxy. ok is false when the
// connection's address cannot be read.
func clientAddr(r *http.Request, trusted []netip.Prefix) (addr netip.Addr, ok bool) {
	addr, ok = parseAddr(r.RemoteAddr)
	if !ok {
		return addr, false
	}
	if isTrusted(addr, trusted) {
		hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
		for i := len(hops) - 1; i >= 0; i-- {
			hop, ok := parseAddr(strings.TrimSpace(hops[i]))
			if !ok {
				break
			}
			addr = hop
			if !isTrusted(hop, trusted) {
				break
			}
		}
	}
	return addr, true
}

// parseAddr reads "ip", "ip:port" or "[ip]:port", unmapping IPv4-in-IPv6.
func parseAddr(s string) (netip.Addr, bool) {
	if host, _, err := net.SplitHostPort(s); err == nil {
		s = host
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}

func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ParseProxies reads a comma-separated list of IP addresses and CIDR
// prefixes (PREGON_TRUSTED_PROXIES), or returns an error naming the bad one.
func ParseProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not an IP address or a CIDR prefix", f)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}
