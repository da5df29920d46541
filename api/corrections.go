package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/pregon/pregon/audit"
	"github.com/pregon/pregon/dispatcher"
)

// maxNote is the most characters a correction's note may have.
const maxNote = 500

// Corrector corrects releases that were sent. The Sender may implement it
// (dispatcher.Service does, on the Redis store); when it does not, the
// correction endpoints answer 501.
type Corrector interface {
	// Correct corrects a sent release and returns the correction and
	// whether this call made it (false: the same correction was made
	// before, and nothing is sent again). It returns dispatcher.ErrNotFound,
	// an error wrapping dispatcher.ErrConflict (with dispatcher.ErrNotSent
	// for a release not sent), or dispatcher.ErrNoChange.
	Correct(ctx context.Context, id string, req *dispatcher.CorrectionRequest) (*dispatcher.Correction, bool, error)
	// Corrections returns a release's corrections, oldest first.
	Corrections(ctx context.Context, id string) ([]*dispatcher.Correction, error)
}

// correctionInput is the body of POST /v1/releases/{id}/corrections. A
// field left out is unchanged; translations replace the release's own in
// their languages.
type correctionInput struct {
	Note         string                   `json:"note"`
	Title        *string                  `json:"title"`
	Summary      *string                  `json:"summary"`
	Body         *string                  `json:"body"`
	Translations []dispatcher.Translation `json:"translations"`
	Retraction   bool                     `json:"retraction"`
}

func (s *Server) corrector() (Corrector, error) {
	c, ok := s.sender.(Corrector)
	if !ok {
		return nil, &Problem{Status: http.StatusNotImplemented, Detail: "This server keeps no corrections."}
	}
	return c, nil
}

// correctRelease handles POST /v1/releases/{id}/corrections → 202
// correction, or 200 with the correction made before by the same request.
// Only a release that was sent may be corrected (409 otherwise); a
// correction that changes nothing and is not a retraction is a 400.
func (s *Server) correctRelease(w http.ResponseWriter, r *http.Request) error {
	c, err := s.corrector()
	if err != nil {
		return err
	}
	var in correctionInput
	if err := s.readJSON(w, r, &in, false); err != nil {
		return err
	}
	id := r.PathValue("id")
	rel, err := s.store.Release(r.Context(), id)
	if err != nil {
		return err
	}
	if rel.CorrectionOf != nil {
		return &Problem{Status: http.StatusConflict,
			Detail: "This is a correction of release " + rel.CorrectionOf.ReleaseID + "; correct that release instead."}
	}
	req, err := correctionRequest(&in, rel)
	if err != nil {
		return err
	}
	req.Author = infoFrom(r.Context()).token
	cor, created, err := c.Correct(r.Context(), id, req)
	switch {
	case errors.Is(err, dispatcher.ErrNotSent):
		return (&Problem{Status: http.StatusConflict,
			Detail: fmt.Sprintf("The release is %s: a correction is for a release that was sent; edit it (PATCH) before sending.", rel.Status)}).
			coded("correction.not_sent")
	case errors.Is(err, dispatcher.ErrNoChange):
		return invalid("The correction changes nothing: give the corrected title, summary, body or translations (or \"retraction\": true to withdraw the statement).").
			coded("correction.no_change")
	case errors.Is(err, dispatcher.ErrConflict):
		return &Problem{Status: http.StatusConflict, Detail: err.Error()}
	case err != nil:
		return err
	}
	w.Header().Set("Location", "/v1/releases/"+id+"/corrections")
	status := http.StatusAccepted
	if !created {
		status = http.StatusOK
	} else if err := s.audit(r, audit.Entry{Action: audit.ReleaseCorrect, Target: id, Version: cor.Version,
		Detail: map[string]any{"correction_id": cor.ID, "retraction": cor.Retraction}}); err != nil {
		return err
	}
	return writeJSON(w, status, cor)
}

// correctionRequest validates in against rel, the release to correct, and
// returns the request, or a 400 problem listing every bad field. Fields are
// checked as a release's are; translations must be in languages rel has.
func correctionRequest(in *correctionInput, rel *dispatcher.Release) (*dispatcher.CorrectionRequest, error) {
	var fe fieldErrors
	req := &dispatcher.CorrectionRequest{Note: strings.TrimSpace(in.Note), Retraction: in.Retraction}
	checkLine(&fe, "note", req.Note, true, maxNote)
	if in.Title != nil {
		t := strings.TrimSpace(*in.Title)
		checkLine(&fe, "title", t, true, maxTitle)
		req.Title = &t
	}
	if in.Summary != nil {
		sm := strings.TrimSpace(*in.Summary)
		if utf8.RuneCountInString(sm) > maxSummary {
			fe.add("summary", "must be at most %d characters", maxSummary)
		} else {
			checkTextChars(&fe, "summary", sm)
		}
		req.Summary = &sm
	}
	if in.Body != nil {
		checkBody(&fe, "body", *in.Body)
		req.Body = in.Body
	}
	seen := map[string]bool{}
	for i, t := range in.Translations {
		p := fmt.Sprintf("translations[%d].", i)
		tr := dispatcher.Translation{Language: strings.TrimSpace(t.Language), Title: strings.TrimSpace(t.Title),
			Summary: strings.TrimSpace(t.Summary), Body: t.Body}
		checkLanguage(&fe, p+"language", tr.Language, true)
		switch {
		case tr.Language == "":
		case seen[strings.ToLower(tr.Language)]:
			fe.add(p+"language", "repeats an earlier translation's language")
		case strings.EqualFold(tr.Language, rel.Language):
			fe.add(p+"language", "is the release's own language: correct title, summary and body instead")
		case !hasTranslation(rel, tr.Language):
			fe.add(p+"language", "the release has no version in %q; a correction changes the versions it was sent in", tr.Language)
		}
		seen[strings.ToLower(tr.Language)] = true
		checkText(&fe, p, tr.Title, tr.Summary, tr.Body, forCorrection)
		req.Translations = append(req.Translations, tr)
	}
	return req, fe.err()
}

// checkBody validates a release body as checkText does.
func checkBody(fe *fieldErrors, field, body string) {
	switch {
	case strings.TrimSpace(body) == "":
		fe.add(field, "is required")
	case len(body) > maxBodyBytes:
		fe.add(field, "must be at most %d KB", maxBodyBytes>>10)
	default:
		checkTextChars(fe, field, body)
	}
}

func hasTranslation(rel *dispatcher.Release, lang string) bool {
	for _, t := range rel.Translations {
		if strings.EqualFold(t.Language, lang) {
			return true
		}
	}
	return false
}

// getCorrections handles GET /v1/releases/{id}/corrections → {"items":
// [correction, ...]}, oldest first.
func (s *Server) getCorrections(w http.ResponseWriter, r *http.Request) error {
	c, err := s.corrector()
	if err != nil {
		return err
	}
	cs, err := c.Corrections(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, newPage(cs, ""))
}
