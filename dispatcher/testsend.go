package dispatcher

// Test sends: a release sent, as it is now, to a few addresses and Telegram
// chats that a coordinator names, so that they see exactly what recipients
// would get. A test send makes no deliveries and changes no counts; its
// outcome per recipient is kept for TestTTL.

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf16"
)

// TestStatus is where a test send, or one of its recipients, is.
type TestStatus string

// Test statuses. A test send is pending until every recipient has a result,
// then done; a recipient is pending, then sent, failed or suppressed.
const (
	TestPending    TestStatus = "pending"
	TestDone       TestStatus = "done"
	TestSent       TestStatus = "sent"
	TestFailed     TestStatus = "failed"
	TestSuppressed TestStatus = "suppressed"
)

// Limits of test sends.
const (
	// MaxTestEmails and MaxTestChats bound the recipients of one test send:
	// it is a check by a few people, not a way to mail a list.
	MaxTestEmails = 10
	MaxTestChats  = 5
	// TestTTL is how long a test send and its results are kept.
	TestTTL = 7 * 24 * time.Hour
	// TestSubjectPrefix starts the subject of a test email.
	TestSubjectPrefix = "[TEST] "
	// TestTelegramLine is the line a test post starts with (Telegram HTML).
	TestTelegramLine = "<b>[TEST]</b>"
)

// The copies of a release a test send (TestSend.Copy) or a preview shows:
// the one its audiences get, and the embargoed email its early lists get
// before the embargo (email only).
const (
	CopyPublic = "public"
	CopyEarly  = "early"
)

// ErrNoTests is returned by StartTest when the Service was given no
// TestStore or TestQueue.
var ErrNoTests = errors.New("test sends are not configured")

// TestSend is one test send of a release and its outcome per recipient.
type TestSend struct {
	ID        string `json:"id"`
	ReleaseID string `json:"release_id"`
	// Version is the release's version when the test was asked for; once
	// it has run, the version that was sent.
	Version int `json:"version"`
	// Language is the version of the release that is sent (the original
	// when the release has no translation in the language asked for).
	Language string `json:"language"`
	// Copy is CopyEarly for the embargoed email the early lists get (no
	// Telegram chats then), CopyPublic (or "", in tests made before there
	// was a choice) for what every audience gets.
	Copy        string       `json:"copy"`
	RequestedBy string       `json:"requested_by"`
	Status      TestStatus   `json:"status"`
	CreatedAt   time.Time    `json:"created_at"`
	FinishedAt  *time.Time   `json:"finished_at"`
	Results     []TestResult `json:"results"`
}

// TestResult is the outcome of a test send for one recipient.
type TestResult struct {
	Channel   ChannelKind `json:"channel"`
	Recipient string      `json:"recipient"`
	Status    TestStatus  `json:"status"`
	// Error says why it failed, or why it was not sent.
	Error      string   `json:"error"`
	MessageIDs []string `json:"message_ids"`
}

// TestStore keeps test sends. store.Store implements it.
type TestStore interface {
	// CreateTest stores a new test send for ttl and sets its ID and CreatedAt.
	CreateTest(ctx context.Context, t *TestSend, ttl time.Duration) error
	// Test returns a test send, or ErrNotFound (never made, or expired).
	Test(ctx context.Context, id string) (*TestSend, error)
	// SaveTest writes t over the stored test send with its ID, which keeps
	// its expiry; ErrNotFound when that has expired.
	SaveTest(ctx context.Context, t *TestSend) error
}

// TestQueue enqueues test sends. queue.Client implements it.
type TestQueue interface {
	// EnqueueTest enqueues the test send with id, to run now; idempotent.
	EnqueueTest(ctx context.Context, id string) error
}

// Pending reports whether some recipient of t has no result yet.
func (t *TestSend) Pending() bool {
	for _, r := range t.Results {
		if r.Status == TestPending {
			return true
		}
	}
	return false
}

// StartTest stores t, with every recipient pending, and enqueues it. The
// caller has checked the release and the recipients (see MaxTestEmails,
// NormalizeEmail) and set ReleaseID, Version, Language and RequestedBy;
// StartTest sets ID, Status and CreatedAt. It returns ErrNoTests when the
// Service has no TestStore or TestQueue.
func (s *Service) StartTest(ctx context.Context, t *TestSend) error {
	if s.cfg.Tests == nil || s.cfg.TestQueue == nil {
		return ErrNoTests
	}
	t.Status = TestPending
	for i := range t.Results {
		t.Results[i].Status, t.Results[i].Error, t.Results[i].MessageIDs = TestPending, "", []string{}
	}
	if err := s.cfg.Tests.CreateTest(ctx, t, TestTTL); err != nil {
		return fmt.Errorf("create test send of %s: %w", t.ReleaseID, err)
	}
	if err := s.cfg.TestQueue.EnqueueTest(ctx, t.ID); err != nil {
		return err
	}
	s.log.Info("test send enqueued", "release_id", t.ReleaseID, "test_id", t.ID, "recipients", len(t.Results))
	return nil
}

// Test returns a test send with the results so far, or ErrNotFound; ErrNoTests
// when the Service has no TestStore.
func (s *Service) Test(ctx context.Context, id string) (*TestSend, error) {
	if s.cfg.Tests == nil {
		return nil, ErrNoTests
	}
	return s.cfg.Tests.Test(ctx, id)
}

// RunTest sends the test send with id to each recipient that has no result
// yet, and records each outcome as it comes. It renders the release as it is
// now, through the Renderer, and builds each email and post as a delivery
// does (see emailMessage and sendTelegram), but for the subject, which
// starts with TestSubjectPrefix, and the post, which starts with
// TestTelegramLine. A suppressed address is not mailed, as in a real send.
// Nothing is retried: a failure, transient or not, is the recipient's
// result, so that the coordinator sees it at once.
//
// It returns an error only when the test cannot be read or recorded (the
// task is then retried, and recipients with a result are not sent again;
// one whose result was being recorded may be), or when ctx ends part way.
func (s *Service) RunTest(ctx context.Context, id string) error {
	if s.cfg.Tests == nil {
		return ErrNoTests
	}
	t, err := s.cfg.Tests.Test(ctx, id)
	if err != nil {
		return fmt.Errorf("test send %s: %w", id, err)
	}
	if t.Status != TestPending {
		return nil
	}
	// Record with a context that outlives a shutdown's cancel: a message
	// that has gone must not lose its record.
	rec := context.WithoutCancel(ctx)
	log := s.log.With("release_id", t.ReleaseID, "test_id", t.ID)
	rel, err := s.cfg.Store.Release(ctx, t.ReleaseID)
	var gone string
	switch {
	case errors.Is(err, ErrNotFound):
		gone = "the release no longer exists"
	case err != nil:
		return err
	case rel.Status == ReleaseCancelled:
		gone = "the release was cancelled before the test went out"
	default:
		t.Version = rel.Version
	}
	suppressed, err := s.suppressedTestAddresses(ctx, t)
	if err != nil {
		return err
	}
	for i := range t.Results {
		r := &t.Results[i]
		if r.Status != TestPending {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err // stopped (shutdown): the rest go when the task runs again
		}
		var ids []string
		var err error
		switch {
		case gone != "":
			err = errors.New(gone)
		case r.Channel == ChannelEmail && suppressed[r.Recipient]:
			r.Status, r.Error = TestSuppressed, "the address is suppressed (it unsubscribed, bounced or complained): Pregón never mails it"
		default:
			ids, err = s.sendTest(ctx, rel, t, i)
		}
		if err != nil && errors.Is(err, context.Canceled) && ctx.Err() != nil && !IsUncertain(err) {
			return ctx.Err() // handed back untried
		}
		if r.Status == TestPending {
			r.Status, r.MessageIDs = TestSent, ids
			if err != nil {
				r.Status, r.Error = TestFailed, err.Error()
			}
		}
		if r.MessageIDs == nil {
			r.MessageIDs = []string{}
		}
		log.Info("test send "+string(r.Status), "channel", r.Channel, "error", r.Error)
		if err := s.cfg.Tests.SaveTest(rec, t); err != nil {
			return fmt.Errorf("record test send %s: %w", id, err)
		}
	}
	now := s.cfg.Now().UTC()
	t.Status, t.FinishedAt = TestDone, &now
	if err := s.cfg.Tests.SaveTest(rec, t); err != nil {
		return fmt.Errorf("record test send %s: %w", id, err)
	}
	return nil
}

// suppressedTestAddresses returns which of t's pending email recipients are
// suppressed.
func (s *Service) suppressedTestAddresses(ctx context.Context, t *TestSend) (map[string]bool, error) {
	var emails []string
	for _, r := range t.Results {
		if r.Channel == ChannelEmail && r.Status == TestPending {
			emails = append(emails, r.Recipient)
		}
	}
	if len(emails) == 0 {
		return nil, nil
	}
	sup, err := s.cfg.Store.Suppressed(ctx, emails)
	if err != nil {
		return nil, fmt.Errorf("test send %s: %w", t.ID, err)
	}
	out := map[string]bool{}
	for i, e := range emails {
		if i < len(sup) && sup[i] {
			out[e] = true
		}
	}
	return out, nil
}

// sendTest sends rel to t's recipient i and returns the message ids.
func (s *Service) sendTest(ctx context.Context, rel *Release, t *TestSend, i int) ([]string, error) {
	r := t.Results[i]
	// Like a delivery id: letters, digits, "-" and "_" (the outbox names
	// files after it), and unique per test and recipient.
	id := fmt.Sprintf("%s-%d", t.ID, i+1)
	switch r.Channel {
	case ChannelEmail:
		if s.cfg.Email == nil || s.cfg.Renderer == nil {
			return nil, Permanent(errors.New("no email channel configured"))
		}
		// Rendered now rather than taken from the content cache, which is
		// keyed by release and language: a test shows the release as it is.
		render := s.cfg.Renderer.Email
		if t.Copy == CopyEarly {
			render = s.cfg.Renderer.EmbargoedEmail
		}
		content, err := render(rel, t.Language)
		if err != nil {
			return nil, Permanent(fmt.Errorf("render email: %w", err))
		}
		if reader, ok := s.cfg.Store.(AttachmentReader); ok && len(rel.AttachmentsFor(t.Language)) > 0 && rel.CorrectionOf == nil {
			if content, err = withAttachments(ctx, reader, rel, t.Language, content); err != nil { // attach.go
				return nil, err
			}
		}
		c := *content
		c.Subject = TestSubjectPrefix + c.Subject
		mid, err := s.cfg.Email.SendEmail(ctx, s.emailMessage(rel, &c, id, Address{Email: r.Recipient}))
		if err != nil {
			return nil, err
		}
		return []string{mid}, nil
	case ChannelTelegram:
		if s.cfg.Telegram == nil || s.cfg.Renderer == nil {
			return nil, Permanent(errors.New("no telegram channel configured"))
		}
		parts, err := s.cfg.Renderer.Telegram(rel, t.Language)
		if err != nil {
			return nil, Permanent(fmt.Errorf("render telegram: %w", err))
		}
		return s.cfg.Telegram.SendTelegram(ctx, &TelegramPost{DeliveryID: id, ChatID: r.Recipient, Parts: TestParts(parts)})
	}
	return nil, Permanent(fmt.Errorf("unknown channel %q", r.Channel))
}

// telegramMax is the most text one Telegram message may hold, in UTF-16
// code units after entity parsing.
const telegramMax = 4096

// TestParts returns the messages of a test post: parts, the post as
// rendered, with TestTelegramLine on a line of its own in front of the first
// message when that surely still fits in one message, and as a message of
// its own before them otherwise. The messages that carry the release are
// split exactly as in a real post. (Whether it fits is judged on the
// length of the HTML, tags and entities counted, which is never less than
// what Telegram counts.)
func TestParts(parts []string) []string {
	out := append([]string(nil), parts...)
	if len(out) > 0 && utf16Len(out[0])+utf16Len("[TEST]\n") <= telegramMax {
		out[0] = TestTelegramLine + "\n" + out[0]
		return out
	}
	return append([]string{TestTelegramLine}, out...)
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}
