package api

import (
	"testing"

	"github.com/pregon/pregon/dispatcher"
)

// TestAttachmentsCheck: the checklist's attachments entry counts the
// files, refuses the send (error) when a file or the whole set is over
// the limits in force now, and warns of a file for a language the release
// has no version in.
func TestAttachmentsCheck(t *testing.T) {
	s := &Server{attach: AttachmentLimits{MaxFileBytes: 1 << 20, MaxReleaseBytes: 3 << 19}.withDefaults()}
	rel := func(as ...dispatcher.Attachment) *dispatcher.Release {
		return &dispatcher.Release{Language: "es", Translations: []dispatcher.Translation{{Language: "en"}}, Attachments: as}
	}
	pdf := func(name, lang string, size int64) dispatcher.Attachment {
		return dispatcher.Attachment{Filename: name, Language: lang, Size: size, ContentType: "application/pdf"}
	}
	tests := []struct {
		name  string
		rel   *dispatcher.Release
		level dispatcher.CheckLevel
		parts []string
	}{
		{"none", rel(), dispatcher.CheckOK, []string{"No attachments."}},
		{"within", rel(pdf("informe.pdf", "", 482113), pdf("report.pdf", "en", 1000)), dispatcher.CheckOK, []string{"2 files, 471.8 kB in all."}},
		{"file over", rel(pdf("grande.pdf", "", 2<<20)), dispatcher.CheckError, []string{"1 file, 2 MB in all.", "grande.pdf is 2 MB, over the limit of 1 MB per file."}},
		{"release over", rel(pdf("a.pdf", "", 900<<10), pdf("b.pdf", "", 900<<10)), dispatcher.CheckError, []string{"The files add up to 1.8 MB, over the limit of 1.5 MB per release."}},
		{"no such language", rel(pdf("rapport.pdf", "fr", 10)), dispatcher.CheckWarning, []string{"rapport.pdf is for fr, a language the release has no version in: nobody will get it."}},
	}
	for _, tt := range tests {
		c := s.attachmentsCheck(tt.rel)
		if c.Name != "attachments" {
			t.Errorf("%s: check named %q", tt.name, c.Name)
		}
		wantCheck(t, c, tt.level, tt.parts...)
	}
}
