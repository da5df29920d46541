package newsroom

import (
	"fmt"
	"mime"
	"net/http"
	"net/url"

	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/store"
)

// A release's files (issue 10 item 5) on the newsroom: listed on its page,
// the lead image at its top and as og:image, enclosures in the feeds, and
// served under the page's own URL, {page}/files/{attachment id}/{filename},
// only while the release is public, under the same rules as the page.

// fileLink is a file as a page or a feed names it.
type fileLink struct {
	Name, URL, ContentType, Type, Size string
	Bytes                              int64
}

// fileCache is the Cache-Control of a file: its URL names one set of bytes
// (an attachment id is never reused), but a release may stop being public
// (retracted, or its embargo moved while a proxy holds it), so not for long.
const fileCache = "public, max-age=3600"

// fileURL returns the public URL of attachment a on the page at page.
func fileURL(page string, a *dispatcher.Attachment) string {
	return page + "/files/" + a.ID + "/" + url.PathEscape(a.Filename)
}

// files returns the files e's release shows in lang, and the URL of its
// lead image ("" when none).
func (h *Handler) files(e *store.NewsEntry, lang string) (lead string, files []fileLink) {
	rel, page := e.Release, h.url(lang, e.Paths[lang])
	if l := rel.LeadImage(lang); l != nil {
		lead = fileURL(page, l)
	}
	for _, a := range rel.AttachmentsFor(lang) {
		if a.Role == dispatcher.RoleLeadImage {
			continue
		}
		files = append(files, fileLink{Name: a.Filename, URL: fileURL(page, &a), ContentType: a.ContentType,
			Type: typeName(a.ContentType), Size: sizeName(a.Size), Bytes: a.Size})
	}
	return lead, files
}

func typeName(ct string) string {
	switch ct {
	case "application/pdf":
		return "PDF"
	case "image/jpeg":
		return "JPEG"
	case "image/png":
		return "PNG"
	case "image/webp":
		return "WebP"
	}
	return ct
}

func sizeName(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f kB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// filesLabel is the heading of a page's files.
func filesLabel(lang string) string {
	if lang == "es" {
		return "Archivos"
	}
	return "Files"
}

// serveFile serves attachment aid of the release at path ("yyyy/mm/slug")
// in lang while the release is public and the file goes with lang (404
// otherwise, as for its page), with its ETag and Cache-Control.
func (h *Handler) serveFile(w http.ResponseWriter, r *http.Request, lang, path, aid, name string) error {
	reader, ok := h.store.(dispatcher.AttachmentReader)
	if !ok {
		return errNotFound
	}
	e, err := h.store.NewsEntryByPath(r.Context(), lang, path)
	if err != nil {
		return err
	}
	if !e.Release.PublicAt(h.now()) || e.Paths[lang] != path {
		return errNotFound
	}
	var att *dispatcher.Attachment
	for _, a := range e.Release.AttachmentsFor(lang) {
		if a.ID == aid {
			att = &a
		}
	}
	if att == nil {
		return errNotFound
	}
	if name != att.Filename {
		w.Header().Set("Cache-Control", maxAge)
		http.Redirect(w, r, fileURL(h.url(lang, path), att), http.StatusMovedPermanently)
		return nil
	}
	data, err := reader.AttachmentData(r.Context(), e.Release.ID, aid)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Disposition", mime.FormatMediaType("inline", map[string]string{"filename": att.Filename}))
	w.Header().Set("Content-Security-Policy", "default-src 'none'; sandbox")
	writeCached(w, r, att.ContentType, data, e.PublishedAt, fileCache)
	return nil
}
