package main

import (
	"strings"
	"testing"
)

func TestConfigRequireApproval(t *testing.T) {
	tests := []struct {
		value   string
		want    bool
		wantErr bool
	}{{"", false, false}, {"false", false, false}, {"true", true, false}, {"yes", false, true}, {"1", false, true}}
	for _, tt := range tests {
		c, err := loadConfig(env(map[string]string{"PREGON_REQUIRE_APPROVAL": tt.value}))
		switch {
		case tt.wantErr:
			if err == nil || !strings.Contains(err.Error(), "PREGON_REQUIRE_APPROVAL") {
				t.Errorf("%q: error %v, want one naming PREGON_REQUIRE_APPROVAL", tt.value, err)
			}
		case err != nil:
			t.Errorf("%q: %v", tt.value, err)
		case c.RequireApproval != tt.want:
			t.Errorf("%q: RequireApproval %v, want %v", tt.value, c.RequireApproval, tt.want)
		}
	}
}
