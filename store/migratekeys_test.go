package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/internal/redistest"
	"github.com/pregon/pregon/store"
	"github.com/redis/go-redis/v9"
)

// TestMigrateListKeys: a Redis written by an older version, whose list keys
// were pregon:list:<id>[:members|:pending|:optin], reads the same after
// MigrateKeys renamed them under the list's hash tag; a second run renames
// nothing; a key found under both names is left alone and reported.
func TestMigrateListKeys(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.Start(t).Client(t)
	id := "lst_06h4jcfexfe131hfa87t7gp7b0"
	// As the older version wrote them.
	rdb.ZAdd(ctx, "pregon:lists", redisZ(id))
	rdb.HSet(ctx, "pregon:list:"+id, "id", id, "name", "Prensa", "kind", "subscribers", "created_at", "1700000000000")
	for _, e := range []string{"a@x.org", "p@x.org", "c@x.org"} {
		rdb.ZAdd(ctx, "pregon:list:"+id+":members", redisZ(e))
	}
	rdb.HSet(ctx, "pregon:list:"+id+":pending", "p@x.org", "1700000000001")
	rdb.HSet(ctx, "pregon:list:"+id+":optin", "c@x.org", "1700000000002")
	s := store.New(rdb, nil)

	n, err := s.MigrateKeys(ctx)
	if err != nil || n != 4 {
		t.Fatalf("MigrateKeys = %d, %v; want 4 keys renamed", n, err)
	}
	if left := rdb.Keys(ctx, "pregon:list:*").Val(); len(left) != 0 {
		t.Errorf("old keys left: %v", left)
	}
	l, err := s.List(ctx, id)
	if err != nil || l.Name != "Prensa" {
		t.Fatalf("list after the migration = %+v, %v", l, err)
	}
	ms, _, err := s.ListMembers(ctx, id, "", "", 10)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]dispatcher.MemberStatus{}
	for _, m := range ms {
		got[m.Email] = m.Status
	}
	if len(got) != 3 || got["p@x.org"] == got["c@x.org"] {
		t.Errorf("members after the migration = %v, want 3 with p@ pending and c@ confirmed", got)
	}
	if ok, err := s.ConfirmMember(ctx, id, "p@x.org"); err != nil || !ok {
		t.Errorf("confirm the pending member = %v, %v", ok, err)
	}

	// Again: nothing to do.
	if n, err := s.MigrateKeys(ctx); err != nil || n != 0 {
		t.Errorf("second MigrateKeys = %d, %v; want 0, nil", n, err)
	}
	// An older process wrote the old name again: left alone, reported.
	rdb.ZAdd(ctx, "pregon:list:"+id+":members", redisZ("late@x.org"))
	n, err = s.MigrateKeys(ctx)
	if n != 0 || err == nil || !strings.Contains(err.Error(), "pregon:list:"+id+":members") {
		t.Errorf("MigrateKeys with a key under both names = %d, %v; want an error naming it", n, err)
	}
	if rdb.ZCard(ctx, "pregon:{"+id+"}:members").Val() != 3 {
		t.Errorf("the migrated members changed")
	}
}

func redisZ(member string) redis.Z { return redis.Z{Member: member} }
