package client

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"

	"github.com/pregon/pregon/dispatcher"
)

// Attachment is a file a release carries, as the API returns it.
type Attachment = dispatcher.Attachment

// AttachOptions are the optional fields of an upload.
type AttachOptions struct {
	// Language is the language of the recipients the file goes to: one of
	// the release's languages, or "" for all.
	Language string
	// Role is "attachment" (the default when "") or "lead_image".
	Role string
}

// Attach uploads the file read from r, named filename, to release id
// (POST /v1/releases/{id}/attachments) and returns the attachment the
// server stored. The server reads the file's type from its bytes; it
// answers an *Error with status 415 for a type a release may not carry,
// 413 over a limit and 409 once the release is no longer a draft or
// scheduled.
func (c *Client) Attach(ctx context.Context, id, filename string, r io.Reader, opts AttachOptions) (*Attachment, error) {
	path := "/v1/releases/" + pathID(id) + "/attachments"
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, v := range map[string]string{"language": opts.Language, "role": opts.Role} {
		if v == "" {
			continue
		}
		if err := mw.WriteField(k, v); err != nil {
			return nil, fmt.Errorf("POST %s: %w", path, err)
		}
	}
	fw, err := mw.CreateFormFile("file", filename)
	if err != nil {
		return nil, fmt.Errorf("POST %s: %w", path, err)
	}
	if _, err := io.Copy(fw, r); err != nil {
		return nil, fmt.Errorf("POST %s: read %s: %w", path, filename, err)
	}
	if err := mw.Close(); err != nil {
		return nil, fmt.Errorf("POST %s: %w", path, err)
	}
	var a Attachment
	req := request{method: http.MethodPost, path: path, contentType: mw.FormDataContentType(), body: b.Bytes()}
	if err := c.do(ctx, req, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

// Detach deletes attachment attID of release id and returns the release
// after it.
func (c *Client) Detach(ctx context.Context, id, attID string) (*Release, error) {
	var rel Release
	req := request{method: http.MethodDelete, path: "/v1/releases/" + pathID(id) + "/attachments/" + pathID(attID)}
	if err := c.do(ctx, req, &rel); err != nil {
		return nil, err
	}
	return &rel, nil
}
