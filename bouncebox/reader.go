package bouncebox

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/pregon/pregon/bounces"
	"github.com/pregon/pregon/dispatcher"
)

// Defaults for the zero values of Config.
const (
	DefaultInterval = time.Minute
	// maxPerPoll is how many messages one poll reads at most.
	maxPerPoll = 200
	// maxMessage is how much of a message is read: a report's status part
	// comes before the returned message, which may be large.
	maxMessage = 1 << 20
	leaseName  = "bounce-imap"
)

// Store is what the Reader needs of Pregón's store (store.Store).
type Store interface {
	// RecordBounce acts on a bounce as for a provider's webhook.
	RecordBounce(ctx context.Context, ev dispatcher.BounceEvent) (bool, error)
	// Delivery returns a delivery, or an error wrapping dispatcher.ErrNotFound.
	Delivery(ctx context.Context, rid, id string) (*dispatcher.Delivery, error)
	// DeliveryByPrefix returns the one delivery id of rid that starts with
	// prefix, "" when none or several.
	DeliveryByPrefix(ctx context.Context, rid, prefix string) (string, error)
	// Lease takes or renews a lease for holder.
	AcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	// ReleaseLease gives a lease up.
	ReleaseLease(ctx context.Context, name, holder string) error
	// MarkBounceMail reports whether a message was not marked yet, and marks it.
	MarkBounceMail(ctx context.Context, fp string) (bool, error)
	// UnmarkBounceMail forgets a mark.
	UnmarkBounceMail(ctx context.Context, fp string) error
}

// Config configures a Reader.
type Config struct {
	Mailbox *Mailbox      // required
	VERP    *bounces.VERP // required: the bounce address and its tokens
	Store   Store         // required
	// Notifier, when set, is told a delivery.bounced event for each
	// delivery marked.
	Notifier dispatcher.Notifier
	// Interval is the time between polls (zero: DefaultInterval).
	Interval time.Duration
	// Holder names this process in the lease (zero: a random id).
	Holder string
	Logger *slog.Logger
	// Now is the clock of the bounces recorded. Nil means time.Now.
	Now func() time.Time
}

// Reader polls the bounce mailbox. It is safe for concurrent use, though
// one Run per process is enough.
type Reader struct {
	cfg Config
	log *slog.Logger

	mu      sync.Mutex
	skipped map[string]bool // "<uidvalidity>:<uid>" of messages left alone and logged
}

// Result counts what one poll did.
type Result struct {
	Acted   int // messages acted on (or already acted on before) and put away
	Skipped int // messages left alone: not a report, not matched, forged
}

// New returns a Reader for cfg, or an error naming what is missing.
func New(cfg Config) (*Reader, error) {
	if cfg.Mailbox == nil || cfg.VERP == nil || cfg.Store == nil {
		return nil, errors.New("bouncebox: mailbox, VERP and store are required")
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Holder == "" {
		cfg.Holder = dispatcher.NewWorkerID()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Reader{cfg: cfg, log: cfg.Logger.With("part", "bouncebox"), skipped: map[string]bool{}}, nil
}

// Run polls every Interval, while this process holds the lease, until ctx
// ends; then it gives the lease up. Failures are logged and retried at the
// next poll.
func (r *Reader) Run(ctx context.Context) {
	r.log.Info("bounce mailbox reader started", "mailbox", r.cfg.Mailbox.Mailbox, "host", r.cfg.Mailbox.Host, "interval", r.cfg.Interval.String())
	defer func() {
		if err := r.cfg.Store.ReleaseLease(context.WithoutCancel(ctx), leaseName, r.cfg.Holder); err != nil {
			r.log.Warn("bounce mailbox lease not released", "error", err)
		}
	}()
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if polled, res, err := r.Tick(ctx); err != nil {
			r.log.Warn("bounce mailbox poll failed", "error", err)
		} else if polled && res.Acted > 0 {
			r.log.Info("bounce mailbox read", "acted", res.Acted, "skipped", res.Skipped)
		}
		t.Reset(r.cfg.Interval)
	}
}

// Tick polls once if this process holds (or can take) the lease: it reports
// whether it polled.
func (r *Reader) Tick(ctx context.Context) (bool, Result, error) {
	ok, err := r.cfg.Store.AcquireLease(ctx, leaseName, r.cfg.Holder, max(3*r.cfg.Interval, 30*time.Second))
	if err != nil || !ok {
		return false, Result{}, err
	}
	res, err := r.Poll(ctx)
	return true, res, err
}

// Poll reads the unseen messages of the mailbox once, acts on the reports
// it can match, flags them \Seen and puts them away. It does not take the
// lease (Tick does).
func (r *Reader) Poll(ctx context.Context) (Result, error) {
	var res Result
	c, err := r.dial()
	if err != nil {
		return res, err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	mb := r.cfg.Mailbox
	if err := c.Login(mb.Username, mb.Password).Wait(); err != nil {
		return res, fmt.Errorf("bounce mailbox: log in as %s: %w", mb.Username, err)
	}
	if mb.Processed.Folder != "" {
		if err := ensureFolder(c, mb.Processed.Folder); err != nil {
			return res, err
		}
	}
	sel, err := c.Select(mb.Mailbox, nil).Wait()
	if err != nil {
		return res, fmt.Errorf("bounce mailbox: select %s: %w", mb.Mailbox, err)
	}
	found, err := c.UIDSearch(&imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagSeen}}, nil).Wait()
	if err != nil {
		return res, fmt.Errorf("bounce mailbox: search: %w", err)
	}
	uids := found.AllUIDs()
	if len(uids) > maxPerPoll {
		uids = uids[:maxPerPoll]
	}
	var done imap.UIDSet
	for _, uid := range uids {
		raw, err := fetch(c, uid)
		if err != nil {
			return res, err
		}
		acted, err := r.handle(ctx, raw, strconv.FormatUint(uint64(sel.UIDValidity), 10)+":"+strconv.FormatUint(uint64(uid), 10))
		if err != nil {
			r.putAway(c, done)
			return res, err
		}
		if acted {
			done.AddNum(uid)
			res.Acted++
		} else {
			res.Skipped++
		}
	}
	if err := r.putAway(c, done); err != nil {
		return res, err
	}
	_ = c.Logout().Wait()
	return res, nil
}

func (r *Reader) dial() (*imapclient.Client, error) {
	mb := r.cfg.Mailbox
	opts := &imapclient.Options{Dialer: &net.Dialer{Timeout: 30 * time.Second}}
	var c *imapclient.Client
	var err error
	if mb.TLS {
		opts.TLSConfig = &tls.Config{ServerName: mb.Host, MinVersion: tls.VersionTLS12, InsecureSkipVerify: mb.InsecureSkipVerify} //nolint:gosec // opt-in, tests
		c, err = imapclient.DialTLS(mb.Addr, opts)
	} else {
		c, err = imapclient.DialInsecure(mb.Addr, opts)
	}
	if err != nil {
		return nil, fmt.Errorf("bounce mailbox: connect to %s: %w", mb.Addr, err)
	}
	return c, nil
}

// ensureFolder creates folder when it does not exist.
func ensureFolder(c *imapclient.Client, folder string) error {
	list, err := c.List("", folder, nil).Collect()
	if err != nil {
		return fmt.Errorf("bounce mailbox: list %s: %w", folder, err)
	}
	if len(list) > 0 {
		return nil
	}
	if err := c.Create(folder, nil).Wait(); err != nil {
		return fmt.Errorf("bounce mailbox: create folder %s: %w", folder, err)
	}
	return nil
}

// fetch returns the first maxMessage bytes of message uid, leaving it unseen.
func fetch(c *imapclient.Client, uid imap.UID) ([]byte, error) {
	section := &imap.FetchItemBodySection{Peek: true, Partial: &imap.SectionPartial{Offset: 0, Size: maxMessage}}
	msgs, err := c.Fetch(imap.UIDSetNum(uid), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}}).Collect()
	if err != nil {
		return nil, fmt.Errorf("bounce mailbox: fetch message %d: %w", uid, err)
	}
	for _, m := range msgs {
		if m.UID == uid {
			for _, b := range m.BodySection {
				return b.Bytes, nil
			}
		}
	}
	return nil, fmt.Errorf("bounce mailbox: message %d not returned", uid)
}

// putAway flags the messages done \Seen, then moves or deletes them.
func (r *Reader) putAway(c *imapclient.Client, done imap.UIDSet) error {
	if len(done) == 0 {
		return nil
	}
	p := r.cfg.Mailbox.Processed
	flags := []imap.Flag{imap.FlagSeen}
	if p.Delete {
		flags = append(flags, imap.FlagDeleted)
	}
	if err := c.Store(done, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: flags}, nil).Close(); err != nil {
		return fmt.Errorf("bounce mailbox: flag processed messages: %w", err)
	}
	switch {
	case p.Delete:
		cmd := c.Expunge()
		if c.Caps().Has(imap.CapUIDPlus) {
			cmd = c.UIDExpunge(done)
		}
		if err := cmd.Close(); err != nil {
			return fmt.Errorf("bounce mailbox: delete processed messages: %w", err)
		}
	case p.Folder != "":
		if _, err := c.Move(done, p.Folder).Wait(); err != nil {
			return fmt.Errorf("bounce mailbox: move processed messages to %s: %w", p.Folder, err)
		}
	}
	return nil
}

// handle acts on one message: it reports whether it was acted on (now or
// before), and returns an error only when the store failed (the message is
// then tried again at the next poll).
func (r *Reader) handle(ctx context.Context, raw []byte, key string) (bool, error) {
	rep, err := bounces.ParseReport(raw)
	if err != nil {
		r.skip(key, "not a report Pregón reads", err)
		return false, nil
	}
	if rep.Kind == "" {
		r.skip(key, "the report tells of no bounce or complaint", nil)
		return false, nil
	}
	d, why, err := r.match(ctx, rep)
	if err != nil {
		return false, err
	}
	if d == nil {
		r.skip(key, why, nil)
		return false, nil
	}
	sum := sha256.Sum256(raw)
	fp := hex.EncodeToString(sum[:])
	first, err := r.cfg.Store.MarkBounceMail(ctx, fp)
	if err != nil {
		return false, err
	}
	if !first {
		r.log.InfoContext(ctx, "bounce report already acted on", "release_id", d.ReleaseID, "delivery_id", d.ID)
		return true, nil
	}
	at := r.cfg.Now()
	ev := dispatcher.BounceEvent{Kind: rep.Kind, Email: d.Recipient, MessageID: d.ID + "." + d.ReleaseID + "@bounce", At: at, Source: rep.Source}
	matched, err := r.cfg.Store.RecordBounce(ctx, ev)
	if err != nil {
		if uerr := r.cfg.Store.UnmarkBounceMail(context.WithoutCancel(ctx), fp); uerr != nil {
			r.log.WarnContext(ctx, "bounce report mark not undone", "error", uerr)
		}
		return false, err
	}
	if matched && r.cfg.Notifier != nil {
		e := dispatcher.BouncedEvent(d.ReleaseID, d.ID, d.Recipient, string(rep.Kind), rep.Source, at)
		if err := r.cfg.Notifier.Notify(context.WithoutCancel(ctx), e); err != nil {
			r.log.WarnContext(ctx, "event not queued for webhooks", "event", string(e.Type), "error", err)
		}
	}
	r.log.InfoContext(ctx, "bounce report", "release_id", d.ReleaseID, "delivery_id", d.ID,
		"kind", string(rep.Kind), "source", rep.Source, "status", rep.Status)
	return true, nil
}

// match returns the delivery a report is about, found by the VERP token of
// an address it was sent to (or of its returned message's Return-Path), or
// nil and why not. A token whose MAC is wrong makes the whole report
// refused. The returned Message-ID alone is not trusted (it is made of the
// release id and a hash of the address, which others can compute), but
// when it names a delivery of Pregón's it must be the token's.
func (r *Reader) match(ctx context.Context, rep *bounces.Report) (*dispatcher.Delivery, string, error) {
	var rid, prefix string
	for _, a := range rep.Envelope {
		switch id, p, m := r.cfg.VERP.Parse(a); m {
		case bounces.VERPForged:
			return nil, "forged VERP token", nil
		case bounces.VERPValid:
			if rid != "" && (rid != id || prefix != p) {
				return nil, "VERP tokens of two deliveries", nil
			}
			rid, prefix = id, p
		}
	}
	if rid == "" {
		return nil, "no VERP token", nil
	}
	did, err := r.cfg.Store.DeliveryByPrefix(ctx, rid, prefix)
	if err != nil {
		return nil, "", err
	}
	if did == "" {
		return nil, "no delivery for the VERP token", nil
	}
	if mrid, mdid, ok := dispatcher.ParseMessageID(rep.MessageID); ok && (mrid != rid || mdid != did) {
		return nil, "the returned Message-ID is another delivery's", nil
	}
	d, err := r.cfg.Store.Delivery(ctx, rid, did)
	if errors.Is(err, dispatcher.ErrNotFound) {
		return nil, "no delivery for the VERP token", nil
	}
	if err != nil {
		return nil, "", err
	}
	if d.Channel != dispatcher.ChannelEmail {
		return nil, "the VERP token names no email delivery", nil
	}
	return d, "", nil
}

// skip logs, once per message, that it is left alone.
func (r *Reader) skip(key, why string, err error) {
	r.mu.Lock()
	seen := r.skipped[key]
	r.skipped[key] = true
	r.mu.Unlock()
	if seen {
		return
	}
	args := []any{"message", key, "reason", why}
	if err != nil {
		args = append(args, "error", err)
	}
	r.log.Warn("bounce mailbox message left alone", args...)
}
