package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/pregon/pregon/client"
	"github.com/pregon/pregon/dispatcher"
)

func (c *cli) listCreate(ctx context.Context, args []string) error {
	cm := c.flags("list create", "list create --name N --kind press|subscribers [--description D]")
	name := cm.fs.String("name", "", "the list's name (required)")
	kind := cm.fs.String("kind", "", "press (curated by coordinators) or subscribers (people who asked for the statements)")
	desc := cm.fs.String("description", "", "what the list is for")
	if _, err := cm.parse(args, 0, ""); err != nil {
		return err
	}
	switch {
	case strings.TrimSpace(*name) == "":
		return usageErr("list create: --name is required", cm.usage)
	case *kind != "press" && *kind != "subscribers":
		return usageErr(fmt.Sprintf("list create: --kind must be press or subscribers, got %q", *kind), cm.usage)
	}
	a, err := c.api(cm)
	if err != nil {
		return err
	}
	l, err := a.CreateList(ctx, client.NewList{Name: *name, Kind: dispatcher.ListKind(*kind), Description: *desc})
	if err != nil {
		return err
	}
	fmt.Fprintln(c.stdout, l.ID)
	return nil
}

func (c *cli) listImport(ctx context.Context, args []string) error {
	cm := c.flags("list import", "list import LIST_ID FILE.csv|FILE.json")
	pos, err := cm.parse(args, 2, "LIST_ID and FILE")
	if err != nil {
		return err
	}
	id, file := pos[0], pos[1]
	ext := strings.ToLower(filepath.Ext(file))
	if ext != ".csv" && ext != ".json" {
		return usageErr(fmt.Sprintf("list import: %s: want a .csv file (header: email,name,outlet,language,tags) or a .json array of contacts", file), cm.usage)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	a, err := c.api(cm)
	if err != nil {
		return err
	}
	upload := a.ImportCSV
	if ext == ".json" {
		upload = a.ImportJSON
	}
	rep, err := upload(ctx, id, data)
	if err != nil {
		return err
	}
	nerr := len(rep.Errors) + rep.ErrorsOmitted
	fmt.Fprintf(c.stdout, "%s: %d added, %d updated, %d skipped (repeated in the file), %d %s\n",
		file, rep.Added, rep.Updated, rep.Skipped, nerr, plural(nerr, "error", "errors"))
	for _, e := range rep.Errors {
		email := e.Email
		if email == "" {
			email = "(no email)"
		}
		fmt.Fprintf(c.stdout, "row %d %s: %s\n", e.Row, email, e.Message)
	}
	if rep.ErrorsOmitted > 0 {
		fmt.Fprintf(c.stdout, "... and %d more %s not shown\n", rep.ErrorsOmitted, plural(rep.ErrorsOmitted, "error", "errors"))
	}
	return nil
}

func (c *cli) listContacts(ctx context.Context, args []string) error {
	cm := c.flags("list contacts", "list contacts [--status pending|confirmed|unsubscribed] LIST_ID")
	status := cm.fs.String("status", "", "show only the members in this status: pending (signed up, not confirmed), confirmed or unsubscribed")
	pos, a, err := c.connect(cm, args, 1, "LIST_ID")
	if err != nil {
		return err
	}
	if st := dispatcher.MemberStatus(*status); st != "" && !st.Valid() {
		return usageErr(fmt.Sprintf("list contacts: --status %q: want pending, confirmed or unsubscribed", *status), cm.usage)
	}
	tw := newTable(c.stdout, "EMAIL", "NAME", "OUTLET", "LANGUAGE", "TAGS", "STATUS", "SUPPRESSED")
	n := 0
	members := func(ctx context.Context, pq client.PageQuery) (*client.Page[dispatcher.ListMember], error) {
		return a.Members(ctx, pos[0], dispatcher.MemberStatus(*status), pq)
	}
	err = client.EachPage(ctx, pageSize, members, func(ms []dispatcher.ListMember) error {
		for _, m := range ms {
			sup := ""
			if m.Suppressed != nil {
				sup = m.Suppressed.Reason
			}
			row(tw, m.Email, m.Name, m.Outlet, m.Language, strings.Join(m.Tags, ";"), string(m.Status), sup)
		}
		n += len(ms)
		return nil
	})
	if err != nil {
		return err
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(c.stderr, "%d %s\n", n, plural(n, "contact", "contacts"))
	return nil
}

func (c *cli) channelAdd(ctx context.Context, args []string) error {
	cm := c.flags("channel add", "channel add --chat @name|-100... [--title T] [--language es] [--exists-ok]")
	chat := cm.fs.String("chat", "", "the chat: @name of a public channel or its numeric id like -1001234567890 (required)")
	title := cm.fs.String("title", "", "a title to show in listings")
	lang := cm.fs.String("language", "", "the channel's language: releases are posted in it when they have that translation")
	existsOK := cm.fs.Bool("exists-ok", false, "when the chat is already registered, print the existing channel's id instead of failing")
	if _, err := cm.parse(args, 0, ""); err != nil {
		return err
	}
	if strings.TrimSpace(*chat) == "" {
		return usageErr("channel add: --chat is required", cm.usage)
	}
	a, err := c.api(cm)
	if err != nil {
		return err
	}
	in := client.NewChannel{ChatID: strings.TrimSpace(*chat), Title: *title, Language: *lang}
	id := ""
	ch, err := a.CreateChannel(ctx, in)
	if err == nil {
		id = ch.ID
	} else if *existsOK && client.IsConflict(err) {
		found, ferr := c.findChannel(ctx, a, in.ChatID)
		if ferr != nil {
			return ferr
		}
		if found == "" {
			return err
		}
		fmt.Fprintf(c.stderr, "channel %s is already registered\n", in.ChatID)
		id, err = found, nil
	}
	if err != nil {
		return err
	}
	fmt.Fprintln(c.stdout, id)
	return nil
}

// findChannel returns the id of the channel registered for chatID, "" if none is.
func (c *cli) findChannel(ctx context.Context, a *client.Client, chatID string) (string, error) {
	id := ""
	err := client.EachPage(ctx, pageSize, a.Channels, func(chs []dispatcher.TelegramChannel) error {
		for _, ch := range chs {
			if ch.ChatID == chatID || (strings.HasPrefix(chatID, "@") && strings.EqualFold(ch.ChatID, chatID)) {
				id = ch.ID
			}
		}
		return nil
	})
	return id, err
}

func (c *cli) channelList(ctx context.Context, args []string) error {
	cm := c.flags("channel list", "channel list")
	_, a, err := c.connect(cm, args, 0, "")
	if err != nil {
		return err
	}
	tw := newTable(c.stdout, "ID", "CHAT", "TITLE", "LANGUAGE", "STATUS")
	err = client.EachPage(ctx, pageSize, a.Channels, func(chs []dispatcher.TelegramChannel) error {
		for _, ch := range chs {
			row(tw, ch.ID, ch.ChatID, ch.Title, ch.Language, ch.Status)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return tw.Flush()
}

// newTable returns a tabwriter with the header row written.
func newTable(w io.Writer, header ...string) *tabwriter.Writer {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row(tw, header...)
	return tw
}

// row writes one table row; empty cells show as "-" and line breaks and tabs
// as spaces, so that every row stays one line.
func row(tw *tabwriter.Writer, cells ...string) {
	clean := strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ", "\t", " ")
	for i, c := range cells {
		c = strings.TrimSpace(clean.Replace(c))
		if c == "" {
			c = "-"
		}
		cells[i] = c
	}
	fmt.Fprintln(tw, strings.Join(cells, "\t"))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
