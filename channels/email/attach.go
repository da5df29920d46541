package email

import (
	"bytes"
	"encoding/base64"
	"mime"

	"github.com/pregon/pregon/dispatcher"
)

// Attachments (issue 10 item 5). A content with files is sent as
//
//	multipart/mixed
//	├── multipart/related            (only with an inline lead image)
//	│   ├── multipart/alternative    (text, HTML: encodeBody)
//	│   └── image/...                Content-ID: <...>, inline
//	└── application/pdf, image/...   attachment, one part per file
//
// Each file is base64-encoded once, with the rest of the body, when the
// body is encoded for the content (bodyCache): once per release and
// language, whatever the number of recipients.

// base64Line is the length of a base64 line (RFC 2045: at most 76).
const base64Line = 76

// wrapAttachments wraps b, the multipart/alternative body of c, in the
// multipart/related and multipart/mixed parts that carry c's files.
func wrapAttachments(b *encodedBody, c *dispatcher.EmailContent, boundary string) {
	var inline, files []dispatcher.EmailAttachment
	for _, a := range c.Attachments {
		if a.ContentID != "" {
			inline = append(inline, a)
		} else {
			files = append(files, a)
		}
	}
	var prefix, suffix bytes.Buffer
	ctype := b.contentType
	wrap := func(kind, boundary, extra string, parts []dispatcher.EmailAttachment, disposition string) {
		var p bytes.Buffer
		p.WriteString("--" + boundary + "\r\nContent-Type: " + ctype + "\r\n\r\n")
		p.Write(prefix.Bytes())
		prefix = p
		for _, a := range parts {
			suffix.WriteString("--" + boundary + "\r\n")
			writeFilePart(&suffix, a, disposition)
		}
		suffix.WriteString("--" + boundary + "--\r\n")
		ctype = kind + `; boundary="` + boundary + `"` + extra
	}
	if len(inline) > 0 {
		wrap("multipart/related", boundary+"-r", `; type="multipart/alternative"`, inline, "inline")
	}
	if len(files) > 0 {
		wrap("multipart/mixed", boundary+"-m", "", files, "attachment")
	}
	b.contentType = ctype
	b.withLink[0] = append(bytes.Clone(prefix.Bytes()), b.withLink[0]...)
	last := len(b.withLink) - 1
	b.withLink[last] = append(b.withLink[last], suffix.Bytes()...)
	b.noLink = append(append(bytes.Clone(prefix.Bytes()), b.noLink...), suffix.Bytes()...)
}

// writeFilePart writes a's MIME part: its headers (the file name as
// RFC 2231 parameters when it is not ASCII) and its bytes in base64.
func writeFilePart(w *bytes.Buffer, a dispatcher.EmailAttachment, disposition string) {
	name := headerValue(a.Filename)
	w.WriteString("Content-Type: " + mime.FormatMediaType(a.ContentType, map[string]string{"name": name}) + "\r\n")
	w.WriteString("Content-Transfer-Encoding: base64\r\n")
	w.WriteString("Content-Disposition: " + mime.FormatMediaType(disposition, map[string]string{"filename": name}) + "\r\n")
	if a.ContentID != "" {
		w.WriteString("Content-ID: <" + headerValue(a.ContentID) + ">\r\n")
	}
	w.WriteString("\r\n")
	enc := make([]byte, base64.StdEncoding.EncodedLen(len(a.Data)))
	base64.StdEncoding.Encode(enc, a.Data)
	w.Grow(len(enc) + len(enc)/base64Line*2 + 2)
	for len(enc) > base64Line {
		w.Write(enc[:base64Line])
		w.WriteString("\r\n")
		enc = enc[base64Line:]
	}
	w.Write(enc)
	w.WriteString("\r\n")
}
