package main

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func TestConfigChecksVariables(t *testing.T) {
	tests := []struct {
		vars    map[string]string
		wantErr string // "" for none
		check   func(*checksConfig) bool
	}{
		{map[string]string{}, "", func(c *checksConfig) bool {
			return !c.Links.AllowPrivate && len(c.Links.Allow) == 0
		}},
		{map[string]string{"PREGON_CHECK_PRIVATE_LINKS": "true"}, "", func(c *checksConfig) bool { return c.Links.AllowPrivate }},
		{map[string]string{"PREGON_CHECK_PRIVATE_LINKS": "false"}, "", func(c *checksConfig) bool { return !c.Links.AllowPrivate }},
		{map[string]string{"PREGON_CHECK_PRIVATE_LINKS": "10.1.2.0/24, 192.168.7.9"}, "", func(c *checksConfig) bool {
			return !c.Links.AllowPrivate && slices.Equal(c.Links.Allow, []netip.Prefix{netip.MustParsePrefix("10.1.2.0/24"), netip.MustParsePrefix("192.168.7.9/32")})
		}},
		{map[string]string{"PREGON_CHECK_PRIVATE_LINKS": "yes"}, "PREGON_CHECK_PRIVATE_LINKS", nil},
		{map[string]string{"PREGON_CHECK_PRIVATE_LINKS": ","}, "PREGON_CHECK_PRIVATE_LINKS", nil},
	}
	for _, tt := range tests {
		c, err := loadConfig(env(tt.vars))
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%v: %v", tt.vars, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%v: error %v, want one naming %s", tt.vars, err, tt.wantErr)
		case tt.check != nil && !tt.check(&c.Checks):
			t.Errorf("%v: config %+v", tt.vars, c.Checks)
		}
	}
}
