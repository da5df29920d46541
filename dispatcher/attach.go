package dispatcher

import (
	"context"
	"fmt"
)

// attachments returns content, rel's email in lang, with the bytes of the
// files rel carries for lang (Release.AttachmentsFor), read once per
// rendering and kept beside it in the content cache: every message of a
// release in a language shares them, and the email channel encodes them
// once. A release without files, a correction (which carries none), or a
// store that keeps no files returns content as it is. A file that cannot
// be read is a transient error, not kept: the next message reads again.
func (s *Service) attachments(ctx context.Context, rel *Release, lang string, embargoed bool, content *EmailContent) (*EmailContent, error) {
	atts := rel.AttachmentsFor(lang)
	reader, ok := s.cfg.Store.(AttachmentReader)
	if len(atts) == 0 || rel.CorrectionOf != nil || !ok {
		return content, nil
	}
	e := s.content.get(key("email", rel, lang, embargoed))
	e.attachMu.Lock()
	defer e.attachMu.Unlock()
	if e.attached != nil && e.email == content {
		return e.attached, nil
	}
	out, err := withAttachments(ctx, reader, rel, lang, content)
	if err != nil {
		return nil, err
	}
	if e.email == content {
		e.attached = out
	}
	return out, nil
}

// withAttachments returns a copy of content with the bytes of rel's files
// for lang, the lead image inline.
func withAttachments(ctx context.Context, reader AttachmentReader, rel *Release, lang string, content *EmailContent) (*EmailContent, error) {
	atts := rel.AttachmentsFor(lang)
	lead := rel.LeadImage(lang)
	out := *content
	out.Attachments = make([]EmailAttachment, 0, len(atts))
	for _, a := range atts {
		if a.Role == RoleLeadImage && (lead == nil || a.ID != lead.ID) {
			continue // a lead image for all languages, where lang has its own
		}
		data, err := reader.AttachmentData(ctx, rel.ID, a.ID)
		if err != nil {
			return nil, Transient(fmt.Errorf("read attachment %s (%s): %w", a.ID, a.Filename, err), 0)
		}
		ea := EmailAttachment{Filename: a.Filename, ContentType: a.ContentType, Data: data}
		if lead != nil && a.ID == lead.ID {
			ea.ContentID = a.ContentID()
		}
		out.Attachments = append(out.Attachments, ea)
	}
	return &out, nil
}
