package bounces

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/textproto"
	"strings"

	"github.com/emersion/go-message"

	"github.com/pregon/pregon/dispatcher"
)

// ErrNotReport is wrapped by ParseReport's errors: the message is not a
// delivery status notification or a feedback report it can read.
var ErrNotReport = errors.New("not a delivery status notification or feedback report")

// maxReportPart caps what is read of one part of a report.
const maxReportPart = 1 << 20

// Report is what a bounce message (an RFC 3464 delivery status
// notification) or a feedback-loop complaint (an RFC 5965 ARF report)
// says.
type Report struct {
	// Kind is the bounce it reports: hard (a recipient failed with a 5.1.x
	// status: no such address), soft (failed otherwise, or delayed) or
	// complaint (an ARF report of Feedback-Type abuse); "" when it reports
	// none (a delivery notice, another feedback type).
	Kind dispatcher.BounceKind
	// Source is "dsn" or "arf".
	Source string
	// Status is the recipient's status code (DSN), e.g. "5.1.1".
	Status string
	// Recipients are the addresses the report is about (Final-Recipient
	// and Original-Recipient, or Original-Rcpt-To), as written.
	Recipients []string
	// Envelope are the addresses the report was sent to, from its own
	// headers (To, Delivered-To, X-Original-To, Envelope-To), and the
	// returned message's Return-Path: where a VERP token is.
	Envelope []string
	// MessageID is the returned message's Message-ID, "" when not included.
	MessageID string
}

// ParseReport reads a whole message as a DSN or an ARF report. It returns an
// error wrapping ErrNotReport for any other message (an auto-reply, a
// bounce in a format of its own) or one it cannot read.
func ParseReport(raw []byte) (*Report, error) {
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil && !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err) {
		return nil, fmt.Errorf("%w: %v", ErrNotReport, err)
	}
	r := &Report{}
	for _, h := range []string{"Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To", "To"} {
		for _, v := range e.Header.Values(h) {
			r.Envelope = append(r.Envelope, splitAddresses(v)...)
		}
	}
	typ, params, err := e.Header.ContentType()
	if err != nil || typ != "multipart/report" {
		return nil, fmt.Errorf("%w: content type %q", ErrNotReport, typ)
	}
	switch strings.ToLower(params["report-type"]) {
	case "delivery-status":
		r.Source = "dsn"
	case "feedback-report":
		r.Source = "arf"
	default:
		return nil, fmt.Errorf("%w: report type %q", ErrNotReport, params["report-type"])
	}
	mr := e.MultipartReader()
	if mr == nil {
		return nil, fmt.Errorf("%w: no parts", ErrNotReport)
	}
	read := false
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil && !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err) {
			if read {
				break // a returned message cut short (only its start is read)
			}
			return nil, fmt.Errorf("%w: %v", ErrNotReport, err)
		}
		pt, _, _ := p.Header.ContentType()
		body := io.LimitReader(p.Body, maxReportPart)
		switch pt {
		case "message/delivery-status", "message/global-delivery-status":
			if r.Source != "dsn" {
				continue
			}
			if err := r.readDeliveryStatus(body); err != nil {
				return nil, err
			}
			read = true
		case "message/feedback-report":
			if r.Source != "arf" {
				continue
			}
			if err := r.readFeedback(body); err != nil {
				return nil, err
			}
			read = true
		case "message/rfc822", "text/rfc822-headers", "message/global", "message/global-headers":
			h, _ := textproto.NewReader(bufio.NewReader(body)).ReadMIMEHeader()
			r.MessageID = strings.TrimSpace(h.Get("Message-Id"))
			if rp := h.Get("Return-Path"); rp != "" {
				r.Envelope = append(r.Envelope, splitAddresses(rp)...)
			}
		}
	}
	if !read {
		return nil, fmt.Errorf("%w: no %s part", ErrNotReport, r.Source)
	}
	return r, nil
}

// readDeliveryStatus reads message/delivery-status: the per-message fields,
// then a block of fields per recipient. The worst recipient decides Kind.
func (r *Report) readDeliveryStatus(body io.Reader) error {
	tp := textproto.NewReader(bufio.NewReader(body))
	for n := 0; n < 1000; n++ {
		h, err := tp.ReadMIMEHeader()
		if len(h) > 0 {
			r.recipient(h)
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w: delivery status: %v", ErrNotReport, err)
		}
	}
	return nil
}

// recipient reads one per-recipient block of a DSN.
func (r *Report) recipient(h textproto.MIMEHeader) {
	action := strings.ToLower(strings.TrimSpace(h.Get("Action")))
	if action == "" {
		return // the per-message block
	}
	status := strings.TrimSpace(h.Get("Status"))
	if i := strings.IndexAny(status, " \t("); i >= 0 {
		status = status[:i]
	}
	for _, f := range []string{"Final-Recipient", "Original-Recipient"} {
		if v := h.Get(f); v != "" {
			r.Recipients = append(r.Recipients, addrOfType(v))
		}
	}
	var kind dispatcher.BounceKind
	switch {
	case action == "failed" && strings.HasPrefix(status, "5.1."):
		// The address does not exist (bad mailbox, domain or syntax), as
		// for a 5.1.x at RCPT (channels/email). Other permanent failures
		// (policy, spam, size) say nothing of the address: soft.
		kind = dispatcher.BounceHard
	case action == "failed" || action == "delayed":
		kind = dispatcher.BounceSoft
	}
	if kind == dispatcher.BounceHard || (kind == dispatcher.BounceSoft && r.Kind == "") {
		r.Kind, r.Status = kind, status
	}
}

// readFeedback reads message/feedback-report (RFC 5965).
func (r *Report) readFeedback(body io.Reader) error {
	h, err := textproto.NewReader(bufio.NewReader(body)).ReadMIMEHeader()
	if err != nil && err != io.EOF {
		return fmt.Errorf("%w: feedback report: %v", ErrNotReport, err)
	}
	if strings.EqualFold(strings.TrimSpace(h.Get("Feedback-Type")), "abuse") {
		r.Kind = dispatcher.BounceComplaint
	}
	for _, v := range h.Values("Original-Rcpt-To") {
		r.Recipients = append(r.Recipients, addrOfType(v))
	}
	return nil
}

// addrOfType returns the address of a DSN address field, "rfc822; a@b".
func addrOfType(v string) string {
	if _, a, ok := strings.Cut(v, ";"); ok {
		v = a
	}
	return strings.Trim(strings.TrimSpace(v), "<>")
}

// splitAddresses returns the addresses of a header value, loosely: bare or
// in angle brackets, comma-separated.
func splitAddresses(v string) []string {
	var out []string
	for _, a := range strings.Split(v, ",") {
		if i := strings.IndexByte(a, '<'); i >= 0 {
			a = a[i+1:]
			if j := strings.IndexByte(a, '>'); j >= 0 {
				a = a[:j]
			}
		}
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}
