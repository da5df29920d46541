package dispatcher

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors of the domain.
var (
	// ErrNotFound is returned when a list, contact, channel, release or delivery does not exist.
	ErrNotFound = errors.New("not found")
	// ErrInvalidEmail is returned for a string that is not one plain email address.
	ErrInvalidEmail = errors.New("invalid email")
	// ErrConflict is returned when an operation does not fit the current state (e.g. editing a sent release).
	ErrConflict = errors.New("conflict")
	// ErrChatUnavailable is wrapped by a channel's permanent error when the
	// destination itself is gone for the bot (Telegram: 403, the bot was
	// kicked or blocked; 400, chat not found): the dispatcher then marks
	// the Telegram channel unavailable, and later releases skip it.
	ErrChatUnavailable = errors.New("the bot cannot post to this chat")
)

// SendError is an error from a channel, classified at the channel boundary.
//
// Permanent errors are not retried. Transient errors are retried, after
// RetryAfter when the provider said how long to wait. Uncertain marks an error
// after which the message may have reached the provider (e.g. a connection
// dropped after SMTP DATA): repeating it could deliver twice.
type SendError struct {
	Err        error
	Permanent  bool
	Uncertain  bool
	RetryAfter time.Duration
}

func (e *SendError) Error() string {
	kind := "transient"
	switch {
	case e.Permanent:
		kind = "permanent"
	case e.Uncertain:
		kind = "uncertain"
	}
	if e.RetryAfter > 0 {
		return fmt.Sprintf("%s (%s, retry after %s)", e.Err, kind, e.RetryAfter)
	}
	return fmt.Sprintf("%s (%s)", e.Err, kind)
}

func (e *SendError) Unwrap() error { return e.Err }

// Permanent wraps err as an error that must not be retried.
func Permanent(err error) error { return &SendError{Err: err, Permanent: true} }

// Transient wraps err as an error worth retrying; retryAfter, when positive,
// is the wait the provider asked for.
func Transient(err error, retryAfter time.Duration) error {
	return &SendError{Err: err, RetryAfter: retryAfter}
}

// Uncertain wraps err as an error after which the message may have been delivered.
func Uncertain(err error) error { return &SendError{Err: err, Uncertain: true} }

// IsPermanent reports whether err is classified as permanent.
func IsPermanent(err error) bool {
	var se *SendError
	return errors.As(err, &se) && se.Permanent
}

// IsUncertain reports whether err is classified as uncertain.
func IsUncertain(err error) bool {
	var se *SendError
	return errors.As(err, &se) && se.Uncertain
}

// RetryAfter returns the wait a provider asked for, if any.
func RetryAfter(err error) (time.Duration, bool) {
	var se *SendError
	if errors.As(err, &se) && se.RetryAfter > 0 {
		return se.RetryAfter, true
	}
	return 0, false
}
