package store

import (
	"fmt"
	"strings"

	"github.com/pregon/pregon/dispatcher"
	"github.com/redis/go-redis/v9"
)

// Hash fields of a delivery (pregon:{<rid>}:d:<id>). The names are short on
// purpose: see "Field names" in the package doc.
const (
	dChannel       = "c"   // channel kind: email, telegram
	dRecipient     = "to"  // address or chat id
	dName          = "n"   // recipient's name
	dLanguage      = "l"   // language the release is sent in
	dStatus        = "s"   // dispatcher.DeliveryStatus
	dAttempts      = "a"   // send attempts in all
	dRoundAttempts = "ra"  // send attempts since it was last (re)queued
	dError         = "e"   // last error
	dMessageIDs    = "m"   // message ids, space-separated
	dCreatedAt     = "ct"  // Unix ms
	dUpdatedAt     = "ut"  // Unix ms
	dRetryDue      = "due" // Unix ms when a retrying delivery is due ("" when none)
	dClaimedAt     = "k"   // Unix ms of the current claim (sending only)
	dWorker        = "w"   // id of the claiming worker (sending only)
	// Of bounces and complaints (bounces.go):
	dBounce       = "b"  // dispatcher.BounceKind of what came back ("" or absent: none)
	dBounceAt     = "bt" // Unix ms it came back
	dBounceSource = "bs" // where it was learned: rcpt, ses, postmark, ...
	dParts        = "np" // Telegram: how many parts the post has ("" or absent: not known)
	dReposted     = "rp" // Telegram (tgpace): the part, from 1, posted again by a resume after it was uncertain
)

// Hash fields of a release (pregon:{<rid>}:release).
const (
	rData      = "data"   // the release as JSON
	rSummary   = "sum"    // the release as JSON without bodies
	rStatus    = "status" // dispatcher.ReleaseStatus
	rSendAt    = "at"     // Unix ms it is (or was) to be dispatched
	rSnapshot  = "snap"   // "1" once every recipient has a delivery
	rUpdatedAt = "ut"     // Unix ms
	rActivity  = "act"    // Unix ms its deliveries last changed
	// The edits and approvals, kept beside the JSON so that scripts can
	// check them; where a release's JSON says otherwise, these win.
	rVersion         = "ver"  // its current version (absent: 1)
	rAuthor          = "auth" // name of the token that created it
	rApprovedBy      = "apby" // name of the token that approved rApprovedVersion
	rApprovedVersion = "apv"  // the version approved (absent: none)
	rAsked           = "ask"  // Unix ms of the "at" given to Send ("" or absent: none)
	// rEarly is "1" once a scheduled release's early tier is out: the
	// members of its early lists are being, or were, given the embargoed
	// copy. Its content must not change after that (PATCH refuses all but a
	// new embargo). Lua: R.early.
	rEarly     = "early"
	rEarlySnap = "esnap" // "1" once every member of its early lists has a delivery

	// Of corrections (corrections.go):
	rCorrectionOf   = "of"  // on a correction: the id of the release it corrects
	rLastCorrection = "fix" // on a corrected release: "<key> <id>" of its latest correction

	// Retention (archive.go): Unix ms its deliveries were archived (absent: live).
	rArchivedAt = "arch"
	// Erasure (erase.go): how many of its delivery records were redacted
	// (absent: none); an archive built before a redaction does not commit.
	rRedactions = "red"
)

// Fields of a release's counts hash (pregon:{<rid>}:counts): countField(ch,
// st) counts the deliveries of a channel in a status, cPending those that
// are queued, retrying or sending.
const (
	cPending = "pending"
	cSep     = ":"
)

func countField(ch dispatcher.ChannelKind, st dispatcher.DeliveryStatus) string {
	return string(ch) + cSep + string(st)
}

// Fields of an entry of a release's failure log (pregon:{<rid>}:failures),
// besides the delivery's own (dChannel, dRecipient, ...): the delivery id,
// or, in the entry after the last one kept, flMore.
const (
	flDelivery = "d"
	flMore     = "more"
)

// unsuccessful are the final delivery statuses that end a release
// sent_with_failures rather than sent.
var unsuccessful = []dispatcher.DeliveryStatus{dispatcher.DeliveryFailed, dispatcher.DeliveryUncertain}

// luaConstants is the head of every script: Lua tables of the hash fields,
// statuses and channels above, written from the Go constants, so that no
// script holds a second copy of a name. Scripts read F.status, R.activity,
// DS.queued, RS.sending, CH.email, ...
var luaConstants = luaTables() + recordLib()

func luaTables() string {
	type kv struct{ k, v string }
	var b strings.Builder
	table := func(name, doc string, kvs ...kv) {
		fmt.Fprintf(&b, "-- %s\nlocal %s = {", doc, name)
		for i, e := range kvs {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%s = %q", e.k, e.v)
		}
		b.WriteString("}\n")
	}
	list := func(name, doc string, vs ...string) {
		fmt.Fprintf(&b, "-- %s\nlocal %s = {", doc, name)
		for i, v := range vs {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%q", v)
		}
		b.WriteString("}\n")
	}
	table("F", "delivery hash fields", kv{"channel", dChannel}, kv{"recipient", dRecipient}, kv{"name", dName},
		kv{"language", dLanguage}, kv{"status", dStatus}, kv{"attempts", dAttempts}, kv{"round_attempts", dRoundAttempts},
		kv{"error", dError}, kv{"message_ids", dMessageIDs}, kv{"created_at", dCreatedAt}, kv{"updated_at", dUpdatedAt},
		kv{"retry_due", dRetryDue}, kv{"claimed_at", dClaimedAt}, kv{"worker", dWorker},
		kv{"bounce", dBounce}, kv{"bounce_at", dBounceAt}, kv{"bounce_source", dBounceSource},
		kv{"parts", dParts},       // Telegram (issue 11)
		kv{"reposted", dReposted}) // Telegram resume of an uncertain part (tgpace)
	table("R", "release hash fields", kv{"data", rData}, kv{"summary", rSummary}, kv{"status", rStatus},
		kv{"send_at", rSendAt}, kv{"snapshot", rSnapshot}, kv{"updated_at", rUpdatedAt}, kv{"activity", rActivity},
		kv{"version", rVersion}, kv{"author", rAuthor}, kv{"approved_by", rApprovedBy}, kv{"approved_version", rApprovedVersion},
		kv{"asked", rAsked}, kv{"early", rEarly}, kv{"early_snapshot", rEarlySnap},
		kv{"correction_of", rCorrectionOf}, kv{"last_correction", rLastCorrection},
		kv{"archived_at", rArchivedAt}, // retention
		kv{"redactions", rRedactions})  // erasure
	table("C", "counts hash fields (besides channel..C.sep..status)", kv{"pending", cPending}, kv{"sep", cSep})
	table("DS", "delivery statuses",
		kv{"queued", string(dispatcher.DeliveryQueued)}, kv{"retrying", string(dispatcher.DeliveryRetrying)},
		kv{"sending", string(dispatcher.DeliverySending)}, kv{"sent", string(dispatcher.DeliverySent)},
		kv{"failed", string(dispatcher.DeliveryFailed)}, kv{"suppressed", string(dispatcher.DeliverySuppressed)},
		kv{"skipped", string(dispatcher.DeliverySkipped)}, kv{"uncertain", string(dispatcher.DeliveryUncertain)},
		kv{"cancelled", string(dispatcher.DeliveryCancelled)})
	table("RS", "release statuses",
		kv{"draft", string(dispatcher.ReleaseDraft)}, kv{"scheduled", string(dispatcher.ReleaseScheduled)},
		kv{"sending", string(dispatcher.ReleaseSending)}, kv{"sent", string(dispatcher.ReleaseSent)},
		kv{"sent_with_failures", string(dispatcher.ReleaseSentWithFailures)}, kv{"cancelled", string(dispatcher.ReleaseCancelled)})
	table("CH", "channels", kv{"email", string(dispatcher.ChannelEmail)}, kv{"telegram", string(dispatcher.ChannelTelegram)})
	chs := make([]string, len(dispatcher.Channels))
	for i, c := range dispatcher.Channels {
		chs[i] = string(c)
	}
	list("CHANNELS", "every channel counted", chs...)
	bad := make([]string, len(unsuccessful))
	for i, st := range unsuccessful {
		bad[i] = string(st)
	}
	list("UNSUCCESSFUL", "final statuses that make a release sent_with_failures", bad...)
	table("FL", "failure log entry fields (besides F.channel, F.recipient, ...)", kv{"delivery", flDelivery}, kv{"more", flMore})
	fmt.Fprintf(&b, "-- a release's failure log key, %%s for the release id, and its size\nlocal FAILURE_LOG_KEY = %q\nlocal FAILURE_LOG_MAX = %d\n",
		failuresKey("%s"), dispatcher.FailureLogMax)
	return b.String()
}

// newScript returns a script whose source is luaConstants then src.
func newScript(src string) *redis.Script { return redis.NewScript(luaConstants + src) }

// releaseLib is Lua that the scripts changing a release or its deliveries
// include after luaConstants. Its functions expect
//
//	KEYS[1] -> pregon:{<rid>}:release
//	KEYS[2] -> pregon:{<rid>}:counts
//
// A script that changes a release's status does not touch the release
// status indexes (one ZSET of release ids per status): they are in other
// hash slots, and Go brings them in line with the release hash after the
// script (syncStatusIndex, cluster.go).
//
// finalize(now) ends a sending release whose recipients were all planned
// and whose deliveries are all final: sent, or sent_with_failures when any
// is in an UNSUCCESSFUL status.
//
// move(ch, from, to) moves one delivery of channel ch between the counts of
// two statuses.
//
// logFailure(d, id) appends delivery id (its decoded record d), which has just ended
// failed or uncertain, to the release's failure log: the first
// FAILURE_LOG_MAX failures, then one entry saying that more failed, then
// nothing, so that a whole list bouncing costs a bounded log.
const releaseLib = `
local function finalize(now)
  -- The pending count first: it is what stops a release ending in the
  -- common case, and is one read.
  if tonumber(redis.call('HGET', KEYS[2], C.pending) or '0') > 0 then return end
  if redis.call('HGET', KEYS[1], R.status) ~= RS.sending then return end
  if redis.call('HGET', KEYS[1], R.snapshot) ~= '1' then return end
  local bad = 0
  for _, ch in ipairs(CHANNELS) do
    for _, st in ipairs(UNSUCCESSFUL) do
      bad = bad + tonumber(redis.call('HGET', KEYS[2], ch .. C.sep .. st) or '0')
    end
  end
  local st = RS.sent
  if bad > 0 then st = RS.sent_with_failures end
  redis.call('HSET', KEYS[1], R.status, st, R.updated_at, now)
end
local function move(ch, from, to)
  redis.call('HINCRBY', KEYS[2], ch .. C.sep .. from, -1)
  redis.call('HINCRBY', KEYS[2], ch .. C.sep .. to, 1)
end
local function logFailure(d, id)
  local log = string.format(FAILURE_LOG_KEY, string.match(KEYS[1], '{(.-)}'))
  local n = redis.call('XLEN', log)
  if n < FAILURE_LOG_MAX then
    redis.call('XADD', log, '*', FL.delivery, id, F.channel, d[F.channel] or '', F.recipient, d[F.recipient] or '', F.language, d[F.language] or '',
      F.status, d[F.status] or '', F.attempts, d[F.attempts] or '0', F.error, d[F.error] or '', F.updated_at, d[F.updated_at] or '')
  elseif n == FAILURE_LOG_MAX then
    redis.call('XADD', log, '*', FL.more, '1')
  end
end
`

// newReleaseScript returns a script whose source is luaConstants,
// releaseLib, then src.
func newReleaseScript(src string) *redis.Script { return newScript(releaseLib + src) }
