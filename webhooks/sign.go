package webhooks

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Headers of a webhook request.
const (
	// HeaderSignature carries "t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">",
	// keyed with the webhook's secret.
	HeaderSignature = "Pregon-Signature"
	// HeaderEventID carries the event's id: the same for every attempt at
	// one event, so that a receiver can drop a repeat.
	HeaderEventID = "Pregon-Event-Id"
	// HeaderEventType carries the event's type.
	HeaderEventType = "Pregon-Event-Type"
)

// ReplayWindow is how far a signature's time may be from the receiver's
// clock before Verify refuses it: a request recorded and replayed later is
// refused.
const ReplayWindow = 5 * time.Minute

// Errors of Verify.
var (
	// ErrBadSignatureHeader is a Pregon-Signature header that is not t=...,v1=....
	ErrBadSignatureHeader = errors.New("malformed Pregon-Signature header")
	// ErrSignatureMismatch is a signature that the secret did not make for this body.
	ErrSignatureMismatch = errors.New("signature does not match")
	// ErrSignatureExpired is a signature made outside the replay window.
	ErrSignatureExpired = errors.New("signature timestamp outside the replay window")
)

// Sign returns the Pregon-Signature header value for body sent at t.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + mac(secret, ts, body)
}

func mac(secret, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// Verify checks a Pregon-Signature header against body, with the webhook's
// secret, at the receiver's time now: nil when one of its v1 signatures
// matches and its time is within window of now (ReplayWindow when window is
// 0). It returns ErrBadSignatureHeader, ErrSignatureMismatch or
// ErrSignatureExpired (wrapped) otherwise. Receivers written in Go can call
// it; the README shows the same check in a shell.
func Verify(secret, header string, body []byte, now time.Time, window time.Duration) error {
	if window <= 0 {
		window = ReplayWindow
	}
	var ts string
	var sigs []string
	for part := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return fmt.Errorf("%w: %q", ErrBadSignatureHeader, part)
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return fmt.Errorf("%w: want t=<unix>,v1=<hex>", ErrBadSignatureHeader)
	}
	want := mac(secret, ts, body)
	ok := false
	for _, s := range sigs {
		if hmac.Equal([]byte(s), []byte(want)) {
			ok = true
		}
	}
	if !ok {
		return ErrSignatureMismatch
	}
	if d := now.Sub(time.Unix(sec, 0)); d > window || d < -window {
		return fmt.Errorf("%w: signed %s ago", ErrSignatureExpired, d.Round(time.Second))
	}
	return nil
}
