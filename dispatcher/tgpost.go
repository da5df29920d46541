package dispatcher

import (
	"context"
	"io"
)

// Media of Telegram posts (issue 11 item 3). A post with media is sent as
// requests, in this order: Lead (a photo, or albums of images, the first
// with the caption), then Parts (one text message each), then Files (one
// document each). Every message after the post's first replies to it
// (Thread). A post's message ids are kept one per message, in that order:
// an album of N gives N ids.

// MaxAlbum is the most items an album (sendMediaGroup) may hold.
const MaxAlbum = 10

// TelegramFile is a file of a release posted to Telegram: an image (as a
// photo) or a PDF (as a document).
type TelegramFile struct {
	// ID is the attachment's id.
	ID          string
	Filename    string
	ContentType string
	// FileID is Telegram's id of the file, from an earlier upload; "" to
	// upload it. A channel that finds it refused uploads the file instead.
	FileID string
	// Open returns the file's bytes, a fresh reader for each upload attempt.
	Open func(ctx context.Context) (io.Reader, error)
	// Uploaded, when set, is told the file_id Telegram gave the file once
	// it was uploaded, so that other chats reuse it.
	Uploaded func(fileID string)
}

// IsImage reports whether the file is posted as a photo (else a document).
func (f *TelegramFile) IsImage() bool { return len(f.ContentType) > 6 && f.ContentType[:6] == "image/" }

// TelegramMedia is one request of a post that sends files: one image (a
// photo), one PDF (a document), or 2 to MaxAlbum images (an album).
type TelegramMedia struct {
	Files []TelegramFile
	// Caption, in Telegram's HTML parse mode, is the photo's or document's
	// caption, or the album's first item's ("" : none).
	Caption string
}

// Messages returns how many messages the request posts.
func (m *TelegramMedia) Messages() int { return len(m.Files) }

// Messages returns how many messages the whole of p posts.
func (p *TelegramPost) Messages() int {
	n := len(p.Parts)
	for i := range p.Lead {
		n += p.Lead[i].Messages()
	}
	for i := range p.Files {
		n += p.Files[i].Messages()
	}
	return n
}

// Requests returns, for each request that p takes in order, how many
// messages it posts (each of them takes a turn under the rate limits).
func (p *TelegramPost) Requests() []int {
	out := make([]int, 0, len(p.Lead)+len(p.Parts)+len(p.Files))
	for i := range p.Lead {
		out = append(out, p.Lead[i].Messages())
	}
	for range p.Parts {
		out = append(out, 1)
	}
	for i := range p.Files {
		out = append(out, p.Files[i].Messages())
	}
	return out
}

// Request returns the post of p's request i (see Requests) alone, root
// being the id of the post's first message when it was posted ("": not
// yet). The first request keeps p.ReplyTo; a later one replies to root
// when p is a thread, and to nothing otherwise.
func (p *TelegramPost) Request(i int, root string) *TelegramPost {
	r := *p
	r.Lead, r.Parts, r.Files = nil, nil, nil
	posted := 0 // messages of p before request i
	switch {
	case i < len(p.Lead):
		r.Lead = p.Lead[i : i+1]
		for j := range i {
			posted += p.Lead[j].Messages()
		}
	case i < len(p.Lead)+len(p.Parts):
		k := i - len(p.Lead)
		r.Parts = p.Parts[k : k+1]
		r.FirstPart = p.FirstPart + k
		posted = p.leadMessages() + k
	default:
		k := i - len(p.Lead) - len(p.Parts)
		r.Files = p.Files[k : k+1]
		r.FirstPart = p.FirstPart + len(p.Parts)
		posted = p.leadMessages() + len(p.Parts)
		for j := range k {
			posted += p.Files[j].Messages()
		}
	}
	r.Posted = p.Posted + posted
	if r.Total == 0 {
		r.Total = p.FirstPart + len(p.Parts)
	}
	if i > 0 {
		r.ReplyTo = ""
		if p.Thread {
			r.ReplyTo = root
		}
	}
	return &r
}

func (p *TelegramPost) leadMessages() int {
	n := 0
	for i := range p.Lead {
		n += p.Lead[i].Messages()
	}
	return n
}

// Rest returns p without its first sent messages (posted already): the
// requests left, as a post whose Posted and FirstPart count those sent. An
// album is posted whole or not at all, so sent ends a request.
func (p *TelegramPost) Rest(sent int) *TelegramPost {
	r := *p
	r.Posted += sent
	for sent > 0 && len(r.Lead) > 0 && r.Lead[0].Messages() <= sent {
		sent -= r.Lead[0].Messages()
		r.Lead = r.Lead[1:]
	}
	if len(r.Lead) > 0 {
		return &r
	}
	k := min(sent, len(r.Parts))
	r.Parts, r.FirstPart, sent = r.Parts[k:], r.FirstPart+k, sent-k
	for sent > 0 && len(r.Files) > 0 && r.Files[0].Messages() <= sent {
		sent -= r.Files[0].Messages()
		r.Files = r.Files[1:]
	}
	return &r
}

// CaptionRenderer renders the caption of a release's lead image on
// Telegram. templates.Renderer implements it; with a Config.Renderer that
// does not, Telegram posts carry no files.
type CaptionRenderer interface {
	// TelegramCaption renders rel in lang as a caption of at most 1024
	// UTF-16 code units: title and summary (cut on a word boundary with an
	// ellipsis when too long), and a link to the full text at link when
	// link is set.
	TelegramCaption(rel *Release, lang, link string) (string, error)
}

// TelegramCaptionEditor edits the caption of a photo or document posted
// to a Telegram chat. channels/telegram's Channel implements it; a
// correction of a post with media needs it to correct the caption.
type TelegramCaptionEditor interface {
	// EditTelegramCaption replaces the caption of message messageID in
	// chat with caption (Telegram's HTML parse mode). An edit that changes
	// nothing succeeds; a message that can no longer be edited gives a
	// permanent error wrapping ErrNotEditable.
	EditTelegramCaption(ctx context.Context, chat, messageID, caption string) error
}
