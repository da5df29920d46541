package dispatcher

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"
)

// A correction is kept as a release of its own, hidden from the listings:
// its id, status, counts and deliveries are a release's, so that it goes
// through the same workers, claims, retries and sweeper as any release.
// Its text is the corrected text; CorrectionOf names the release it
// corrects. Planning it walks the deliveries of that release that were
// sent (instead of lists and channels), and delivering it edits the
// Telegram posts in place instead of posting them again.

// ErrNoChange is returned for a correction that changes nothing and is not
// a retraction.
var ErrNoChange = errors.New("the correction changes nothing")

// CorrectionOf marks a release as a correction of another.
type CorrectionOf struct {
	// ReleaseID is the release corrected.
	ReleaseID string `json:"release_id"`
	// Note says what changed, in one short paragraph; it heads the email
	// and the Telegram post.
	Note string `json:"note"`
	// Retraction withdraws the statement: the note goes out with no body.
	Retraction bool `json:"retraction,omitempty"`
	// Version is the version of the corrected release that the correction
	// made.
	Version int `json:"version"`
	// Key is the digest of the request that made it (CorrectionRequest.Key):
	// the same request again gives this correction, not a second one.
	Key string `json:"key"`
}

// Correction is a correction as the API shows it: the note, the version of
// the release it made, and its own deliveries' counts and status.
type Correction struct {
	ID         string        `json:"id"`
	ReleaseID  string        `json:"release_id"`
	Note       string        `json:"note"`
	Version    int           `json:"version"`
	Retraction bool          `json:"retraction"`
	Status     ReleaseStatus `json:"status"`
	Author     string        `json:"author,omitempty"`
	CreatedAt  time.Time     `json:"created_at"`
	Counts     *Counts       `json:"counts"`
}

// AsCorrection returns the correction r carries, or nil when r is not a
// correction.
func (r *Release) AsCorrection() *Correction {
	c := r.CorrectionOf
	if c == nil {
		return nil
	}
	counts := r.Counts
	if counts == nil {
		counts = NewCounts()
	}
	return &Correction{ID: r.ID, ReleaseID: c.ReleaseID, Note: c.Note, Version: c.Version, Retraction: c.Retraction,
		Status: r.Status, Author: r.Author, CreatedAt: r.CreatedAt, Counts: counts}
}

// CorrectionRequest is a correction asked for: a note, the fields that
// change (nil: unchanged), or a retraction.
type CorrectionRequest struct {
	Note    string
	Title   *string
	Summary *string
	Body    *string
	// Translations replace the release's translations in their languages.
	Translations []Translation
	Retraction   bool
	// Author is the name of the token that asks for it.
	Author string
}

// Key returns a digest of what the request asks for (not who asks): two
// requests with the same key are the same correction.
func (c *CorrectionRequest) Key() string {
	b, _ := json.Marshal(struct { // cannot fail: strings, bools and slices of them
		Note                 string
		Title, Summary, Body *string
		Translations         []Translation
		Retraction           bool
	}{c.Note, c.Title, c.Summary, c.Body, c.Translations, c.Retraction})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// Apply returns a copy of rel with the request's changes, and whether they
// change its text. A translation in a language rel has no version of is
// added.
func (c *CorrectionRequest) Apply(rel *Release) (*Release, bool) {
	out := *rel
	out.Translations = slices.Clone(rel.Translations)
	out.Counts = nil
	if c.Title != nil {
		out.Title = *c.Title
	}
	if c.Summary != nil {
		out.Summary = *c.Summary
	}
	if c.Body != nil {
		out.Body = *c.Body
	}
	for _, t := range c.Translations {
		i := slices.IndexFunc(out.Translations, func(o Translation) bool { return strings.EqualFold(o.Language, t.Language) })
		if i < 0 {
			out.Translations = append(out.Translations, t)
			continue
		}
		t.Language = out.Translations[i].Language
		out.Translations[i] = t
	}
	changed := out.Title != rel.Title || out.Summary != rel.Summary || out.Body != rel.Body ||
		!slices.Equal(out.Translations, rel.Translations)
	return &out, changed
}

// correctionRelease returns the release that carries correction key of
// corrected (the release with the correction applied, at its new version)
// to the people who got it: its text, with no audiences of its own (its
// planning walks the corrected release's deliveries) and no embargo.
func correctionRelease(corrected *Release, req *CorrectionRequest, key string, now time.Time) *Release {
	c := *corrected
	c.ID, c.Status = "", ReleaseDraft
	c.Audiences = Audiences{Lists: []string{}, EarlyLists: []string{}, TelegramChannels: []string{}}
	c.EmbargoUntil, c.ScheduledAt, c.Counts = nil, nil, nil
	c.Author, c.ApprovedBy, c.ApprovedVersion = req.Author, "", 0
	c.CreatedAt, c.UpdatedAt = now, now
	c.CorrectionOf = &CorrectionOf{ReleaseID: corrected.ID, Note: req.Note, Retraction: req.Retraction,
		Version: corrected.Version, Key: key}
	return &c
}
