package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// contactsRevKey counts the writes to contacts' details (names,
// languages) that change no list's size: imports and edits. It is part of
// AudienceStamp.
const contactsRevKey = prefix + "contacts-rev"

// AudienceStamp returns a short string that changes when the reading of
// the given lists would: their members (how many, how many are waiting for
// their confirmation), the suppressions and erasures (how many), and the
// contacts' details (contactsRevKey). The API keeps the scan of an audience
// for a few seconds under it (api: scanMemo).
//
// It is made of counts, so a change that leaves every count as it was (one
// address suppressed and another lifted in between) leaves it alone too;
// the API bounds that by the age of what it keeps. It costs one round trip
// whatever the lists' size.
func (s *Store) AudienceStamp(ctx context.Context, lists []string) (string, error) {
	p := s.rdb.Pipeline()
	cmds := make([]*redis.IntCmd, 0, 2*len(lists)+2)
	for _, id := range lists {
		cmds = append(cmds, p.ZCard(ctx, membersKey(id)), p.HLen(ctx, pendingKey(id)))
	}
	cmds = append(cmds, p.HLen(ctx, suppressedKey), p.HLen(ctx, erasedKey))
	rev := p.Get(ctx, contactsRevKey)
	if _, err := p.Exec(ctx); err != nil && !isNil(err) {
		return "", fmt.Errorf("audience stamp: %w", err)
	}
	var b strings.Builder
	for _, c := range cmds {
		b.WriteString(strconv.FormatInt(c.Val(), 10))
		b.WriteByte(' ')
	}
	b.WriteString(rev.Val())
	return b.String(), nil
}

// contactsChanged moves contactsRevKey on (see AudienceStamp).
func (s *Store) contactsChanged(ctx context.Context) error {
	if err := s.rdb.Incr(ctx, contactsRevKey).Err(); err != nil {
		return fmt.Errorf("contacts revision: %w", err)
	}
	return nil
}
