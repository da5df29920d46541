package metrics

import (
	"context"
	"errors"

	"github.com/go-telegram/bot"
	"github.com/pregon/pregon/dispatcher"
)

// Email returns next, timing each send in pregon_send_duration_seconds.
func (m *Metrics) Email(next dispatcher.EmailSender) dispatcher.EmailSender {
	return &emailSender{m: m, next: next}
}

// Telegram returns next, timing each post in pregon_send_duration_seconds
// and counting the Bot API's 429 answers in pregon_telegram_429_total.
func (m *Metrics) Telegram(next dispatcher.TelegramSender) dispatcher.TelegramSender {
	return &telegramSender{m: m, next: next}
}

type emailSender struct {
	m    *Metrics
	next dispatcher.EmailSender
}

func (s *emailSender) SendEmail(ctx context.Context, msg *dispatcher.EmailMessage) (string, error) {
	start := s.m.now()
	id, err := s.next.SendEmail(ctx, msg)
	s.m.sendDuration.WithLabelValues(string(dispatcher.ChannelEmail)).Observe(s.m.now().Sub(start).Seconds())
	return id, err
}

type telegramSender struct {
	m    *Metrics
	next dispatcher.TelegramSender
}

func (s *telegramSender) SendTelegram(ctx context.Context, post *dispatcher.TelegramPost) ([]string, error) {
	start := s.m.now()
	ids, err := s.next.SendTelegram(ctx, post)
	s.m.sendDuration.WithLabelValues(string(dispatcher.ChannelTelegram)).Observe(s.m.now().Sub(start).Seconds())
	var tooMany *bot.TooManyRequestsError
	if errors.As(err, &tooMany) {
		s.m.telegram429.Inc()
	}
	return ids, err
}
