package dispatcher

import (
	"fmt"
	"strings"

	"golang.org/x/net/idna"
)

// EmailError says why an address is refused, in English (Error) and for a
// program: Kind ("local_too_long", "local_non_ascii", "ip_literal",
// "domain_hyphen", "domain_invalid", "domain_not_full", "domain_label",
// "domain_chars", "domain_ip") and, for the domain's kinds, Domain. It
// wraps ErrInvalidEmail.
type EmailError struct {
	Kind   string
	Domain string
	why    string
}

func (e *EmailError) Error() string { return ErrInvalidEmail.Error() + ": " + e.why }

// Unwrap returns ErrInvalidEmail.
func (e *EmailError) Unwrap() error { return ErrInvalidEmail }

// checkLocalPart refuses a local part (the part of an address before the
// @) that is longer than 64 bytes or not ASCII.
func checkLocalPart(local string) error {
	if len(local) > 64 {
		return &EmailError{Kind: "local_too_long", why: "the part before @ is longer than 64 characters"}
	}
	for i := 0; i < len(local); i++ {
		if local[i] >= 0x80 {
			return &EmailError{Kind: "local_non_ascii", why: "the part before @ has non-ASCII letters, which mail servers accept only with SMTPUTF8 (not supported)"}
		}
	}
	return nil
}

// idnaProfile converts internationalised domains the way resolvers look them
// up: lower-cased, with the IDNA2008 rules for hyphens and bidi text.
var idnaProfile = idna.New(idna.MapForLookup(), idna.BidiRule(), idna.ValidateLabels(true),
	idna.StrictDomainName(true), idna.CheckHyphens(true))

// asciiDomain returns the domain of an address lower-cased and in ASCII, or
// an error wrapping ErrInvalidEmail: IP literals are refused, as are
// domains without a dot, with an empty label or one longer than 63
// characters, a label that starts or ends with "-", and an all-numeric
// top-level label (an IP address written without brackets).
func asciiDomain(d string) (string, error) {
	if strings.HasPrefix(d, "[") {
		return "", &EmailError{Kind: "ip_literal", why: "an IP address in brackets is not accepted as a domain"}
	}
	for _, l := range strings.Split(d, ".") {
		if strings.HasPrefix(l, "-") || strings.HasSuffix(l, "-") {
			return "", &EmailError{Kind: "domain_hyphen", Domain: d, why: fmt.Sprintf("the domain %q has a label that starts or ends with \"-\"", d)}
		}
	}
	a, err := idnaProfile.ToASCII(d)
	if err != nil {
		return "", &EmailError{Kind: "domain_invalid", Domain: d, why: fmt.Sprintf("the domain %q is not a valid domain name", d)}
	}
	labels := strings.Split(a, ".")
	if len(labels) < 2 || len(a) > 253 {
		return "", &EmailError{Kind: "domain_not_full", Domain: d, why: fmt.Sprintf("the domain %q is not a full domain name", d)}
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return "", &EmailError{Kind: "domain_label", Domain: d, why: fmt.Sprintf("the domain %q has a label that is empty, too long, or starts or ends with \"-\"", d)}
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return "", &EmailError{Kind: "domain_chars", Domain: d, why: fmt.Sprintf("the domain %q may hold only letters, digits, \"-\" and dots", d)}
			}
		}
	}
	if strings.Trim(labels[len(labels)-1], "0123456789") == "" {
		return "", &EmailError{Kind: "domain_ip", Domain: d, why: fmt.Sprintf("the domain %q is an IP address", d)}
	}
	return a, nil
}
