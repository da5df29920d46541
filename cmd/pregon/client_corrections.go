package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/pregon/pregon/client"
	"github.com/pregon/pregon/dispatcher"
)

// releaseCorrect runs `pregon release correct ID --note "..." [-f FILE.md]
// [--translation FILE.md]... [--retract]`: the corrected statement is a
// release file like those `release send` takes; its title, summary and
// body replace the release's (or, when its language is not the release's,
// the translation in that language).
func (c *cli) releaseCorrect(ctx context.Context, args []string) error {
	cm := c.flags("release correct", `release correct ID --note "..." [-f CORRECTED.md] [--translation FILE.md]... [--retract]`)
	note := cm.fs.String("note", "", "what changed, in one short paragraph (required); it heads the correction")
	file := cm.fs.String("f", "", "the corrected statement: a release file with front matter, as for release send")
	var translations stringsFlag
	cm.fs.Var(&translations, "translation", "a corrected translation file with its own front matter (repeat for more languages)")
	retract := cm.fs.Bool("retract", false, "withdraw the statement: the note goes out with no statement")
	pos, a, err := c.connect(cm, args, 1, "the release ID")
	if err != nil {
		return err
	}
	switch {
	case strings.TrimSpace(*note) == "":
		return usageErr("release correct: --note is required: say in a sentence what changed", cm.usage)
	case *retract && (*file != "" || len(translations) > 0):
		return usageErr("release correct: --retract withdraws the statement; it takes no corrected text (-f, --translation)", cm.usage)
	case !*retract && *file == "" && len(translations) == 0:
		return usageErr("release correct: give the corrected text with -f (or --translation), or --retract to withdraw the statement", cm.usage)
	}
	in := &client.NewCorrection{Note: *note, Retraction: *retract}
	if *file != "" || len(translations) > 0 {
		rel, err := a.GetRelease(ctx, pos[0])
		if err != nil {
			return err
		}
		files := append([]string(nil), translations...)
		if *file != "" {
			files = append([]string{*file}, files...)
		}
		for _, name := range files {
			f, err := readReleaseFile(name, false)
			if err != nil {
				return err
			}
			if strings.EqualFold(f.Language, rel.Language) {
				title, summary, body := f.Title, f.Summary, f.Body
				in.Title, in.Summary, in.Body = &title, &summary, &body
				continue
			}
			in.Translations = append(in.Translations, dispatcher.Translation{Language: f.Language, Title: f.Title, Summary: f.Summary, Body: f.Body})
		}
	}
	cor, err := a.Correct(ctx, pos[0], in)
	if err != nil {
		return err
	}
	fmt.Fprintln(c.stdout, cor.ID)
	fmt.Fprintf(c.stderr, "release %s is now version %d; correction %s: %s\n", pos[0], cor.Version, cor.ID, cor.Status)
	return nil
}

// releaseCorrections runs `pregon release corrections ID`: one line per
// correction, oldest first, with its delivery counts.
func (c *cli) releaseCorrections(ctx context.Context, args []string) error {
	cm := c.flags("release corrections", "release corrections ID")
	pos, a, err := c.connect(cm, args, 1, "the release ID")
	if err != nil {
		return err
	}
	cs, err := a.Corrections(ctx, pos[0])
	if err != nil {
		return err
	}
	tw := newTable(c.stdout, "ID", "VERSION", "KIND", "STATUS", "CREATED", "SENT", "FAILED", "TOTAL", "NOTE")
	for _, k := range cs {
		kind := "correction"
		if k.Retraction {
			kind = "retraction"
		}
		row(tw, k.ID, fmt.Sprint(k.Version), kind, string(k.Status), k.CreatedAt.Format("2006-01-02 15:04:05Z07:00"),
			fmt.Sprint(k.Counts.ByStatus[dispatcher.DeliverySent]), fmt.Sprint(k.Counts.ByStatus[dispatcher.DeliveryFailed]),
			fmt.Sprint(k.Counts.Total), k.Note)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(c.stderr, "%d %s\n", len(cs), plural(len(cs), "correction", "corrections"))
	return nil
}
