// Package telegram posts releases to Telegram channels through the Bot API,
// with github.com/go-telegram/bot, and classifies what goes wrong as
// permanent, transient or uncertain (the message may have been posted) for
// the dispatcher.
package telegram

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/pregon/pregon/dispatcher"
)

// Defaults for Config's zero values.
const (
	DefaultAPIURL  = "https://api.telegram.org"
	DefaultTimeout = 30 * time.Second
)

// Config configures a Channel.
type Config struct {
	// Token is the bot token BotFather gave. Required.
	Token string
	// APIURL is the Bot API base URL, without "/bot<token>" (default
	// DefaultAPIURL). Tests and self-hosted Bot API servers set it.
	APIURL string
	// HTTPClient sends the requests (default: a new http.Client). Its
	// Timeout, if any, applies as well as Timeout.
	HTTPClient *http.Client
	// Timeout bounds each sendMessage request (default DefaultTimeout).
	Timeout time.Duration
	// Logger receives debug records of sent messages and go-telegram/bot's
	// internal errors (default: discard).
	Logger *slog.Logger
	// Limiter, when set, is waited on before each message, so that the bot
	// stays within Telegram's limits across all workers.
	Limiter Limiter
}

// Limiter paces messages. Wait returns when a message to chatID may be sent,
// or an error (a *dispatcher.SendError when the wait would be too long).
type Limiter interface {
	Wait(ctx context.Context, chatID string) error
}

// Channel posts to Telegram chats. It is safe for concurrent use.
type Channel struct {
	bot     *bot.Bot
	timeout time.Duration
	log     *slog.Logger
	limiter Limiter
	token   tokenState // health.go
}

var _ dispatcher.TelegramSender = (*Channel)(nil)

// New returns a Channel for the bot in cfg. It makes no request: it neither
// calls getMe nor starts polling for updates. It fails when the token is
// empty or APIURL is not an http(s) URL.
func New(cfg Config) (*Channel, error) {
	if strings.TrimSpace(cfg.Token) == "" {
		return nil, errors.New("telegram: empty bot token")
	}
	apiURL := strings.TrimRight(cfg.APIURL, "/")
	if apiURL == "" {
		apiURL = DefaultAPIURL
	}
	if u, err := url.Parse(apiURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("telegram: invalid Bot API URL %q", cfg.APIURL)
	}
	c := &Channel{timeout: cfg.Timeout, log: cfg.Logger, limiter: cfg.Limiter}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{}
	}
	b, err := bot.New(cfg.Token,
		bot.WithServerURL(apiURL),
		bot.WithSkipGetMe(),
		bot.WithHTTPClient(c.timeout, recordingClient{hc}),
		bot.WithErrorsHandler(func(err error) {
			c.log.Error("go-telegram/bot", "channel", "telegram", "error", err)
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("telegram: %w", err)
	}
	c.bot = b
	return c, nil
}

// SendTelegram posts p.Parts in order to p.ChatID in the HTML parse mode.
// Only the post's first part notifies the chat's members and shows a link
// preview (p.LinkPreviewURL's, when set), unless p.NoLinkPreview; a first
// part sent with p.ReplyTo replies to that message. It returns the message ids of the
// parts it posted, even when a later part fails; the error is then a
// *dispatcher.SendError (see classify) naming the chat and the part: uncertain
// when the part may have been posted although no answer came, so that it is
// not sent again.
func (c *Channel) SendTelegram(ctx context.Context, p *dispatcher.TelegramPost) ([]string, error) {
	if p == nil || len(p.Parts) == 0 {
		return nil, dispatcher.Permanent(errors.New("telegram: post has no parts"))
	}
	chat, err := chatID(p.ChatID)
	if err != nil {
		return nil, dispatcher.Permanent(err)
	}
	total := p.Total
	if total < p.FirstPart+len(p.Parts) {
		total = p.FirstPart + len(p.Parts)
	}
	ids := make([]string, 0, len(p.Parts))
	for i, text := range p.Parts {
		n := p.FirstPart + i // the part's index in the whole post
		params := &bot.SendMessageParams{ChatID: chat, Text: text, ParseMode: models.ParseModeHTML}
		switch {
		case n > 0 || p.NoLinkPreview:
			params.LinkPreviewOptions = &models.LinkPreviewOptions{IsDisabled: bot.True()}
		case p.LinkPreviewURL != "":
			params.LinkPreviewOptions = &models.LinkPreviewOptions{URL: &p.LinkPreviewURL}
		}
		if n > 0 {
			params.DisableNotification = true // only the post's first part notifies
		}
		if i == 0 && p.ReplyTo != "" {
			reply, err := strconv.Atoi(p.ReplyTo)
			if err != nil || reply <= 0 {
				return nil, dispatcher.Permanent(fmt.Errorf("telegram: invalid message id %q to reply to", p.ReplyTo))
			}
			params.ReplyParameters = &models.ReplyParameters{MessageID: reply, AllowSendingWithoutReply: true}
		}
		if c.limiter != nil && !p.Paced {
			if err := c.limiter.Wait(ctx, p.ChatID); err != nil {
				return ids, fmt.Errorf("telegram: wait for a turn to send part %d of %d to %s: %w", n+1, total, p.ChatID, err)
			}
		}
		id, rec, err := c.send(ctx, params)
		if err != nil {
			err = classify(fmt.Sprintf("telegram: send part %d of %d to %s", n+1, total, p.ChatID), err, rec)
			c.noteRefused(err)
			return ids, err
		}
		ids = append(ids, id)
		c.log.DebugContext(ctx, "telegram message sent", "channel", "telegram",
			"delivery_id", p.DeliveryID, "chat_id", p.ChatID, "part", n+1, "message_id", id)
	}
	return ids, nil
}

// send makes one sendMessage request and returns the message id, and what
// was seen of the request and its answer.
func (c *Channel) send(ctx context.Context, params *bot.SendMessageParams) (string, *response, error) {
	rec := &response{}
	if err := ctx.Err(); err != nil {
		return "", rec, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	msg, err := c.bot.SendMessage(withResponse(ctx, rec), params)
	if err != nil {
		return "", rec, responseError(err, rec)
	}
	return strconv.Itoa(msg.ID), rec, nil
}

// ErrInvalidChatID is returned for a chat id that is neither "@name" nor a number.
var ErrInvalidChatID = errors.New("invalid chat id")

// chatID converts "@name" to a string and "-100123…" to an int64, the types
// the Bot API expects.
func chatID(s string) (any, error) {
	if len(s) > 1 && s[0] == '@' {
		return s, nil
	}
	if id, err := strconv.ParseInt(s, 10, 64); err == nil && id != 0 {
		return id, nil
	}
	return nil, fmt.Errorf("telegram: %w %q (want @name or a numeric id)", ErrInvalidChatID, s)
}
