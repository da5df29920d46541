// Package outbox stands in for the email and Telegram channels when they are
// not configured: it writes what would have been sent into a folder, so that a
// new user can see the whole pipeline work on a fresh machine.
//
// Emails go to DIR/email/<delivery-id>.eml as the full MIME message that
// channels/email would send, byte for byte (the same email.Composer); Telegram posts go to DIR/telegram/<delivery-id>.html.
// Sending the same delivery again overwrites its file.
package outbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/pregon/pregon/channels/email"
	"github.com/pregon/pregon/dispatcher"
)

// File and folder permissions.
const (
	dirMode  = 0o750
	fileMode = 0o640
)

// ErrBadDeliveryID is returned (wrapped, as a permanent error) for a delivery
// id that cannot be a file name.
var ErrBadDeliveryID = errors.New("delivery id cannot name a file")

// Outbox writes messages to files. It is safe for concurrent use.
type Outbox struct {
	dir      string
	from     dispatcher.Address
	composer *email.Composer
	logger   *slog.Logger
	now      func() time.Time
}

var (
	_ dispatcher.EmailSender    = (*Outbox)(nil)
	_ dispatcher.TelegramSender = (*Outbox)(nil)
)

// Config configures an Outbox. Dir is required.
type Config struct {
	// Dir is the folder to write under.
	Dir string
	// From is the sender the emails show, as the email channel would with
	// the same From. Zero: "Pregón outbox <outbox@pregon.invalid>".
	From dispatcher.Address
	// DKIM, when set, signs the emails as the email channel would.
	DKIM *email.DKIM
	// UnsubscribeMailto is the email channel's (see email.ComposeConfig).
	UnsubscribeMailto string
	// Logger receives a warning that the outbox is in use, and a line per
	// message written. Nil discards them.
	Logger *slog.Logger
	// Now is the clock for the emails' Date header. Nil means time.Now.
	Now func() time.Time
}

// New returns an Outbox that writes under cfg.Dir, creating it and its email
// and telegram folders (0o750). It logs a warning that the outbox is in use
// and where. It returns an error when Dir is empty or a folder cannot be
// created.
func New(cfg Config) (*Outbox, error) {
	if cfg.Dir == "" {
		return nil, errors.New("outbox: no folder given")
	}
	abs, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	for _, d := range []string{abs, filepath.Join(abs, "email"), filepath.Join(abs, "telegram")} {
		if err := os.MkdirAll(d, dirMode); err != nil {
			return nil, fmt.Errorf("outbox: %w", err)
		}
	}
	o := &Outbox{dir: abs, from: cfg.From, logger: cfg.Logger, now: cfg.Now}
	if o.from == (dispatcher.Address{}) {
		o.from = dispatcher.Address{Name: "Pregón outbox", Email: "outbox@pregon.invalid"}
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	if o.composer, err = email.NewComposer(email.ComposeConfig{From: o.from, DKIM: cfg.DKIM, UnsubscribeMailto: cfg.UnsubscribeMailto}); err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	if o.now == nil {
		o.now = time.Now
	}
	o.logger.Warn("OUTBOX IN USE: what goes through it is not really sent but written to files (the log says which channels use it)",
		"outbox", abs)
	return o, nil
}

// Dir returns the outbox folder, as an absolute path.
func (o *Outbox) Dir() string { return o.dir }

// SendEmail writes m to DIR/email/<delivery-id>.eml, byte for byte what the
// email channel with the same From and DKIM settings would send (before
// SMTP's dot-stuffing), and returns its Message-ID with angle brackets. It
// returns a permanent *dispatcher.SendError when the message cannot be built
// or the delivery id cannot be a file name, and a transient one when the file
// cannot be written.
func (o *Outbox) SendEmail(ctx context.Context, m *dispatcher.EmailMessage) (string, error) {
	if m == nil {
		return "", dispatcher.Permanent(errors.New("outbox: no message"))
	}
	if err := checkID(m.DeliveryID); err != nil {
		return "", dispatcher.Permanent(fmt.Errorf("outbox email to %s: %w", m.To.Email, err))
	}
	var buf bytes.Buffer
	r, err := o.composer.Compose(m, o.now(), &buf)
	if err != nil {
		return "", dispatcher.Permanent(fmt.Errorf("outbox email to %s: %w", m.To.Email, err))
	}
	path := filepath.Join(o.dir, "email", m.DeliveryID+".eml")
	if err := writeFile(ctx, path, r.Data); err != nil {
		return "", dispatcher.Transient(fmt.Errorf("outbox email to %s: %w", m.To.Email, err), 0)
	}
	o.logger.Info("outbox: email written", "channel", "email", "delivery_id", m.DeliveryID, "path", path)
	return r.ID, nil
}

// SendTelegram writes the post's parts to DIR/telegram/<delivery-id>.html,
// each after a line "----- message N/M -----" (its files' captions after
// "----- photo NAME -----" or "----- document NAME -----"), and returns
// the ids "outbox-1" to "outbox-M", one a message. Its errors are classified as SendEmail's.
func (o *Outbox) SendTelegram(ctx context.Context, p *dispatcher.TelegramPost) ([]string, error) {
	if p == nil {
		return nil, dispatcher.Permanent(errors.New("outbox: no post"))
	}
	if err := checkID(p.DeliveryID); err != nil {
		return nil, dispatcher.Permanent(fmt.Errorf("outbox telegram to %s: %w", p.ChatID, err))
	}
	var buf bytes.Buffer
	var ids []string
	write := func(head, text string) {
		ids = append(ids, "outbox-"+strconv.Itoa(len(ids)+1))
		fmt.Fprintf(&buf, "----- %s -----\n", head)
		buf.WriteString(text)
		if text != "" && !strings.HasSuffix(text, "\n") {
			buf.WriteByte('\n')
		}
	}
	media := func(ms []dispatcher.TelegramMedia) {
		for _, m := range ms {
			for j, f := range m.Files {
				kind, caption := "document", ""
				if f.IsImage() {
					kind = "photo"
				}
				if j == 0 {
					caption = m.Caption
				}
				write(kind+" "+f.Filename, caption)
			}
		}
	}
	media(p.Lead)
	for i, part := range p.Parts {
		write(fmt.Sprintf("message %d/%d", i+1, len(p.Parts)), part)
	}
	media(p.Files)
	path := filepath.Join(o.dir, "telegram", p.DeliveryID+".html")
	if err := writeFile(ctx, path, buf.Bytes()); err != nil {
		return nil, dispatcher.Transient(fmt.Errorf("outbox telegram to %s: %w", p.ChatID, err), 0)
	}
	o.logger.Info("outbox: telegram post written", "channel", "telegram", "delivery_id", p.DeliveryID, "path", path)
	return ids, nil
}

// checkID accepts delivery ids made of letters, digits, '-' and '_'.
func checkID(id string) error {
	if id == "" || len(id) > 128 {
		return fmt.Errorf("%w: %q", ErrBadDeliveryID, id)
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return fmt.Errorf("%w: %q", ErrBadDeliveryID, id)
		}
	}
	return nil
}

// writeFile writes data to path atomically: into a temporary file in the same
// folder, synced, then renamed over path.
func writeFile(ctx context.Context, path string, data []byte) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	if err = f.Chmod(fileMode); err != nil {
		return err
	}
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
