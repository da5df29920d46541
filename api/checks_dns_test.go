package api

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pregon/pregon/channels/email"
	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/internal/dnstest"
	"github.com/pregon/pregon/internal/testkit"
)

// TestChecksDNS: with a DNS checker, the checklist ends with a "dns" check,
// asked of a real DNS server: a warning (never an error, and the send is
// not refused) naming the From domain's missing records, then ok once they
// are published and the kept finding has expired; until then the finding
// is kept, so the server is not asked again.
func TestChecksDNS(t *testing.T) {
	dns := dnstest.Start(t)
	clock := testkit.NewClock(time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	a := newRedisAPI(t, func(c *Config) {
		c.Now = clock.Now
		c.DNS = &email.DNSChecker{Resolver: dns.Resolver(), Domain: "rio-vivo.example"}
	})
	list := a.newList()
	a.addMember(list, "marta@diario.example")
	id := a.newRelease(list, 100, nil)
	dnsOf := func() dispatcher.Check {
		t.Helper()
		var cs []dispatcher.Check
		a.must("GET", "/v1/releases/"+id+"/checks", "", http.StatusOK, &cs)
		if len(cs) == 0 || cs[len(cs)-1].Name != "dns" {
			b, _ := json.Marshal(cs)
			t.Fatalf("checks %s: want a dns check last", b)
		}
		return cs[len(cs)-1]
	}

	c := dnsOf()
	if c.Level != dispatcher.CheckWarning || !strings.Contains(c.Message, "No SPF record at rio-vivo.example") ||
		!strings.Contains(c.Message, "DKIM signing is off") || !strings.Contains(c.Message, "pregon dns check") {
		t.Errorf("nothing published: %+v; want a warning naming the missing records", c)
	}

	dns.SetTXT("rio-vivo.example", "v=spf1 include:_spf.mail.example ~all")
	dns.SetTXT("_dmarc.rio-vivo.example", "v=DMARC1; p=reject")
	if again := dnsOf(); !reflect.DeepEqual(again, c) {
		t.Errorf("within the cache time: %+v, want the kept finding %+v", again, c)
	}
	clock.Add(DefaultDNSCacheTTL)
	c = dnsOf()
	if c.Level != dispatcher.CheckWarning || strings.Contains(c.Message, "SPF") || !strings.Contains(c.Message, "1 of 3 DNS records") {
		t.Errorf("SPF and DMARC published, no DKIM: %+v; want a warning for DKIM alone", c)
	}
	// A warning never refuses a send.
	a.must("POST", "/v1/releases/"+id+"/send", `{}`, http.StatusAccepted, nil)
}
