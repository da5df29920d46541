package queue

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/hibiken/asynq"
	"github.com/pregon/pregon/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// redisHolds reports the first key of rdb whose name or content holds s
// (lower-cased), "" when none does.
func redisHolds(t *testing.T, rdb *redis.Client, s string) string {
	t.Helper()
	ctx := context.Background()
	iter := rdb.Scan(ctx, 0, "*", 1000).Iterator()
	for iter.Next(ctx) {
		k := iter.Val()
		var v any
		var err error
		switch typ := rdb.Type(ctx, k).Val(); typ {
		case "string":
			v, err = rdb.Get(ctx, k).Result()
		case "hash":
			v, err = rdb.HGetAll(ctx, k).Result()
		case "list":
			v, err = rdb.LRange(ctx, k, 0, -1).Result()
		case "zset":
			v, err = rdb.ZRange(ctx, k, 0, -1).Result()
		case "set":
			v, err = rdb.SMembers(ctx, k).Result()
		default:
			t.Fatalf("key %s of type %s", k, typ)
		}
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(strings.ToLower(fmt.Sprintf("%s %v", k, v)), s) {
			return k
		}
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	return ""
}

// TestForget: webhook events about an address (waiting, and given up
// after their retries), and its confirmation email, are deleted from the
// queues; so is the confirmation of an address that JSON escapes; the
// events about another address stay. No key of Redis holds the address.
func TestForget(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.Start(t).Client(t)
	c := NewClient(rdb)
	event := func(id, to string) []byte {
		b, _ := json.Marshal(map[string]any{"id": id, "type": "delivery.failed", "data": map[string]any{"recipient": to, "error": "550"}})
		return b
	}
	const ana, tom = "ana@example.org", "tom&jerry@example.org"
	for _, e := range []struct{ id, to string }{{"ev1", ana}, {"ev2", "bob@example.org"}, {"ev3", ana}} {
		if err := c.EnqueueWebhook(ctx, "whk_1", e.id, event(e.id, e.to)); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.in.ArchiveTask(QueueWebhooks, "webhook:whk_1:ev3"); err != nil { // given up
		t.Fatal(err)
	}
	for _, to := range []string{ana, tom} {
		if err := c.EnqueueConfirmation(ctx, Confirmation{ListID: "lst_1", Email: to}); err != nil {
			t.Fatal(err)
		}
	}
	if redisHolds(t, rdb, ana) == "" {
		t.Fatal("the set-up put the address nowhere")
	}

	deleted, running, err := c.Forget(ctx, ana)
	if err != nil || deleted != 3 || running != 0 {
		t.Fatalf("Forget(ana) = %d deleted, %d running, %v; want 3, 0", deleted, running, err)
	}
	if k := redisHolds(t, rdb, ana); k != "" {
		t.Errorf("%s still holds %s", k, ana)
	}
	if ti, err := c.in.GetTaskInfo(QueueWebhooks, "webhook:whk_1:ev2"); err != nil || ti.State != asynq.TaskStatePending {
		t.Errorf("bob's event: %+v, %v; want it waiting still", ti, err)
	}
	if deleted, _, err := c.Forget(ctx, tom); err != nil || deleted != 1 {
		t.Errorf("Forget(tom) = %d, %v; want his confirmation deleted", deleted, err)
	}
	if deleted, _, err := c.Forget(ctx, ana); err != nil || deleted != 0 {
		t.Errorf("Forget(ana) again = %d, %v; want nothing", deleted, err)
	}
}
