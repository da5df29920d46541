package dispatcher

import (
	"context"
	"fmt"
	"time"
)

// Follower is a private chat with the organisation's Telegram bot whose
// user sent /start: it receives releases as direct messages, in its
// language, while the release's audiences include telegram_followers.
// Its chat id is personal data: only coordinators and admins see it.
type Follower struct {
	ChatID string `json:"chat_id"`
	// Language is the one the follower picked (/idioma, /language) or
	// that its Telegram client reported at /start; "" means the release's
	// own language.
	Language  string    `json:"language,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// FollowerStore lists the bot's followers. store.Store implements it;
// when Config.Followers is nil and Config.Store implements it, the Store
// is used. Without one, a release for telegram_followers plans none.
type FollowerStore interface {
	// Followers returns a page of followers after cursor ("" for the
	// first) and the next cursor ("" on the last page).
	Followers(ctx context.Context, cursor string, limit int) ([]Follower, string, error)
}

// followers plans one Telegram delivery per follower of the bot, to its
// private chat, in the version of rel in its language (falling back as an
// email recipient's does), enqueued as a channel's are: the same task
// path, so the same rate limits. A chat that is a registered channel too
// keeps the one delivery (delivery ids are per chat).
func (p *planner) followers(ctx context.Context) error {
	fs := p.s.cfg.Followers
	if fs == nil {
		fs, _ = p.s.cfg.Store.(FollowerStore)
	}
	if fs == nil {
		p.s.log.Warn("the release is for the bot's followers, but the store keeps none", "release_id", p.rel.ID)
		return nil
	}
	page := func(cursor string) ([]Follower, string, error) {
		f, next, err := fs.Followers(ctx, cursor, pageSize)
		if err != nil {
			return nil, "", fmt.Errorf("plan telegram followers: %w", err)
		}
		return f, next, nil
	}
	return eachPage(page, func(f []Follower) error {
		ds := make([]*Delivery, len(f))
		for i, fl := range f {
			ds[i] = &Delivery{
				ID: DeliveryID(p.rel.ID, ChannelTelegram, fl.ChatID), Channel: ChannelTelegram, Recipient: fl.ChatID,
				Language: p.rel.Text(fl.Language).Language, Status: DeliveryQueued,
			}
		}
		return p.telegram(ctx, ds) // dispatch.go
	})
}
