package smtptest

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	netmail "net/mail"
	"net/textproto"
	"strings"
)

// Part is a leaf part of a MIME message, its body decoded.
type Part struct {
	ContentType string // media type without parameters
	Disposition string // "inline", "attachment" or ""
	Filename    string // of Content-Disposition (RFC 2231 decoded)
	ContentID   string // without angle brackets
	Data        []byte
}

// Parse parses a message as received and returns its leaf parts in order,
// decoded (base64, quoted-printable), and the media types of its multipart
// entities, outermost first: how a mail reader sees it.
func Parse(data []byte) (leaves []Part, multiparts []string, err error) {
	msg, err := netmail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		return nil, nil, fmt.Errorf("parse message: %w", err)
	}
	var walk func(h textproto.MIMEHeader, body io.Reader) error
	walk = func(h textproto.MIMEHeader, body io.Reader) error {
		mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
		if err != nil {
			return fmt.Errorf("Content-Type %q: %w", h.Get("Content-Type"), err)
		}
		if strings.HasPrefix(mt, "multipart/") {
			multiparts = append(multiparts, mt)
			mr := multipart.NewReader(body, params["boundary"])
			for {
				p, err := mr.NextRawPart()
				if err == io.EOF {
					return nil
				}
				if err != nil {
					return fmt.Errorf("%s: %w", mt, err)
				}
				if err := walk(p.Header, p); err != nil {
					return err
				}
			}
		}
		switch h.Get("Content-Transfer-Encoding") {
		case "base64":
			body = base64.NewDecoder(base64.StdEncoding, &noCRLF{r: body})
		case "quoted-printable":
			body = quotedprintable.NewReader(body)
		}
		raw, err := io.ReadAll(body)
		if err != nil {
			return fmt.Errorf("%s body: %w", mt, err)
		}
		disp, dparams, _ := mime.ParseMediaType(h.Get("Content-Disposition"))
		leaves = append(leaves, Part{ContentType: mt, Disposition: disp, Filename: dparams["filename"],
			ContentID: strings.Trim(h.Get("Content-Id"), "<>"), Data: raw})
		return nil
	}
	if err := walk(textproto.MIMEHeader(msg.Header), msg.Body); err != nil {
		return nil, nil, err
	}
	return leaves, multiparts, nil
}

// noCRLF drops CR and LF from what it reads (the line breaks of base64).
type noCRLF struct{ r io.Reader }

func (n *noCRLF) Read(p []byte) (int, error) {
	for {
		k, err := n.r.Read(p)
		j := 0
		for _, c := range p[:k] {
			if c != '\r' && c != '\n' {
				p[j] = c
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}
