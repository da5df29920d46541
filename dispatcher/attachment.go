package dispatcher

import (
	"context"
	"strings"
	"time"
)

// AttachmentRole says how a release uses a file it carries.
type AttachmentRole string

// The roles of an attachment.
const (
	// RoleAttachment is a file attached to every email (and linked from
	// the newsroom page).
	RoleAttachment AttachmentRole = "attachment"
	// RoleLeadImage is the release's lead image: shown inline at the top of
	// the email and the newsroom page (an image type only).
	RoleLeadImage AttachmentRole = "lead_image"
)

// Attachment is a file a release carries: its metadata, kept in the
// release; the bytes are kept apart (see AttachmentReader). Issue 10 item 5.
type Attachment struct {
	ID string `json:"id"`
	// Filename is the name the file is offered under, sanitised: no path,
	// no control characters, no quotes.
	Filename string `json:"filename"`
	// ContentType is sniffed from the bytes, never taken from the client:
	// application/pdf, image/jpeg, image/png or image/webp.
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	// SHA256 is the hex SHA-256 of the bytes.
	SHA256 string `json:"sha256"`
	// Language is the language of the recipients it goes to: one of the
	// release's languages, or "" for all of them.
	Language  string         `json:"language"`
	Role      AttachmentRole `json:"role"`
	CreatedAt time.Time      `json:"created_at"`
}

// IsImage reports whether the attachment is an image.
func (a *Attachment) IsImage() bool { return strings.HasPrefix(a.ContentType, "image/") }

// ContentID is the attachment's Content-ID in an email, without angle
// brackets: an HTML part refers to it as "cid:" + ContentID().
func (a *Attachment) ContentID() string { return a.ID + "@pregon" }

// AttachmentsFor returns the attachments that go with rel in lang: those
// for every language and those for lang, in the order they were added.
func (r *Release) AttachmentsFor(lang string) []Attachment {
	var out []Attachment
	for _, a := range r.Attachments {
		if a.Language == "" || strings.EqualFold(a.Language, lang) || (lang == "" && strings.EqualFold(a.Language, r.Language)) {
			out = append(out, a)
		}
	}
	return out
}

// LeadImage returns the lead image of rel in lang (one for lang wins over
// one for all languages), or nil when it has none.
func (r *Release) LeadImage(lang string) *Attachment {
	var lead *Attachment
	for _, a := range r.AttachmentsFor(lang) {
		if a.Role != RoleLeadImage {
			continue
		}
		if lead == nil || (lead.Language == "" && a.Language != "") {
			lead = &a
		}
	}
	return lead
}

// AttachmentReader reads the bytes of a release's attachments. The store
// implements it; every worker on every machine reads the same bytes.
type AttachmentReader interface {
	// AttachmentData returns the bytes of attachment id of release rid, or
	// an error wrapping ErrNotFound.
	AttachmentData(ctx context.Context, rid, id string) ([]byte, error)
}
