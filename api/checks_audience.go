package api

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/pregon/pregon/dispatcher"
)

// Bounds of the reading of a release's lists by the checks.
const (
	// scanPage is how many list members are read per round trip.
	scanPage = 1000
	// maxScanMembers caps the list members the checks read (Server.maxScan),
	// so that a checklist answers in a moment whatever the lists' size;
	// beyond it the checks say that they saw only part of the audience.
	maxScanMembers = 50_000
)

// audienceScan is what the checks learn of a release's audiences, read as
// dispatcher.Dispatch plans them: the members of its lists and early lists
// (each address once; suppressed ones are not mailed) and its Telegram
// channels (those not active are skipped).
type audienceScan struct {
	emails      int // distinct addresses that will be mailed
	suppressed  int // distinct addresses that are suppressed
	duplicates  int // distinct addresses on more than one list
	channels    int // active Telegram channels
	unavailable int // Telegram channels that will be skipped
	followers   int // Telegram followers, with telegram_followers (followers.go)
	// languages counts the recipients (addresses and channels) that will
	// be sent something, by the language they asked for ("" for none).
	languages map[string]int
	// capped says that the checks stopped reading the lists after read
	// members.
	capped bool
	read   int
	// added is what each audience adds, in the order read (audiencecount.go).
	added []audienceAdded
}

// recipients is how many addresses and channels will be sent something.
func (a *audienceScan) recipients() int { return a.emails + a.channels + a.followers }

// scanMode is how much of an audience scanAudiences reads, and how fresh.
type scanMode int

const (
	// scanAll reads every recipient now (the checklist).
	scanAll scanMode = iota
	// scanFirst stops at the first recipient (the checks that can refuse a
	// send).
	scanFirst
	// scanRecent reads every recipient, or takes the lists' part from a
	// scan of the same lists made less than scanMemoTTL ago that nothing
	// has changed since (scanmemo.go): the warnings of a create or a
	// patch, and the compose form's counts.
	scanRecent
)

// scanAudiences reads rel's audiences: the followers, the channels, then
// the lists (scanLists). With scanFirst, it stops at the first recipient
// found (all the send gate needs to know).
func (s *Server) scanAudiences(ctx context.Context, rel *dispatcher.Release, mode scanMode) (*audienceScan, error) {
	a := &audienceScan{languages: map[string]int{}}
	if rel.Audiences.TelegramFollowers { // followers.go
		n, err := s.followerCount(ctx)
		if err != nil {
			return nil, fmt.Errorf("count telegram followers: %w", err)
		}
		a.followers = n
		a.added = append(a.added, audienceAdded{Audience: "telegram_followers", Adds: n})
		if mode == scanFirst && n > 0 {
			return a, nil
		}
	}
	for _, id := range rel.Audiences.TelegramChannels {
		c, err := s.store.Channel(ctx, id)
		if errors.Is(err, dispatcher.ErrNotFound) {
			a.unavailable++
			a.added = append(a.added, audienceAdded{Audience: "telegram_channels", ID: id, Unavailable: true})
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("check telegram channel %s: %w", id, err)
		}
		if c.Status != "" && c.Status != "active" {
			a.unavailable++
			a.added = append(a.added, audienceAdded{Audience: "telegram_channels", ID: id, Unavailable: true})
			continue
		}
		a.channels++
		a.added = append(a.added, audienceAdded{Audience: "telegram_channels", ID: id, Adds: 1})
		a.languages[strings.ToLower(c.Language)]++
		if mode == scanFirst {
			return a, nil
		}
	}
	var l *audienceScan
	var err error
	if mode == scanRecent {
		l, err = s.recentLists(ctx, rel.Audiences)
	} else {
		l, err = s.scanLists(ctx, rel.Audiences, mode == scanFirst)
	}
	if err != nil {
		return nil, err
	}
	a.addLists(l)
	return a, nil
}

// scanLists reads the members of the lists and early lists of aud, as
// dispatcher.Dispatch plans them: each address once, suppressed ones left
// out, at most s.maxScan members. With first, it stops at the first
// address that would be mailed.
func (s *Server) scanLists(ctx context.Context, aud dispatcher.Audiences, first bool) (*audienceScan, error) {
	a := &audienceScan{languages: map[string]int{}}
	seen := map[string]int{}   // addresses: 1 once seen, 2 once seen again
	lists := map[string]bool{} // list ids
	read := 0
	for i, id := range slices.Concat(aud.EarlyLists, aud.Lists) {
		kind := "lists"
		if i < len(aud.EarlyLists) {
			kind = "early_lists"
		}
		if lists[id] {
			a.added = append(a.added, audienceAdded{Audience: kind, ID: id})
			continue
		}
		lists[id] = true
		before := *a
		count := func() {
			a.added = append(a.added, audienceAdded{Audience: kind, ID: id, Adds: a.emails - before.emails,
				Duplicates: a.duplicates - before.duplicates, Suppressed: a.suppressed - before.suppressed})
		}
		cursor := ""
		for {
			if read >= s.maxScan {
				a.capped, a.read = true, read
				count()
				return a, nil
			}
			ms, next, err := s.store.Members(ctx, id, cursor, min(scanPage, s.maxScan-read))
			if err != nil {
				return nil, fmt.Errorf("check list %s: %w", id, err)
			}
			read += len(ms)
			var fresh []dispatcher.Member
			for _, m := range ms {
				switch seen[m.Email] {
				case 1:
					seen[m.Email] = 2
					a.duplicates++
					continue
				case 2:
					continue
				}
				seen[m.Email] = 1
				fresh = append(fresh, m)
			}
			emails := make([]string, len(fresh))
			for i, m := range fresh {
				emails[i] = m.Email
			}
			sup, err := s.store.Suppressed(ctx, emails)
			if err != nil {
				return nil, fmt.Errorf("check list %s: %w", id, err)
			}
			for i, m := range fresh {
				if sup[i] {
					a.suppressed++
					continue
				}
				a.emails++
				a.languages[strings.ToLower(m.Language)]++
			}
			if first && a.emails > 0 {
				return a, nil
			}
			if next == "" {
				break
			}
			cursor = next
		}
		count()
	}
	return a, nil
}

// addLists adds to a what scanLists read of the lists.
func (a *audienceScan) addLists(l *audienceScan) {
	a.emails += l.emails
	a.suppressed += l.suppressed
	a.duplicates += l.duplicates
	a.capped, a.read = l.capped, l.read
	for lang, n := range l.languages {
		a.languages[lang] += n
	}
	a.added = append(a.added, l.added...)
}

// audiencesCheck: someone is left to receive the release once duplicates
// and suppressed addresses are taken out. No one left is an error.
func audiencesCheck(rel *dispatcher.Release, a *audienceScan) dispatcher.Check {
	c := dispatcher.Check{Name: checkAudiences, Level: dispatcher.CheckOK}
	aud := rel.Audiences
	if len(aud.Lists)+len(aud.EarlyLists)+len(aud.TelegramChannels) == 0 && !aud.TelegramFollowers {
		c.Level, c.Message = dispatcher.CheckError, "The release has no audience: add a list or a Telegram channel."
		c.Notes = []dispatcher.Note{note("audiences.none")}
		return c
	}
	if a.recipients() == 0 && !a.capped {
		c.Level = dispatcher.CheckError
		var why []string
		var whyNotes []dispatcher.Note
		switch {
		case len(aud.Lists)+len(aud.EarlyLists) == 0:
		case a.suppressed == 0:
			why = append(why, "its lists have no members")
			whyNotes = append(whyNotes, note("audiences.no_members"))
		default:
			why = append(why, fmt.Sprintf("every member of its lists is suppressed (%s)", number(a.suppressed)))
			whyNotes = append(whyNotes, note("audiences.all_suppressed", "n", a.suppressed))
		}
		if aud.TelegramFollowers {
			why = append(why, "the Telegram bot has no followers")
			whyNotes = append(whyNotes, note("audiences.no_followers"))
		}
		switch n := len(aud.TelegramChannels); {
		case n == 0:
		case n == 1:
			why = append(why, "its Telegram channel is not active")
			whyNotes = append(whyNotes, note("audiences.channel_inactive"))
		default:
			why = append(why, fmt.Sprintf("none of its %d Telegram channels is active", n))
			whyNotes = append(whyNotes, note("audiences.channels_inactive", "n", n))
		}
		c.Message = "No one would receive the release: " + strings.Join(why, " and ") + "."
		c.Notes = []dispatcher.Note{note("audiences.nobody", "why", whyNotes)}
		return c
	}
	var parts []string
	var who []dispatcher.Note
	if a.emails > 0 || a.channels == 0 && a.followers == 0 {
		parts = append(parts, number(a.emails)+" "+plural(a.emails, "email address", "email addresses"))
		who = append(who, note("audiences.emails", "n", a.emails))
	}
	if a.channels > 0 {
		parts = append(parts, number(a.channels)+" "+plural(a.channels, "Telegram channel", "Telegram channels"))
		who = append(who, note("audiences.channels", "n", a.channels))
	}
	if a.followers > 0 {
		parts = append(parts, number(a.followers)+" "+plural(a.followers, "Telegram follower", "Telegram followers"))
		who = append(who, note("audiences.followers", "n", a.followers))
	}
	whom := strings.Join(parts, " and ")
	receive := "audiences.receive"
	if a.capped {
		whom, receive = "At least "+whom, "audiences.receive_at_least"
	}
	c.Message = upperFirst(whom) + " will receive the release."
	c.Notes = []dispatcher.Note{note(receive, "who", who)}
	if a.duplicates > 0 {
		c.Message += " " + plural(a.duplicates, "1 address is on more than one list; it",
			number(a.duplicates)+" addresses are on more than one list; each") + " will get one email."
		c.Notes = append(c.Notes, note("audiences.duplicates", "n", a.duplicates))
	}
	if a.suppressed > 0 {
		c.Message += fmt.Sprintf(" %s suppressed (unsubscribed or bounced) and will not be mailed.",
			plural(a.suppressed, "1 address is", number(a.suppressed)+" addresses are"))
		c.Notes = append(c.Notes, note("audiences.suppressed", "n", a.suppressed))
	}
	if a.unavailable > 0 {
		c.Message += fmt.Sprintf(" %s not active and will be skipped.",
			plural(a.unavailable, "1 Telegram channel is", number(a.unavailable)+" Telegram channels are"))
		c.Notes = append(c.Notes, note("audiences.unavailable", "n", a.unavailable))
	}
	if a.capped {
		c.Message += fmt.Sprintf(" Only the first %s list members were read.", number(a.read))
		c.Notes = append(c.Notes, note("scan.capped", "read", a.read))
	}
	return c
}

// languagesCheck: every recipient's language has a version. Those whose
// language has none get the original: a warning, not an error.
func languagesCheck(rel *dispatcher.Release, a *audienceScan) dispatcher.Check {
	c := dispatcher.Check{Name: checkLanguages, Level: dispatcher.CheckOK}
	versions := []string{rel.Language}
	for _, t := range rel.Translations {
		versions = append(versions, t.Language)
	}
	type missing struct {
		lang string
		n    int
	}
	var miss []missing
	for lang, n := range a.languages {
		if lang != "" && !sameLanguage(lang, rel.Text(lang).Language) {
			miss = append(miss, missing{lang, n})
		}
	}
	slices.SortFunc(miss, func(x, y missing) int { return cmp.Or(cmp.Compare(y.n, x.n), cmp.Compare(x.lang, y.lang)) })
	if len(miss) == 0 {
		c.Message = "Every recipient has a version in their language (" + strings.Join(versions, ", ") + ")."
		c.Notes = []dispatcher.Note{note("languages.ok", "langs", versions)}
	} else {
		c.Level = dispatcher.CheckWarning
		var parts []string
		var notes []dispatcher.Note
		for _, m := range miss {
			parts = append(parts, fmt.Sprintf("%s (%s %s)", m.lang, number(m.n), plural(m.n, "recipient", "recipients")))
			notes = append(notes, note("languages.missing_lang", "lang", m.lang, "n", m.n))
		}
		c.Message = "No version in " + list(parts) + ": they will get the original, in " + rel.Language + "."
		c.Notes = []dispatcher.Note{note("languages.missing", "missing", notes, "original", rel.Language)}
	}
	if a.capped {
		c.Message += fmt.Sprintf(" Only the first %s list members were read.", number(a.read))
		c.Notes = append(c.Notes, note("scan.capped", "read", a.read))
	}
	return c
}

// sameLanguage reports whether a recipient who asked for lang reads the
// version in got: the same tag, or the same primary language (es-MX reads es).
func sameLanguage(lang, got string) bool {
	primary := func(s string) string {
		p, _, _ := strings.Cut(strings.ToLower(s), "-")
		p, _, _ = strings.Cut(p, "_")
		return p
	}
	return strings.EqualFold(lang, got) || primary(lang) == primary(got)
}

// number writes n with a comma between thousands: 12,345.
func number(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return s
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// upperFirst capitalises the first letter of an ASCII sentence.
func upperFirst(s string) string {
	if s != "" && s[0] >= 'a' && s[0] <= 'z' {
		return string(s[0]-'a'+'A') + s[1:]
	}
	return s
}
