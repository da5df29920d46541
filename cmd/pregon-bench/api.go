package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// client talks to Pregón's HTTP API v1 with an admin token.
type client struct {
	base  string
	token string
	http  *http.Client
}

func newClient(addr, token string) *client {
	return &client{base: "http://" + addr, token: token, http: &http.Client{Timeout: 5 * time.Minute}}
}

// apiError is an answer with an error status.
type apiError struct {
	method, path string
	status       int
	body         string
}

func (e *apiError) Error() string {
	return fmt.Sprintf("%s %s: %d: %s", e.method, e.path, e.status, e.body)
}

// do sends body (JSON when contentType is empty) and decodes the answer into out.
func (c *client) do(ctx context.Context, method, path, contentType string, body []byte, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		if contentType == "" {
			contentType = "application/json"
		}
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		if len(data) > 2000 {
			data = data[:2000]
		}
		return &apiError{method: method, path: path, status: resp.StatusCode, body: string(bytes.TrimSpace(data))}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
	}
	return nil
}

func (c *client) postJSON(ctx context.Context, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodPost, path, "", body, out)
}

// createList creates a press list and returns its id.
func (c *client) createList(ctx context.Context, name string) (string, error) {
	var out struct {
		ID string `json:"id"`
	}
	err := c.postJSON(ctx, "/v1/lists", map[string]string{"name": name, "kind": "press"}, &out)
	return out.ID, err
}

// importReport is the answer to a contact upload.
type importReport struct {
	Added   int `json:"added"`
	Updated int `json:"updated"`
	Skipped int `json:"skipped"`
	Errors  []struct {
		Row     int    `json:"row"`
		Email   string `json:"email"`
		Message string `json:"message"`
	} `json:"errors"`
	ErrorsOmitted int `json:"errors_omitted"`
}

// importCSV uploads a CSV file of contacts to the list.
func (c *client) importCSV(ctx context.Context, listID string, csv []byte) (importReport, error) {
	var rep importReport
	err := c.do(ctx, http.MethodPost, "/v1/lists/"+listID+"/contacts", "text/csv", csv, &rep)
	return rep, err
}

// createChannel registers a Telegram channel and returns its id.
func (c *client) createChannel(ctx context.Context, chatID, title, lang string) (string, error) {
	var out struct {
		ID string `json:"id"`
	}
	err := c.postJSON(ctx, "/v1/telegram/channels", map[string]string{"chat_id": chatID, "title": title, "language": lang}, &out)
	return out.ID, err
}

// releaseInput is the body of POST /v1/releases.
type releaseInput struct {
	Title        string         `json:"title"`
	Summary      string         `json:"summary,omitempty"`
	Body         string         `json:"body"`
	Language     string         `json:"language"`
	Translations []translation  `json:"translations,omitempty"`
	Contact      *contactBlock  `json:"contact,omitempty"`
	SourceURL    string         `json:"source_url,omitempty"`
	Audiences    audiencesInput `json:"audiences"`
	Send         bool           `json:"send"`
}

type translation struct {
	Language string `json:"language"`
	Title    string `json:"title"`
	Summary  string `json:"summary,omitempty"`
	Body     string `json:"body"`
}

type contactBlock struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
	Phone string `json:"phone,omitempty"`
}

type audiencesInput struct {
	Lists            []string `json:"lists,omitempty"`
	TelegramChannels []string `json:"telegram_channels,omitempty"`
}

// release is the part of a release the bench reads.
type release struct {
	ID     string          `json:"id"`
	Status string          `json:"status"`
	Counts json.RawMessage `json:"counts"`
}

// final reports whether nothing more will happen to the release.
func (r *release) final() bool {
	switch r.Status {
	case "sent", "sent_with_failures", "cancelled":
		return true
	}
	return false
}

// counts returns the release's delivery counts in total and by status:
// {"total": n, "sent": n, "failed": n, ...}; the per-channel ones are left out.
func (r *release) counts() map[string]int64 {
	var raw map[string]json.RawMessage
	_ = json.Unmarshal(r.Counts, &raw)
	out := map[string]int64{}
	for k, v := range raw {
		var n int64
		if json.Unmarshal(v, &n) == nil {
			out[k] = n
		}
	}
	return out
}

// createRelease creates a release and returns it.
func (c *client) createRelease(ctx context.Context, in *releaseInput) (*release, error) {
	var r release
	err := c.postJSON(ctx, "/v1/releases", in, &r)
	return &r, err
}

// release returns the release with its counts.
func (c *client) release(ctx context.Context, id string) (*release, error) {
	var r release
	err := c.do(ctx, http.MethodGet, "/v1/releases/"+id, "", nil, &r)
	return &r, err
}

// delivery is the part of a delivery record the bench shows.
type delivery struct {
	ID        string    `json:"id"`
	Channel   string    `json:"channel"`
	Recipient string    `json:"recipient"`
	Status    string    `json:"status"`
	Attempts  int       `json:"attempts"`
	LastError string    `json:"last_error"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func (d delivery) String() string {
	s := fmt.Sprintf("%s %s %s, %d attempts, updated %s", d.Recipient, d.Channel, d.Status, d.Attempts,
		d.UpdatedAt.Format("15:04:05.000"))
	if d.LastError != "" {
		s += ", last error: " + d.LastError
	}
	return s
}

// deliveries returns the first limit deliveries of the release in status.
func (c *client) deliveries(ctx context.Context, id, status string, limit int) ([]delivery, error) {
	var page struct {
		Items []delivery `json:"items"`
	}
	q := url.Values{"status": {status}, "limit": {strconv.Itoa(limit)}}
	err := c.do(ctx, http.MethodGet, "/v1/releases/"+id+"/deliveries?"+q.Encode(), "", nil, &page)
	return page.Items, err
}

// pending returns up to limit deliveries of the release that are not final.
func (c *client) pending(ctx context.Context, id string, limit int) []string {
	var out []string
	for _, st := range []string{"queued", "retrying", "sending"} {
		ds, err := c.deliveries(ctx, id, st, limit-len(out))
		if err != nil {
			return append(out, err.Error())
		}
		for _, d := range ds {
			out = append(out, d.String())
		}
		if len(out) >= limit {
			break
		}
	}
	return out
}
