package telegram

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/http/httptrace"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-telegram/bot"

	"github.com/pregon/pregon/dispatcher"
)

// Sentinel errors, found with errors.Is in a SendTelegram error.
var (
	// ErrBadToken means the Bot API refused the token (401): no retry helps.
	ErrBadToken = errors.New("bad bot token")
	// ErrUnexpectedResponse means the answer was not the Bot API's JSON (an
	// HTML error page from a proxy, for one).
	ErrUnexpectedResponse = errors.New("unexpected response from the Bot API")
	// ErrNoAnswer means a request was written in full and no usable answer
	// came (a timeout, a reset or closed connection): the message may have
	// been posted. Such errors are classified as uncertain.
	ErrNoAnswer = errors.New("no answer from the Bot API after the request was sent")
)

// classify wraps err, the error of a request, with context and classifies it
// at the channel boundary:
//
//   - 429: transient, after exactly retry_after seconds;
//   - 400 (chat not found, can't parse entities, message is too long, any
//     other), 403 (bot kicked or not an admin), 401 (bad token), 404 and a
//     chat migrated to a supergroup: permanent; 403 and "chat not found"
//     wrap dispatcher.ErrChatUnavailable as well, so that the channel is
//     marked unavailable;
//   - no answer to a request that was written in full (a timeout, the
//     caller's context ending, a connection reset or closed while waiting),
//     or an unreadable success: uncertain, since Telegram may have posted the
//     message, and sending it again could post it twice;
//   - anything else (5xx, a body that is not JSON, a failure before the
//     request was written, such as a refused connection): transient.
//
// go-telegram/bot decides on the error_code in the JSON body, never on the
// HTTP status, and reports a body that is not JSON as a decoding error
// quoting the whole body; responseError turns that into ErrUnexpectedResponse.
func classify(what string, err error, r *response) error {
	var tooMany *bot.TooManyRequestsError
	var migrated *bot.MigrateError
	switch {
	case errors.As(err, &tooMany):
		return dispatcher.Transient(fmt.Errorf("%s: %w", what, err), time.Duration(tooMany.RetryAfter)*time.Second)
	case errors.As(err, &migrated):
		return dispatcher.Permanent(fmt.Errorf("%s: %w (%w)", what, err, &dispatcher.MigratedError{To: strconv.Itoa(migrated.MigrateToChatID)}))
	case errors.Is(err, bot.ErrorUnauthorized):
		return dispatcher.Permanent(fmt.Errorf("%s: %w (%w)", what, ErrBadToken, err))
	case chatGone(err):
		return dispatcher.Permanent(fmt.Errorf("%s: %w (%w)", what, err, dispatcher.ErrChatUnavailable))
	case errors.Is(err, bot.ErrorForbidden),
		errors.Is(err, bot.ErrorBadRequest),
		errors.Is(err, bot.ErrorNotFound):
		return dispatcher.Permanent(fmt.Errorf("%s: %w", what, err))
	case r.mayHavePosted(err):
		return dispatcher.Uncertain(fmt.Errorf("%s: %w (%w)", what, ErrNoAnswer, err))
	default:
		return dispatcher.Transient(fmt.Errorf("%s: %w", what, err), 0)
	}
}

// chatGone reports whether err says that the bot can no longer post to the
// chat at all: 403 (kicked, blocked, not a member) or 400 "chat not found".
func chatGone(err error) bool {
	return errors.Is(err, bot.ErrorForbidden) ||
		errors.Is(err, bot.ErrorBadRequest) && strings.Contains(strings.ToLower(err.Error()), "chat not found")
}

// response is what recordingClient saw of one request: whether it was
// written in full, and the status and content type of the answer.
type response struct {
	// written is set by the transport's write loop; an error return from
	// http.Client.Do waits for that loop to end, so it is final by then.
	written     atomic.Bool
	status      int
	contentType string
}

// mayHavePosted reports whether the request behind err may have been acted
// on although no usable answer came: it was written in full and no answer
// came (or a success whose body could not be read), unless the server had
// closed the idle connection before the request reached it.
func (r *response) mayHavePosted(err error) bool {
	if r == nil || !r.written.Load() || serverClosedIdle(err) {
		return false
	}
	return r.status == 0 || r.status/100 == 2
}

// serverClosedIdle reports whether err is net/http's unexported
// errServerClosedIdle: the server had closed a kept-alive connection, while
// it was idle, before the request was written on it (golang.org/issue/19943),
// so it cannot have read the request.
func serverClosedIdle(err error) bool {
	for ; err != nil; err = errors.Unwrap(err) {
		if err.Error() == "http: server closed idle connection" {
			return true
		}
	}
	return false
}

type responseKey struct{}

func withResponse(ctx context.Context, r *response) context.Context {
	return context.WithValue(ctx, responseKey{}, r)
}

// recordingClient records, in the *response carried by the request's
// context, whether the request was written in full (httptrace's
// WroteRequest) and the status and content type of the answer.
// go-telegram/bot calls Do in the goroutine of the method call, so status
// and content type are read without locking once the call returns.
type recordingClient struct{ c *http.Client }

func (rc recordingClient) Do(req *http.Request) (*http.Response, error) {
	r, ok := req.Context().Value(responseKey{}).(*response)
	if !ok {
		return rc.c.Do(req)
	}
	trace := &httptrace.ClientTrace{
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				r.written.Store(true)
			}
		},
	}
	resp, err := rc.c.Do(req.WithContext(httptrace.WithClientTrace(req.Context(), trace)))
	if err == nil {
		r.status = resp.StatusCode
		r.contentType = resp.Header.Get("Content-Type")
	}
	return resp, err
}

// responseError replaces go-telegram/bot's error for an answer that is not
// JSON (which quotes the whole body, e.g. an HTML page) with a short one.
func responseError(err error, r *response) error {
	if r.status == 0 || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return err
	}
	if mt, _, _ := mime.ParseMediaType(r.contentType); mt != "application/json" {
		return fmt.Errorf("%w: HTTP %d %s (%s)", ErrUnexpectedResponse, r.status, http.StatusText(r.status), r.contentType)
	}
	return err
}
