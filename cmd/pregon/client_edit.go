package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/pregon/pregon/client"
)

const (
	releaseEditUsage = "release edit ID [-f FILE.md] [--translation FILE.md]... [--title T] [--summary S] [--source-url URL]\n" +
		"                           [--embargo RFC3339|none] [--list ID]... [--early-list ID]... [--channel ID]... [--followers=true|false] [--version N]"
	releaseApproveUsage = "release approve ID [--version N]"
)

// releaseEdit changes a draft or scheduled release: the text from a release
// file, and each field given by a flag. It prints the new version, and says
// so when the edit withdrew an approval.
func (c *cli) releaseEdit(ctx context.Context, args []string) error {
	cm := c.flags("release edit", releaseEditUsage)
	file := cm.fs.String("f", "", "take the text from this release file: title, summary, language, body, press contact and source_url")
	var translations, lists, early, channels stringsFlag
	cm.fs.Var(&translations, "translation", "replace the translations with these files (repeat for more languages)")
	title := cm.fs.String("title", "", "the new title")
	summary := cm.fs.String("summary", "", "the new summary (\"\" removes it)")
	sourceURL := cm.fs.String("source-url", "", "the new source URL (\"\" removes it)")
	embargo := cm.fs.String("embargo", "", "the new embargo, RFC 3339 like 2026-06-01T09:00:00-06:00, or none to remove it")
	cm.fs.Var(&lists, "list", "send to these lists instead (repeat for more)")
	cm.fs.Var(&early, "early-list", "give these lists the release under embargo instead (repeat for more)")
	cm.fs.Var(&channels, "channel", "post in these Telegram channels instead (repeat for more)")
	followers := cm.fs.Bool("followers", false, "--followers=true sends it to the Telegram bot's followers too, --followers=false no longer")
	version := cm.fs.Int("version", 0, "change the release only if it is still at this version")
	pos, err := cm.parse(args, 1, "the release ID")
	if err != nil {
		return err
	}
	set := map[string]bool{}
	cm.fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	patch, err := c.editPatch(set, *file, translations)
	if err != nil {
		return err
	}
	for _, f := range []struct {
		flag, field, value string
	}{{"title", "title", *title}, {"summary", "summary", *summary}, {"source-url", "source_url", *sourceURL}} {
		if set[f.flag] {
			patch[f.field] = f.value
		}
	}
	if set["embargo"] {
		switch *embargo {
		case "none":
			patch["embargo_until"] = nil
		default:
			if _, err := time.Parse(time.RFC3339, *embargo); err != nil {
				return usageErr(fmt.Sprintf("release edit: --embargo %q is not an RFC 3339 time like 2026-06-01T09:00:00-06:00, nor none", *embargo), cm.usage)
			}
			patch["embargo_until"] = *embargo
		}
	}
	aud := map[string]any{}
	for _, a := range []struct {
		flag, field string
		ids         []string
	}{{"list", "lists", lists}, {"early-list", "early_lists", early}, {"channel", "telegram_channels", channels}} {
		if set[a.flag] {
			aud[a.field] = a.ids
		}
	}
	if set["followers"] {
		aud["telegram_followers"] = *followers
	}
	if len(aud) > 0 {
		patch["audiences"] = aud
	}
	switch {
	case len(patch) == 0:
		return usageErr("release edit: nothing to change; give -f FILE.md or a flag such as --title", cm.usage)
	case *version < 0:
		return usageErr("release edit: --version must be a version number, like 3", cm.usage)
	}

	a, err := c.api(cm)
	if err != nil {
		return err
	}
	before, err := a.GetRelease(ctx, pos[0])
	if err != nil {
		return err
	}
	after, err := a.EditRelease(ctx, pos[0], patch, *version)
	if err != nil {
		return err
	}
	c.reportEdit(before, after)
	c.printWarnings(after.Warnings)
	return nil
}

// editPatch returns the patch of a release file and translation files ({}
// when there are none).
func (c *cli) editPatch(set map[string]bool, file string, translations []string) (map[string]any, error) {
	patch := map[string]any{}
	if set["f"] {
		req, err := c.readRelease(file, nil, true) // the API says what a scheduled release must keep
		if err != nil {
			return nil, err
		}
		patch["title"], patch["summary"], patch["body"], patch["language"] = req.Title, req.Summary, req.Body, req.Language
		patch["contact"], patch["source_url"] = nil, req.SourceURL
		if req.Contact != nil {
			patch["contact"] = req.Contact
		}
	}
	if len(translations) > 0 {
		var ts []map[string]string
		for _, name := range translations {
			t, err := readReleaseFile(name, true)
			if err != nil {
				return nil, err
			}
			ts = append(ts, map[string]string{"language": t.Language, "title": t.Title, "summary": t.Summary, "body": t.Body})
		}
		patch["translations"] = ts
	}
	return patch, nil
}

// reportEdit prints what an edit did: the new version, or that nothing
// changed; and when it withdrew an approval or took a scheduled release
// back to draft, what to do next.
func (c *cli) reportEdit(before, after *client.Release) {
	if after.Version == before.Version {
		fmt.Fprintf(c.stdout, "release %s: nothing changed; it is still version %d (%s)\n", after.ID, after.Version, after.Status)
		return
	}
	fmt.Fprintf(c.stdout, "release %s: version %d (%s)\n", after.ID, after.Version, after.Status)
	if before.ApprovedVersion > 0 && before.ApprovedVersion == before.Version && after.ApprovedVersion < after.Version {
		fmt.Fprintf(c.stdout, "approval withdrawn by this edit: %s approved version %d; version %d needs a new approval:\n"+
			"  pregon release approve %s --version %d   (by a coordinator other than %s)\n",
			before.ApprovedBy, before.ApprovedVersion, after.Version, after.ID, after.Version, after.Author)
	}
	if before.Status == "scheduled" && after.Status == "draft" {
		fmt.Fprintf(c.stdout, "the release is a draft again: it goes out only once version %d is approved and sent again\n", after.Version)
	}
}

// releaseApprove approves a release: the version given, or the current
// one, which it shows first.
func (c *cli) releaseApprove(ctx context.Context, args []string) error {
	cm := c.flags("release approve", releaseApproveUsage)
	version := cm.fs.Int("version", 0, "the version you reviewed (default: the current version, which is shown)")
	pos, a, err := c.connect(cm, args, 1, "the release ID")
	if err != nil {
		return err
	}
	v := *version
	switch {
	case v < 0:
		return usageErr("release approve: --version must be a version number, like 3", cm.usage)
	case v == 0:
		rel, err := a.GetRelease(ctx, pos[0])
		if err != nil {
			return err
		}
		v = rel.Version
		fmt.Fprintf(c.stdout, "approving version %d of release %s (%s): %q by %s\n", v, rel.ID, rel.Status, rel.Title, rel.Author)
	}
	rel, err := a.ApproveRelease(ctx, pos[0], v)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "release %s: version %d approved by %s\n", rel.ID, rel.ApprovedVersion, rel.ApprovedBy)
	return nil
}
