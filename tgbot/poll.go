package tgbot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

// retryPause is how long the poller waits after a failed getUpdates.
const retryPause = 3 * time.Second

// poll runs the long-polling loop until ctx ends: while this process
// holds the lease (renewed before each getUpdates, which returns well
// before the lease lapses), it asks for the updates after the stored
// offset, handles them and stores the next offset; otherwise it waits and
// tries for the lease again, so that another process takes over when the
// holder stops or dies. It gives the lease up when ctx ends.
func (b *Bot) poll(ctx context.Context) {
	holder := b.cfg.Holder
	defer func() {
		if err := b.cfg.Store.ReleaseUpdatesLease(context.WithoutCancel(ctx), holder); err != nil {
			b.log.Warn("cannot give the telegram poller's lease up", "channel", "telegram", "error", err)
		}
	}()
	held := false
	for ctx.Err() == nil {
		ok, err := b.cfg.Store.AcquireUpdatesLease(ctx, holder, b.cfg.LeaseTTL)
		if err != nil {
			b.log.Warn("cannot take the telegram poller's lease", "channel", "telegram", "error", err)
			pause(ctx, retryPause)
			continue
		}
		if !ok {
			held = false
			pause(ctx, b.cfg.LeaseTTL/4)
			continue
		}
		if !held {
			// Newly the poller: a webhook left set (the configuration
			// switched back to polling) would make getUpdates fail.
			if _, err := b.api.DeleteWebhook(ctx, &bot.DeleteWebhookParams{}); err != nil && ctx.Err() == nil {
				b.log.Warn("telegram deleteWebhook failed", "channel", "telegram", "error", err)
				pause(ctx, retryPause)
				continue
			}
			held = true
			b.log.Info("polling telegram updates", "channel", "telegram", "holder", holder)
		}
		if err := b.pollOnce(ctx, holder); err != nil && ctx.Err() == nil {
			b.log.Warn("telegram getUpdates failed", "channel", "telegram", "error", err)
			pause(ctx, retryPause)
		}
	}
}

// pollOnce makes one getUpdates from the stored offset and handles what
// it returns, then stores the offset after them (unless the lease was
// lost meanwhile: the next holder then handles them again, and handling
// an update twice changes nothing more than once).
func (b *Bot) pollOnce(ctx context.Context, holder string) error {
	offset, err := b.cfg.Store.UpdatesOffset(ctx)
	if err != nil {
		return err
	}
	updates, err := b.getUpdates(ctx, offset)
	if err != nil {
		return err
	}
	for _, u := range updates {
		if err := b.Handle(ctx, u); err != nil {
			return fmt.Errorf("update %d: %w", u.ID, err) // not confirmed: asked for again
		}
		if _, err := b.cfg.Store.SetUpdatesOffset(ctx, holder, u.ID+1); err != nil {
			return err
		}
	}
	return nil
}

// getUpdates asks the Bot API for the updates from offset, waiting up to
// PollTimeout for one. (go-telegram/bot polls only with an offset kept in
// memory, so the request is made here.)
func (b *Bot) getUpdates(ctx context.Context, offset int64) ([]*models.Update, error) {
	body, _ := json.Marshal(map[string]any{
		"offset": offset, "timeout": int(b.cfg.PollTimeout / time.Second), "allowed_updates": allowedUpdates,
	})
	ctx, cancel := context.WithTimeout(ctx, b.cfg.PollTimeout+30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.apiURL+"/bot"+b.cfg.Token+"/getUpdates", bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("getUpdates: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("getUpdates: %w", errors.Unwrap(err)) // *url.Error names the URL, and so the token
	}
	defer resp.Body.Close()
	var r struct {
		OK          bool             `json:"ok"`
		Result      []*models.Update `json:"result"`
		ErrorCode   int              `json:"error_code"`
		Description string           `json:"description"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&r); err != nil {
		return nil, fmt.Errorf("getUpdates: HTTP %d: %w", resp.StatusCode, err)
	}
	if !r.OK {
		return nil, fmt.Errorf("getUpdates: %d %s", r.ErrorCode, r.Description)
	}
	return r.Result, nil
}

// pause waits d or until ctx ends.
func pause(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
