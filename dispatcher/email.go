package dispatcher

import (
	"fmt"
	"strings"

	"golang.org/x/net/idna"
)

// checkLocalPart refuses a local part (the part of an address before the
// @) that is longer than 64 bytes or not ASCII.
func checkLocalPart(local string) error {
	if len(local) > 64 {
		return fmt.Errorf("%w: the part before @ is longer than 64 characters", ErrInvalidEmail)
	}
	for i := 0; i < len(local); i++ {
		if local[i] >= 0x80 {
			return fmt.Errorf("%w: the part before @ has non-ASCII letters, which mail servers accept only with SMTPUTF8 (not supported)", ErrInvalidEmail)
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
		return "", fmt.Errorf("%w: an IP address in brackets is not accepted as a domain", ErrInvalidEmail)
	}
	for _, l := range strings.Split(d, ".") {
		if strings.HasPrefix(l, "-") || strings.HasSuffix(l, "-") {
			return "", fmt.Errorf("%w: the domain %q has a label that starts or ends with \"-\"", ErrInvalidEmail, d)
		}
	}
	a, err := idnaProfile.ToASCII(d)
	if err != nil {
		return "", fmt.Errorf("%w: the domain %q is not a valid domain name", ErrInvalidEmail, d)
	}
	labels := strings.Split(a, ".")
	if len(labels) < 2 || len(a) > 253 {
		return "", fmt.Errorf("%w: the domain %q is not a full domain name", ErrInvalidEmail, d)
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return "", fmt.Errorf("%w: the domain %q has a label that is empty, too long, or starts or ends with \"-\"", ErrInvalidEmail, d)
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return "", fmt.Errorf("%w: the domain %q may hold only letters, digits, \"-\" and dots", ErrInvalidEmail, d)
			}
		}
	}
	if strings.Trim(labels[len(labels)-1], "0123456789") == "" {
		return "", fmt.Errorf("%w: the domain %q is an IP address", ErrInvalidEmail, d)
	}
	return a, nil
}
