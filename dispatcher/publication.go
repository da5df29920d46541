package dispatcher

import "time"

// PublishedAt returns when a release becomes public, in the newsroom and its
// feeds, and whether it is to become public at all: a release that is
// scheduled, sending or sent becomes public at its embargo's lift when it
// has an embargo, and when its sending is due otherwise, whichever is later
// (a release sent later than its embargo is public when it goes out). A
// draft, a cancelled release, a correction and a release never scheduled
// are never public: ok is false.
func (r *Release) PublishedAt() (at time.Time, ok bool) {
	if r.CorrectionOf != nil || r.ScheduledAt == nil {
		return time.Time{}, false
	}
	switch r.Status {
	case ReleaseScheduled, ReleaseSending, ReleaseSent, ReleaseSentWithFailures:
	default:
		return time.Time{}, false
	}
	at = r.ScheduledAt.UTC()
	if r.EmbargoUntil != nil && r.EmbargoUntil.After(at) {
		at = r.EmbargoUntil.UTC()
	}
	return at, true
}

// PublicAt reports whether the release is public at now (see PublishedAt).
func (r *Release) PublicAt(now time.Time) bool {
	at, ok := r.PublishedAt()
	return ok && !now.Before(at)
}

// Languages returns the languages the release has a version in: its own
// first, then its translations', each once.
func (r *Release) Languages() []string {
	out := []string{r.Language}
	for _, t := range r.Translations {
		dup := false
		for _, l := range out {
			if l == t.Language {
				dup = true
			}
		}
		if !dup && t.Language != "" {
			out = append(out, t.Language)
		}
	}
	return out
}
