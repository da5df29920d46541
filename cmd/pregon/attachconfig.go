package main

import (
	"strconv"
	"strings"

	"github.com/pregon/pregon/api"
)

// loadAttachments reads the limits of release attachments (issue 10 item
// 5): PREGON_ATTACHMENT_MAX_BYTES per file (default 10 MB) and
// PREGON_RELEASE_ATTACHMENTS_MAX_BYTES for all of a release's files
// (default 20 MB), each a number of bytes or with a unit: 512KB, 10MB
// (1 MB = 1,048,576 bytes).
func loadAttachments(get func(name, def string) string, bad func(name, format string, args ...any)) api.AttachmentLimits {
	size := func(name string, def int64) int64 {
		v := strings.TrimSpace(get(name, ""))
		if v == "" {
			return def
		}
		n, ok := parseSize(v)
		if !ok || n < 1 || n > 1<<30 {
			bad(name, "want a size from 1 byte to 1GB, such as 10MB, 512KB or 1048576, got %q", v)
			return def
		}
		return n
	}
	l := api.AttachmentLimits{
		MaxFileBytes:    size("PREGON_ATTACHMENT_MAX_BYTES", api.DefaultMaxAttachmentBytes),
		MaxReleaseBytes: size("PREGON_RELEASE_ATTACHMENTS_MAX_BYTES", api.DefaultMaxReleaseAttachmentsBytes),
	}
	if l.MaxReleaseBytes < l.MaxFileBytes {
		bad("PREGON_RELEASE_ATTACHMENTS_MAX_BYTES", "is %d bytes, less than one file may be (PREGON_ATTACHMENT_MAX_BYTES, %d bytes)", l.MaxReleaseBytes, l.MaxFileBytes)
	}
	return l
}

// parseSize reads "1048576", "512KB", "10MB", "1GB" (binary units; the B
// may be left out; any case).
func parseSize(s string) (int64, bool) {
	u := strings.ToUpper(strings.TrimSpace(s))
	u = strings.TrimSuffix(u, "B")
	mult := int64(1)
	switch {
	case strings.HasSuffix(u, "K"):
		mult, u = 1<<10, strings.TrimSuffix(u, "K")
	case strings.HasSuffix(u, "M"):
		mult, u = 1<<20, strings.TrimSuffix(u, "M")
	case strings.HasSuffix(u, "G"):
		mult, u = 1<<30, strings.TrimSuffix(u, "G")
	}
	n, err := strconv.ParseInt(strings.TrimSpace(u), 10, 64)
	if err != nil || n < 0 || n > (1<<40)/mult {
		return 0, false
	}
	return n * mult, true
}
