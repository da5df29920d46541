package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pregon/pregon/client"
)

// webhooksUsage is the part of clientUsage about outgoing webhooks.
const webhooksUsage = `  pregon webhooks add URL [--events release.sent,delivery.failed] [--description D]
                                  register a webhook for those events (default: all);
                                  prints its id and its signing secret, shown only once
  pregon webhooks list            print the webhooks, their events and status
  pregon webhooks rm ID           remove a webhook
  pregon webhooks enable ID       make a disabled webhook active again
  pregon webhooks deliveries ID   print the last attempts at posting to a webhook
`

func (c *cli) webhooksAdd(ctx context.Context, args []string) error {
	cm := c.flags("webhooks add", "webhooks add URL [--events a,b] [--description D]")
	events := cm.fs.String("events", "", "comma-separated event types (default: every event)")
	desc := cm.fs.String("description", "", "what the webhook is for")
	pos, a, err := c.connect(cm, args, 1, "URL")
	if err != nil {
		return err
	}
	in := client.NewWebhook{URL: pos[0], Description: *desc}
	for e := range strings.SplitSeq(*events, ",") {
		if e = strings.TrimSpace(e); e != "" {
			in.Events = append(in.Events, e)
		}
	}
	w, err := a.CreateWebhook(ctx, in)
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "id:     %s\nsecret: %s\n", w.ID, w.Secret)
	fmt.Fprintln(c.stderr, "Keep the secret now: it is not shown again. Receivers check each request's Pregon-Signature with it.")
	return nil
}

func (c *cli) webhooksList(ctx context.Context, args []string) error {
	cm := c.flags("webhooks list", "webhooks list")
	_, a, err := c.connect(cm, args, 0, "")
	if err != nil {
		return err
	}
	hooks, err := a.Webhooks(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tEVENTS\tURL\tDESCRIPTION")
	for _, w := range hooks {
		status := w.Status
		if w.DisabledReason != "" {
			status += " (" + w.DisabledReason + ")"
		} else if w.FailingSince != nil {
			status += " (failing since " + w.FailingSince.UTC().Format(time.RFC3339) + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", w.ID, status, strings.Join(w.Events, ","), w.URL, w.Description)
	}
	return tw.Flush()
}

func (c *cli) webhooksRm(ctx context.Context, args []string) error {
	cm := c.flags("webhooks rm", "webhooks rm ID")
	pos, a, err := c.connect(cm, args, 1, "ID")
	if err != nil {
		return err
	}
	if err := a.DeleteWebhook(ctx, pos[0]); err != nil {
		return err
	}
	fmt.Fprintln(c.stdout, "removed", pos[0])
	return nil
}

func (c *cli) webhooksEnable(ctx context.Context, args []string) error {
	cm := c.flags("webhooks enable", "webhooks enable ID")
	pos, a, err := c.connect(cm, args, 1, "ID")
	if err != nil {
		return err
	}
	w, err := a.EnableWebhook(ctx, pos[0])
	if err != nil {
		return err
	}
	fmt.Fprintln(c.stdout, w.ID, w.Status)
	return nil
}

func (c *cli) webhooksDeliveries(ctx context.Context, args []string) error {
	cm := c.flags("webhooks deliveries", "webhooks deliveries ID")
	pos, a, err := c.connect(cm, args, 1, "ID")
	if err != nil {
		return err
	}
	as, err := a.WebhookDeliveries(ctx, pos[0])
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "AT\tEVENT\tTYPE\tTRY\tSTATUS\tDURATION\tERROR")
	for _, at := range as {
		code := "-"
		if at.StatusCode != 0 {
			code = fmt.Sprint(at.StatusCode)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%dms\t%s\n", at.At.UTC().Format(time.RFC3339), at.EventID, at.EventType,
			at.Try, code, at.DurationMS, at.Error)
	}
	return tw.Flush()
}
