package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/pregon/pregon/dispatcher"
	"github.com/redis/go-redis/v9"
)

// CreateList stores a new list, setting its ID and CreatedAt.
func (s *Store) CreateList(ctx context.Context, l *dispatcher.List) error {
	now := s.now().UTC()
	l.ID, l.CreatedAt = newID("lst", now), now.Truncate(1e6)
	cmds, err := s.tx(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, listKey(l.ID), "id", l.ID, "name", l.Name, "kind", string(l.Kind),
			"description", l.Description, "created_at", fmtTime(now))
		p.ZAdd(ctx, listsKey, redis.Z{Member: l.ID})
		return nil
	})
	if err := txErr(cmds, err); err != nil {
		return fmt.Errorf("create list: %w", err)
	}
	return nil
}

// List returns the list with id, or dispatcher.ErrNotFound.
func (s *Store) List(ctx context.Context, id string) (*dispatcher.List, error) {
	if !validID("lst", id) {
		return nil, fmt.Errorf("list %q: %w", id, dispatcher.ErrNotFound)
	}
	ls, err := s.lists(ctx, []string{id})
	if err != nil {
		return nil, err
	}
	if len(ls) == 0 {
		return nil, fmt.Errorf("list %q: %w", id, dispatcher.ErrNotFound)
	}
	return ls[0], nil
}

// Lists returns a page of lists, newest first, after cursor (a list id; ""
// for the first page), and the next cursor ("" on the last page).
func (s *Store) Lists(ctx context.Context, cursor string, limit int) ([]*dispatcher.List, string, error) {
	ids, next, err := s.pageLex(ctx, listsKey, cursor, limit, true)
	if err != nil {
		return nil, "", fmt.Errorf("lists: %w", err)
	}
	ls, err := s.lists(ctx, ids)
	return ls, next, err
}

func (s *Store) lists(ctx context.Context, ids []string) ([]*dispatcher.List, error) {
	p := s.rdb.Pipeline()
	hs := make([]*redis.MapStringStringCmd, len(ids))
	ns := make([]*redis.IntCmd, len(ids))
	for i, id := range ids {
		hs[i] = p.HGetAll(ctx, listKey(id))
		ns[i] = p.ZCard(ctx, membersKey(id))
	}
	if _, err := p.Exec(ctx); err != nil && !isNil(err) {
		return nil, fmt.Errorf("get lists: %w", err)
	}
	out := make([]*dispatcher.List, 0, len(ids))
	for i := range ids {
		h := hs[i].Val()
		if h["id"] == "" {
			continue
		}
		out = append(out, &dispatcher.List{
			ID: h["id"], Name: h["name"], Kind: dispatcher.ListKind(h["kind"]),
			Description: h["description"], Members: ns[i].Val(), CreatedAt: parseTime(h["created_at"]),
		})
	}
	return out, nil
}

// MaxImportBatch is the most contacts ImportContacts writes in one
// transaction: a batch holds Redis for a millisecond or two, so that an
// import of a million rows never stalls the queue or the readiness check.
// Not more: while Redis's memory grows (its keyspace doubling its table,
// the pages an AOF rewrite's fork makes it copy), each command costs
// several times more for a while, and a transaction of 1,000 contacts then
// held Redis for up to 100 ms; one of 250 stays under about 30 ms, and the
// import is no slower (issue 12, item 6).
const MaxImportBatch = 250

// UpsertContacts stores contacts and makes them confirmed members of a list,
// in transactions of at most MaxImportBatch contacts. Emails must be
// normalised and unique in cs. Empty fields do not overwrite stored ones. It
// returns how many were new to the list and how many were already members
// (on an error, those of the batches written before it), or
// dispatcher.ErrNotFound for an unknown list.
func (s *Store) UpsertContacts(ctx context.Context, listID string, cs []dispatcher.Contact) (added, updated int, err error) {
	added, updated, _, err = s.ImportContacts(ctx, listID, cs)
	return added, updated, err
}

// ImportContacts does what UpsertContacts does, and also returns the reason
// each suppressed address among cs is suppressed (email → reason), read in
// the same transaction. An erased address (erase.go) is not written at
// all, and counts as neither added nor updated: its reason is
// dispatcher.ReasonErased. Each batch of MaxImportBatch contacts is written
// atomically; on an error, the counts are those of the batches written
// before it.
func (s *Store) ImportContacts(ctx context.Context, listID string, cs []dispatcher.Contact) (added, updated int, suppressed map[string]string, err error) {
	if _, err := s.List(ctx, listID); err != nil {
		return 0, 0, nil, err
	}
	suppressed = map[string]string{}
	for start := 0; start < len(cs); start += MaxImportBatch {
		batch := cs[start:min(start+MaxImportBatch, len(cs))]
		a, written, err := s.importBatch(ctx, listID, batch, suppressed)
		if err != nil {
			return added, updated, suppressed, fmt.Errorf("import contacts into %s after %d of %d: %w", listID, start, len(cs), err)
		}
		added += a
		updated += written - a
	}
	return added, updated, suppressed, nil
}

// importBatch writes one batch of contacts in one MULTI/EXEC (on a
// cluster, a pipeline of idempotent writes: see tx), adds the suppression
// reasons of its emails to suppressed, and returns how many were new to the
// list and how many it wrote. An erased address is not written: its reason
// is dispatcher.ReasonErased. The erasure hashes are in another hash slot,
// so they are read before the write and again after it: an address erased
// in between is removed again here (see undoIfErased), and one erased
// after is removed by Erase itself.
func (s *Store) importBatch(ctx context.Context, listID string, cs []dispatcher.Contact, suppressed map[string]string) (added, written int, err error) {
	if s.erasureKey == nil {
		isNew, err := s.writeBatch(ctx, listID, cs, suppressed)
		return count(isNew), len(cs), err
	}
	erased, err := s.erasedAmong(ctx, cs)
	if err != nil {
		return 0, 0, err
	}
	keep := make([]dispatcher.Contact, 0, len(cs))
	for i, c := range cs {
		if erased[i] {
			suppressed[c.Email] = string(dispatcher.ReasonErased)
			continue
		}
		keep = append(keep, c)
	}
	isNew, err := s.writeBatch(ctx, listID, keep, suppressed)
	if err != nil {
		return 0, 0, err
	}
	if erased, err = s.erasedAmong(ctx, keep); err != nil {
		return 0, 0, err
	}
	var undo []string
	for i, c := range keep {
		if erased[i] {
			undo = append(undo, c.Email)
			suppressed[c.Email] = string(dispatcher.ReasonErased)
			isNew[i] = false
			continue
		}
		written++
	}
	if len(undo) > 0 {
		if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			p.ZRem(ctx, membersKey(listID), anys(undo)...)
			p.HDel(ctx, pendingKey(listID), undo...)
			for _, e := range undo {
				p.Del(ctx, contactKey(e))
			}
			return nil
		}); err != nil {
			return 0, 0, fmt.Errorf("remove addresses erased during the import: %w", err)
		}
	}
	return count(isNew), written, nil
}

// erasedAmong reports, for each contact, whether its address is erased.
func (s *Store) erasedAmong(ctx context.Context, cs []dispatcher.Contact) ([]bool, error) {
	out := make([]bool, len(cs))
	if len(cs) == 0 {
		return out, nil
	}
	hashes := make([]string, len(cs))
	for i, c := range cs {
		hashes[i] = s.erasedHash(c.Email)
	}
	v, err := s.rdb.HMGet(ctx, erasedKey, hashes...).Result()
	if err != nil {
		return nil, fmt.Errorf("check erased addresses: %w", err)
	}
	for i := range out {
		out[i] = str(v, i) != ""
	}
	return out, nil
}

// count returns how many of bs are true.
func count(bs []bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

// anys returns ss as []any.
func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// writeBatch writes contacts cs in one MULTI/EXEC (see tx), adds the
// suppression reasons of their emails to suppressed, and reports for each
// whether it was new to the list.
func (s *Store) writeBatch(ctx context.Context, listID string, cs []dispatcher.Contact, suppressed map[string]string) ([]bool, error) {
	isNew := make([]bool, len(cs))
	if len(cs) == 0 {
		return isNew, nil
	}
	zadds := make([]*redis.IntCmd, len(cs))
	emails := make([]string, len(cs))
	var reasons *redis.SliceCmd
	_, err := s.tx(ctx, func(p redis.Pipeliner) error {
		for i, c := range cs {
			p.HSet(ctx, contactKey(c.Email), contactFields(c)...)
			zadds[i] = p.ZAdd(ctx, membersKey(listID), redis.Z{Member: c.Email})
			emails[i] = c.Email
		}
		reasons = p.HMGet(ctx, suppressedKey, emails...)
		// A coordinator's import vouches for consent: a pending member
		// it names is confirmed (see members.go).
		p.HDel(ctx, pendingKey(listID), emails...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := s.contactsChanged(ctx); err != nil {
		return nil, err
	}
	for i, z := range zadds {
		isNew[i] = z.Val() == 1
	}
	for i, v := range reasons.Val() {
		if r, ok := v.(string); ok {
			suppressed[emails[i]] = r
		}
	}
	return isNew, nil
}

// contactFields returns the hash fields of c, leaving out empty ones so that
// they do not overwrite stored values.
func contactFields(c dispatcher.Contact) []any {
	fields := []any{"email", c.Email}
	for _, f := range [][2]string{{"name", c.Name}, {"outlet", c.Outlet}, {"language", c.Language}} {
		if f[1] != "" {
			fields = append(fields, f[0], f[1])
		}
	}
	if len(c.Tags) > 0 {
		b, _ := json.Marshal(c.Tags)
		fields = append(fields, "tags", string(b))
	}
	if len(c.Attributes) > 0 {
		b, _ := json.Marshal(c.Attributes)
		fields = append(fields, "attrs", string(b))
	}
	return fields
}

// Contacts returns a page of a list's members ordered by email, and the
// cursor of the next page ("" on the last). Pending members (signed up,
// not confirmed) are left out, so a page may hold fewer than limit: an
// export made from it and imported again must not confirm them.
func (s *Store) Contacts(ctx context.Context, listID, cursor string, limit int) ([]dispatcher.Contact, string, error) {
	if _, err := s.List(ctx, listID); err != nil {
		return nil, "", err
	}
	emails, next, err := s.pageLex(ctx, membersKey(listID), cursor, limit, false)
	if err != nil {
		return nil, "", err
	}
	if len(emails) == 0 {
		return []dispatcher.Contact{}, next, nil
	}
	p := s.rdb.Pipeline()
	hs := make([]*redis.MapStringStringCmd, len(emails))
	for i, e := range emails {
		hs[i] = p.HGetAll(ctx, contactKey(e))
	}
	pending := p.HMGet(ctx, pendingKey(listID), emails...)
	if _, err := p.Exec(ctx); err != nil && !isNil(err) {
		return nil, "", fmt.Errorf("get contacts: %w", err)
	}
	out := make([]dispatcher.Contact, 0, len(emails))
	for i, e := range emails {
		if str(pending.Val(), i) != "" {
			continue
		}
		out = append(out, contactFrom(e, hs[i].Val()))
	}
	return out, next, nil
}

func contactFrom(email string, h map[string]string) dispatcher.Contact {
	c := dispatcher.Contact{Email: email, Name: h["name"], Outlet: h["outlet"], Language: h["language"]}
	if t := h["tags"]; t != "" {
		_ = json.Unmarshal([]byte(t), &c.Tags)
	}
	if a := h["attrs"]; a != "" {
		_ = json.Unmarshal([]byte(a), &c.Attributes)
	}
	return c
}

// RemoveContact removes email from a list. It returns dispatcher.ErrNotFound
// when the list does not exist or email is not a member.
func (s *Store) RemoveContact(ctx context.Context, listID, email string) error {
	if _, err := s.List(ctx, listID); err != nil {
		return err
	}
	var zrem *redis.IntCmd
	cmds, err := s.tx(ctx, func(p redis.Pipeliner) error {
		zrem = p.ZRem(ctx, membersKey(listID), email)
		p.HDel(ctx, pendingKey(listID), email)
		p.HDel(ctx, optinKey(listID), email)
		return nil
	})
	if err := txErr(cmds, err); err != nil {
		return fmt.Errorf("remove %s from %s: %w", email, listID, err)
	}
	if zrem.Val() == 0 {
		return fmt.Errorf("contact %q in list %s: %w", email, listID, dispatcher.ErrNotFound)
	}
	return nil
}

// Members returns a page of a list's members with the fields a delivery
// needs, in email order, and the next cursor ("" on the last page). Pending
// members (signed up, not confirmed) are left out: they receive nothing,
// so a page may hold fewer than limit, even none, before the last.
func (s *Store) Members(ctx context.Context, listID, cursor string, limit int) ([]dispatcher.Member, string, error) {
	emails, next, err := s.pageLex(ctx, membersKey(listID), cursor, limit, false)
	if err != nil {
		return nil, "", err
	}
	if len(emails) == 0 {
		return []dispatcher.Member{}, next, nil
	}
	p := s.rdb.Pipeline()
	vs := make([]*redis.SliceCmd, len(emails))
	for i, e := range emails {
		vs[i] = p.HMGet(ctx, contactKey(e), "name", "language")
	}
	pending := p.HMGet(ctx, pendingKey(listID), emails...)
	if _, err := p.Exec(ctx); err != nil && !isNil(err) {
		return nil, "", fmt.Errorf("members of %s: %w", listID, err)
	}
	out := make([]dispatcher.Member, 0, len(emails))
	for i, e := range emails {
		if str(pending.Val(), i) != "" {
			continue
		}
		v := vs[i].Val()
		out = append(out, dispatcher.Member{Email: e, Name: str(v, 0), Language: str(v, 1)})
	}
	return out, next, nil
}

func str(v []any, i int) string {
	if i < len(v) {
		if s, ok := v[i].(string); ok {
			return s
		}
	}
	return ""
}

// Suppressed reports, for each email, whether it is suppressed: it
// unsubscribed, bounced or complained, or it was erased (erase.go; a
// delivery's recipient redacted to the hash counts as erased too).
func (s *Store) Suppressed(ctx context.Context, emails []string) ([]bool, error) {
	why, err := s.blockedAmong(ctx, emails)
	if err != nil {
		return nil, fmt.Errorf("suppressed: %w", err)
	}
	out := make([]bool, len(emails))
	for i, w := range why {
		out[i] = w != notBlocked
	}
	return out, nil
}
