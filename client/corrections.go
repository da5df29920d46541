package client

import (
	"context"

	"github.com/pregon/pregon/dispatcher"
)

// NewCorrection is the body of POST /v1/releases/{id}/corrections: a note
// saying what changed, and the fields that change (nil or empty:
// unchanged), or Retraction to withdraw the statement.
type NewCorrection struct {
	Note         string                   `json:"note"`
	Title        *string                  `json:"title,omitempty"`
	Summary      *string                  `json:"summary,omitempty"`
	Body         *string                  `json:"body,omitempty"`
	Translations []dispatcher.Translation `json:"translations,omitempty"`
	Retraction   bool                     `json:"retraction,omitempty"`
}

// Correction is a correction of a release as the API sends it, with its
// own delivery counts.
type Correction struct {
	dispatcher.Correction
	Counts Counts `json:"counts"`
}

// Correct corrects a release that was sent and returns the correction. The
// same correction asked for again returns the first one and sends nothing
// again. A release not sent yet is an error that IsConflict reports.
func (c *Client) Correct(ctx context.Context, releaseID string, in *NewCorrection) (*Correction, error) {
	var out Correction
	if err := c.post(ctx, "/v1/releases/"+pathID(releaseID)+"/corrections", in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Corrections returns the corrections of a release, oldest first.
func (c *Client) Corrections(ctx context.Context, releaseID string) ([]Correction, error) {
	var page Page[Correction]
	if err := c.get(ctx, "/v1/releases/"+pathID(releaseID)+"/corrections", nil, &page); err != nil {
		return nil, err
	}
	return page.Items, nil
}
