package client

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/pregon/pregon/dispatcher"
)

// CreateList creates a list and returns it.
func (c *Client) CreateList(ctx context.Context, in NewList) (*dispatcher.List, error) {
	var l dispatcher.List
	if err := c.post(ctx, "/v1/lists", in, &l); err != nil {
		return nil, err
	}
	return &l, nil
}

// GetList returns the list with id.
func (c *Client) GetList(ctx context.Context, id string) (*dispatcher.List, error) {
	var l dispatcher.List
	if err := c.get(ctx, "/v1/lists/"+pathID(id), nil, &l); err != nil {
		return nil, err
	}
	return &l, nil
}

// Lists returns one page of the lists.
func (c *Client) Lists(ctx context.Context, pq PageQuery) (*Page[dispatcher.List], error) {
	return getPage[dispatcher.List](ctx, c, "/v1/lists", nil, pq)
}

// ImportContacts adds contacts to a list, or updates those already in it,
// as a JSON upload.
func (c *Client) ImportContacts(ctx context.Context, listID string, contacts []dispatcher.Contact) (*ImportReport, error) {
	if contacts == nil {
		contacts = []dispatcher.Contact{}
	}
	var rep ImportReport
	if err := c.post(ctx, "/v1/lists/"+pathID(listID)+"/contacts", contacts, &rep); err != nil {
		return nil, err
	}
	return &rep, nil
}

// ImportJSON uploads a JSON array of contacts, as it is, to a list.
func (c *Client) ImportJSON(ctx context.Context, listID string, data []byte) (*ImportReport, error) {
	return c.upload(ctx, listID, "application/json", data)
}

// ImportCSV uploads a CSV file of contacts (header: email,name,outlet,
// language,tags) to a list.
func (c *Client) ImportCSV(ctx context.Context, listID string, csv []byte) (*ImportReport, error) {
	return c.upload(ctx, listID, "text/csv; charset=utf-8", csv)
}

func (c *Client) upload(ctx context.Context, listID, contentType string, data []byte) (*ImportReport, error) {
	if data == nil {
		data = []byte{}
	}
	var rep ImportReport
	r := request{method: http.MethodPost, path: "/v1/lists/" + pathID(listID) + "/contacts", contentType: contentType, body: data}
	if err := c.do(ctx, r, &rep); err != nil {
		return nil, err
	}
	return &rep, nil
}

// Contacts returns one page of a list's members.
func (c *Client) Contacts(ctx context.Context, listID string, pq PageQuery) (*Page[dispatcher.Contact], error) {
	return getPage[dispatcher.Contact](ctx, c, "/v1/lists/"+pathID(listID)+"/contacts", nil, pq)
}

// CreateChannel registers a Telegram channel and returns it. A chat that
// is already registered is an error that IsConflict reports.
func (c *Client) CreateChannel(ctx context.Context, in NewChannel) (*dispatcher.TelegramChannel, error) {
	var ch dispatcher.TelegramChannel
	if err := c.post(ctx, "/v1/telegram/channels", in, &ch); err != nil {
		return nil, err
	}
	return &ch, nil
}

// Channels returns one page of the registered Telegram channels.
func (c *Client) Channels(ctx context.Context, pq PageQuery) (*Page[dispatcher.TelegramChannel], error) {
	return getPage[dispatcher.TelegramChannel](ctx, c, "/v1/telegram/channels", nil, pq)
}

// CreateRelease creates a release (and sends it when in.Send) and returns
// it. When the server saved it but could not send it, the *Error names it
// in ReleaseID. With in.IdempotencyKey, a repeat with the same key returns
// the release the first call made.
func (c *Client) CreateRelease(ctx context.Context, in *NewRelease) (*Release, error) {
	body := *in
	if body.Audiences.Lists == nil {
		body.Audiences.Lists = []string{}
	}
	if body.Audiences.TelegramChannels == nil {
		body.Audiences.TelegramChannels = []string{}
	}
	var h http.Header
	if in.IdempotencyKey != "" {
		h = http.Header{"Idempotency-Key": {in.IdempotencyKey}}
	}
	var r Release
	if err := c.postWith(ctx, "/v1/releases", h, &body, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// NewIdempotencyKey returns a random key for NewRelease.IdempotencyKey: 128
// random bits as 26 base32 letters and digits (crypto/rand.Text).
func NewIdempotencyKey() string {
	return rand.Text()
}

// GetRelease returns the release with id, with its counts.
func (c *Client) GetRelease(ctx context.Context, id string) (*Release, error) {
	var r Release
	if err := c.get(ctx, "/v1/releases/"+pathID(id), nil, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// ListReleases returns one page of the releases.
func (c *Client) ListReleases(ctx context.Context, pq PageQuery) (*Page[Release], error) {
	return getPage[Release](ctx, c, "/v1/releases", nil, pq)
}

// Send sends a draft release, at once or, when at is not zero, at that
// time. Sending a release already on its way returns it as it is.
func (c *Client) Send(ctx context.Context, id string, at time.Time) (*Release, error) {
	in := map[string]string{}
	if !at.IsZero() {
		in["at"] = at.Format(time.RFC3339)
	}
	return c.releaseAction(ctx, id, "send", in)
}

// Cancel stops a release that is not sent yet and returns it.
func (c *Client) Cancel(ctx context.Context, id string) (*Release, error) {
	return c.releaseAction(ctx, id, "cancel", nil)
}

// Archive compacts a sent or cancelled release's deliveries into its
// archive now (retention) and returns the release, with ArchivedAt set.
func (c *Client) Archive(ctx context.Context, id string) (*Release, error) {
	return c.releaseAction(ctx, id, "archive", nil)
}

func (c *Client) releaseAction(ctx context.Context, id, action string, in any) (*Release, error) {
	var r Release
	if err := c.post(ctx, "/v1/releases/"+pathID(id)+"/"+action, in, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// Retry queues the release's failed deliveries again and returns how many.
func (c *Client) Retry(ctx context.Context, id string) (int, error) {
	var res struct {
		Requeued int `json:"requeued"`
	}
	if err := c.post(ctx, "/v1/releases/"+pathID(id)+"/retry", nil, &res); err != nil {
		return 0, err
	}
	return res.Requeued, nil
}

// Deliveries returns one page of a release's deliveries that pass f.
func (c *Client) Deliveries(ctx context.Context, releaseID string, f DeliveryFilter, pq PageQuery) (*Page[dispatcher.Delivery], error) {
	q := url.Values{}
	if f.Status != "" {
		q.Set("status", string(f.Status))
	}
	if f.Channel != "" {
		q.Set("channel", string(f.Channel))
	}
	return getPage[dispatcher.Delivery](ctx, c, "/v1/releases/"+pathID(releaseID)+"/deliveries", q, pq)
}

// Preview returns the release as a recipient would get it through channel
// in language ("": the release's own).
func (c *Client) Preview(ctx context.Context, id string, channel dispatcher.ChannelKind, language string) (*Preview, error) {
	return c.PreviewCopy(ctx, id, channel, language, "")
}

// PreviewCopy is Preview of one copy of the release: dispatcher.CopyEarly
// for the embargoed email its early lists get (an *Error with status 409
// for a release without an embargo and early lists), "" or
// dispatcher.CopyPublic for what every audience gets.
func (c *Client) PreviewCopy(ctx context.Context, id string, channel dispatcher.ChannelKind, language, copyOf string) (*Preview, error) {
	q := url.Values{"channel": {string(channel)}}
	if language != "" {
		q.Set("language", language)
	}
	if copyOf != "" {
		q.Set("copy", copyOf)
	}
	var p Preview
	if err := c.get(ctx, "/v1/releases/"+pathID(id)+"/preview", q, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// getPage reads one page of the collection at path.
func getPage[T any](ctx context.Context, c *Client, path string, query url.Values, pq PageQuery) (*Page[T], error) {
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	if pq.Cursor != "" {
		q.Set("cursor", pq.Cursor)
	}
	if pq.Limit > 0 {
		q.Set("limit", strconv.Itoa(pq.Limit))
	}
	var p Page[T]
	if err := c.get(ctx, path, q, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// Fetch reads one page of a collection; Client.Channels is one, and a
// closure such as func(ctx, pq) { return c.Contacts(ctx, id, pq) } another.
type Fetch[T any] func(context.Context, PageQuery) (*Page[T], error)

// EachPage reads every page of a collection with fetch, limit items at a
// time (0: the server's default), and calls each with every page's items
// in turn. It stops at the first error, fetch's or each's, and returns it;
// a server that returns the same cursor twice is an error too.
func EachPage[T any](ctx context.Context, limit int, fetch Fetch[T], each func([]T) error) error {
	pq := PageQuery{Limit: limit}
	seen := map[string]bool{}
	for {
		p, err := fetch(ctx, pq)
		if err != nil {
			return err
		}
		if err := each(p.Items); err != nil {
			return err
		}
		if p.NextCursor == "" {
			return nil
		}
		if seen[p.NextCursor] {
			return fmt.Errorf("the server returned the cursor %q twice", p.NextCursor)
		}
		seen[p.NextCursor] = true
		pq.Cursor = p.NextCursor
	}
}

// All returns every item of a collection, read limit at a time.
func All[T any](ctx context.Context, limit int, fetch Fetch[T]) ([]T, error) {
	var all []T
	err := EachPage(ctx, limit, fetch, func(items []T) error {
		all = append(all, items...)
		return nil
	})
	return all, err
}
