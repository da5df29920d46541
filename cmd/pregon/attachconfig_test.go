package main

import (
	"strings"
	"testing"
)

func TestAttachmentLimitsConfig(t *testing.T) {
	for _, tc := range []struct {
		env           map[string]string
		file, release int64
		wantErr       string
	}{
		{env: nil, file: 10 << 20, release: 20 << 20},
		{env: map[string]string{"PREGON_ATTACHMENT_MAX_BYTES": "512KB", "PREGON_RELEASE_ATTACHMENTS_MAX_BYTES": "3mb"}, file: 512 << 10, release: 3 << 20},
		{env: map[string]string{"PREGON_ATTACHMENT_MAX_BYTES": "1048576"}, file: 1 << 20, release: 20 << 20},
		{env: map[string]string{"PREGON_ATTACHMENT_MAX_BYTES": "diez"}, wantErr: "PREGON_ATTACHMENT_MAX_BYTES"},
		{env: map[string]string{"PREGON_ATTACHMENT_MAX_BYTES": "30MB"}, wantErr: "less than one file may be"},
	} {
		var errs []string
		get := func(name, def string) string {
			if v, ok := tc.env[name]; ok {
				return v
			}
			return def
		}
		bad := func(name, format string, args ...any) { errs = append(errs, name+": "+format) }
		l := loadAttachments(get, bad)
		if tc.wantErr != "" {
			if len(errs) == 0 || !strings.Contains(strings.Join(errs, "\n"), tc.wantErr) {
				t.Errorf("%v: errors %q, want %q", tc.env, errs, tc.wantErr)
			}
			continue
		}
		if len(errs) > 0 || l.MaxFileBytes != tc.file || l.MaxReleaseBytes != tc.release {
			t.Errorf("%v: %+v %q, want %d %d", tc.env, l, errs, tc.file, tc.release)
		}
	}
}
