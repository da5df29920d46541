// Package store keeps Pregón's data in Redis through go-redis.
//
// Key layout (all keys start with "pregon:"; the release id in braces is a
// Redis Cluster hash tag, so that one release's keys live in one slot):
//
//	pregon:lists                      ZSET  list ids (score 0, lexically ordered = creation order)
//	pregon:{<id>}:list                HASH  id, name, kind, description, created_at
//	pregon:{<id>}:members             ZSET  member emails (score 0, lexical order for paging)
//	pregon:{<id>}:pending             HASH  email → when it signed up: members not confirmed yet (members.go)
//	pregon:{<id>}:optin               HASH  email → when it confirmed by email (members.go)
//	                                  (a list's keys share the hash tag {<id>}, one slot under Redis
//	                                  Cluster; they were pregon:list:<id>[:...]: migratekeys.go)
//	pregon:optin-mails:<sha256>       STRING confirmation emails sent to an address in the last 24 h (TTL)
//	pregon:contact:<email>            HASH  email, name, outlet, language, tags (JSON), attrs (JSON)
//	pregon:suppressed                 HASH  email → reason (never mailed again)
//	pregon:suppressed-meta            HASH  email → "<at> <source>" of the suppression (bounces.go)
//	pregon:suppressions               ZSET  suppressed emails (score 0, lexical order for paging)
//	pregon:suppressions-indexed       STRING "1" once pregon:suppressions holds every suppressed email
//	pregon:soft-bounces               HASH  email → soft bounces reported by providers (counted, never suppressing)
//	pregon:erased                     HASH  hex HMAC-SHA256 of an erased address → when it was erased (erase.go; no address kept)
//	pregon:erased-check               STRING fingerprint of the erasure key, to tell at start that PREGON_SECRET changed (erase.go)
//	pregon:tgchannels                 ZSET  Telegram channel ids
//	pregon:tgchannel:<id>             HASH  id, chat_id, title, language, status, created_at
//	pregon:tgchat:<chat_id>           STRING channel id (one channel per chat)
//	pregon:tgfollowers                ZSET  chat ids of the bot's followers (score 0, lexical order for paging; followers.go)
//	pregon:tgfollower:<chat_id>       HASH  chat_id, language, created_at of a follower (a private chat that sent /start)
//	pregon:tgupdates:offset           STRING the next getUpdates offset (the bot's updates consumer, package tgbot)
//	pregon:lease:<name>               STRING id of the process holding a lease (TTL, renewed; lease.go): archiver, bouncebox, tgupdates (the getUpdates poller)
//	pregon:releases                   ZSET  release ids
//	pregon:releases:<status>          ZSET  ids of the releases in a status (kept after the release scripts: syncStatusIndex, cluster.go)
//	pregon:releases-indexed           STRING "1" once the status indexes hold every release
//	pregon:{<rid>}:release            HASH  release fields (legend below)
//	pregon:{<rid>}:corrections        LIST  ids of the release's corrections, oldest first (corrections.go)
//	pregon:{<rid>}:correction-docs    HASH  correction id → the correction release as first recorded (JSON)
//	pregon:{<rid>}:versions           HASH  version → the release as it was at that version (JSON), kept when a correction replaces it
//	pregon:{<rid>}:att:<aid>          STRING the bytes of an attachment (attachments.go); its metadata is in the release's JSON
//	pregon:{<rid>}:tgfile:<aid>       STRING the file_id Telegram gave the attachment on its first upload, reused by every other chat (TTL 30 days; tgfiles.go)
//	pregon:{<rid>}:tgupload           STRING the worker uploading the release's files to Telegram (lease, TTL; tgfiles.go)
//	pregon:active                     SET   ids of releases that are sending, for the sweeper
//	pregon:{<rid>}:counts             HASH  "<channel>:<status>" → n, "pending" → n (queued + retrying + sending)
//	pregon:{<rid>}:dblocks            ZSET  the buckets of its deliveries in use (score 0, lexical order for paging; record.go)
//	pregon:{<rid>}:db:<bucket>        HASH  rest of delivery id → the delivery's record (fields below, packed; record.go)
//	pregon:delivery-records           STRING "1" once deliveries kept as one hash each (before records) were moved (upgrade.go)
//	pregon:{<rid>}:archive            HASH  the archived deliveries of a release: b:<n> blocks, ix index (archive.go)
//	pregon:{<rid>}:failures           STREAM the first failed or uncertain deliveries, as they ended (see FailureLog)
//	pregon:worker:<worker id>         STRING liveness key of a worker process (TTL, renewed): since when it has beaten unbroken
//	pregon:workers                    SET   worker ids that have beaten, for the sweeper
//	pregon:token:<sha256 of token>    HASH  id, name, role, created_at, expires_at, last_used_at
//	pregon:tokenid:<token id>         STRING the sha256 of the token (for listing and revoking)
//	pregon:tokens                     ZSET  token ids (score 0, lexical = creation order)
//	pregon:{audit}:head               HASH  seq, hash, at of the audit log's last entry (see audit.go)
//	pregon:{audit}:entries            HASH  seq → audit entry as JSON (package audit)
//	pregon:{audit}:at                 ZSET  zero-padded seq by time: the first entry since a time
//	pregon:{audit}:release:<rid>      ZSET  seq by seq: a release's audit entries
//	pregon:test:<test id>             STRING a test send and its results as JSON (TTL; see tests.go)
//	pregon:idem:<sha256>              HASH  a request made with an Idempotency-Key: its body's fingerprint, the release it made (TTL 24 h)
//	pregon:users                      ZSET  emails of the web app's users (users.go; issue 14)
//	pregon:user:<email>               HASH  email, name, role, password (argon2id hash), disabled, created_at
//	pregon:session:<sha256 of id>     HASH  email, csrf, created_at: a web app session (TTL)
//
// Times are Unix milliseconds, in decimal.
//
// # Delivery fields
//
// A delivery's fields are packed into one record (record.go) in the order
// of recordFields; earlier versions kept them as a hash each,
// pregon:{<rid>}:d:<id>, listed in the ZSET pregon:{<rid>}:deliveries
// (Upgrade moves those into records). Go names them with the dXxx constants (lua.go), Lua with F.xxx:
//
//	field  Go constant      Lua                meaning
//	c      dChannel         F.channel          channel: email, telegram
//	to     dRecipient       F.recipient        email address or Telegram chat id
//	n      dName            F.name             recipient's name
//	l      dLanguage        F.language         language the release is sent in
//	s      dStatus          F.status           dispatcher.DeliveryStatus
//	a      dAttempts        F.attempts         send attempts in all
//	ra     dRoundAttempts   F.round_attempts   send attempts since last (re)queued
//	e      dError           F.error            last error
//	m      dMessageIDs      F.message_ids      message ids, space-separated, packed (messageids.go)
//	ct     dCreatedAt       F.created_at       created at
//	ut     dUpdatedAt       F.updated_at       last changed at
//	due    dRetryDue        F.retry_due        when a retrying delivery is due ("" when none)
//	k      dClaimedAt       F.claimed_at       time of the current claim (sending only)
//	w      dWorker          F.worker           id of the claiming worker (sending only)
//	b      dBounce          F.bounce           bounce kind: hard, soft, complaint ("" or absent: none)
//	bt     dBounceAt        F.bounce_at        when the bounce came back
//	bs     dBounceSource    F.bounce_source    where it was learned: rcpt, ses, postmark, mailgun, sendgrid
//
// # Release hash fields
//
// Go names them with the rXxx constants (lua.go), Lua with R.xxx:
//
//	field   Go constant   Lua          meaning
//	data    rData         R.data       the release as JSON
//	sum     rSummary      R.summary    the release as JSON without bodies (for collections)
//	status  rStatus       R.status     dispatcher.ReleaseStatus
//	at      rSendAt       R.send_at    when it is (or was) to be dispatched
//	snap    rSnapshot     R.snapshot   "1" once every recipient has a delivery
//	ut      rUpdatedAt    R.updated_at last changed at
//	act     rActivity     R.activity   when its deliveries last changed (for the sweeper)
//	of      rCorrectionOf R.correction_of   on a correction: the release it corrects (kept in no listing)
//	fix     rLastCorrection R.last_correction  on a corrected release: "<key> <id>" of its latest correction
//	arch    rArchivedAt   R.archived_at  when its deliveries were archived (absent: live; archive.go)
//	red     rRedactions   R.redactions   how many delivery records erasures redacted (erase.go, erasearchive.go)
//
// # Field names
//
// A delivery's record holds values only, in recordFields' order; the one-
// and two-letter names above are what Go (dXxx) and Lua (F.xxx) key them
// by, and what the hashes of earlier versions were written with (read once
// more by Upgrade). The release hash's names are mostly words; there is one
// such hash per release. Code never spells a field: Go uses the named
// constants, and the Lua scripts the tables F, R and C that luaConstants
// writes from those constants, so a script reads as d[F.status] rather
// than d['s'].
//
// # Scripts
//
// Each Lua script sits beside the Go method that runs it, headed by a block
// naming its KEYS, ARGV and output. Every script begins with luaConstants
// (lua.go): Lua tables of the field names above, of the delivery and
// release statuses (DS, RS), of the channels (CH, CHANNELS), all written
// from the Go constants of package dispatcher, so no status or channel name
// is spelled twice. Scripts that change a release or its deliveries add
// releaseLib (finalize, move).
package store

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"github.com/pregon/pregon/audit"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pregon/pregon/dispatcher"
	"github.com/redis/go-redis/v9"
)

// Store is Pregón's persistence on Redis. It is safe for concurrent use.
type Store struct {
	rdb     redis.UniversalClient
	now     func() time.Time
	indexed atomic.Bool // the status indexes are known to hold every release
	// newsIndexed: the newsroom's index is known to hold every release
	// scheduled or sent before it existed (news_backfill.go; issue 15).
	newsIndexed atomic.Bool
	liveTTL     sync.Map // worker id → the TTL of its liveness key (Heartbeat), for this process's workers
	// Retention (archive.go): decoded archive blocks, and a hook that tests
	// use to stop ArchiveRelease between its steps.
	blocks      blockCache
	archiveHook func(step string) error
	// erasureKey keys the hashes of erased addresses (erase.go); nil until
	// SetErasureSecret, and then erasures are neither made nor checked.
	erasureKey []byte
	// auditTurn lets this process's audit appends go one at a time
	// (AppendAudit); auditHead is the head its last append left, known
	// when auditHeadKnown, both read and written only in that turn.
	auditTurn      chan struct{}
	auditHead      audit.Head
	auditHeadKnown bool
	// finishes batches the FinishBy calls that come while one is on its
	// way (finishgroup.go).
	finishes finishGroup
}

// New returns a Store on an open client. now may be nil (time.Now).
func New(rdb redis.UniversalClient, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{rdb: rdb, now: now, auditTurn: make(chan struct{}, 1)}
}

// Client returns the underlying Redis client.
func (s *Store) Client() redis.UniversalClient { return s.rdb }

// Ping checks that Redis answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis ping: %w", err)
	}
	return nil
}

// Warnings returns what is unsafe in the Redis server's configuration for
// Pregón: no persistence, or an eviction policy that may drop queued tasks.
func (s *Store) Warnings(ctx context.Context) ([]string, error) {
	var out []string
	pol, err := s.rdb.ConfigGet(ctx, "maxmemory-policy").Result()
	if err != nil {
		return nil, fmt.Errorf("redis config get: %w", err)
	}
	if p := pol["maxmemory-policy"]; p != "" && p != "noeviction" {
		out = append(out, fmt.Sprintf("redis maxmemory-policy is %q: Redis may evict queued tasks and delivery records; set it to noeviction", p))
	}
	aof, err := s.rdb.ConfigGet(ctx, "appendonly").Result()
	if err != nil {
		return nil, fmt.Errorf("redis config get: %w", err)
	}
	save, err := s.rdb.ConfigGet(ctx, "save").Result()
	if err != nil {
		return nil, fmt.Errorf("redis config get: %w", err)
	}
	if aof["appendonly"] != "yes" && strings.TrimSpace(save["save"]) == "" {
		out = append(out, "redis has no persistence (appendonly no, no save points): a restart loses queued deliveries; run it with --appendonly yes")
	}
	lp, err := s.listpackWarnings(ctx)
	return append(out, lp...), err
}

const prefix = "pregon:"

func listKey(id string) string       { return prefix + "{" + id + "}:list" }    // migratekeys.go: was pregon:list:<id>
func membersKey(id string) string    { return prefix + "{" + id + "}:members" } // was pregon:list:<id>:members
func contactKey(email string) string { return prefix + "contact:" + email }
func channelKey(id string) string    { return prefix + "tgchannel:" + id }
func chatKey(chatID string) string   { return prefix + "tgchat:" + chatID }
func releaseKey(rid string) string   { return prefix + "{" + rid + "}:release" }
func countsKey(rid string) string    { return prefix + "{" + rid + "}:counts" }
func failuresKey(rid string) string  { return prefix + "{" + rid + "}:failures" }

// Of deliveries as earlier versions kept them, one hash each (upgrade.go).
func deliveriesKey(rid string) string  { return prefix + "{" + rid + "}:deliveries" }
func deliveryPrefix(rid string) string { return prefix + "{" + rid + "}:d:" }

const (
	listsKey      = prefix + "lists"
	channelsKey   = prefix + "tgchannels"
	releasesKey   = prefix + "releases"
	suppressedKey = prefix + "suppressed"
	// Of suppressions (bounces.go): when and where from, and an index to page.
	suppressedMetaKey  = prefix + "suppressed-meta"
	suppressionsKey    = prefix + "suppressions"
	suppressionsIdxKey = prefix + "suppressions-indexed"
	softBouncesKey     = prefix + "soft-bounces"
	activeKey          = prefix + "active"
	// statusIndexPrefix + status is the ZSET of the releases in that status.
	statusIndexPrefix = prefix + "releases:"
	indexedKey        = prefix + "releases-indexed"

	// Of erasures (erase.go): keyed hashes of erased addresses, and the
	// fingerprint of the key that made them.
	erasedKey      = prefix + "erased"
	erasedCheckKey = prefix + "erased-check"
)

func statusIndexKey(st dispatcher.ReleaseStatus) string { return statusIndexPrefix + string(st) }

var b32 = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// newID returns a new id: kind, then 48 bits of milliseconds and 80 random
// bits in lower-case Crockford base32, so that ids sort by creation time.
func newID(kind string, now time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixMilli())<<16)
	if _, err := rand.Read(b[6:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return kind + "_" + b32.EncodeToString(b[:])
}

// validID reports whether id could be one of ours, so that user input never
// builds an odd key.
func validID(kind, id string) bool {
	if !strings.HasPrefix(id, kind+"_") || len(id) != len(kind)+1+26 {
		return false
	}
	for _, r := range id[len(kind)+1:] {
		if !strings.ContainsRune("0123456789abcdefghjkmnpqrstvwxyz", r) {
			return false
		}
	}
	return true
}

func fmtTime(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

func parseTime(s string) time.Time {
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil || ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

func isNil(err error) bool { return errors.Is(err, redis.Nil) }

// txErr returns the error of a MULTI/EXEC (cmds, err from TxPipelined). For
// EXECABORT it returns the error of the command Redis refused (READONLY,
// OOM, ...), wrapped with the abort, so that callers can tell an unavailable
// Redis from a bug.
func txErr(cmds []redis.Cmder, err error) error {
	if err == nil || !redis.IsExecAbortError(err) {
		return err
	}
	for _, c := range cmds {
		if e := c.Err(); e != nil && !redis.IsExecAbortError(e) {
			return fmt.Errorf("%w (%w)", err, e)
		}
	}
	return err
}

// pageLex returns up to limit members of a lexically ordered ZSET after
// cursor (exclusive), in ascending or descending order, and the next cursor.
func (s *Store) pageLex(ctx context.Context, key, cursor string, limit int, desc bool) ([]string, string, error) {
	var res []string
	var err error
	if desc {
		max := "+"
		if cursor != "" {
			max = "(" + cursor
		}
		res, err = s.rdb.ZRevRangeByLex(ctx, key, &redis.ZRangeBy{Max: max, Min: "-", Count: int64(limit + 1)}).Result()
	} else {
		min := "-"
		if cursor != "" {
			min = "(" + cursor
		}
		res, err = s.rdb.ZRangeByLex(ctx, key, &redis.ZRangeBy{Min: min, Max: "+", Count: int64(limit + 1)}).Result()
	}
	if err != nil {
		return nil, "", fmt.Errorf("page %s: %w", key, err)
	}
	next := ""
	if len(res) > limit {
		res = res[:limit]
		next = res[limit-1]
	}
	return res, next, nil
}
