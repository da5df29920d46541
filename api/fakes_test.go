package api

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/pregon/pregon/auth"
	"github.com/pregon/pregon/dispatcher"
)

// memStore is an in-memory Store for tests.
type memStore struct {
	mu          sync.Mutex
	now         func() time.Time
	seq         int
	lists       []*dispatcher.List // oldest first
	members     map[string]map[string]dispatcher.Contact
	channels    []*dispatcher.TelegramChannel
	releases    []*dispatcher.Release // oldest first
	deliveries  map[string][]*dispatcher.Delivery
	tokens      map[string]*auth.Token
	suppressed  map[string]string // email → reason
	pingErr     error
	panicLists  bool
	listsErr    error // returned by Lists
	writes      int   // successful Create*/Upsert*/Remove* calls
	upsertCalls int
	// ImportContacts: calls that succeeded, the largest batch, and an error
	// returned once importFailAt calls have succeeded.
	importCalls, maxBatch int
	importFailAt          int
	importErr             error
}

var _ Store = (*memStore)(nil)

func newMemStore(now func() time.Time) *memStore {
	return &memStore{now: now, members: map[string]map[string]dispatcher.Contact{},
		deliveries: map[string][]*dispatcher.Delivery{}, tokens: map[string]*auth.Token{}, suppressed: map[string]string{}}
}

func (m *memStore) id(prefix string) string {
	m.seq++
	return fmt.Sprintf("%s%d", prefix, m.seq)
}

func (m *memStore) addToken(token string, role auth.Role) {
	m.tokens[auth.Hash(token)] = &auth.Token{Name: string(role) + "-token", Role: role}
}

func (m *memStore) CreateList(ctx context.Context, l *dispatcher.List) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	l.ID, l.CreatedAt = m.id("l"), m.now()
	c := *l
	m.lists = append(m.lists, &c)
	m.members[l.ID] = map[string]dispatcher.Contact{}
	m.writes++
	return nil
}

func (m *memStore) List(ctx context.Context, id string) (*dispatcher.List, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, l := range m.lists {
		if l.ID == id {
			c := *l
			c.Members = int64(len(m.members[id]))
			return &c, nil
		}
	}
	return nil, dispatcher.ErrNotFound
}

func (m *memStore) Lists(ctx context.Context, cursor string, limit int) ([]*dispatcher.List, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.panicLists {
		panic("boom")
	}
	if m.listsErr != nil {
		return nil, "", m.listsErr
	}
	var out []*dispatcher.List
	for _, l := range slices.Backward(m.lists) {
		c := *l
		out = append(out, &c)
	}
	start, _ := strconv.Atoi(cursor)
	return page(out, start, limit)
}

// ImportContacts is UpsertContacts that also reports suppression reasons,
// fails with importErr once importFailAt earlier calls have succeeded
// (importFailAt 0: never), and records the largest batch.
func (m *memStore) ImportContacts(ctx context.Context, listID string, cs []dispatcher.Contact) (int, int, map[string]string, error) {
	m.mu.Lock()
	if m.importErr != nil && m.importCalls >= m.importFailAt {
		m.mu.Unlock()
		return 0, 0, nil, m.importErr
	}
	m.importCalls++
	m.maxBatch = max(m.maxBatch, len(cs))
	sup := map[string]string{}
	for _, c := range cs {
		if r, ok := m.suppressed[c.Email]; ok {
			sup[c.Email] = r
		}
	}
	m.mu.Unlock()
	added, updated, err := m.UpsertContacts(ctx, listID, cs)
	return added, updated, sup, err
}

func (m *memStore) UpsertContacts(ctx context.Context, listID string, cs []dispatcher.Contact) (int, int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.upsertCalls++
	mem, ok := m.members[listID]
	if !ok {
		return 0, 0, dispatcher.ErrNotFound
	}
	var added, updated int
	for _, c := range cs {
		if _, ok := mem[c.Email]; ok {
			updated++
		} else {
			added++
		}
		mem[c.Email] = c
	}
	m.writes++
	return added, updated, nil
}

func (m *memStore) Contacts(ctx context.Context, listID, cursor string, limit int) ([]dispatcher.Contact, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	mem, ok := m.members[listID]
	if !ok {
		return nil, "", dispatcher.ErrNotFound
	}
	var emails []string
	for e := range mem {
		if e > cursor {
			emails = append(emails, e)
		}
	}
	sort.Strings(emails)
	var out []dispatcher.Contact
	for _, e := range emails {
		if len(out) == limit {
			return out, out[len(out)-1].Email, nil
		}
		out = append(out, mem[e])
	}
	return out, "", nil
}

func (m *memStore) RemoveContact(ctx context.Context, listID, email string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.members[listID][email]; !ok {
		return dispatcher.ErrNotFound
	}
	delete(m.members[listID], email)
	m.writes++
	return nil
}

func (m *memStore) CreateChannel(ctx context.Context, c *dispatcher.TelegramChannel) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, o := range m.channels {
		if o.ChatID == c.ChatID {
			return fmt.Errorf("chat %s: %w", c.ChatID, dispatcher.ErrConflict)
		}
	}
	c.ID, c.CreatedAt, c.Status = m.id("c"), m.now(), "active"
	cc := *c
	m.channels = append(m.channels, &cc)
	m.writes++
	return nil
}

func (m *memStore) Channel(ctx context.Context, id string) (*dispatcher.TelegramChannel, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range m.channels {
		if c.ID == id {
			cc := *c
			return &cc, nil
		}
	}
	return nil, dispatcher.ErrNotFound
}

func (m *memStore) Channels(ctx context.Context, cursor string, limit int) ([]*dispatcher.TelegramChannel, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*dispatcher.TelegramChannel
	for _, c := range m.channels {
		cc := *c
		out = append(out, &cc)
	}
	start, _ := strconv.Atoi(cursor)
	return page(out, start, limit)
}

// EnableChannel is for the Telegram channel health tests (issue 11).
func (m *memStore) EnableChannel(ctx context.Context, id string) (*dispatcher.TelegramChannel, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range m.channels {
		if c.ID == id {
			was := c.Status
			c.Status, c.UnavailableReason, c.UnavailableAt = dispatcher.ChannelActive, "", nil
			m.writes++
			cc := *c
			return &cc, was, nil
		}
	}
	return nil, "", dispatcher.ErrNotFound
}

// UpdateChannel is for the Telegram channel settings tests (issue 11).
func (m *memStore) UpdateChannel(ctx context.Context, id string, ch dispatcher.ChannelChange) (*dispatcher.TelegramChannel, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range m.channels {
		if c.ID == id {
			for dst, v := range map[*string]*string{&c.Title: ch.Title, &c.Language: ch.Language, &c.Mode: ch.Mode, &c.LinkPreview: ch.LinkPreview} {
				if v != nil {
					*dst = *v
				}
			}
			m.writes++
			cc := *c
			return &cc, nil
		}
	}
	return nil, dispatcher.ErrNotFound
}

func (m *memStore) CreateRelease(ctx context.Context, r *dispatcher.Release) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r.ID, r.CreatedAt, r.UpdatedAt, r.Status = m.id("r"), m.now(), m.now(), dispatcher.ReleaseDraft
	c := *r
	m.releases = append(m.releases, &c)
	m.writes++
	return nil
}

func (m *memStore) release(id string) *dispatcher.Release {
	for _, r := range m.releases {
		if r.ID == id {
			return r
		}
	}
	return nil
}

func (m *memStore) Release(ctx context.Context, id string) (*dispatcher.Release, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.release(id)
	if r == nil {
		return nil, dispatcher.ErrNotFound
	}
	c := *r
	return &c, nil
}

// Releases pages releases; it ignores maxBytes and leaves bodies in (the
// store's tests cover both).
func (m *memStore) Releases(ctx context.Context, status dispatcher.ReleaseStatus, cursor string, limit int, full bool, maxBytes int) ([]*dispatcher.Release, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	start, _ := strconv.Atoi(cursor)
	var all []*dispatcher.Release
	for _, r := range slices.Backward(m.releases) {
		if status == "" || r.Status == status {
			c := *r
			all = append(all, &c)
		}
	}
	return page(all, start, limit)
}

func (m *memStore) Deliveries(ctx context.Context, releaseID string, f DeliveryFilter, cursor string, limit int) ([]*dispatcher.Delivery, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.release(releaseID) == nil {
		return nil, "", dispatcher.ErrNotFound
	}
	start, _ := strconv.Atoi(cursor)
	var all []*dispatcher.Delivery
	for _, d := range m.deliveries[releaseID] {
		if (f.Status == "" || d.Status == f.Status) && (f.Channel == "" || d.Channel == f.Channel) {
			c := *d
			all = append(all, &c)
		}
	}
	return page(all, start, limit)
}

// page returns all[start:start+limit] and the cursor after it.
func page[T any](all []T, start, limit int) ([]T, string, error) {
	if start > len(all) {
		start = len(all)
	}
	end := min(start+limit, len(all))
	next := ""
	if end < len(all) {
		next = strconv.Itoa(end)
	}
	return all[start:end], next, nil
}

func (m *memStore) Token(ctx context.Context, hash string) (*auth.Token, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tokens[hash]
	if !ok {
		return nil, dispatcher.ErrNotFound
	}
	c := *t
	return &c, nil
}

func (m *memStore) Ping(ctx context.Context) error { return m.pingErr }

func (m *memStore) Suppress(ctx context.Context, email, reason string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.suppressed[email] = reason
	m.writes++
	return nil
}

// fakeSender moves releases' statuses in a memStore.
type fakeSender struct {
	store   *memStore
	sendErr error // returned by Send
	mu      sync.Mutex
	sends   []sendCall
}

type sendCall struct {
	ID string
	At *time.Time
}

var _ Sender = (*fakeSender)(nil)

// SendVersion is Send for a draft at version (0: any).
func (f *fakeSender) SendVersion(ctx context.Context, id string, at *time.Time, version int) (*dispatcher.Release, error) {
	if r, err := f.store.Release(ctx, id); err == nil && version > 0 && r.Status == dispatcher.ReleaseDraft && r.Version != version {
		return nil, &dispatcher.ConflictError{ID: id, Reason: dispatcher.ConflictVersion, Status: r.Status, Version: r.Version}
	}
	return f.Send(ctx, id, at)
}

// Send records a call for a release that exists (a send that did something).
func (f *fakeSender) Send(ctx context.Context, id string, at *time.Time) (*dispatcher.Release, error) {
	m := f.store
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.release(id)
	if r != nil {
		f.mu.Lock()
		f.sends = append(f.sends, sendCall{id, at})
		f.mu.Unlock()
	}
	if f.sendErr != nil {
		return nil, f.sendErr
	}
	switch {
	case r == nil:
		return nil, dispatcher.ErrNotFound
	case r.Status == dispatcher.ReleaseCancelled:
		return nil, fmt.Errorf("release %s is cancelled: %w", id, dispatcher.ErrConflict)
	case r.Status == dispatcher.ReleaseDraft && at != nil && at.After(m.now()):
		r.Status = dispatcher.ReleaseScheduled
		when := *at
		r.ScheduledAt = &when
	case r.Status == dispatcher.ReleaseDraft:
		r.Status = dispatcher.ReleaseSending
		when := m.now()
		r.ScheduledAt = &when
	}
	c := *r
	return &c, nil
}

func (f *fakeSender) Cancel(ctx context.Context, id string) (*dispatcher.Release, error) {
	m := f.store
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.release(id)
	switch {
	case r == nil:
		return nil, dispatcher.ErrNotFound
	case r.Status == dispatcher.ReleaseSent || r.Status == dispatcher.ReleaseSentWithFailures:
		return nil, fmt.Errorf("release %s was sent: %w", id, dispatcher.ErrConflict)
	}
	r.Status = dispatcher.ReleaseCancelled
	c := *r
	return &c, nil
}

func (f *fakeSender) Retry(ctx context.Context, id string) (int, error) {
	m := f.store
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.release(id) == nil {
		return 0, dispatcher.ErrNotFound
	}
	n := 0
	for _, d := range m.deliveries[id] {
		if d.Status == dispatcher.DeliveryFailed {
			d.Status = dispatcher.DeliveryQueued
			n++
		}
	}
	return n, nil
}

// fakePreviewer renders releases as plain strings.
type fakePreviewer struct{}

var _ Previewer = fakePreviewer{}

func (fakePreviewer) Email(rel *dispatcher.Release, lang string) (*dispatcher.EmailContent, error) {
	v := rel.Text(lang)
	return &dispatcher.EmailContent{Subject: v.Title, Text: v.Body, HTML: "<p>" + v.Body + "</p>"}, nil
}

func (f fakePreviewer) EmbargoedEmail(rel *dispatcher.Release, lang string) (*dispatcher.EmailContent, error) {
	c, err := f.Email(rel, lang)
	if err == nil {
		c.Subject = "EMBARGOED: " + c.Subject
	}
	return c, err
}

func (fakePreviewer) Telegram(rel *dispatcher.Release, lang string) ([]string, error) {
	v := rel.Text(lang)
	return []string{"<b>" + v.Title + "</b>", v.Body}, nil
}
