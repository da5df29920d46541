package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/internal/redistest"
	"github.com/pregon/pregon/store"
)

// TestNewsBackfill: releases sent before the newsroom existed enter its
// index the first time it is read; drafts do not.
func TestNewsBackfill(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.Start(t).Client(t)
	now := time.Date(2026, 2, 4, 16, 0, 0, 0, time.UTC)
	st := store.New(rdb, func() time.Time { return now })
	var ids []string
	for _, title := range []string{"Enviado antes", "Borrador"} {
		r := &dispatcher.Release{Title: title, Body: "Texto.", Language: "es"}
		if err := st.CreateRelease(ctx, r); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	if _, _, err := st.ScheduleSend(ctx, ids[0], now, time.Time{}, false, 0); err != nil {
		t.Fatal(err)
	}
	// As an older version left it: no newsroom keys at all.
	keys, err := rdb.Keys(ctx, "pregon:*news*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("newsroom keys: %v %v", keys, err)
	}
	if err := rdb.Del(ctx, keys...).Err(); err != nil {
		t.Fatal(err)
	}

	fresh := store.New(rdb, func() time.Time { return now })
	es, _, err := fresh.NewsPage(ctx, "es", now, "", 10, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 1 || es[0].Release.ID != ids[0] || es[0].Paths["es"] != "2026/02/enviado-antes" {
		t.Fatalf("after the backfill: %+v", es)
	}
	if _, err := fresh.NewsEntry(ctx, ids[1]); err == nil {
		t.Errorf("the draft is in the newsroom")
	}
	if v, _ := rdb.Get(ctx, "pregon:news-indexed").Result(); v != "1" {
		t.Errorf("pregon:news-indexed = %q", v)
	}
}
