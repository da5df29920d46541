package mock

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/pregon/pregon/dispatcher"
)

var _ dispatcher.Store = (*MemStore)(nil)

// MemStore is an in-memory dispatcher.Store that follows the Redis store's
// rules where the dispatcher depends on them: which deliveries a claim takes
// (pending ones, stale claims, claims of dead workers; none of a cancelled
// release; suppressed addresses become suppressed), outcomes recorded only
// over their own claim, claim renewal, the release ending sent or
// sent_with_failures once it is planned and nothing is pending, the
// sweeper's stall rules, worker liveness and the sweep lock. Times are kept
// to the millisecond, as the store keeps them. It is safe for concurrent use.
// TestMemStoreFollowsTheStore checks it against the Redis store.
//
// Where it has to choose: liveness keys and the lock expire by its clock
// (Redis expires them by its own), and Kill ends a worker's key at once;
// CreateDeliveries into an unknown release returns dispatcher.ErrNotFound
// (the store would write the deliveries anyway); the deliveries of dead
// workers are taken in the claim's one pass (the store takes them in a
// second round trip, so it returns them after the others).
//
// It does not model: Redis failures (wrap it with NewStore and set a field
// to fail); more than one store process (a call is atomic because it holds
// one mutex, where the store relies on Lua scripts and, for taking over a
// dead worker's deliveries, a second round trip); counts drifting from the
// deliveries (it computes counts from the deliveries on every read);
// releases' JSON encoding, lists' and channels' metadata, tokens and
// everything else outside dispatcher.Store.
type MemStore struct {
	mu         sync.Mutex
	now        func() time.Time
	releases   map[string]*memRelease
	channels   map[string]dispatcher.TelegramChannel
	contacts   map[string]dispatcher.Member // by email: contacts are shared by lists
	lists      map[string]map[string]bool   // list id → member emails
	suppressed map[string]string            // email → reason
	active     map[string]bool
	locks      map[string]time.Time     // lock name → expiry
	live       map[string]time.Time     // worker → expiry of its liveness key
	since      map[string]time.Time     // worker → when its unbroken run of heartbeats began
	ttl        map[string]time.Duration // worker → the TTL of its last Heartbeat
	workers    map[string]bool          // workers that have beaten and not left or been forgotten
	seq        int
}

type memRelease struct {
	rel        dispatcher.Release // Status and UpdatedAt are the live ones; Counts unused
	at         time.Time          // when it is to be dispatched
	asked      time.Time          // the at Send was asked for (zero: none)
	act        time.Time          // when its deliveries last changed
	snap       bool               // its recipients are all planned
	early      bool               // its early tier is out
	earlySnap  bool               // the members of its early lists are all planned
	deliveries map[string]*Record
}

// Record is a delivery as MemStore keeps it.
type Record struct {
	dispatcher.Delivery
	// RoundAttempts counts attempts since the delivery was last (re)queued.
	RoundAttempts int
	// ClaimedAt and Worker name the claim of a sending delivery.
	ClaimedAt time.Time
	Worker    string
	// Due is when a retrying delivery is due (zero: unknown).
	Due time.Time
}

// NewMemStore returns an empty MemStore that reads the time from now (nil:
// time.Now).
func NewMemStore(now func() time.Time) *MemStore {
	if now == nil {
		now = time.Now
	}
	return &MemStore{
		now: now, releases: map[string]*memRelease{}, channels: map[string]dispatcher.TelegramChannel{},
		contacts: map[string]dispatcher.Member{}, lists: map[string]map[string]bool{}, suppressed: map[string]string{},
		active: map[string]bool{}, locks: map[string]time.Time{}, live: map[string]time.Time{}, since: map[string]time.Time{}, ttl: map[string]time.Duration{}, workers: map[string]bool{},
	}
}

// ms truncates t to the millisecond, as the store keeps times.
func ms(t time.Time) time.Time { return t.Truncate(time.Millisecond) }

func (m *MemStore) clock() time.Time { return ms(m.now()) }

// AddRelease stores a copy of r and returns its id: r.ID, or a new one when
// it is empty. A release without a status is a draft.
func (m *MemStore) AddRelease(r dispatcher.Release) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r.ID == "" {
		m.seq++
		r.ID = fmt.Sprintf("rel_%d", m.seq)
	}
	if r.Status == "" {
		r.Status = dispatcher.ReleaseDraft
	}
	now := m.clock()
	r.CreatedAt, r.UpdatedAt, r.Counts = now, now, nil
	m.releases[r.ID] = &memRelease{rel: r, deliveries: map[string]*Record{}}
	return r.ID
}

// AddContacts adds members to a list, as the API's import does: each
// email is normalised (dispatcher.NormalizeEmail) and the contact is shared
// by every list it is on, its empty fields leaving stored ones alone. It
// returns an error for an address that is not valid.
func (m *MemStore) AddContacts(listID string, members ...dispatcher.Member) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.lists[listID] == nil {
		m.lists[listID] = map[string]bool{}
	}
	for _, c := range members {
		email, err := dispatcher.NormalizeEmail(c.Email)
		if err != nil {
			return fmt.Errorf("contact %q: %w", c.Email, err)
		}
		old := m.contacts[email]
		old.Email = email
		if c.Name != "" {
			old.Name = c.Name
		}
		if c.Language != "" {
			old.Language = c.Language
		}
		m.contacts[email] = old
		m.lists[listID][email] = true
	}
	return nil
}

// AddChannel stores a Telegram channel.
func (m *MemStore) AddChannel(c dispatcher.TelegramChannel) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.channels[c.ID] = c
}

// Suppress records that email must not be mailed.
func (m *MemStore) Suppress(email, reason string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.suppressed[email] = reason
}

// Put stores a delivery of release rid as it is given (to set up a state
// that no call reaches quickly, such as a retry without a due time). The
// release must exist.
func (m *MemStore) Put(rid string, r Record) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r.ReleaseID = rid
	m.releases[rid].deliveries[r.ID] = &r
}

// Record returns a copy of a delivery of release rid, and whether it exists.
func (m *MemStore) Record(rid, id string) (Record, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.releases[rid]
	if r == nil || r.deliveries[id] == nil {
		return Record{}, false
	}
	return copyRecord(r.deliveries[id]), true
}

// Records returns copies of a release's deliveries, in id order.
func (m *MemStore) Records(rid string) []Record {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Record
	if r := m.releases[rid]; r != nil {
		for _, id := range sortedKeys(r.deliveries) {
			out = append(out, copyRecord(r.deliveries[id]))
		}
	}
	return out
}

func copyRecord(r *Record) Record {
	c := *r
	c.MessageIDs = slices.Clone(r.MessageIDs)
	return c
}

func (m *MemStore) release(id string) (*memRelease, error) {
	r := m.releases[id]
	if r == nil {
		return nil, fmt.Errorf("release %q: %w", id, dispatcher.ErrNotFound)
	}
	return r, nil
}

// Release returns a copy of the release with its counts.
func (m *MemStore) Release(_ context.Context, id string) (*dispatcher.Release, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.release(id)
	if err != nil {
		return nil, err
	}
	rel := r.rel
	rel.Translations = slices.Clone(r.rel.Translations)
	rel.ScheduledAt = nil
	if !r.at.IsZero() {
		at := r.at
		rel.ScheduledAt = &at
	}
	rel.Counts = dispatcher.NewCounts()
	for _, d := range r.deliveries {
		rel.Counts.Add(d.Channel, d.Status, 1)
	}
	return &rel, nil
}

// Channel returns a Telegram channel.
func (m *MemStore) Channel(_ context.Context, id string) (*dispatcher.TelegramChannel, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c, ok := m.channels[id]
	if !ok {
		return nil, fmt.Errorf("channel %q: %w", id, dispatcher.ErrNotFound)
	}
	return &c, nil
}

// ScheduleSend moves a draft release to scheduled at at, and keeps asked;
// with requireApproval, only a draft whose current version is approved, and
// with a version (0: any) only a draft at that version (a
// *dispatcher.ConflictError otherwise). A release without a Version is at
// version 1.
func (m *MemStore) ScheduleSend(ctx context.Context, id string, at, asked time.Time, requireApproval bool, version int) (*dispatcher.Release, time.Time, error) {
	m.mu.Lock()
	r, err := m.release(id)
	if err == nil && r.rel.Status == dispatcher.ReleaseDraft && version > 0 && max(r.rel.Version, 1) != version {
		err = &dispatcher.ConflictError{ID: id, Reason: dispatcher.ConflictVersion, Status: r.rel.Status, Version: max(r.rel.Version, 1)}
	}
	if err == nil && r.rel.Status == dispatcher.ReleaseDraft && requireApproval && r.rel.ApprovedVersion != max(r.rel.Version, 1) {
		err = &dispatcher.ConflictError{ID: id, Reason: dispatcher.ConflictUnapproved, Status: r.rel.Status,
			Version: max(r.rel.Version, 1), Author: r.rel.Author}
	}
	if err == nil && r.rel.Status == dispatcher.ReleaseDraft {
		r.rel.Status, r.at, r.asked, r.rel.UpdatedAt = dispatcher.ReleaseScheduled, ms(at), ms(asked), m.clock()
	}
	m.mu.Unlock()
	if err != nil {
		return nil, time.Time{}, err
	}
	rel, err := m.Release(ctx, id)
	return rel, r.at, err
}

// SetSchedule moves the send time of a scheduled release and, with early,
// marks its early tier out.
func (m *MemStore) SetSchedule(_ context.Context, id string, at time.Time, early bool) (dispatcher.ReleaseStatus, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.release(id)
	if err != nil {
		return "", err
	}
	if r.rel.Status == dispatcher.ReleaseScheduled {
		r.at, r.rel.UpdatedAt = ms(at), m.clock()
		r.early = r.early || early
	}
	return r.rel.Status, nil
}

// EarlyPlanned records that the members of a release's early lists are all planned.
func (m *MemStore) EarlyPlanned(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.release(id)
	if err != nil {
		return err
	}
	r.earlySnap = true
	return nil
}

// SetReleaseStatus moves a release to to when it is in one of from.
func (m *MemStore) SetReleaseStatus(_ context.Context, id string, to dispatcher.ReleaseStatus, from ...dispatcher.ReleaseStatus) (dispatcher.ReleaseStatus, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.release(id)
	if err != nil {
		return "", err
	}
	if slices.Contains(from, r.rel.Status) {
		r.rel.Status, r.rel.UpdatedAt = to, m.clock()
	}
	return r.rel.Status, nil
}

// SnapshotComplete reports whether a release's recipients were all planned.
func (m *MemStore) SnapshotComplete(_ context.Context, id string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.releases[id]
	return r != nil && r.snap, nil
}

// SnapshotDone marks a release planned and ends it when nothing is pending.
func (m *MemStore) SnapshotDone(_ context.Context, id string) (dispatcher.ReleaseStatus, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.release(id)
	if err != nil {
		return "", err
	}
	r.snap = true
	m.finalize(r)
	return r.rel.Status, nil
}

// finalize ends a sending, planned release with nothing pending: sent, or
// sent_with_failures when a delivery failed or is uncertain.
func (m *MemStore) finalize(r *memRelease) {
	if r.rel.Status != dispatcher.ReleaseSending || !r.snap || r.pending() > 0 {
		return
	}
	r.rel.Status = dispatcher.ReleaseSent
	for _, d := range r.deliveries {
		if d.Status == dispatcher.DeliveryFailed || d.Status == dispatcher.DeliveryUncertain {
			r.rel.Status = dispatcher.ReleaseSentWithFailures
		}
	}
	r.rel.UpdatedAt = m.clock()
}

func (r *memRelease) pending() int64 {
	var n int64
	for _, d := range r.deliveries {
		if !d.Status.Final() {
			n++
		}
	}
	return n
}

// Members returns a page of a list's members in email order.
func (m *MemStore) Members(_ context.Context, listID, cursor string, limit int) ([]dispatcher.Member, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	emails, next := page(sortedKeys(m.lists[listID]), cursor, limit)
	out := make([]dispatcher.Member, len(emails))
	for i, e := range emails {
		out[i] = m.contacts[e]
	}
	return out, next, nil
}

// Suppressed reports, for each email, whether it is suppressed.
func (m *MemStore) Suppressed(_ context.Context, emails []string) ([]bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]bool, len(emails))
	for i, e := range emails {
		_, out[i] = m.suppressed[e]
	}
	return out, nil
}

// page returns up to limit of the sorted keys after cursor, and the next
// cursor ("" on the last page), as the store pages its sorted sets.
func page(keys []string, cursor string, limit int) ([]string, string) {
	i := 0
	if cursor != "" {
		i = sort.SearchStrings(keys, cursor)
		if i < len(keys) && keys[i] == cursor {
			i++
		}
	}
	keys = keys[i:]
	if len(keys) > limit {
		return keys[:limit], keys[limit-1]
	}
	return keys, ""
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
