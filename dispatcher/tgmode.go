package dispatcher

import "context"

// ChannelChange is a change of a Telegram channel's settings: the fields
// that are not nil are set.
type ChannelChange struct {
	Title, Language, Mode, LinkPreview *string
}

// SummaryRenderer renders the post of a Telegram channel in summary mode.
// templates.Renderer implements it; a Config.Renderer that does not makes
// summary channels get the full text.
type SummaryRenderer interface {
	// TelegramSummary renders rel in lang as a summary post: title,
	// summary and a link to the full text at link (an http(s) URL).
	TelegramSummary(rel *Release, lang, link string) ([]string, error)
}

// FullTextLink returns the link a summary post gives to the full text of
// rel in lang: Config.Permalink's when it returns one (the newsroom's page
// of the release, once there is a newsroom), else the release's source URL;
// "" when there is neither.
func (s *Service) FullTextLink(rel *Release, lang string) string {
	if s.cfg.Permalink != nil {
		if u := s.cfg.Permalink(rel, lang); u != "" {
			return u
		}
	}
	return rel.SourceURL
}

// telegramPost returns the post of rel to the chat of claimed delivery c,
// as its channel ch (nil: no channel known, so the defaults) asks: the full
// text or a summary, and which link preview.
func (s *Service) telegramPost(_ context.Context, rel *Release, c *Claimed, ch *TelegramChannel) (*TelegramPost, error) {
	p := &TelegramPost{DeliveryID: c.ID, ChatID: c.Recipient}
	mode, preview := ModeFull, PreviewSource
	if ch != nil {
		if ch.Mode != "" {
			mode = ch.Mode
		}
		if ch.LinkPreview != "" {
			preview = ch.LinkPreview
		}
	}
	var err error
	sr, canSummarise := s.cfg.Renderer.(SummaryRenderer)
	link := s.FullTextLink(rel, c.Language)
	summary := mode == ModeSummary && canSummarise && link != ""
	if summary {
		p.Parts, err = s.content.telegramSummary(rel, c.Language, link, sr)
	} else {
		p.Parts, err = s.content.telegram(rel, c.Language, s.cfg.Renderer)
	}
	if err != nil {
		return nil, err
	}
	if !summary {
		link = ""
	}
	if err := s.telegramMedia(rel, c.Language, p, summary, link); err != nil { // tgmedia.go
		return nil, err
	}
	switch {
	case preview == PreviewOff || rel.SourceURL == "":
		p.NoLinkPreview = true
	default:
		p.LinkPreviewURL = rel.SourceURL
	}
	p.Total = len(p.Parts)
	return p, nil
}
