package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/pregon/pregon/audit"
	"github.com/pregon/pregon/dispatcher"
)

// FollowerStore lists the Telegram bot's followers and approves the
// channels it found. store.Store implements it; a Store that does not
// makes GET /v1/telegram/followers and the approve endpoint answer 501.
type FollowerStore interface {
	Followers(ctx context.Context, cursor string, limit int) ([]dispatcher.Follower, string, error)
	FollowerCount(ctx context.Context) (int64, error)
	ApproveChannel(ctx context.Context, id string) (*dispatcher.TelegramChannel, error)
}

// followerPage is the answer of GET /v1/telegram/followers.
type followerPage struct {
	Count int64 `json:"count"`
	Page[dispatcher.Follower]
}

// getFollowers handles GET /v1/telegram/followers?cursor=&limit= → {count,
// items: [{chat_id, language, created_at}], next_cursor}. Chat ids are
// personal data: the route is for coordinators and admins only.
func (s *Server) getFollowers(w http.ResponseWriter, r *http.Request) error {
	fs, ok := s.store.(FollowerStore)
	if !ok {
		return &Problem{Status: http.StatusNotImplemented, Detail: "This server keeps no Telegram followers."}
	}
	var fe fieldErrors
	cursor, limit := pageParams(r.URL.Query(), &fe)
	if err := fe.err(); err != nil {
		return err
	}
	n, err := fs.FollowerCount(r.Context())
	if err != nil {
		return err
	}
	items, next, err := fs.Followers(r.Context(), cursor, limit)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, followerPage{Count: n, Page: newPage(items, next)})
}

// approveChannel handles POST /v1/telegram/channels/{id}/approve → 200
// channel: a channel the bot was made admin of (pending) becomes active,
// once the bot's membership is checked (with Config.Telegram); 409 when
// it is not pending.
func (s *Server) approveChannel(w http.ResponseWriter, r *http.Request) error {
	fs, ok := s.store.(FollowerStore)
	if !ok {
		return &Problem{Status: http.StatusNotImplemented, Detail: "This server cannot approve Telegram channels."}
	}
	id := r.PathValue("id")
	c, err := s.store.Channel(r.Context(), id)
	if errors.Is(err, dispatcher.ErrNotFound) {
		return (&Problem{Status: http.StatusNotFound, Detail: "There is no Telegram channel " + id + "."}).coded("not_found")
	}
	if err != nil {
		return err
	}
	if c.Status != dispatcher.ChannelPending {
		return (&Problem{Status: http.StatusConflict, Detail: "Telegram channel " + id + " is " + c.Status +
			", not pending: only a channel the bot was added to awaits approval (an unavailable one is enabled with POST /v1/telegram/channels/" + id + "/enable)."}).coded("channel.not_pending", "status", c.Status)
	}
	if s.telegram != nil {
		if err := s.telegram.CheckChat(r.Context(), c.ChatID); err != nil {
			return (&Problem{Status: http.StatusConflict, Detail: "The bot cannot post to " + c.ChatID + " (" + err.Error() +
				"); make it an administrator of the channel allowed to post messages, then approve the channel again."}).coded("channel.bot_cannot_post", "chat_id", c.ChatID)
		}
	}
	c, err = fs.ApproveChannel(r.Context(), id)
	switch {
	case errors.Is(err, dispatcher.ErrNotFound):
		return (&Problem{Status: http.StatusNotFound, Detail: "There is no Telegram channel " + id + "."}).coded("not_found")
	case errors.Is(err, dispatcher.ErrConflict):
		return &Problem{Status: http.StatusConflict, Detail: err.Error()}
	case err != nil:
		return err
	}
	if err := s.audit(r, audit.Entry{Action: audit.ChannelApprove, Target: c.ID, Detail: map[string]any{"chat_id": c.ChatID}}); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, c)
}

// telegramWebhook handles POST /telegram/webhook: the updates Telegram
// posts to the bot's webhook (Config.TelegramWebhook checks the
// secret-token header); 404 when the bot is polled instead.
func (s *Server) telegramWebhook(w http.ResponseWriter, r *http.Request) error {
	if s.telegramWebhookHandler == nil {
		return &Problem{Status: http.StatusNotFound, Detail: "There is no such endpoint."}
	}
	s.telegramWebhookHandler.ServeHTTP(w, r)
	return nil
}

// channelTargetable returns checkIDs' test of a channel id for a
// release's audiences: it exists; pending channels are noted in pending
// (see pendingChannelErrors).
func (s *Server) channelTargetable(pending map[string]bool) func(context.Context, string) (bool, error) {
	return func(ctx context.Context, id string) (bool, error) {
		c, err := s.store.Channel(ctx, id)
		if ok, err := found(err); !ok {
			return false, err
		}
		if c.Status == dispatcher.ChannelPending {
			pending[id] = true
		}
		return true, nil
	}
}

// pendingChannelErrors refuses the channels of ids that await approval.
func pendingChannelErrors(fe *fieldErrors, ids []string, pending map[string]bool) {
	seen := map[string]bool{}
	for i, id := range ids {
		if pending[id] && !seen[id] {
			seen[id] = true
			fe.add(fmt.Sprintf("audiences.telegram_channels[%d]", i),
				"Telegram channel %q is pending: a coordinator approves it first (POST /v1/telegram/channels/%s/approve)", id, id)
		}
	}
}

// followerCount returns how many followers a release for
// telegram_followers reaches now (0 when the store keeps none).
func (s *Server) followerCount(ctx context.Context) (int, error) {
	fs, ok := s.store.(FollowerStore)
	if !ok {
		return 0, nil
	}
	n, err := fs.FollowerCount(ctx)
	return int(n), err
}
