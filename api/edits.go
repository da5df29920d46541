package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/pregon/pregon/audit"
	"github.com/pregon/pregon/dispatcher"
)

// editAttempts is how many times an edit without an expected version is
// applied again when another edit lands between its read and its write.
const editAttempts = 3

// patchInput is the body of PATCH /v1/releases/{id}: a JSON merge patch
// (RFC 7396) of the fields of POST /v1/releases, and optionally the version
// the patch was made against. Decoding the patch into it checks the types
// of the fields given, with the errors that creation gives.
type patchInput struct {
	releaseInput
	Version *int `json:"version"`
}

// editRelease handles PATCH /v1/releases/{id} → 200 release with
// "warnings" (see Server.warnings): it applies a
// JSON merge patch to the release's fields and validates the result as a
// new release is validated. A change makes a new version, which withdraws
// the approval of the one before; a patch that changes nothing changes
// nothing. Only a draft or scheduled release may change, and once its early
// lists were sent the embargoed copies, only its embargo. A draft may be
// left without an audience or a text; a scheduled release may not. A "version" in the
// body or an If-Match header makes the edit apply only to that version.
func (s *Server) editRelease(w http.ResponseWriter, r *http.Request) error {
	data, err := readBody(w, r, s.maxBody)
	if err != nil {
		return err
	}
	if mt := mediaType(r); !isJSON(mt) {
		return unsupported(mt, "application/merge-patch+json or application/json")
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return invalid(`The request body is empty; send the fields to change as a JSON object, e.g. {"title": "..."}.`)
	}
	var in patchInput
	if err := decodeJSON(data, &in); err != nil {
		return unembed(err)
	}
	var patch map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&patch); err != nil {
		return invalid("The body must be a JSON object of the fields to change.")
	}
	delete(patch, "version")
	var fe fieldErrors
	if _, ok := patch["send"]; ok {
		fe.add("send", "cannot be edited; send the release with POST /v1/releases/{id}/send")
	}
	expected := expectedVersion(r, in.Version, &fe)
	if err := fe.err(); err != nil {
		return err
	}
	id := r.PathValue("id")
	for range editAttempts {
		rel, changed, err := s.applyPatch(r.Context(), id, patch, expected)
		var ce *dispatcher.ConflictError
		if errors.As(err, &ce) && ce.Reason == dispatcher.ConflictVersion && expected == 0 {
			continue // another edit came first: apply the patch to it
		}
		if err != nil {
			return err
		}
		// A new embargo, or new early lists, move the release's due time.
		if rel.Status == dispatcher.ReleaseScheduled && (slices.Contains(changed, "embargo_until") || slices.Contains(changed, "audiences")) {
			moved, err := s.sender.Reschedule(r.Context(), id)
			if err != nil {
				return s.rescheduleFailed(r, rel, err)
			}
			rel = moved
		}
		if len(changed) > 0 {
			if err := s.audit(r, audit.Entry{Action: audit.ReleaseEdit, Target: rel.ID, Version: rel.Version,
				Detail: map[string]any{"fields": strings.Join(changed, ",")}}); err != nil {
				return err
			}
		}
		w.Header().Set("ETag", strconv.Quote(strconv.Itoa(rel.Version)))
		return s.writeWarned(r.Context(), w, http.StatusOK, rel)
	}
	return &Problem{Status: http.StatusConflict,
		Detail: "The release kept changing while this edit was being applied (other edits came first); send it again."}
}

// applyPatch applies patch to release id, at version expected when it is
// not 0, and returns the release after it and the fields that changed (none
// for a patch that changes nothing, which stores nothing). It returns a
// problem for what the release refuses, and a *dispatcher.ConflictError
// with ConflictVersion when another edit was stored since it read the
// release.
func (s *Server) applyPatch(ctx context.Context, id string, patch map[string]any, expected int) (*dispatcher.Release, []string, error) {
	cur, err := s.store.Release(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	if expected != 0 && cur.Version != expected {
		return nil, nil, conflictProblem(&dispatcher.ConflictError{ID: id, Reason: dispatcher.ConflictVersion, Status: cur.Status, Version: cur.Version}, expected, "edited")
	}
	if cur.Status != dispatcher.ReleaseDraft && cur.Status != dispatcher.ReleaseScheduled {
		return nil, nil, conflictProblem(&dispatcher.ConflictError{ID: id, Reason: dispatcher.ConflictStatus, Status: cur.Status, Version: cur.Version}, expected, "edited")
	}
	doc, err := content(cur)
	if err != nil {
		return nil, nil, err
	}
	merged, err := json.Marshal(mergePatch(doc, patch))
	if err != nil {
		return nil, nil, fmt.Errorf("edit release %s: %w", id, err)
	}
	var in releaseInput
	if err := json.Unmarshal(merged, &in); err != nil {
		return nil, nil, fmt.Errorf("edit release %s: %w", id, err)
	}
	// A scheduled release is to go out: it keeps an audience and its texts.
	goesOut := forDraft
	if cur.Status == dispatcher.ReleaseScheduled {
		goesOut = forScheduled
	}
	rel, err := s.release(ctx, &in, goesOut)
	if err != nil {
		return nil, nil, err
	}
	next, changed, err := withContent(cur, rel)
	if err != nil || len(changed) == 0 {
		return cur, nil, err
	}
	saved, err := s.store.EditRelease(ctx, &dispatcher.Edit{Release: next, Base: cur.Version,
		OnlyEmbargo: slices.Equal(changed, []string{"embargo_until"}), RequireApproval: s.requireApproval,
		DraftOnly: unsendable(next)})
	var ce *dispatcher.ConflictError
	if errors.As(err, &ce) && (ce.Reason != dispatcher.ConflictVersion || expected != 0) {
		return nil, nil, conflictProblem(ce, expected, "edited")
	}
	return saved, changed, err
}

// rescheduleFailed is the problem for an edit that was stored but whose
// new timing the sender could not apply.
func (s *Server) rescheduleFailed(r *http.Request, rel *dispatcher.Release, err error) error {
	infoFrom(r.Context()).err = err
	p := &Problem{Status: http.StatusInternalServerError, ReleaseID: rel.ID,
		Detail: fmt.Sprintf("The edit was saved as version %d, but the release's send time could not be moved to follow its embargo; check it with GET /v1/releases/%s and ask an operator to look at the logs.", rel.Version, rel.ID)}
	if unavailable(err) {
		p.Status, p.retryAfter = http.StatusServiceUnavailable, retryAfterUnavailable
	}
	return p
}

// unembed returns err with the fields of a problem named as in a release,
// without the "releaseInput." that the JSON decoder puts before the fields
// of patchInput's embedded struct.
func unembed(err error) error {
	var p *Problem
	if !errors.As(err, &p) {
		return err
	}
	const prefix = "releaseInput."
	p.Detail = strings.ReplaceAll(p.Detail, prefix, "")
	for i := range p.Errors {
		p.Errors[i].Field = strings.TrimPrefix(p.Errors[i].Field, prefix)
	}
	return p
}

// expectedVersion returns the version an edit must apply to, from the
// body's "version" or an If-Match header ("3", W/"3" or 3; * for any), 0
// when neither names one. A bad value is a field error.
func expectedVersion(r *http.Request, body *int, fe *fieldErrors) int {
	v := 0
	if body != nil {
		if *body < 1 {
			fe.add("version", "must be a whole number from 1: the version the edit was made against")
			return 0
		}
		v = *body
	}
	im := strings.TrimSpace(r.Header.Get("If-Match"))
	if im == "" || im == "*" {
		return v
	}
	n, err := strconv.Atoi(strings.Trim(strings.TrimPrefix(im, "W/"), `"`))
	switch {
	case err != nil || n < 1:
		fe.add("If-Match", `must be a release version in quotes, such as "3" (the ETag of the release)`)
	case v != 0 && n != v:
		fe.add("If-Match", "names version %d, the body's \"version\" %d: send one of them", n, v)
	default:
		v = n
	}
	return v
}

// editableFields returns the JSON names of a release's fields that an edit
// may change: those of POST /v1/releases but "send".
func editableFields() []string {
	var out []string
	for f := range reflect.TypeFor[releaseInput]().Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name != "" && name != "-" && name != "send" {
			out = append(out, name)
		}
	}
	return out
}

// content returns the editable fields of rel as a JSON document, the
// target that a merge patch applies to.
func content(rel *dispatcher.Release) (map[string]any, error) {
	fields, err := jsonFields(rel)
	if err != nil {
		return nil, err
	}
	doc := map[string]any{}
	for _, name := range editableFields() {
		if raw, ok := fields[name]; ok {
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.UseNumber()
			var v any
			if err := dec.Decode(&v); err != nil {
				return nil, fmt.Errorf("release %s: field %s: %w", rel.ID, name, err)
			}
			doc[name] = v
		}
	}
	return doc, nil
}

// withContent returns cur with the editable fields of rel (a release as
// validation returns it), and the names of those that differ.
func withContent(cur, rel *dispatcher.Release) (*dispatcher.Release, []string, error) {
	old, err := jsonFields(cur)
	if err != nil {
		return nil, nil, err
	}
	upd, err := jsonFields(rel)
	if err != nil {
		return nil, nil, err
	}
	var changed []string
	for _, name := range editableFields() {
		if !bytes.Equal(old[name], upd[name]) {
			changed = append(changed, name)
			old[name] = upd[name]
		}
	}
	b, err := json.Marshal(old)
	if err != nil {
		return nil, nil, fmt.Errorf("release %s: %w", cur.ID, err)
	}
	next := new(dispatcher.Release)
	if err := json.Unmarshal(b, next); err != nil {
		return nil, nil, fmt.Errorf("release %s: %w", cur.ID, err)
	}
	return next, changed, nil
}

// jsonFields returns the top-level fields of rel's JSON.
func jsonFields(rel *dispatcher.Release) (map[string]json.RawMessage, error) {
	b, err := json.Marshal(rel)
	if err != nil {
		return nil, fmt.Errorf("release %s: %w", rel.ID, err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return nil, fmt.Errorf("release %s: %w", rel.ID, err)
	}
	return fields, nil
}

// mergePatch applies a JSON merge patch (RFC 7396) to target and returns
// the result: an object patch merges member by member, a null member
// removes it, anything else replaces the target.
func mergePatch(target, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	t, ok := target.(map[string]any)
	if !ok {
		t = map[string]any{}
	}
	for k, v := range p {
		if v == nil {
			delete(t, k)
		} else {
			t[k] = mergePatch(t[k], v)
		}
	}
	return t
}

type approveInput struct {
	Version *int `json:"version"`
}

// approveRelease handles POST /v1/releases/{id}/approve {version} → 200
// release: the caller approves that version, which must be the current one,
// of a release someone else wrote. The approval holds until the next edit.
func (s *Server) approveRelease(w http.ResponseWriter, r *http.Request) error {
	var in approveInput
	if err := s.readJSON(w, r, &in, false); err != nil {
		return err
	}
	id := r.PathValue("id")
	switch {
	case in.Version == nil:
		return fieldErrors{{Field: "version", Message: "is required: the version you reviewed (GET /v1/releases/" + id + " shows it)"}}.err()
	case *in.Version < 1:
		return fieldErrors{{Field: "version", Message: "must be a whole number from 1"}}.err()
	}
	if err := s.refuseApproval(r.Context(), id, *in.Version); err != nil {
		return err
	}
	rel, err := s.store.ApproveRelease(r.Context(), id, *in.Version, infoFrom(r.Context()).token)
	var ce *dispatcher.ConflictError
	if errors.As(err, &ce) {
		return conflictProblem(ce, *in.Version, "approved")
	}
	if err != nil {
		return err
	}
	if err := s.audit(r, audit.Entry{Action: audit.ReleaseApprove, Target: rel.ID, Version: *in.Version}); err != nil {
		return err
	}
	w.Header().Set("ETag", strconv.Quote(strconv.Itoa(rel.Version)))
	return writeJSON(w, http.StatusOK, present(rel))
}

// refuseApproval returns a 409 problem when version, the current version
// of release id, could not be sent as it is (no audience, or a version
// without a text): adding them is an edit, which would withdraw the
// approval at once. Any other refusal is the store's to make.
func (s *Server) refuseApproval(ctx context.Context, id string, version int) error {
	rel, err := s.store.Release(ctx, id)
	if err != nil {
		return err
	}
	if rel.Version != version || rel.Status != dispatcher.ReleaseDraft || !unsendable(rel) {
		return nil
	}
	var failed []dispatcher.Check
	if c := textCheck(rel); c.Level == dispatcher.CheckError {
		failed = append(failed, c)
	}
	if rel.Audiences.None() { // the check needs no scan to say so
		failed = append(failed, audiencesCheck(rel, &audienceScan{}))
	}
	var why []string
	for _, c := range failed {
		why = append(why, c.Name+": "+c.Message)
	}
	return (&Problem{Type: ProblemChecks, Title: "A pre-send check failed", Status: http.StatusConflict, Checks: failed,
		Detail: fmt.Sprintf("Version %d cannot be sent as it is, so it cannot be approved: %s Approve the version that adds them (an edit withdraws an approval).",
			version, strings.Join(why, " "))}).coded("release.approve_incomplete", "version", version)
}

// conflictProblem is the problem response for what a release refused:
// asked (0: none) is the version the request named, and done what it asked
// for ("edited", "approved", "sent").
func conflictProblem(ce *dispatcher.ConflictError, asked int, done string) *Problem {
	p := &Problem{Status: http.StatusConflict}
	switch ce.Reason {
	case dispatcher.ConflictVersion:
		p.Detail = fmt.Sprintf("The release is at version %d, not %d: it changed since you read it. Read it again (GET /v1/releases/%s) and check version %d.",
			ce.Version, asked, ce.ID, ce.Version)
		p.Errors = []FieldError{{Field: "version", Message: fmt.Sprintf("is not the current version (%d)", ce.Version)}}
		p.coded("release.version_conflict", "current", ce.Version)
	case dispatcher.ConflictStatus:
		switch ce.Status {
		case dispatcher.ReleaseSending:
			p.Detail = "The release is sending; it can no longer be " + done + " (only a draft or a scheduled release can). Once it is sent, publish a correction to change it."
			p.coded("release.sending")
		case dispatcher.ReleaseCancelled:
			p.Detail = "The release was cancelled; it can no longer be " + done + "."
			p.coded("release.cancelled")
		default:
			p.Detail = "The release was sent (" + string(ce.Status) + "); it can no longer be " + done + ". Publish a correction to change it."
			p.coded("release.sent")
		}
	case dispatcher.ConflictEarly:
		p.Detail = "The early lists already have this release under embargo, so only embargo_until may change now (to move the lift). " +
			"To change anything else, publish a correction once it is sent."
	case dispatcher.ConflictIncomplete:
		p.Detail = "The release was scheduled to go out while this edit was being made, so it must keep at least one audience and a text in every version; the edit was not saved. " +
			"Read it again (GET /v1/releases/" + ce.ID + ") and edit it."
		p.coded("release.incomplete")
	case dispatcher.ConflictOwnRelease:
		p.Status = http.StatusForbidden
		p.Detail = fmt.Sprintf("You wrote this release (as %q); a coordinator other than its author must approve it.", ce.Author)
		p.coded("release.own")
	case dispatcher.ConflictUnapproved:
		p.Detail = fmt.Sprintf("The release needs approval of version %d by a coordinator other than %s before it can be sent: "+
			"POST /v1/releases/%s/approve {\"version\": %d} with another coordinator's token.", ce.Version, ce.Author, ce.ID, ce.Version)
		p.coded("release.needs_approval", "version", ce.Version)
	default:
		p.Detail = ce.Error() + "."
	}
	return p
}
