package store

import (
	"context"
	"fmt"
)

// Key renames for Redis Cluster (cluster.go). A list's keys were
// pregon:list:<id>, pregon:list:<id>:members, :pending and :optin, in four
// hash slots; they are now pregon:{<id>}:list, :members, :pending and
// :optin, in one, so that the sign-up and confirmation scripts may touch
// them together. MigrateKeys renames the old keys of a Redis that an older
// version of Pregón wrote.

// oldListKeys returns the names a list's keys had before, and the names
// they have now.
func oldListKeys(id string) (old, cur []string) {
	old = []string{prefix + "list:" + id, prefix + "list:" + id + ":members", prefix + "list:" + id + ":pending", prefix + "list:" + id + ":optin"}
	cur = []string{listKey(id), membersKey(id), pendingKey(id), optinKey(id)}
	return old, cur
}

// MigrateKeys renames the keys that older versions of Pregón named
// otherwise, and returns how many it renamed. It is idempotent: a key
// renamed already is not there any more under its old name. A key present
// under both names (an older process wrote it again after a migration) is
// left under its old name and reported as an error, for an operator to
// look at: stop every older process before starting this version. On a
// Redis Cluster, where no older version ran, it finds nothing to do.
func (s *Store) MigrateKeys(ctx context.Context) (int, error) {
	ids, err := s.rdb.ZRange(ctx, listsKey, 0, -1).Result()
	if err != nil {
		return 0, fmt.Errorf("migrate keys: %w", err)
	}
	n := 0
	var conflicts []string
	for _, id := range ids {
		old, cur := oldListKeys(id)
		for i := range old {
			ex, err := s.rdb.Exists(ctx, old[i]).Result()
			if err != nil {
				return n, fmt.Errorf("migrate keys: %w", err)
			}
			if ex == 0 {
				continue
			}
			ok, err := s.rdb.RenameNX(ctx, old[i], cur[i]).Result()
			if err != nil {
				return n, fmt.Errorf("migrate key %s to %s: %w", old[i], cur[i], err)
			}
			if !ok {
				conflicts = append(conflicts, old[i])
				continue
			}
			n++
		}
	}
	if len(conflicts) > 0 {
		return n, fmt.Errorf("migrate keys: %d keys exist under their old and their new names (an older version of Pregón still running?), left as they are: %v", len(conflicts), conflicts)
	}
	return n, nil
}
