package auth

import (
	"strings"
	"testing"
	"time"
)

func TestRoleAllows(t *testing.T) {
	tests := []struct {
		have, need Role
		want       bool
	}{
		{RoleAdmin, RoleAdmin, true}, {RoleAdmin, RoleViewer, true},
		{RoleCoordinator, RoleAdmin, false}, {RoleCoordinator, RoleCoordinator, true},
		{RoleViewer, RoleCoordinator, false}, {RoleViewer, RoleViewer, true},
		{"guest", RoleViewer, false}, {"", "", false},
	}
	for _, tt := range tests {
		if got := tt.have.Allows(tt.need); got != tt.want {
			t.Errorf("%q.Allows(%q) = %v, want %v", tt.have, tt.need, got, tt.want)
		}
	}
}

func TestExpiredAndNeedsTouch(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { x := now.Add(d); return &x }
	tests := []struct {
		tok            Token
		expired, touch bool
	}{
		{Token{}, false, true},
		{Token{ExpiresAt: at(time.Second), LastUsedAt: at(-59 * time.Second)}, false, false},
		{Token{ExpiresAt: at(0), LastUsedAt: at(-time.Minute)}, true, true},
		{Token{ExpiresAt: at(-time.Hour), LastUsedAt: at(0)}, true, false},
	}
	for i, tt := range tests {
		if got := tt.tok.Expired(now); got != tt.expired {
			t.Errorf("%d: Expired = %v, want %v", i, got, tt.expired)
		}
		if got := tt.tok.NeedsTouch(now); got != tt.touch {
			t.Errorf("%d: NeedsTouch = %v, want %v", i, got, tt.touch)
		}
	}
}

func TestSecretsAreRandomAndHashed(t *testing.T) {
	a, errA := NewSecret()
	b, errB := NewSecret()
	if errA != nil || errB != nil || a == b || !strings.HasPrefix(a, "pgn_") || len(a) < 40 {
		t.Fatalf("NewSecret = %q, %q (%v, %v)", a, b, errA, errB)
	}
	if h := Hash(a); len(h) != 64 || h == Hash(b) || strings.Contains(h, a) {
		t.Errorf("Hash(%q) = %q", a, h)
	}
}
