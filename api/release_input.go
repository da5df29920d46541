package api

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pregon/pregon/dispatcher"
)

// Limits on releases.
const (
	maxTitle     = 300
	maxSummary   = 2000
	maxBodyBytes = 100 << 10 // a release body, in bytes
	maxAudience  = 1000      // ids per audience kind
)

// releaseInput is the body of POST /v1/releases. Its translations,
// contact and audiences decode into the domain's types, and release checks
// and trims them.
type releaseInput struct {
	Title        string                   `json:"title"`
	Summary      string                   `json:"summary"`
	Body         string                   `json:"body"`
	Language     string                   `json:"language"`
	Translations []dispatcher.Translation `json:"translations"`
	Contact      *dispatcher.PressContact `json:"contact"`
	SourceURL    string                   `json:"source_url"`
	Audiences    dispatcher.Audiences     `json:"audiences"`
	EmbargoUntil *string                  `json:"embargo_until"`
	Timezone     string                   `json:"timezone"`
	Send         bool                     `json:"send"`
}

// What a release needs (see release). A draft needs a title and its
// language; its text and its audience may come later. A release that is
// to go out needs a text in every version and at least one audience: one
// created with "send": true, and one edited while it is scheduled.
const (
	forDraft     = ""
	forSend      = "to send it (leave out \"send\" to save it as a draft)"
	forScheduled = "while it is scheduled to go out"
	// forCorrection: a correction goes out as soon as it is made.
	forCorrection = "in a correction"
)

// release validates in, looking up the lists and channels it names, and
// returns the release to create or a 400 problem listing every bad field.
// goesOut is forDraft for a release saved as a draft, which may have no
// audience and versions without a text, or forSend or forScheduled, which
// say why they are required.
func (s *Server) release(ctx context.Context, in *releaseInput, goesOut string) (*dispatcher.Release, error) {
	var fe fieldErrors
	rel := &dispatcher.Release{
		Title:        strings.TrimSpace(in.Title),
		Summary:      strings.TrimSpace(in.Summary),
		Body:         in.Body,
		Language:     strings.TrimSpace(in.Language),
		Translations: []dispatcher.Translation{},
		SourceURL:    strings.TrimSpace(in.SourceURL),
	}
	checkText(&fe, "", rel.Title, rel.Summary, rel.Body, goesOut)
	checkLanguage(&fe, "language", rel.Language, true)

	seen := map[string]bool{strings.ToLower(rel.Language): true}
	for i, t := range in.Translations {
		p := fmt.Sprintf("translations[%d].", i)
		tr := dispatcher.Translation{Language: strings.TrimSpace(t.Language), Title: strings.TrimSpace(t.Title),
			Summary: strings.TrimSpace(t.Summary), Body: t.Body}
		checkLanguage(&fe, p+"language", tr.Language, true)
		if tr.Language != "" && seen[strings.ToLower(tr.Language)] {
			if strings.EqualFold(tr.Language, rel.Language) {
				fe.add(p+"language", "is the release's own language")
			} else {
				fe.add(p+"language", "repeats an earlier translation's language")
			}
		}
		seen[strings.ToLower(tr.Language)] = true
		checkText(&fe, p, tr.Title, tr.Summary, tr.Body, goesOut)
		rel.Translations = append(rel.Translations, tr)
	}

	if c := in.Contact; c != nil {
		pc := &dispatcher.PressContact{Name: strings.TrimSpace(c.Name), Email: strings.TrimSpace(c.Email), Phone: strings.TrimSpace(c.Phone)}
		checkLine(&fe, "contact.name", pc.Name, false, maxTextLen)
		checkLine(&fe, "contact.phone", pc.Phone, false, 50)
		if _, err := dispatcher.NormalizeEmail(pc.Email); pc.Email != "" && err != nil {
			fe.add("contact.email", "must be a valid email address")
		}
		if *pc != (dispatcher.PressContact{}) {
			rel.Contact = pc
		}
	}
	if rel.SourceURL != "" {
		checkURL(&fe, "source_url", rel.SourceURL)
	}
	if in.EmbargoUntil != nil && strings.TrimSpace(*in.EmbargoUntil) != "" {
		if t, err := parseTime(*in.EmbargoUntil); err != nil {
			fe.add("embargo_until", "%s", err)
		} else {
			// Stored in UTC; shown in the release's time zone.
			t = t.UTC()
			rel.EmbargoUntil = &t
		}
	}
	// Every release shows its times in a zone of its own: the server's
	// default when it names none.
	rel.Timezone = strings.TrimSpace(in.Timezone)
	if rel.Timezone == "" {
		rel.Timezone = s.timezone
	} else if _, err := loadZone(rel.Timezone); err != nil {
		fe.add("timezone", "%s", err)
	}

	var err error
	a := in.Audiences
	if rel.Audiences.Lists, err = s.checkIDs(ctx, &fe, "audiences.lists", a.Lists, s.listExists); err != nil {
		return nil, err
	}
	var public []string // subscribers lists named as early lists
	pressList := func(ctx context.Context, id string) (bool, error) {
		l, err := s.store.List(ctx, id)
		if ok, err := found(err); !ok {
			return false, err
		}
		if l.Kind != dispatcher.ListPress {
			public = append(public, id)
		}
		return true, nil
	}
	if rel.Audiences.EarlyLists, err = s.checkIDs(ctx, &fe, "audiences.early_lists", a.EarlyLists, pressList); err != nil {
		return nil, err
	}
	for i, id := range a.EarlyLists {
		if slices.Contains(public, id) && slices.Index(a.EarlyLists, id) == i {
			fe.add(fmt.Sprintf("audiences.early_lists[%d]", i),
				"list %q is a subscribers list: subscribers are a public audience, who get a release when its embargo lifts; only press lists may get it early", id)
		}
	}
	pending := map[string]bool{} // channels found by the bot, not approved yet (followers.go)
	if rel.Audiences.TelegramChannels, err = s.checkIDs(ctx, &fe, "audiences.telegram_channels", a.TelegramChannels, s.channelTargetable(pending)); err != nil {
		return nil, err
	}
	pendingChannelErrors(&fe, a.TelegramChannels, pending)
	rel.Audiences.TelegramFollowers = a.TelegramFollowers
	if goesOut != forDraft && a.None() {
		fe.add("audiences", "needs at least one list or Telegram channel (or telegram_followers: true) %s", goesOut)
	}
	return rel, fe.err()
}

// checkText validates a title, summary and body, in the fields prefix+name.
// The body may be empty while goesOut is forDraft.
func checkText(fe *fieldErrors, prefix, title, summary, body, goesOut string) {
	checkLine(fe, prefix+"title", title, true, maxTitle)
	if utf8.RuneCountInString(summary) > maxSummary {
		fe.add(prefix+"summary", "must be at most %d characters", maxSummary)
	} else {
		checkTextChars(fe, prefix+"summary", summary)
	}
	switch {
	case strings.TrimSpace(body) == "" && goesOut != forDraft:
		fe.add(prefix+"body", "is required %s", goesOut)
	case strings.TrimSpace(body) == "":
	case len(body) > maxBodyBytes:
		fe.add(prefix+"body", "must be at most %d KB", maxBodyBytes>>10)
	default:
		checkTextChars(fe, prefix+"body", body)
	}
}

// loadZone loads an IANA time zone name such as "America/Mexico_City". It
// refuses "Local" (the server's own zone, which says nothing to a reader)
// and any name the time zone database does not hold.
func loadZone(name string) (*time.Location, error) {
	bad := errors.New("must be an IANA time zone name such as America/Mexico_City or Europe/Madrid")
	if name == "" || name == "Local" || len(name) > 64 {
		return nil, bad
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, bad
	}
	return loc, nil
}

// parseTime parses an RFC 3339 time, with an error that shows the format.
func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, errors.New("must be an RFC 3339 time like 2025-06-01T09:00:00-06:00")
	}
	return t, nil
}

// checkIDs checks that each id names something that exists and returns the
// ids without repeats. Only a store failure is returned as an error.
func (s *Server) checkIDs(ctx context.Context, fe *fieldErrors, field string, ids []string,
	exists func(context.Context, string) (bool, error)) ([]string, error) {
	out := []string{}
	if len(ids) > maxAudience {
		fe.add(field, "must name at most %d ids", maxAudience)
		return out, nil
	}
	seen := map[string]bool{}
	for i, id := range ids {
		f := fmt.Sprintf("%s[%d]", field, i)
		if strings.TrimSpace(id) == "" {
			fe.add(f, "must not be empty")
			continue
		}
		if seen[id] {
			continue
		}
		seen[id] = true
		ok, err := exists(ctx, id)
		if err != nil {
			return nil, err
		}
		if !ok {
			what := "list"
			if field == "audiences.telegram_channels" {
				what = "Telegram channel"
			}
			fe.add(f, "unknown %s id %q", what, id)
			continue
		}
		out = append(out, id)
	}
	return out, nil
}

func (s *Server) listExists(ctx context.Context, id string) (bool, error) {
	_, err := s.store.List(ctx, id)
	return found(err)
}

func found(err error) (bool, error) {
	if errors.Is(err, dispatcher.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}
