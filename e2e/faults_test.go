package e2e

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/pregon/pregon/internal/telegramtest"
)

// faultSeed seeds every random fault; change it to explore other runs.
const faultSeed = 20260312

// chance reports, the same way in every run, whether the event named by
// parts happens with the given percentage.
func chance(percent uint64, parts ...any) bool {
	h := fnv.New64a()
	fmt.Fprint(h, faultSeed)
	for _, p := range parts {
		fmt.Fprintf(h, "|%v", p)
	}
	return h.Sum64()%100 < percent
}

// smtpFaults is the SMTP server's behaviour in TestFaultsOnTheWireSMTP: per
// attempt, 451 for 20% of RCPTs and a connection dropped after DATA for 2%
// of messages; 550 always for the rejected addresses. It keeps what it did.
type smtpFaults struct {
	rejected map[string]bool

	mu      sync.Mutex
	rcpts   map[string]int  // RCPT commands per address
	dropped map[string]bool // addresses whose message was dropped after DATA
}

func (f *smtpFaults) rcpt(rcpt string, attempt int) *smtp.SMTPError {
	f.mu.Lock()
	f.rcpts[rcpt]++
	f.mu.Unlock()
	switch {
	case f.rejected[rcpt]:
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "mailbox unavailable"}
	case chance(20, "451", rcpt, attempt):
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "temporary failure, try again later"}
	}
	return nil
}

func (f *smtpFaults) drop(rcpt string, attempt int) bool {
	if !chance(2, "drop", rcpt, attempt) {
		return false
	}
	f.mu.Lock()
	f.dropped[rcpt] = true
	f.mu.Unlock()
	return true
}

// expect returns the status the delivery to rcpt must end in, and after how
// many attempts, given the faults and maxAttempts.
func (f *smtpFaults) expect(rcpt string, maxAttempts int) (string, int) {
	if f.rejected[rcpt] {
		return "failed", 1
	}
	for a := 1; a <= maxAttempts; a++ {
		switch {
		case chance(20, "451", rcpt, a):
		case chance(2, "drop", rcpt, a):
			return "uncertain", a
		default:
			return "sent", a
		}
	}
	return "failed", maxAttempts
}

// TestFaultsOnTheWireSMTP sends a release through an SMTP server that
// answers 451 to 20% of RCPTs at random, drops the connection after DATA for
// 2% of messages, and rejects a few addresses with 550: the final record
// matches what the server got.
func TestFaultsOnTheWireSMTP(t *testing.T) {
	const n, maxAttempts = 1000, 12
	s := newStack(t, withEnv("PREGON_MAX_ATTEMPTS", strconv.Itoa(maxAttempts)))
	addrs := recipients("f", n)
	f := &smtpFaults{rejected: map[string]bool{}, rcpts: map[string]int{}, dropped: map[string]bool{}}
	for _, i := range []int{6, 123, 500, 777, 999} {
		f.rejected[addrs[i]] = true
	}
	s.smtp.SetHandler(f.rcpt)
	s.smtp.DropAfterData(f.drop)
	s.startServe()
	lid := s.pressList("Prensa con fallos", addrs)

	rid := s.sendRelease([]string{lid}, nil)
	rel := s.waitFinal(rid, 90*time.Second)
	ds := s.deliveries(rid, "")
	checkCounts(t, rel, ds)
	got := received(s.smtp)

	f.mu.Lock()
	defer f.mu.Unlock()
	by := map[string]int{}
	var dup, lost, ranOut, retried int
	for _, d := range ds {
		by[d.Status]++
		a := d.Recipient
		wantStatus, wantAttempts := f.expect(a, maxAttempts)
		if d.Status != wantStatus || d.Attempts != wantAttempts {
			t.Errorf("%s: %s after %d attempts, want %s after %d (%q)", a, d.Status, d.Attempts, wantStatus, wantAttempts, d.LastError)
		}
		if d.Attempts != f.rcpts[a] {
			t.Errorf("%s: %d attempts recorded, the server saw %d RCPTs", a, d.Attempts, f.rcpts[a])
		}
		if d.Attempts > 1 {
			retried++
		}
		switch d.Status {
		case "sent":
			if got[a] != 1 {
				t.Errorf("%s is sent but received %d emails", a, got[a])
			}
			if got[a] == 0 {
				lost++
			}
			if f.dropped[a] {
				t.Errorf("%s is sent although its message was dropped after DATA", a)
			}
		case "failed":
			switch {
			case f.rejected[a]:
				if !strings.Contains(d.LastError, "550") || !strings.Contains(d.LastError, "mailbox unavailable") {
					t.Errorf("%s failed without the server's 550 reply: %q", a, d.LastError)
				}
			case strings.Contains(d.LastError, "gave up after"):
				ranOut++
			default:
				t.Errorf("%s failed, neither rejected nor out of attempts: %q", a, d.LastError)
			}
		case "uncertain":
			if !f.dropped[a] {
				t.Errorf("%s is uncertain but its message was not dropped: %q", a, d.LastError)
			}
		default:
			t.Errorf("%s ended %s", a, d.Status)
		}
		if d.Status != "sent" && got[a] > 0 {
			t.Errorf("%s is %s but received %d emails", a, d.Status, got[a])
		}
		if got[a] > 1 {
			dup += got[a] - 1
		}
	}
	for a := range f.dropped {
		if got[a] > 0 {
			t.Errorf("%s was dropped after DATA once, and later received (%d): uncertain must not be repeated", a, got[a])
		}
	}
	if len(ds) != n {
		t.Errorf("%d deliveries for %d recipients", len(ds), n)
	}
	if want := "sent_with_failures"; rel.Status != want {
		t.Errorf("release %s, want %s", rel.Status, want)
	}
	t.Logf("FIGURES faults-smtp: recipients=%d sent=%d failed=%d uncertain=%d lost=%d duplicated=%d rejected_550=%d ran_out=%d dropped_after_data=%d retried=%d rcpts=%d",
		n, by["sent"], by["failed"], by["uncertain"], lost, dup, len(f.rejected), ranOut, len(f.dropped), retried, sum(f.rcpts))
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// tgFault is one kind of failure of the fake Bot API.
type tgFault struct {
	name      string
	f         telegramtest.Failure
	uncertain bool // no answer after the request: the client cannot know
	posted    bool // the fake posted the message before failing
}

var tgFaults = []tgFault{
	{name: "502-json", f: telegramtest.Failure{Status: 502}},
	{name: "500-json", f: telegramtest.Failure{Status: 500, Description: "Internal Server Error: restart"}},
	{name: "502-html", f: telegramtest.Failure{Status: 502, HTMLPage: true}},
	{name: "504-html", f: telegramtest.Failure{Status: 504, HTMLPage: true}},
	{name: "reset", f: telegramtest.Failure{Reset: true}, uncertain: true},
	{name: "reset-after-post", f: telegramtest.Failure{Reset: true, AfterDelivery: true}, uncertain: true, posted: true},
	{name: "hang", f: telegramtest.Failure{Hang: true}, uncertain: true},
	{name: "hang-after-post", f: telegramtest.Failure{Hang: true, AfterDelivery: true}, uncertain: true, posted: true},
}

// tgPlan is what the fake does to one chat's requests, in order (nil: the
// request goes through).
type tgPlan []*tgFault

// expect returns the status the chat's delivery must end in, how many of
// parts messages the chat must hold, and how many message ids the delivery
// must record.
func (p tgPlan) expect(parts, maxAttempts int) (status string, posted, ids int) {
	req, attempts := 0, 1
	for posted < parts {
		var f *tgFault
		if req < len(p) {
			f = p[req]
		}
		req++
		switch {
		case f == nil:
			posted++
		case f.uncertain:
			ids = posted
			if f.posted {
				posted++
			}
			return "uncertain", posted, ids
		default:
			attempts++
			if attempts > maxAttempts {
				return "failed", posted, posted
			}
		}
	}
	return "sent", posted, posted
}

func (p tgPlan) String() string {
	var b []string
	for _, f := range p {
		if f == nil {
			b = append(b, "ok")
		} else {
			b = append(b, f.name)
		}
	}
	return strings.Join(b, ",")
}

// TestFaultsOnTheWireTelegram posts a release that takes several messages
// to channels whose Bot API answers 5xx JSON, HTML error pages, resets the
// connection or hangs past the client's timeout, at random: a channel ends
// sent with every part once, or uncertain when a request may have been
// posted; no part is ever posted twice. A hang holds its delivery for the
// Telegram client's 30 s timeout, ten times the claim timeout: the worker
// keeps its claim meanwhile, so the sweeper does not send it again.
func TestFaultsOnTheWireTelegram(t *testing.T) {
	const chats, maxAttempts = 24, 8
	s := newStack(t, withTelegram(), withEnv("PREGON_MAX_ATTEMPTS", strconv.Itoa(maxAttempts)))
	rng := rand.New(rand.NewPCG(faultSeed, 2))
	var chatIDs []string
	plans := map[string]tgPlan{}
	hangs := 0
	for i := range chats {
		chat := fmt.Sprintf("@cooperativa%02d", i+1)
		chatIDs = append(chatIDs, chat)
		s.tg.AddChat(chat)
		// A few requests, some failing; at most 3 hangs in all, since each
		// holds a worker for the client's 30 s timeout.
		var plan tgPlan
		for range rng.IntN(5) {
			f := &tgFaults[rng.IntN(len(tgFaults))]
			if strings.HasPrefix(f.name, "hang") {
				if hangs == 3 {
					f = &tgFaults[0]
				} else {
					hangs++
				}
			}
			for range rng.IntN(2) {
				plan = append(plan, nil)
			}
			plan = append(plan, f)
		}
		plans[chat] = plan
		for _, f := range plan {
			if f == nil {
				s.tg.FailAfter(chat, 1, 0, telegramtest.Failure{})
			} else {
				s.tg.FailNext(chat, 1, f.f)
			}
		}
	}
	s.startServe()
	rid := s.sendRelease(nil, s.channels(chatIDs))
	parts := s.telegramParts(rid, "es")
	if len(parts) < 2 {
		t.Fatalf("the statement is posted as %d message(s); the test needs at least 2", len(parts))
	}
	rel := s.waitFinal(rid, 100*time.Second)
	ds := s.deliveries(rid, "")
	checkCounts(t, rel, ds)

	by := map[string]int{}
	var twice, lost, faults, uncertainPosted int
	for _, d := range ds {
		by[d.Status]++
		plan := plans[d.Recipient]
		for _, f := range plan {
			if f != nil {
				faults++
			}
		}
		wantStatus, wantPosted, wantIDs := plan.expect(len(parts), maxAttempts)
		msgs := s.tg.Messages(d.Recipient)
		var texts, ids []string
		for _, m := range msgs {
			texts = append(texts, m.Text)
			ids = append(ids, strconv.FormatInt(m.ID, 10))
		}
		if d.Status != wantStatus || len(msgs) != wantPosted {
			t.Errorf("%s (plan %s): %s with %d messages posted, want %s with %d (%q)", d.Recipient, plan, d.Status, len(msgs), wantStatus, wantPosted, d.LastError)
		}
		if !slices.Equal(texts, parts[:min(len(texts), len(parts))]) || len(texts) > len(parts) {
			twice++
			t.Errorf("%s (plan %s): posted %d messages that are not the release's parts once each, in order", d.Recipient, plan, len(texts))
		}
		if !slices.Equal(d.MessageIDs, ids[:min(wantIDs, len(ids))]) {
			t.Errorf("%s (plan %s): message ids %v, want %v", d.Recipient, plan, d.MessageIDs, ids[:min(wantIDs, len(ids))])
		}
		if d.Status == "sent" && len(msgs) < len(parts) {
			lost++
		}
		if d.Status == "uncertain" {
			if !strings.Contains(d.LastError, "no answer") {
				t.Errorf("%s: uncertain with error %q", d.Recipient, d.LastError)
			}
			if len(msgs) > len(d.MessageIDs) {
				uncertainPosted++
			}
		}
	}
	wantRel := "sent"
	if by["uncertain"]+by["failed"] > 0 {
		wantRel = "sent_with_failures"
	}
	if rel.Status != wantRel {
		t.Errorf("release %s, want %s", rel.Status, wantRel)
	}
	if len(ds) != chats {
		t.Errorf("%d deliveries for %d channels", len(ds), chats)
	}
	t.Logf("FIGURES faults-telegram: channels=%d parts=%d sent=%d uncertain=%d (of which the uncertain part was in fact posted: %d) failed=%d lost=%d posted_twice=%d faults_planned=%d hangs_planned=%d requests=%d",
		chats, len(parts), by["sent"], by["uncertain"], uncertainPosted, by["failed"], lost, twice, faults, hangs, s.tg.Requests())
}
