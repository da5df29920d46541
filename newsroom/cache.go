package newsroom

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"time"
)

// maxAge is how long a client or a shared cache may keep a page or a feed
// without asking again: a release shows in caches at most this long after
// it is published.
const maxAge = "public, max-age=60"

// etag returns a strong ETag of body.
func etag(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}

// writeCached answers with body (of type ctype), its ETag and, when
// modified is not zero, Last-Modified; or 304 Not Modified when the
// request's If-None-Match names the ETag, or (without If-None-Match) its
// If-Modified-Since is not before modified.
func writeCached(w http.ResponseWriter, r *http.Request, ctype string, body []byte, modified time.Time, cacheControl string) {
	tag := etag(body)
	h := w.Header()
	h.Set("ETag", tag)
	h.Set("Cache-Control", cacheControl)
	if !modified.IsZero() {
		h.Set("Last-Modified", modified.UTC().Format(http.TimeFormat))
	}
	if notModified(r, tag, modified) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", ctype)
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return
	}
	_, _ = w.Write(body)
}

// notModified applies RFC 9110's conditional GET rules: If-None-Match wins
// over If-Modified-Since.
func notModified(r *http.Request, tag string, modified time.Time) bool {
	if inm := r.Header.Get("If-None-Match"); inm != "" {
		for _, t := range strings.Split(inm, ",") {
			t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
			if t == tag || t == "*" {
				return true
			}
		}
		return false
	}
	ims := r.Header.Get("If-Modified-Since")
	if ims == "" || modified.IsZero() {
		return false
	}
	t, err := http.ParseTime(ims)
	return err == nil && !modified.Truncate(time.Second).After(t)
}
