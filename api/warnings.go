package api

import (
	"context"
	"net/http"

	"github.com/pregon/pregon/dispatcher"
)

// checkWarnings is the name of the warning said in place of the others
// when they could not be worked out.
const checkWarnings = "checks"

// releaseWarned is a release just created or edited, as answered: the
// release and its warnings.
type releaseWarned struct {
	*dispatcher.Release
	// Warnings are the checks of its checklist that are not ok, but for
	// the slow ones (links, dns), which GET /v1/releases/{id}/checks runs;
	// [] when there are none. They never refuse the request.
	Warnings []dispatcher.Check `json:"warnings"`
}

// warnings returns what the checklist finds worth saying of rel to whoever
// just created or edited it: the checks that are not ok among text,
// languages (an audience's language without a version), embargo, audiences and
// attachments, in the checklist's shape and order. An error on a draft is
// there too: it would refuse a send. They are worked out after the change
// is stored, so a failure to read the audiences is logged and said as a
// warning named "checks", never returned.
func (s *Server) warnings(ctx context.Context, rel *dispatcher.Release) []dispatcher.Check {
	out := []dispatcher.Check{}
	scan, err := s.scanAudiences(ctx, rel, scanRecent)
	if err != nil {
		s.log.WarnContext(ctx, "cannot check a release just stored", "release_id", rel.ID, "error", err)
		return append(out, dispatcher.Check{Name: checkWarnings, Level: dispatcher.CheckWarning,
			Message: "The release was stored, but it could not be checked just now; see GET /v1/releases/" + rel.ID + "/checks.",
			Notes:   []dispatcher.Note{note("checks.unchecked", "id", rel.ID)}})
	}
	for _, c := range []dispatcher.Check{textCheck(rel), languagesCheck(rel, scan), s.embargoCheck(rel), audiencesCheck(rel, scan), s.attachmentsCheck(rel)} {
		if c.Level != dispatcher.CheckOK {
			out = append(out, c)
		}
	}
	return out
}

// writeWarned writes rel, presented, with its warnings.
func (s *Server) writeWarned(ctx context.Context, w http.ResponseWriter, status int, rel *dispatcher.Release) error {
	return writeJSON(w, status, releaseWarned{Release: present(rel), Warnings: s.warnings(ctx, rel)})
}
