package e2e

import (
	"context"
	_ "embed"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pregon/pregon/client"
	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/internal/testkit"
)

//go:embed testdata/statement_es.md
var statementES string

//go:embed testdata/statement_en.md
var statementEN string

var httpClient = &http.Client{Timeout: 15 * time.Second}

// newAPI returns a client of the stack's API with its admin token.
func (s *stack) newAPI() *client.Client {
	s.t.Helper()
	c, err := client.New(s.apiURL, s.token, client.WithHTTPClient(httpClient), client.WithUserAgent("pregon-e2e"))
	if err != nil {
		s.t.Fatal(err)
	}
	return c
}

func (s *stack) readyz() (int, error) {
	resp, err := httpClient.Get(s.apiURL + "/readyz")
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// release is what the tests read of a release, its status as a string.
type release struct {
	ID     string
	Status string
	Counts *client.Counts
}

// delivery is what the tests read of a delivery, its status as a string.
type delivery struct {
	ID         string
	Channel    string
	Recipient  string
	Status     string
	Attempts   int
	LastError  string
	MessageIDs []string
}

// recipients returns n generated addresses, r00001@… to rNNNNN@….
func recipients(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%05d@prensa.example", prefix, i+1)
	}
	return out
}

// pressList creates a press list and imports addrs into it as a CSV file.
func (s *stack) pressList(name string, addrs []string) string {
	s.t.Helper()
	ctx := context.Background()
	l, err := s.api.CreateList(ctx, client.NewList{Name: name, Kind: dispatcher.ListPress})
	if err != nil {
		s.t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("email,name,outlet,language\n")
	for i, a := range addrs {
		lang := "es"
		if i%4 == 3 {
			lang = "en"
		}
		fmt.Fprintf(&b, "%s,Periodista %d,Diario %d,%s\n", a, i+1, i%37, lang)
	}
	rep, err := s.api.ImportCSV(ctx, l.ID, []byte(b.String()))
	if err != nil {
		s.t.Fatal(err)
	}
	if rep.Added != len(addrs) || len(rep.Errors) != 0 {
		s.t.Fatalf("import of %d contacts: %+v", len(addrs), rep)
	}
	return l.ID
}

// channels registers each chat id as a Telegram channel and returns their ids.
func (s *stack) channels(chatIDs []string) []string {
	s.t.Helper()
	var ids []string
	for _, c := range chatIDs {
		ch, err := s.api.CreateChannel(context.Background(), client.NewChannel{ChatID: c, Title: "Canal " + c, Language: "es"})
		if err != nil {
			s.t.Fatal(err)
		}
		ids = append(ids, ch.ID)
	}
	return ids
}

// sendRelease creates a release of the statement for the audiences, with
// send: true, and returns its id.
func (s *stack) sendRelease(lists, channels []string) string {
	s.t.Helper()
	rel, err := s.api.CreateRelease(context.Background(), &client.NewRelease{
		Title:    "Las cooperativas exigen detener el dragado del canal norte",
		Summary:  "Diecinueve cooperativas pesqueras piden suspender las obras en la Laguna de Santa Brígida.",
		Body:     statementES,
		Language: "es",
		Translations: []dispatcher.Translation{{Language: "en",
			Title: "Cooperatives demand a halt to the dredging of the northern channel", Body: statementEN}},
		Contact:   &dispatcher.PressContact{Name: "Marisol Quiñones Ávila", Email: "prensa@cooperativas.example", Phone: "+52 954 000 1234"},
		SourceURL: "https://cooperativas.example/comunicados/dragado",
		Audiences: client.Audiences{Lists: lists, TelegramChannels: channels},
		Send:      true,
	})
	if err != nil {
		s.t.Fatal(err)
	}
	return rel.ID
}

// release returns the release, or an error while the API cannot answer.
func (s *stack) release(id string) (*release, error) {
	r, err := s.api.GetRelease(context.Background(), id)
	if err != nil {
		return nil, err
	}
	return &release{ID: r.ID, Status: string(r.Status), Counts: &r.Counts}, nil
}

// waitFinal polls the release until it is sent, sent_with_failures or
// cancelled, tolerating errors meanwhile (e.g. while Redis is away).
func (s *stack) waitFinal(id string, timeout time.Duration) *release {
	s.t.Helper()
	var final *release
	testkit.WaitFor(s.t, "release "+id+" to finish", timeout, 100*time.Millisecond, func() (bool, string) {
		r, err := s.release(id)
		if err != nil {
			return false, err.Error()
		}
		switch dispatcher.ReleaseStatus(r.Status) {
		case dispatcher.ReleaseSent, dispatcher.ReleaseSentWithFailures, dispatcher.ReleaseCancelled:
			final = r
			return true, ""
		}
		return false, fmt.Sprintf("status %s, counts %s", r.Status, compactCounts(r.Counts))
	})
	return final
}

// deliveries lists the release's deliveries matching query (e.g.
// "status=sending" or "channel=email"), every page.
func (s *stack) deliveries(id, query string) []delivery {
	s.t.Helper()
	q, err := url.ParseQuery(query)
	if err != nil {
		s.t.Fatal(err)
	}
	f := client.DeliveryFilter{Status: dispatcher.DeliveryStatus(q.Get("status")), Channel: dispatcher.ChannelKind(q.Get("channel"))}
	all, err := client.All(context.Background(), 1000, func(ctx context.Context, pq client.PageQuery) (*client.Page[dispatcher.Delivery], error) {
		return s.api.Deliveries(ctx, id, f, pq)
	})
	if err != nil {
		s.t.Fatal(err)
	}
	out := make([]delivery, len(all))
	for i, d := range all {
		out[i] = delivery{ID: d.ID, Channel: string(d.Channel), Recipient: d.Recipient, Status: string(d.Status),
			Attempts: d.Attempts, LastError: d.LastError, MessageIDs: d.MessageIDs}
	}
	return out
}

// telegramParts returns the messages the release is posted as, in language.
func (s *stack) telegramParts(id, language string) []string {
	s.t.Helper()
	p, err := s.api.Preview(context.Background(), id, dispatcher.ChannelTelegram, language)
	if err != nil {
		s.t.Fatal(err)
	}
	return p.Messages
}

// checkCounts checks that the release's counts add up, in total and per
// channel, and match the deliveries one by one.
func checkCounts(t *testing.T, r *release, ds []delivery) {
	t.Helper()
	c := r.Counts
	byStatus := map[dispatcher.DeliveryStatus]int64{}
	byChannel := map[dispatcher.ChannelKind]map[dispatcher.DeliveryStatus]int64{}
	for _, d := range ds {
		st, ch := dispatcher.DeliveryStatus(d.Status), dispatcher.ChannelKind(d.Channel)
		byStatus[st]++
		if byChannel[ch] == nil {
			byChannel[ch] = map[dispatcher.DeliveryStatus]int64{}
		}
		byChannel[ch][st]++
	}
	var sum int64
	for _, st := range c.Statuses() {
		sum += c.ByStatus[st]
		if c.ByStatus[st] != byStatus[st] {
			t.Errorf("counts.%s = %d, but %d deliveries are %s", st, c.ByStatus[st], byStatus[st], st)
		}
	}
	if c.Total != sum || c.Total != int64(len(ds)) {
		t.Errorf("counts.total = %d; sum of statuses %d; deliveries listed %d", c.Total, sum, len(ds))
	}
	for _, st := range c.Statuses() {
		var chSum int64
		for ch, m := range c.ByChannel {
			chSum += m[st]
			if m[st] != byChannel[ch][st] {
				t.Errorf("counts.by_channel.%s.%s = %d, but %d such deliveries", ch, st, m[st], byChannel[ch][st])
			}
		}
		if chSum != c.ByStatus[st] {
			t.Errorf("counts.by_channel sums to %d %s, counts.%s = %d", chSum, st, st, c.ByStatus[st])
		}
	}
	for ch, m := range c.ByChannel {
		var chTotal int64
		for _, n := range m {
			chTotal += n
		}
		if c.ChannelTotal[ch] != chTotal {
			t.Errorf("counts.by_channel.%s.total = %d, sum of its statuses %d", ch, c.ChannelTotal[ch], chTotal)
		}
	}
}

// compactCounts returns the counts that are not zero, as "status=n ...".
func compactCounts(c *client.Counts) string {
	parts := []string{fmt.Sprintf("total=%d", c.Total)}
	for st, n := range c.ByStatus {
		parts = append(parts, fmt.Sprintf("%s=%d", st, n))
	}
	sort.Strings(parts[1:])
	return strings.Join(parts, " ")
}
