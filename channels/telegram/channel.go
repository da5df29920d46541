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

// SendTelegram posts p to p.ChatID, in the HTML parse mode: its Lead (a
// photo, or albums, see media.go), its Parts in order, then its Files (one
// document each). Only the post's first message notifies the chat's
// members, and only a first message that is text shows a link preview
// (p.LinkPreviewURL's, when set), unless p.NoLinkPreview; the first
// message sent with p.ReplyTo replies to that message, and in a thread
// (p.Thread) every later one replies to the post's first. It returns the
// message ids it posted (an album's, one per item), even when a later
// request fails; the error is then a *dispatcher.SendError (see classify)
// naming the chat and the part: uncertain when the request may have been
// acted on although no answer came, so that it is not sent again.
func (c *Channel) SendTelegram(ctx context.Context, p *dispatcher.TelegramPost) ([]string, error) {
	if p == nil || len(p.Parts)+len(p.Lead)+len(p.Files) == 0 {
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
	replyTo := 0
	if p.ReplyTo != "" {
		if replyTo, err = strconv.Atoi(p.ReplyTo); err != nil || replyTo <= 0 {
			return nil, dispatcher.Permanent(fmt.Errorf("telegram: invalid message id %q to reply to", p.ReplyTo))
		}
	}
	ids := make([]string, 0, p.Messages())
	// next sets up the request after one that posted: a thread's replies
	// go to the post's first message, other posts' to nothing.
	root := 0 // the post's first message, in a thread
	if p.Thread && p.Posted > 0 {
		root = replyTo
	}
	next := func() {
		if !p.Thread {
			replyTo = 0
			return
		}
		if root == 0 && len(ids) > 0 {
			root, _ = strconv.Atoi(ids[0])
		}
		replyTo = root
	}
	first := p.Posted == 0 && p.FirstPart == 0 // the next message is the post's first
	for i := range p.Lead {
		got, err := c.sendMedia(ctx, p, chat, &p.Lead[i], replyTo, !first)
		ids = append(ids, got...)
		if err != nil {
			return ids, err
		}
		first = false
		next()
	}
	for i, text := range p.Parts {
		n := p.FirstPart + i // the part's index in the whole post
		params := &bot.SendMessageParams{ChatID: chat, Text: text, ParseMode: models.ParseModeHTML}
		switch {
		case !first || p.NoLinkPreview:
			params.LinkPreviewOptions = &models.LinkPreviewOptions{IsDisabled: bot.True()}
		case p.LinkPreviewURL != "":
			params.LinkPreviewOptions = &models.LinkPreviewOptions{URL: &p.LinkPreviewURL}
		}
		params.DisableNotification = !first // only the post's first message notifies
		if replyTo > 0 {
			params.ReplyParameters = &models.ReplyParameters{MessageID: replyTo, AllowSendingWithoutReply: true}
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
		first = false
		next()
	}
	for i := range p.Files {
		got, err := c.sendMedia(ctx, p, chat, &p.Files[i], replyTo, !first)
		ids = append(ids, got...)
		if err != nil {
			return ids, err
		}
		first = false
		next()
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
