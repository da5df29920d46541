package client

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
)

// EditRelease applies a JSON merge patch to release id and returns the
// release after it: patch holds the fields to change, as POST /v1/releases
// names them ("title", "audiences", ...); a nil value removes a field, and
// an object changes only the members it holds. version, when not 0, makes
// the edit apply only to that version: an *Error with status 409 when the
// release is at another. A patch that changes nothing returns the release
// as it is, at the same version.
func (c *Client) EditRelease(ctx context.Context, id string, patch map[string]any, version int) (*Release, error) {
	body := maps.Clone(patch)
	if body == nil {
		body = map[string]any{}
	}
	if version != 0 {
		body["version"] = version
	}
	data, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("PATCH /v1/releases/%s: %w", id, err)
	}
	var r Release
	req := request{method: http.MethodPatch, path: "/v1/releases/" + pathID(id), contentType: "application/merge-patch+json", body: data}
	if err := c.do(ctx, req, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// ApproveRelease approves version of release id, which must be its current
// version and not one the caller wrote, and returns the release.
func (c *Client) ApproveRelease(ctx context.Context, id string, version int) (*Release, error) {
	var r Release
	if err := c.post(ctx, "/v1/releases/"+pathID(id)+"/approve", map[string]int{"version": version}, &r); err != nil {
		return nil, err
	}
	return &r, nil
}
