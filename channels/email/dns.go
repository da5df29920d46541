package email

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/pregon/pregon/dispatcher"
)

// TXTResolver looks up DNS TXT records; *net.Resolver is one.
type TXTResolver interface {
	LookupTXT(ctx context.Context, name string) ([]string, error)
}

// DNSLevel is how a DNS record stands.
type DNSLevel string

// The levels of a DNSCheck.
const (
	DNSOK      DNSLevel = "ok"
	DNSWarning DNSLevel = "warning" // works, but weaker than it should be
	DNSMissing DNSLevel = "error"   // missing or wrong: receivers will not trust the mail
)

// DNSCheck is what CheckDNS found of one record.
type DNSCheck struct {
	Name    string   // "spf", "dkim rsa2026", "dmarc"
	Level   DNSLevel //
	Message string   // a sentence for a person
	// Record is what to publish when the level is not ok: the TXT record's
	// name and value ("" when nothing is to be published).
	RecordName, RecordValue string
}

// CheckDNS reads the SPF, DKIM and DMARC records that let receivers trust
// mail from fromDomain signed with dkim (nil: signing is off), and says of
// each whether it is there and right, and what to publish when it is not.
// A lookup that fails for another reason than the name or record not
// existing is reported as such, never taken for a missing record.
func CheckDNS(ctx context.Context, r TXTResolver, fromDomain string, dkim *DKIM) []DNSCheck {
	if r == nil {
		r = net.DefaultResolver
	}
	fromDomain = strings.ToLower(strings.TrimSuffix(fromDomain, "."))
	out := []DNSCheck{checkSPF(ctx, r, fromDomain)}
	if dkim == nil || len(dkim.Keys) == 0 {
		out = append(out, DNSCheck{Name: "dkim", Level: DNSWarning,
			Message: "DKIM signing is off (PREGON_DKIM_DOMAIN, PREGON_DKIM_SELECTOR, PREGON_DKIM_KEY_FILE): receivers cannot tell the mail really comes from " + fromDomain + "."})
	} else {
		for _, k := range dkim.Keys {
			out = append(out, checkDKIM(ctx, r, dkim.Domain, k))
		}
	}
	return append(out, checkDMARC(ctx, r, fromDomain, dkim))
}

// lookup returns the TXT records at name; a name or record that does not
// exist gives none and no error.
func lookup(ctx context.Context, r TXTResolver, name string) ([]string, error) {
	txt, err := r.LookupTXT(ctx, name)
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
		return nil, nil
	}
	return txt, err
}

// withPrefix returns the records that start with the version tag v (such
// as "v=spf1"), case-insensitively, followed by the end, a space or ";".
func withPrefix(txt []string, v string) []string {
	var out []string
	for _, t := range txt {
		t = strings.TrimSpace(t)
		if len(t) >= len(v) && strings.EqualFold(t[:len(v)], v) && (len(t) == len(v) || strings.ContainsRune(" ;\t", rune(t[len(v)]))) {
			out = append(out, t)
		}
	}
	return out
}

func checkSPF(ctx context.Context, r TXTResolver, domain string) DNSCheck {
	c := DNSCheck{Name: "spf", RecordName: domain, RecordValue: "v=spf1 include:YOUR-SMTP-PROVIDER -all"}
	txt, err := lookup(ctx, r, domain)
	if err != nil {
		c.Level, c.Message = DNSMissing, fmt.Sprintf("Could not look up the SPF record of %s: %v.", domain, err)
		return c
	}
	spf := withPrefix(txt, "v=spf1")
	switch {
	case len(spf) == 0:
		c.Level, c.Message = DNSMissing, "No SPF record at "+domain+": publish one naming the hosts that send your mail (your SMTP provider's include, or its addresses)."
	case len(spf) > 1:
		c.Level, c.Message = DNSMissing, fmt.Sprintf("%d SPF records at %s; receivers treat more than one as an error (RFC 7208): merge them into one.", len(spf), domain)
	default:
		terms := strings.Fields(strings.ToLower(spf[0]))
		last := terms[len(terms)-1]
		switch last {
		case "+all", "all":
			c.Level, c.Message = DNSWarning, "The SPF record of "+domain+" lets any host on the internet send as it ("+last+"): end it with -all or ~all."
		case "?all":
			c.Level, c.Message = DNSWarning, "The SPF record of "+domain+" ends with ?all, which says nothing about other hosts: end it with -all or ~all."
		default:
			c.Level, c.Message, c.RecordName, c.RecordValue = DNSOK, "SPF: "+spf[0], "", ""
		}
	}
	return c
}

// tags parses a DKIM or DMARC record's tag=value list. Whitespace around
// tags and inside values (a long key split over lines) is dropped.
func tags(record string) map[string]string {
	out := map[string]string{}
	for part := range strings.SplitSeq(record, ";") {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			continue
		}
		out[strings.ToLower(strings.TrimSpace(k))] = strings.Join(strings.Fields(v), "")
	}
	return out
}

func checkDKIM(ctx context.Context, r TXTResolver, domain string, k DKIMKey) DNSCheck {
	name := k.Selector + "._domainkey." + domain
	want := DKIMRecord(k.Signer)
	c := DNSCheck{Name: "dkim " + k.Selector, RecordName: name, RecordValue: want}
	txt, err := lookup(ctx, r, name)
	if err != nil {
		c.Level, c.Message = DNSMissing, fmt.Sprintf("Could not look up the DKIM key at %s: %v.", name, err)
		return c
	}
	wt := tags(want)
	var found []map[string]string
	for _, t := range txt {
		if tg := tags(t); tg["p"] != "" || strings.Contains(t, "p=") {
			found = append(found, tg)
		}
	}
	switch {
	case len(found) == 0:
		c.Level, c.Message = DNSMissing, "No DKIM key at "+name+": receivers cannot verify the signature."
		return c
	case len(found) > 1:
		c.Level, c.Message = DNSMissing, fmt.Sprintf("%d DKIM records at %s: publish exactly one.", len(found), name)
		return c
	}
	got := found[0]
	kind := got["k"]
	if kind == "" {
		kind = "rsa" // the default (RFC 6376, 3.6.1)
	}
	switch {
	case got["p"] == "":
		c.Level, c.Message = DNSMissing, "The DKIM key at "+name+" is revoked (empty p=)."
	case kind != wt["k"] || got["p"] != wt["p"]:
		c.Level, c.Message = DNSMissing, "The DKIM key at "+name+" is not the public half of the key Pregón signs with: signatures will fail."
	default:
		c.Level, c.Message, c.RecordName, c.RecordValue = DNSOK, "DKIM: "+name+" publishes the "+wt["k"]+" key Pregón signs with.", "", ""
	}
	return c
}

// checkDMARC looks for the DMARC policy of domain, then of its parents
// (the policy of the organisational domain applies to its subdomains; without
// the public suffix list every parent with a dot is tried).
func checkDMARC(ctx context.Context, r TXTResolver, domain string, dkim *DKIM) DNSCheck {
	c := DNSCheck{Name: "dmarc", RecordName: "_dmarc." + domain, RecordValue: "v=DMARC1; p=none; rua=mailto:dmarc@" + domain}
	for d := domain; strings.Contains(d, "."); d = d[strings.IndexByte(d, '.')+1:] {
		txt, err := lookup(ctx, r, "_dmarc."+d)
		if err != nil {
			c.Level, c.Message = DNSMissing, fmt.Sprintf("Could not look up the DMARC policy at _dmarc.%s: %v.", d, err)
			return c
		}
		recs := withPrefix(txt, "v=DMARC1")
		if len(recs) == 0 {
			continue
		}
		if len(recs) > 1 {
			c.Level, c.Message = DNSMissing, fmt.Sprintf("%d DMARC records at _dmarc.%s: receivers ignore them all; publish exactly one.", len(recs), d)
			return c
		}
		policy := tags(recs[0])["p"]
		if d != domain {
			policy = cmp.Or(tags(recs[0])["sp"], policy)
		}
		switch {
		case dkim != nil && !Aligned(domain, dkim.Domain):
			c.Level, c.Message = DNSWarning, "DMARC at _dmarc."+d+", but the DKIM domain "+dkim.Domain+" is not aligned with "+domain+": DMARC will not count the signature."
		case policy == "none":
			c.Level, c.Message = DNSWarning, "DMARC at _dmarc."+d+" only monitors (p=none): move to p=quarantine once its reports show your mail passes."
		case policy == "quarantine" || policy == "reject":
			c.Level, c.Message, c.RecordName, c.RecordValue = DNSOK, "DMARC: "+recs[0], "", ""
		default:
			c.Level, c.Message = DNSMissing, "The DMARC record at _dmarc."+d+" has no valid policy (p=none, quarantine or reject)."
		}
		return c
	}
	c.Level, c.Message = DNSMissing, "No DMARC policy at _dmarc."+domain+" nor its parent domains: receivers such as Gmail and Yahoo expect one from bulk senders."
	return c
}

// DNSChecker is CheckDNS for one From domain and DKIM setup, as the
// pre-send checklist asks it (api.DNSChecker).
type DNSChecker struct {
	// Resolver asks the records; nil means the system's.
	Resolver TXTResolver
	// Domain is the From address's domain; DKIM the signing keys (nil:
	// signing is off).
	Domain string
	DKIM   *DKIM
}

// CheckDNS returns CheckDNS's findings as checks: ok, warning, or error for
// a record that is missing or wrong. It never fails.
func (c *DNSChecker) CheckDNS(ctx context.Context) []dispatcher.Check {
	found := CheckDNS(ctx, c.Resolver, c.Domain, c.DKIM)
	out := make([]dispatcher.Check, len(found))
	for i, f := range found {
		lvl := dispatcher.CheckOK
		switch f.Level {
		case DNSWarning:
			lvl = dispatcher.CheckWarning
		case DNSMissing:
			lvl = dispatcher.CheckError
		}
		out[i] = dispatcher.Check{Name: f.Name, Level: lvl, Message: f.Message}
	}
	return out
}
