package telegram

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
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
)

// classify wraps err, the error of a request, with context and classifies it
// at the channel boundary:
//
//   - 429: transient, after exactly retry_after seconds;
//   - 400 (chat not found, can't parse entities, message is too long, any
//     other), 403 (bot kicked or not an admin), 401 (bad token), 404 and a
//     chat migrated to a supergroup: permanent;
//   - anything else (5xx, a body that is not JSON, a timeout, a network
//     error, the caller's context ending): transient.
//
// go-telegram/bot decides on the error_code in the JSON body, never on the
// HTTP status, and reports a body that is not JSON as a decoding error
// quoting the whole body; responseError turns that into ErrUnexpectedResponse.
func classify(what string, err error) error {
	var tooMany *bot.TooManyRequestsError
	var migrated *bot.MigrateError
	switch {
	case errors.As(err, &tooMany):
		return dispatcher.Transient(fmt.Errorf("%s: %w", what, err), time.Duration(tooMany.RetryAfter)*time.Second)
	case errors.As(err, &migrated):
		return dispatcher.Permanent(fmt.Errorf("%s: %w (the chat is now %d)", what, err, migrated.MigrateToChatID))
	case errors.Is(err, bot.ErrorUnauthorized):
		return dispatcher.Permanent(fmt.Errorf("%s: %w (%w)", what, ErrBadToken, err))
	case errors.Is(err, bot.ErrorForbidden),
		errors.Is(err, bot.ErrorBadRequest),
		errors.Is(err, bot.ErrorNotFound):
		return dispatcher.Permanent(fmt.Errorf("%s: %w", what, err))
	default:
		return dispatcher.Transient(fmt.Errorf("%s: %w", what, err), 0)
	}
}

// response is what recordingClient saw of the HTTP answer to one request.
type response struct {
	status      int
	contentType string
}

type responseKey struct{}

func withResponse(ctx context.Context, r *response) context.Context {
	return context.WithValue(ctx, responseKey{}, r)
}

// recordingClient records the status and content type of each answer in the
// *response carried by the request's context. go-telegram/bot calls Do in the
// goroutine of the method call, so the record is read without locking.
type recordingClient struct{ c *http.Client }

func (rc recordingClient) Do(req *http.Request) (*http.Response, error) {
	resp, err := rc.c.Do(req)
	if err == nil {
		if r, ok := req.Context().Value(responseKey{}).(*response); ok {
			r.status = resp.StatusCode
			r.contentType = resp.Header.Get("Content-Type")
		}
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
