package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/pregon/pregon/audit"
	"github.com/pregon/pregon/dispatcher"
)

// Default attachment limits (PREGON_ATTACHMENT_MAX_BYTES,
// PREGON_RELEASE_ATTACHMENTS_MAX_BYTES).
const (
	DefaultMaxAttachmentBytes         = 10 << 20
	DefaultMaxReleaseAttachmentsBytes = 20 << 20
)

// multipartOverhead is what a multipart upload may hold besides the file:
// its boundaries, part headers and the small fields.
const multipartOverhead = 64 << 10

// AttachmentLimits caps the files of a release: MaxFileBytes each (0:
// DefaultMaxAttachmentBytes) and MaxReleaseBytes all of a release's
// together (0: DefaultMaxReleaseAttachmentsBytes).
type AttachmentLimits struct {
	MaxFileBytes, MaxReleaseBytes int64
}

func (l AttachmentLimits) withDefaults() AttachmentLimits {
	if l.MaxFileBytes <= 0 {
		l.MaxFileBytes = DefaultMaxAttachmentBytes
	}
	if l.MaxReleaseBytes <= 0 {
		l.MaxReleaseBytes = DefaultMaxReleaseAttachmentsBytes
	}
	return l
}

// AttachmentStore keeps the bytes of attachments; the Store may implement
// it (*store.Store does). When it does not, the attachment endpoints answer
// 501.
type AttachmentStore interface {
	// NewAttachmentID returns a new attachment id.
	NewAttachmentID() string
	// PutAttachmentData stores the bytes of an attachment of a release.
	PutAttachmentData(ctx context.Context, rid, id string, data []byte) error
	// DeleteAttachmentData deletes them (nothing when they are gone).
	DeleteAttachmentData(ctx context.Context, rid, id string) error
}

func (s *Server) attachmentStore() (AttachmentStore, error) {
	as, ok := s.store.(AttachmentStore)
	if !ok {
		return nil, &Problem{Status: http.StatusNotImplemented, Detail: "This server keeps no attachments."}
	}
	return as, nil
}

// upload is what POST /v1/releases/{id}/attachments sent.
type upload struct {
	filename string
	data     []byte
	language string
	role     dispatcher.AttachmentRole
}

// addAttachment handles POST /v1/releases/{id}/attachments
// (multipart/form-data: file, language?, role?) → 201 attachment. The file's
// type is sniffed from its bytes (PDF, JPEG, PNG, WebP; 415 otherwise, and
// for a lead image that is not an image); a file or a release's files over
// their limit answer 413. Only a draft or scheduled release takes files
// (409 otherwise); a file is an edit: the release's version goes up, its
// approval no longer holds, and the audit log records it.
func (s *Server) addAttachment(w http.ResponseWriter, r *http.Request) error {
	as, err := s.attachmentStore()
	if err != nil {
		return err
	}
	up, err := s.readUpload(w, r)
	if err != nil {
		return err
	}
	ctype, ext, what, ok := sniffAttachment(up.data)
	switch {
	case !ok && what != "":
		return &Problem{Status: http.StatusUnsupportedMediaType,
			Detail: fmt.Sprintf("The file is %s, which a release may not carry; attach a PDF, JPEG, PNG or WebP file.", what)}
	case !ok:
		return &Problem{Status: http.StatusUnsupportedMediaType,
			Detail: "The file is not a PDF, JPEG, PNG or WebP file (its type is read from its bytes, not from its name or the Content-Type sent); only those may be attached."}
	case up.role == dispatcher.RoleLeadImage && !strings.HasPrefix(ctype, "image/"):
		return &Problem{Status: http.StatusUnsupportedMediaType,
			Detail: fmt.Sprintf("A lead image must be a JPEG, PNG or WebP image; this file is a %s. Attach it with role \"attachment\".", what)}
	}
	sum := sha256.Sum256(up.data)
	id := r.PathValue("id")
	att := dispatcher.Attachment{ID: as.NewAttachmentID(), Filename: sanitizeFilename(up.filename, ext),
		ContentType: ctype, Size: int64(len(up.data)), SHA256: hex.EncodeToString(sum[:]),
		Role: up.role, CreatedAt: s.now().UTC().Truncate(1e6)}
	if err := as.PutAttachmentData(r.Context(), id, att.ID, up.data); err != nil {
		return err
	}
	rel, err := s.editAttachments(r.Context(), id, func(cur *dispatcher.Release) ([]dispatcher.Attachment, error) {
		lang, err := releaseLanguage(cur, up.language)
		if err != nil {
			return nil, err
		}
		att.Language = lang
		return s.withAttachment(cur, att)
	})
	if err != nil {
		if derr := as.DeleteAttachmentData(context.WithoutCancel(r.Context()), id, att.ID); derr != nil {
			s.log.WarnContext(r.Context(), "attachment refused but its bytes were not deleted", "release_id", id, "attachment", att.ID, "error", derr)
		}
		return err
	}
	if err := s.audit(r, audit.Entry{Action: audit.ReleaseEdit, Target: rel.ID, Version: rel.Version,
		Detail: map[string]any{"fields": "attachments", "attachment": att.ID, "added": att.Filename,
			"sha256": att.SHA256, "size": att.Size, "role": string(att.Role), "language": att.Language}}); err != nil {
		return err
	}
	w.Header().Set("ETag", strconv.Quote(strconv.Itoa(rel.Version)))
	return writeJSON(w, http.StatusCreated, att)
}

// withAttachment returns cur's attachments with att added, or the problem
// that refuses it: over the release's limit (413), or a second lead image
// for the same language (409).
func (s *Server) withAttachment(cur *dispatcher.Release, att dispatcher.Attachment) ([]dispatcher.Attachment, error) {
	total := att.Size
	for _, a := range cur.Attachments {
		total += a.Size
		if att.Role == dispatcher.RoleLeadImage && a.Role == dispatcher.RoleLeadImage && strings.EqualFold(a.Language, att.Language) {
			return nil, &Problem{Status: http.StatusConflict,
				Detail: fmt.Sprintf("The release already has a lead image%s (%s, %s); delete it first (DELETE /v1/releases/%s/attachments/%s).",
					forLanguage(att.Language), a.Filename, a.ID, cur.ID, a.ID)}
		}
	}
	if total > s.attach.MaxReleaseBytes {
		return nil, &Problem{Status: http.StatusRequestEntityTooLarge,
			Detail: fmt.Sprintf("The release's files would come to %s with this one, over the limit of %s per release (PREGON_RELEASE_ATTACHMENTS_MAX_BYTES); delete one or attach a smaller file.",
				sizeText(total), sizeText(s.attach.MaxReleaseBytes))}
	}
	return append(slices.Clone(cur.Attachments), att), nil
}

func forLanguage(lang string) string {
	if lang == "" {
		return " for all languages"
	}
	return " for " + lang
}

// deleteAttachment handles DELETE /v1/releases/{id}/attachments/{attachment_id}
// → 200 release: the release no longer carries the file. It is an edit,
// as adding one is.
func (s *Server) deleteAttachment(w http.ResponseWriter, r *http.Request) error {
	as, err := s.attachmentStore()
	if err != nil {
		return err
	}
	id, aid := r.PathValue("id"), r.PathValue("attachment_id")
	var gone dispatcher.Attachment
	rel, err := s.editAttachments(r.Context(), id, func(cur *dispatcher.Release) ([]dispatcher.Attachment, error) {
		i := slices.IndexFunc(cur.Attachments, func(a dispatcher.Attachment) bool { return a.ID == aid })
		if i < 0 {
			return nil, &Problem{Status: http.StatusNotFound, Detail: fmt.Sprintf("Release %s has no attachment %q.", id, aid)}
		}
		gone = cur.Attachments[i]
		return slices.Delete(slices.Clone(cur.Attachments), i, i+1), nil
	})
	if err != nil {
		return err
	}
	if err := as.DeleteAttachmentData(r.Context(), id, aid); err != nil {
		// The release no longer names it: nothing reads the bytes again.
		s.log.WarnContext(r.Context(), "attachment removed but its bytes were not deleted", "release_id", id, "attachment", aid, "error", err)
	}
	if err := s.audit(r, audit.Entry{Action: audit.ReleaseEdit, Target: rel.ID, Version: rel.Version,
		Detail: map[string]any{"fields": "attachments", "attachment": aid, "removed": gone.Filename, "sha256": gone.SHA256}}); err != nil {
		return err
	}
	w.Header().Set("ETag", strconv.Quote(strconv.Itoa(rel.Version)))
	return writeJSON(w, http.StatusOK, present(rel))
}

// editAttachments stores, as a new version of release id, the attachments
// that change returns for the release as it is, applying change again when
// another edit came first. The release must be a draft or scheduled (409).
func (s *Server) editAttachments(ctx context.Context, id string, change func(*dispatcher.Release) ([]dispatcher.Attachment, error)) (*dispatcher.Release, error) {
	for range editAttempts {
		cur, err := s.store.Release(ctx, id)
		if err != nil {
			return nil, err
		}
		if cur.CorrectionOf != nil {
			return nil, fmt.Errorf("release %q: %w", id, dispatcher.ErrNotFound)
		}
		if cur.Status != dispatcher.ReleaseDraft && cur.Status != dispatcher.ReleaseScheduled {
			return nil, conflictProblem(&dispatcher.ConflictError{ID: id, Reason: dispatcher.ConflictStatus, Status: cur.Status, Version: cur.Version}, 0, "changed")
		}
		atts, err := change(cur)
		if err != nil {
			return nil, err
		}
		next := *cur
		next.Attachments, next.Counts = atts, nil
		saved, err := s.store.EditRelease(ctx, &dispatcher.Edit{Release: &next, Base: cur.Version, RequireApproval: s.requireApproval})
		var ce *dispatcher.ConflictError
		if errors.As(err, &ce) {
			if ce.Reason == dispatcher.ConflictVersion {
				continue // another edit came first: apply the change to it
			}
			return nil, conflictProblem(ce, 0, "changed")
		}
		return saved, err
	}
	return nil, &Problem{Status: http.StatusConflict,
		Detail: "The release kept changing while the attachment was being stored (other edits came first); send it again."}
}

// releaseLanguage returns lang as the release spells it, "" for "", or a
// 400 when the release is in no such language.
func releaseLanguage(rel *dispatcher.Release, lang string) (string, error) {
	lang = strings.TrimSpace(lang)
	if lang == "" {
		return "", nil
	}
	langs := []string{rel.Language}
	for _, t := range rel.Translations {
		langs = append(langs, t.Language)
	}
	for _, l := range langs {
		if strings.EqualFold(l, lang) {
			return l, nil
		}
	}
	return "", fieldErrors{{Field: "language", Message: fmt.Sprintf("the release is in %s, not %q; leave it empty for a file for all of them",
		strings.Join(langs, ", "), lang)}}.err()
}

// readUpload reads the multipart form of an upload: the file (at most
// MaxFileBytes: 413 beyond), language and role.
func (s *Server) readUpload(w http.ResponseWriter, r *http.Request) (*upload, error) {
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" || params["boundary"] == "" {
		return nil, unsupported(mt, `multipart/form-data with the file in a part named "file" (curl -F file=@informe.pdf)`)
	}
	limit := s.attach.MaxFileBytes + multipartOverhead
	if r.ContentLength > limit {
		return nil, s.fileTooLarge()
	}
	mr := multipart.NewReader(http.MaxBytesReader(w, r.Body, limit), params["boundary"])
	up := &upload{role: dispatcher.RoleAttachment}
	var fe fieldErrors
	seen := false
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, s.uploadError(err)
		}
		switch part.FormName() {
		case "file":
			if seen {
				return nil, invalid(`Send one file per request (one part named "file").`)
			}
			seen = true
			up.filename = part.FileName()
			up.data, err = io.ReadAll(io.LimitReader(part, s.attach.MaxFileBytes+1))
			if err != nil {
				return nil, s.uploadError(err)
			}
			if int64(len(up.data)) > s.attach.MaxFileBytes {
				return nil, s.fileTooLarge()
			}
		case "language", "role":
			v, err := io.ReadAll(io.LimitReader(part, 65))
			if err != nil {
				return nil, s.uploadError(err)
			}
			if len(v) > 64 {
				fe.add(part.FormName(), "is too long")
				continue
			}
			if part.FormName() == "language" {
				up.language = string(v)
				continue
			}
			switch role := dispatcher.AttachmentRole(strings.TrimSpace(string(v))); role {
			case "", dispatcher.RoleAttachment:
			case dispatcher.RoleLeadImage:
				up.role = role
			default:
				fe.add("role", "must be %q or %q", dispatcher.RoleAttachment, dispatcher.RoleLeadImage)
			}
		default:
			fe.add(part.FormName(), `is not a field of an attachment (file, language, role)`)
		}
	}
	switch {
	case !seen:
		fe.add("file", `is required: the file, in a part named "file" (curl -F file=@informe.pdf)`)
	case len(up.data) == 0:
		fe.add("file", "is empty")
	}
	if err := fe.err(); err != nil {
		return nil, err
	}
	return up, nil
}

func (s *Server) uploadError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return s.fileTooLarge()
	}
	return invalid("The multipart/form-data body could not be read: " + err.Error() + ".")
}

func (s *Server) fileTooLarge() *Problem {
	return &Problem{Status: http.StatusRequestEntityTooLarge,
		Detail: fmt.Sprintf("The file is larger than %s, the limit per file (PREGON_ATTACHMENT_MAX_BYTES); attach a smaller one.",
			sizeText(s.attach.MaxFileBytes))}
}

// sizeText writes n bytes for people: "10 MB", "482.1 kB", "512 bytes".
func sizeText(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f kB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
