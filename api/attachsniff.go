package api

import (
	"bytes"
	"path"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The file types a release may carry, sniffed from their first bytes, and
// the extension a file of each type is offered with.
var attachmentTypes = []struct {
	contentType, ext, name string
	match                  func([]byte) bool
}{
	{"application/pdf", ".pdf", "PDF", func(b []byte) bool { return bytes.HasPrefix(b, []byte("%PDF-")) }},
	{"image/jpeg", ".jpg", "JPEG image", func(b []byte) bool { return bytes.HasPrefix(b, []byte{0xFF, 0xD8, 0xFF}) }},
	{"image/png", ".png", "PNG image", func(b []byte) bool { return bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) }},
	{"image/webp", ".webp", "WebP image", func(b []byte) bool {
		return len(b) >= 12 && bytes.HasPrefix(b, []byte("RIFF")) && string(b[8:12]) == "WEBP"
	}},
}

// refusedTypes name what a refused file is, when it is recognisably an
// executable or an archive, so that the answer can say so.
var refusedTypes = []struct {
	magic string
	name  string
}{
	{"\x7fELF", "an ELF executable"},
	{"MZ", "a Windows executable (PE)"},
	{"\xfe\xed\xfa\xce", "a Mach-O executable"},
	{"\xfe\xed\xfa\xcf", "a Mach-O executable"},
	{"\xce\xfa\xed\xfe", "a Mach-O executable"},
	{"\xcf\xfa\xed\xfe", "a Mach-O executable"},
	{"\xca\xfe\xba\xbe", "a Mach-O or Java executable"},
	{"#!", "a script"},
	{"PK\x03\x04", "a ZIP archive (or an Office document, which is one)"},
	{"PK\x05\x06", "a ZIP archive"},
	{"\x1f\x8b", "a gzip archive"},
	{"Rar!", "a RAR archive"},
	{"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"},
	{"BZh", "a bzip2 archive"},
	{"\xfd7zXZ\x00", "an xz archive"},
	{"\x28\xb5\x2f\xfd", "a zstd archive"},
	{"MSCF", "a Windows cabinet archive"},
	{"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Office document (OLE), which may hold macros"},
	{"\x00asm", "a WebAssembly module"},
}

// sniffAttachment returns the content type of data and its extension, or
// ok false and what the file seems to be ("" when unknown).
func sniffAttachment(data []byte) (contentType, ext, name string, ok bool) {
	for _, t := range attachmentTypes {
		if t.match(data) {
			return t.contentType, t.ext, t.name, true
		}
	}
	for _, t := range refusedTypes {
		if bytes.HasPrefix(data, []byte(t.magic)) {
			return "", "", t.name, false
		}
	}
	if len(data) >= 262 && string(data[257:262]) == "ustar" {
		return "", "", "a tar archive", false
	}
	return "", "", "", false
}

// maxFilenameBytes is the longest a stored filename may be.
const maxFilenameBytes = 150

// sanitizeFilename returns the name a file is stored and offered under:
// the last element of what the client sent (either slash), without control
// or bidirectional-formatting characters, quotes, backslashes or
// characters that file systems refuse, trimmed, at most maxFilenameBytes
// long, and ending with ext (added when it ends otherwise). An empty name
// becomes "attachment" + ext.
func sanitizeFilename(name, ext string) string {
	name = strings.ToValidUTF8(name, "")
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r), r == utf8.RuneError:
			return -1 // control characters, and bidi overrides that disguise an extension
		case strings.ContainsRune(`"'<>:|?*;%`+"`", r):
			return '_'
		case unicode.IsSpace(r):
			return ' '
		}
		return r
	}, name)
	name = strings.Join(strings.Fields(name), " ")
	name = strings.Trim(name, " .")
	base := name
	if strings.EqualFold(path.Ext(name), ext) || (ext == ".jpg" && strings.EqualFold(path.Ext(name), ".jpeg")) {
		base = name[:len(name)-len(path.Ext(name))]
		ext = name[len(base):]
	}
	base = strings.TrimRight(base, " .")
	if base == "" {
		base = "attachment"
	}
	for len(base)+len(ext) > maxFilenameBytes {
		_, size := utf8.DecodeLastRuneInString(base)
		base = base[:len(base)-size]
	}
	return base + ext
}
