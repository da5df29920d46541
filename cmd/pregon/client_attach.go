package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pregon/pregon/client"
)

// Attachments (issue 10 item 5).
const attachUsage = `  pregon release attach ID FILE [--language L] [--role attachment|lead_image]
                                  attach a PDF, JPEG, PNG or WebP file to a draft or
                                  scheduled release (for one language, or all); prints
                                  the attachment's id and the release's new version
  pregon release detach ID ATTACHMENT_ID
                                  remove a file from a draft or scheduled release
`

// releaseAttach uploads a file to a release.
func (c *cli) releaseAttach(ctx context.Context, args []string) error {
	cm := c.flags("release attach", "release attach ID FILE [--language L] [--role attachment|lead_image]")
	lang := cm.fs.String("language", "", "send the file only to recipients in this language (default: all)")
	role := cm.fs.String("role", "attachment", "attachment, or lead_image for the image shown at the top of the email and the page")
	pos, err := cm.parse(args, 2, "the release ID and the file")
	if err != nil {
		return err
	}
	if *role != "attachment" && *role != "lead_image" {
		return usageErr(fmt.Sprintf("release attach: --role %q is neither attachment nor lead_image", *role), cm.usage)
	}
	f, err := os.Open(pos[1])
	if err != nil {
		return fmt.Errorf("release attach: %w", err)
	}
	defer f.Close()
	a, err := c.api(cm)
	if err != nil {
		return err
	}
	att, err := a.Attach(ctx, pos[0], filepath.Base(pos[1]), f, client.AttachOptions{Language: *lang, Role: *role})
	if err != nil {
		return err
	}
	rel, err := a.GetRelease(ctx, pos[0])
	if err != nil {
		return err
	}
	lg := att.Language
	if lg == "" {
		lg = "all languages"
	}
	fmt.Fprintf(c.stdout, "%s\t%s\t%s\t%d bytes\t%s\t%s\nrelease %s: version %d (%s)\n",
		att.ID, att.Filename, att.ContentType, att.Size, att.Role, lg, rel.ID, rel.Version, rel.Status)
	return nil
}

// releaseDetach removes a file from a release.
func (c *cli) releaseDetach(ctx context.Context, args []string) error {
	cm := c.flags("release detach", "release detach ID ATTACHMENT_ID")
	pos, err := cm.parse(args, 2, "the release ID and the attachment ID")
	if err != nil {
		return err
	}
	a, err := c.api(cm)
	if err != nil {
		return err
	}
	rel, err := a.Detach(ctx, pos[0], pos[1])
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "release %s: version %d (%s), %d files\n", rel.ID, rel.Version, rel.Status, len(rel.Attachments))
	return nil
}
