package dispatcher

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"time"
)

// TelegramFileStore keeps the file_id Telegram gave each file of a release
// once uploaded, so that a file is uploaded once per release and every
// other chat reuses the id; and the release's upload lease, so that
// concurrent workers do not all upload it. store.Store implements it;
// without it every post uploads its files.
type TelegramFileStore interface {
	// TelegramFileID returns the file_id stored for attachment attID of
	// release rid ("" when none).
	TelegramFileID(ctx context.Context, rid, attID string) (string, error)
	// SetTelegramFileID stores it.
	SetTelegramFileID(ctx context.Context, rid, attID, fileID string) error
	// TakeTelegramUpload takes rid's upload lease for holder, for ttl,
	// unless another holder has it; it reports whether holder has it.
	TakeTelegramUpload(ctx context.Context, rid, holder string, ttl time.Duration) (bool, error)
	// DropTelegramUpload gives the lease back, if holder has it.
	DropTelegramUpload(ctx context.Context, rid, holder string) error
}

// The upload lease: one worker at a time uploads a release's files, the
// others wait for the file_ids it stores (polling every uploadPoll). A
// lease whose holder died ends after uploadLease; a post that waited
// uploadWait without the ids appearing uploads its files itself, so that a
// release's file is uploaded once as a rule, and at most a couple of times
// when an upload outlasts the lease.
const (
	uploadLease = 30 * time.Second
	uploadWait  = 2 * uploadLease
	uploadPoll  = 50 * time.Millisecond
)

// telegramMedia adds to p, rel's post in lang, the files rel carries for
// lang: in summary mode (link set), the lead image (or the first image)
// as a photo whose caption holds title, summary and the link, instead of
// the text; otherwise the images first (one as a photo, several as albums
// of at most MaxAlbum, the first item with the caption), the text as
// replies, then each PDF as a document. A post without files, a renderer
// that cannot render captions, or a store that keeps no files leave p as
// it is.
func (s *Service) telegramMedia(rel *Release, lang string, p *TelegramPost, summary bool, link string) error {
	cr, ok := s.cfg.Renderer.(CaptionRenderer)
	reader, ok2 := s.cfg.Store.(AttachmentReader)
	if !ok || !ok2 {
		return nil
	}
	lead := rel.LeadImage(lang)
	var images, docs []TelegramFile
	for _, a := range rel.AttachmentsFor(lang) {
		if a.Role == RoleLeadImage && (lead == nil || a.ID != lead.ID) {
			continue // a lead image for all languages, where lang has its own
		}
		f := TelegramFile{ID: a.ID, Filename: a.Filename, ContentType: a.ContentType, Open: opener(reader, rel.ID, a.ID)}
		switch {
		case lead != nil && a.ID == lead.ID:
			images = append([]TelegramFile{f}, images...)
		case a.IsImage():
			images = append(images, f)
		default:
			docs = append(docs, f)
		}
	}
	if summary {
		if len(images) == 0 {
			return nil
		}
		c, err := cr.TelegramCaption(rel, lang, link)
		if err != nil {
			return err
		}
		p.Lead, p.Parts, p.Thread = []TelegramMedia{{Files: images[:1], Caption: c}}, nil, true
		return nil
	}
	if len(images) > 0 {
		c, err := cr.TelegramCaption(rel, lang, "")
		if err != nil {
			return err
		}
		for len(images) > 0 {
			n := min(len(images), MaxAlbum)
			if len(images)-n == 1 {
				n-- // no album of one at the end: 10 + 1 becomes 9 + 2
			}
			p.Lead = append(p.Lead, TelegramMedia{Files: images[:n:n]})
			images = images[n:]
		}
		p.Lead[0].Caption = c
	}
	for _, d := range docs {
		p.Files = append(p.Files, TelegramMedia{Files: []TelegramFile{d}})
	}
	p.Thread = len(p.Lead)+len(p.Files) > 0
	return nil
}

// opener returns a TelegramFile.Open that reads the bytes of attachment
// id of release rid afresh.
func opener(reader AttachmentReader, rid, id string) func(context.Context) (io.Reader, error) {
	return func(ctx context.Context) (io.Reader, error) {
		data, err := reader.AttachmentData(ctx, rid, id)
		if err != nil {
			return nil, Transient(fmt.Errorf("read attachment %s: %w", id, err), 0)
		}
		return bytes.NewReader(data), nil
	}
}

// telegramFiles sets the file_id of each file of post that another post
// of release rid uploaded already, and arranges for the others to be
// uploaded by this post, once: it takes the release's upload lease for
// holder (waiting, while another holds it, for the ids that one stores),
// and makes the files store their ids once uploaded. Call done once the
// post's request ended, to give the lease back. It fails when the store
// fails, or with errHandBack when the process stops while it waits.
func (s *Service) telegramFiles(ctx context.Context, rid, holder string, post *TelegramPost) (done func(), err error) {
	done = func() {}
	fs, ok := s.cfg.Store.(TelegramFileStore)
	var files []*TelegramFile
	for _, ms := range [][]TelegramMedia{post.Lead, post.Files} {
		for i := range ms {
			for j := range ms[i].Files {
				files = append(files, &ms[i].Files[j])
			}
		}
	}
	if !ok || len(files) == 0 {
		return done, nil
	}
	lookUp := func() (missing []*TelegramFile, err error) {
		for _, f := range files {
			if f.FileID != "" {
				continue
			}
			if f.FileID, err = fs.TelegramFileID(ctx, rid, f.ID); err != nil {
				return nil, Transient(fmt.Errorf("read the telegram file id of %s: %w", f.ID, err), 0)
			}
			if f.FileID == "" {
				missing = append(missing, f)
			}
		}
		return missing, nil
	}
	upload := func(missing []*TelegramFile) {
		for _, f := range missing {
			id := f.ID
			f.Uploaded = func(fileID string) {
				if err := fs.SetTelegramFileID(context.WithoutCancel(ctx), rid, id, fileID); err != nil {
					s.log.Warn("cannot keep a telegram file id; the file may be uploaded again", "release_id", rid,
						"attachment_id", id, "error", err)
				}
			}
		}
	}
	deadline := s.cfg.Now().Add(uploadWait)
	for {
		missing, err := lookUp()
		if err != nil || len(missing) == 0 {
			return done, err
		}
		took, err := fs.TakeTelegramUpload(ctx, rid, holder, uploadLease)
		if err != nil {
			return done, Transient(fmt.Errorf("take the telegram upload lease of %s: %w", rid, err), 0)
		}
		if took {
			drop := func() {
				if err := fs.DropTelegramUpload(context.WithoutCancel(ctx), rid, holder); err != nil {
					s.log.Warn("cannot give back the telegram upload lease", "release_id", rid, "error", err)
				}
			}
			// Another may have stored the ids between the look-up and the lease.
			if missing, err = lookUp(); err != nil || len(missing) == 0 {
				drop()
				return done, err
			}
			upload(missing)
			return drop, nil
		}
		if !s.cfg.Now().Before(deadline) {
			s.log.Warn("telegram upload lease held too long; uploading here too", "release_id", rid)
			upload(missing)
			return done, nil
		}
		t := time.NewTimer(uploadPoll)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return done, ctx.Err()
		case <-s.stopping:
			t.Stop()
			return done, errHandBack
		}
	}
}

// request returns the post of p's request i, replying to the post's first
// message when it is a thread, with its files' ids looked up (see
// telegramFiles).
func (p *pacedPost) request(i int) (*TelegramPost, func(), error) {
	// The post's first message in the chat it goes to now (another, after
	// a group became a supergroup part way: msgid.go).
	root := firstIn(p.c.Recipient, p.post.ChatID, p.ids)
	part := p.post.Request(i, root)
	done, err := p.s.telegramFiles(p.ctx, p.rid, p.s.cfg.WorkerID+"/"+p.c.ID, part)
	return part, done, err
}

// turnsTaker is a TelegramPacer that can take the turns of several
// messages sent in one request (an album) at once (ratelimit.Telegram is
// one): they count as that many messages against every limit.
type turnsTaker interface {
	// ReserveN is Reserve for n messages sent together at the time returned.
	ReserveN(ctx context.Context, chatID string, n int) (at time.Time, taken bool, err error)
}

// turns takes the turns of request n, which posts size messages, waits
// for them and returns the time to send it at; see turn.
func (p *pacedPost) turns(n, size int) (time.Time, error) {
	tt, ok := p.s.cfg.TelegramPacer.(turnsTaker)
	if size <= 1 || !ok {
		var at time.Time
		for range max(size, 1) { // without ReserveN: one turn after another, sent at the last
			var err error
			if at, err = p.turn(n); err != nil {
				return at, err
			}
		}
		return at, nil
	}
	for {
		at, taken, err := tt.ReserveN(p.ctx, p.post.ChatID, size)
		if err != nil {
			return time.Time{}, Transient(fmt.Errorf("take %d turns to send request %d to %s: %w", size, n+1, p.post.ChatID, err), 0)
		}
		if wait := at.Sub(p.s.cfg.Now()); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-p.s.stopping:
				t.Stop()
				return time.Time{}, errHandBack
			}
		}
		if taken {
			return at, nil
		}
	}
}

// turnsUser is a turnsTaker told when the request of turns it gave was
// answered (ratelimit.Telegram is one): see turnUser.
type turnsUser interface {
	UsedN(ctx context.Context, chatID string, at, done time.Time) error
}

// usedTurns tells the pacer that the turns at in chat, of a request of
// size messages, were used by a request answered now.
func (p *pacedPost) usedTurns(chat string, at time.Time, size int) {
	u, ok := p.s.cfg.TelegramPacer.(turnsUser)
	if size <= 1 || !ok {
		p.used(chat, at)
		return
	}
	if err := u.UsedN(p.ctx, chat, at, p.s.cfg.Now()); err != nil {
		p.s.log.Warn("cannot record when telegram turns were used; the chat's next turn may come early",
			"release_id", p.rid, "delivery_id", p.c.ID, "error", err)
	}
}
