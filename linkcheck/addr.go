package linkcheck

import (
	"fmt"
	"net/netip"
	"syscall"
)

// nonPublic are the address blocks that are not the public internet: this
// host, private and shared networks, link-local (where cloud metadata
// services answer, 169.254.169.254), multicast and broadcast, documentation
// and benchmark ranges, and the IPv6 blocks that translate or tunnel to
// IPv4 (NAT64, 6to4, Teredo), which could lead back into a private IPv4
// network. IPv4-mapped IPv6 addresses are unmapped before they are looked
// up here.
var nonPublic = func() []netip.Prefix {
	var ps []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
		"192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15",
		"198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
		"::/128", "::1/128", "64:ff9b::/96", "64:ff9b:1::/48", "100::/64", "2001::/23", "2001:db8::/32",
		"2002::/16", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
	} {
		ps = append(ps, netip.MustParsePrefix(s))
	}
	return ps
}()

// globalUnicast is the IPv6 block the public internet's addresses come from.
var globalUnicast = netip.MustParsePrefix("2000::/3")

// Public reports whether ip is an address of the public internet: not
// loopback, private, link-local, unspecified, multicast or any other
// special-purpose block.
func Public(ip netip.Addr) bool {
	ip = ip.Unmap()
	if !ip.IsValid() || ip.Zone() != "" {
		return false
	}
	if ip.Is6() && !globalUnicast.Contains(ip) {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(ip) {
			return false
		}
	}
	return true
}

// refusePrivate returns a net.Dialer Control function that refuses
// addresses that are not public, but for those in allow. It runs after the
// name was resolved, on the very address about to be connected to, so that
// neither a redirect nor a name that resolves to another address the second
// time (DNS rebinding) can reach a private network. Its error wraps
// ErrPrivateAddress.
func refusePrivate(allow []netip.Prefix) func(network, address string, _ syscall.RawConn) error {
	return func(network, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("%w: cannot read the address %q", ErrPrivateAddress, address)
		}
		ip := ap.Addr().Unmap()
		if Public(ip) {
			return nil
		}
		for _, p := range allow {
			if p.Contains(ip) {
				return nil
			}
		}
		return fmt.Errorf("%w: %s", ErrPrivateAddress, ip)
	}
}
