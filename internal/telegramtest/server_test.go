package telegramtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/pregon/pregon/internal/testkit"
)

const token = "123456:TEST-token"

// reply is a decoded Bot API answer.
type reply struct {
	Status      int
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Parameters  struct {
		RetryAfter int `json:"retry_after"`
	} `json:"parameters"`
}

// send posts sendMessage as multipart/form-data, the way go-telegram/bot does.
func send(t *testing.T, s *Server, chatID, text string) reply {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range map[string]string{"chat_id": chatID, "text": text, "parse_mode": "HTML"} {
		if err := mw.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return do(t, s.URL()+"/bot"+token+"/sendMessage", mw.FormDataContentType(), &body)
}

func do(t *testing.T, u, ctype string, body io.Reader) reply {
	t.Helper()
	resp, err := http.Post(u, ctype, body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r reply
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatalf("decode answer (HTTP %d): %v", resp.StatusCode, err)
	}
	r.Status = resp.StatusCode
	if r.Status != r.ErrorCode && !r.OK {
		t.Errorf("HTTP status %d differs from error_code %d", r.Status, r.ErrorCode)
	}
	return r
}

func TestSendMessageChecks(t *testing.T) {
	s := Start(t, token, NoRateLimits())
	s.AddChat("@canal")
	s.AddChat("-1009876543210")
	s.Kick("@expulsado")

	tests := []struct {
		name     string
		chat     string
		text     string
		wantCode int // 0: success
		wantDesc string
	}{
		{"html", "@canal", "<b>Comunicado</b>\n\nTexto con “comillas” y acentos: Peñón.", 0, ""},
		{"numeric chat", "-1009876543210", "hola", 0, ""},
		{"name is case-insensitive", "@Canal", "hola", 0, ""},
		{"4096 characters", "@canal", strings.Repeat("a", 4096), 0, ""},
		{"4097 characters", "@canal", strings.Repeat("a", 4097), 400, "Bad Request: message is too long"},
		{"2048 emoji are 4096 units", "@canal", strings.Repeat("👍", 2048), 0, ""},
		{"2049 emoji are 4098 units", "@canal", strings.Repeat("👍", 2049), 400, "Bad Request: message is too long"},
		{"entities count once parsed", "@canal", strings.Repeat("&amp;", 4096), 0, ""},
		{"tags do not count", "@canal", "<b>" + strings.Repeat("a", 4096) + "</b>", 0, ""},
		{"empty", "@canal", "", 400, "Bad Request: message text is empty"},
		{"only tags and spaces", "@canal", "<b> \n</b>", 400, "Bad Request: message text is empty"},
		{"unsupported tag", "@canal", "uno<br>dos", 400, `Bad Request: can't parse entities: Unsupported start tag "br" at byte offset 3`},
		{"unclosed tag", "@canal", "<b>uno", 400, `Bad Request: can't parse entities: Can't find end tag corresponding to start tag "b"`},
		{"named entity", "@canal", "uno&nbsp;dos", 400, `Bad Request: can't parse entities: Unsupported HTML entity "&nbsp;" at byte offset 3`},
		{"unknown chat", "@nadie", "hola", 400, "Bad Request: chat not found"},
		{"unknown numeric chat", "-100111", "hola", 400, "Bad Request: chat not found"},
		{"kicked", "@expulsado", "hola", 403, "Forbidden: bot was kicked from the channel chat"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := send(t, s, tt.chat, tt.text)
			if tt.wantCode == 0 {
				if !r.OK || r.Status != 200 {
					t.Fatalf("got HTTP %d %q, want success", r.Status, r.Description)
				}
				return
			}
			if r.OK || r.ErrorCode != tt.wantCode || r.Description != tt.wantDesc {
				t.Errorf("got ok=%v %d %q, want %d %q", r.OK, r.ErrorCode, r.Description, tt.wantCode, tt.wantDesc)
			}
		})
	}
}

func TestWrongToken(t *testing.T) {
	s := Start(t, token)
	s.AddChat("@canal")
	for _, method := range []string{"getMe", "sendMessage"} {
		r := do(t, s.URL()+"/bot999:wrong/"+method, "application/x-www-form-urlencoded",
			strings.NewReader("chat_id=%40canal&text=hola"))
		if r.Status != 401 || r.OK || r.ErrorCode != 401 || r.Description != "Unauthorized" {
			t.Errorf("%s: got HTTP %d %+v, want 401 Unauthorized", method, r.Status, r)
		}
	}
	if n := s.Requests(); n != 0 {
		t.Errorf("Requests() = %d, want 0", n)
	}
}

func TestGetMe(t *testing.T) {
	s := Start(t, token)
	r := do(t, s.URL()+"/bot"+token+"/getMe", "", nil)
	var me struct {
		ID    int64 `json:"id"`
		IsBot bool  `json:"is_bot"`
	}
	if err := json.Unmarshal(r.Result, &me); err != nil || !r.OK || me.ID != 123456 || !me.IsBot {
		t.Errorf("getMe = %s (%v), want bot 123456", r.Result, err)
	}
}

func TestBodyEncodingsAndAnswerShape(t *testing.T) {
	clk := testkit.NewClock(time.Date(2026, 3, 8, 10, 0, 0, 0, time.UTC))
	s := Start(t, token, Clock(clk.Now))
	s.AddChat("@canal")
	id := s.ChatNumericID("@canal")
	u := s.URL() + "/bot" + token + "/sendMessage"

	answers := []reply{
		do(t, u, "application/json", strings.NewReader(`{"chat_id":`+jsonInt(id)+`,"text":"<i>uno</i>","parse_mode":"HTML","link_preview_options":{"is_disabled":true}}`)),
		do(t, u, "application/x-www-form-urlencoded", strings.NewReader(url.Values{
			"chat_id": {"@canal"}, "text": {"dos &amp; tres"}, "parse_mode": {"HTML"}, "disable_web_page_preview": {"true"},
		}.Encode())),
		send(t, s, "@canal", "cuatro"),
	}
	for i, r := range answers {
		if !r.OK {
			t.Fatalf("answer %d: %d %s", i, r.ErrorCode, r.Description)
		}
	}
	var got map[string]any
	if err := json.Unmarshal(answers[1].Result, &got); err != nil {
		t.Fatal(err)
	}
	chat := map[string]any{"id": float64(id), "type": "channel", "title": "canal", "username": "canal"}
	want := map[string]any{
		"message_id": float64(2), "date": float64(clk.Now().Unix()), "text": "dos & tres",
		"chat": chat, "sender_chat": chat,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}

	wantMsgs := []Message{
		{ID: 1, ChatID: "@canal", Text: "<i>uno</i>", ParseMode: "HTML", PlainText: "uno", LinkPreviewDisabled: true},
		{ID: 2, ChatID: "@canal", Text: "dos &amp; tres", ParseMode: "HTML", PlainText: "dos & tres", LinkPreviewDisabled: true},
		{ID: 3, ChatID: "@canal", Text: "cuatro", ParseMode: "HTML", PlainText: "cuatro"},
	}
	if diff := cmp.Diff(wantMsgs, s.Messages("@canal"), cmpopts.IgnoreFields(Message{}, "Date")); diff != "" {
		t.Errorf("Messages (-want +got):\n%s", diff)
	}
	if n := s.Total(); n != 3 {
		t.Errorf("Total() = %d, want 3", n)
	}
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestRateLimits(t *testing.T) {
	type step struct {
		advance   time.Duration
		chat      string
		count     int // messages sent in a row at this instant
		wantRetry int // retry_after of the last one; 0: all accepted
	}
	tests := []struct {
		name  string
		opts  []Option
		steps []step
	}{
		{
			name: "20 per minute per chat",
			steps: []step{
				{chat: "@a", count: 20},
				{chat: "@a", count: 1, wantRetry: 60},
				{chat: "@b", count: 1}, // other chats are not affected
				{advance: 30*time.Second + 500*time.Millisecond, chat: "@a", count: 1, wantRetry: 30},
				{advance: 29 * time.Second, chat: "@a", count: 1, wantRetry: 1},
				{advance: 500 * time.Millisecond, chat: "@a", count: 20},
				{chat: "@a", count: 1, wantRetry: 60},
			},
		},
		{
			name: "per chat limit is configurable",
			opts: []Option{PerChatPerMinute(3)},
			steps: []step{
				{chat: "@a", count: 3},
				{advance: 10 * time.Second, chat: "@a", count: 1, wantRetry: 50},
			},
		},
		{
			name: "30 per second overall, sliding",
			opts: []Option{PerChatPerMinute(1000)},
			steps: []step{
				{chat: "@a", count: 10},
				{advance: 500 * time.Millisecond, chat: "@b", count: 20},
				{advance: 400 * time.Millisecond, chat: "@c", count: 1, wantRetry: 1},
				{advance: 100 * time.Millisecond, chat: "@c", count: 10}, // the first 10 left the window
				{chat: "@c", count: 1, wantRetry: 1},
			},
		},
		{
			name:  "no limits",
			opts:  []Option{NoRateLimits()},
			steps: []step{{chat: "@a", count: 100}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := testkit.NewClock(time.Date(2026, 3, 8, 10, 0, 0, 0, time.UTC))
			s := Start(t, token, append([]Option{Clock(clk.Now)}, tt.opts...)...)
			for _, c := range []string{"@a", "@b", "@c"} {
				s.AddChat(c)
			}
			var wantViolations int64
			for i, st := range tt.steps {
				clk.Add(st.advance)
				for j := range st.count {
					r := send(t, s, st.chat, "hola")
					last := j == st.count-1
					switch {
					case st.wantRetry > 0 && last:
						if r.ErrorCode != 429 || r.Parameters.RetryAfter != st.wantRetry ||
							r.Description != "Too Many Requests: retry after "+itoa(st.wantRetry) {
							t.Fatalf("step %d: got %d %q retry_after %d, want 429 retry_after %d",
								i, r.ErrorCode, r.Description, r.Parameters.RetryAfter, st.wantRetry)
						}
						wantViolations++
					case !r.OK:
						t.Fatalf("step %d, message %d: got %d %q, want success", i, j, r.ErrorCode, r.Description)
					}
				}
			}
			if got := s.Violations(); got != wantViolations {
				t.Errorf("Violations() = %d, want %d", got, wantViolations)
			}
		})
	}
}

func itoa(n int) string { return jsonInt(int64(n)) }

func TestFailNext(t *testing.T) {
	tests := []struct {
		name     string
		failure  Failure
		wantCode int
		wantBody string // substring
		wantJSON reply
	}{
		{"429", Failure{Status: 429, RetryAfter: 2}, 429, `"parameters":{"retry_after":2}`,
			reply{ErrorCode: 429, Description: "Too Many Requests: retry after 2"}},
		{"502 JSON", Failure{Status: 502}, 502, `{"ok":false,"error_code":502,"description":"Bad Gateway"}`,
			reply{ErrorCode: 502, Description: "Bad Gateway"}},
		{"500 custom", Failure{Status: 500, Description: "Internal Server Error: restart"}, 500, "restart",
			reply{ErrorCode: 500, Description: "Internal Server Error: restart"}},
		{"HTML page", Failure{HTMLPage: true}, 502, "<center><h1>502 Bad Gateway</h1></center>", reply{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var clock atomic.Int64
			clock.Store(time.Now().UnixNano())
			s := Start(t, token, Clock(func() time.Time { return time.Unix(0, clock.Load()) }))
			s.AddChat("@canal")
			s.FailNext("@canal", 2, tt.failure)
			for i := range 3 {
				if i == 2 {
					// Past any retry_after the failures asked for.
					clock.Add(int64(time.Duration(tt.failure.RetryAfter+1) * time.Second))
				}
				resp, err := http.PostForm(s.URL()+"/bot"+token+"/sendMessage", url.Values{"chat_id": {"@canal"}, "text": {"hola"}})
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if i == 2 {
					if resp.StatusCode != 200 {
						t.Fatalf("third request: HTTP %d %s, want 200", resp.StatusCode, body)
					}
					continue
				}
				if resp.StatusCode != tt.wantCode || !strings.Contains(string(body), tt.wantBody) {
					t.Fatalf("request %d: HTTP %d %s, want %d with %s", i, resp.StatusCode, body, tt.wantCode, tt.wantBody)
				}
				if tt.wantJSON.ErrorCode != 0 {
					var r reply
					if err := json.Unmarshal(body, &r); err != nil || r.ErrorCode != tt.wantJSON.ErrorCode || r.Description != tt.wantJSON.Description {
						t.Errorf("request %d: body %s (%v)", i, body, err)
					}
				}
			}
			if got := len(s.Messages("@canal")); got != 1 {
				t.Errorf("%d messages accepted, want 1", got)
			}
			if got := s.Violations(); got != 0 {
				t.Errorf("Violations() = %d, want 0 for injected failures", got)
			}
		})
	}
}

func TestFailNextHangAndReset(t *testing.T) {
	s := Start(t, token)
	s.AddChat("@canal")
	s.FailNext("@canal", 1, Failure{Hang: true})
	s.FailNext("@canal", 1, Failure{Reset: true})
	s.FailNext("@canal", 1, Failure{Status: 502, AfterDelivery: true})

	post := func(ctx context.Context) (*http.Response, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL()+"/bot"+token+"/sendMessage",
			strings.NewReader(url.Values{"chat_id": {"@canal"}, "text": {"hola"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return http.DefaultClient.Do(req)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	if _, err := post(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("hang: err = %v, want deadline exceeded", err)
	}
	if _, err := post(t.Context()); err == nil {
		t.Errorf("reset: no error")
	}
	resp, err := post(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 502 {
		t.Errorf("after delivery: HTTP %d, want 502", resp.StatusCode)
	}
	if got := s.Messages("@canal"); len(got) != 1 {
		t.Errorf("got %d messages, want the one that failed after delivery", len(got))
	}
	if got := s.Requests(); got != 3 {
		t.Errorf("Requests() = %d, want 3", got)
	}
}

func TestHangEndsOnClose(t *testing.T) {
	s := New(token)
	s.AddChat("@canal")
	s.FailNext("@canal", 1, Failure{Hang: true})
	done := make(chan error, 1)
	go func() {
		resp, err := http.PostForm(s.URL()+"/bot"+token+"/sendMessage", url.Values{"chat_id": {"@canal"}, "text": {"hola"}})
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	// Close must end the hanging request; wait until it has arrived.
	for {
		s.mu.Lock()
		n, changed := s.requests, s.changed
		s.mu.Unlock()
		if n > 0 {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("request ended early: %v", err)
		case <-changed:
		}
	}
	s.Close()
	s.Close()
	<-done
}

func TestWaitFor(t *testing.T) {
	s := Start(t, token)
	s.AddChat("@canal")
	go func() {
		for i := range 5 {
			resp, err := http.PostForm(s.URL()+"/bot"+token+"/sendMessage", url.Values{"chat_id": {"@canal"}, "text": {"parte " + itoa(i+1)}})
			if err != nil {
				return
			}
			resp.Body.Close()
		}
	}()
	got := s.WaitFor(t, "@canal", 5, 10*time.Second)
	for i, m := range got {
		if want := "parte " + itoa(i+1); m.Text != want || m.ID != int64(i+1) {
			t.Errorf("message %d = %d %q, want %d %q", i, m.ID, m.Text, i+1, want)
		}
	}
}

func TestFailAfter(t *testing.T) {
	s := Start(t, token)
	s.AddChat("@canal")
	s.FailAfter("@canal", 2, 1, Failure{Status: 502})
	var got []int
	for range 4 {
		r := send(t, s, "@canal", "hola")
		got = append(got, r.Status)
	}
	if diff := cmp.Diff([]int{200, 200, 502, 200}, got); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	// Failures set by name apply to the numeric id too.
	s.FailNext("@canal", 1, Failure{Status: 500})
	if r := send(t, s, jsonInt(s.ChatNumericID("@canal")), "hola"); r.Status != 500 {
		t.Errorf("numeric id: HTTP %d, want 500", r.Status)
	}
}

// TestInjected429BlocksUntilRetryAfter checks that, as on Telegram, a
// request before an injected 429's retry_after has passed is refused again
// and counted as a violation, and one after it is accepted.
func TestInjected429BlocksUntilRetryAfter(t *testing.T) {
	var clock atomic.Int64
	clock.Store(time.Now().UnixNano())
	s := Start(t, token, Clock(func() time.Time { return time.Unix(0, clock.Load()) }))
	s.AddChat("@canal")
	s.FailNext("@canal", 1, Failure{Status: 429, RetryAfter: 3})
	var got []int
	for _, step := range []time.Duration{0, 2 * time.Second, 1100 * time.Millisecond} {
		clock.Add(int64(step))
		got = append(got, send(t, s, "@canal", "hola").Status)
	}
	if diff := cmp.Diff([]int{429, 429, 200}, got); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if v := s.Violations(); v != 1 {
		t.Errorf("violations = %d, want 1 (the request inside retry_after)", v)
	}
}
