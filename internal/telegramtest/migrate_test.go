package telegramtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// answer is a Bot API answer as it came: the HTTP status, the
// description and the whole body.
type answer struct {
	status      int
	description string
	raw         []byte
}

// postForm posts method with params url-encoded.
func postForm(s *Server, method string, params url.Values) (answer, error) {
	resp, err := http.PostForm(s.URL()+"/bot"+token+"/"+method, params)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	var r struct {
		Description string `json:"description"`
	}
	if err := json.Unmarshal(raw, &r); err != nil {
		return answer{}, fmt.Errorf("%s answered %d %q: %w", method, resp.StatusCode, raw, err)
	}
	return answer{status: resp.StatusCode, description: r.Description, raw: raw}, nil
}

// TestMigrateAfter: a group set to migrate after 2 messages accepts 2,
// then answers every send and edit 400 with migrate_to_chat_id, as
// Telegram does; the supergroup accepts messages with ids of its own.
func TestMigrateAfter(t *testing.T) {
	s := Start(t, token, NoRateLimits())
	s.AddChat("-4100")
	s.MigrateAfter("-4100", "-1004100", 2)
	for i := range 2 {
		if r := send(t, s, "-4100", "parte"); !r.OK {
			t.Fatalf("message %d before the upgrade: %+v", i+1, r)
		}
	}
	var body struct {
		Parameters struct {
			MigrateToChatID int64 `json:"migrate_to_chat_id"`
		} `json:"parameters"`
	}
	for _, try := range []struct {
		method string
		params url.Values
	}{
		{"sendMessage", url.Values{"chat_id": {"-4100"}, "text": {"tercera"}}},
		{"editMessageText", url.Values{"chat_id": {"-4100"}, "message_id": {"1"}, "text": {"editada"}}},
	} {
		resp, err := postForm(s, try.method, try.params)
		if err != nil {
			t.Fatal(err)
		}
		if resp.status != 400 || !strings.Contains(resp.description, "group chat was upgraded to a supergroup chat") {
			t.Errorf("%s after the upgrade: %d %q, want 400 upgraded", try.method, resp.status, resp.description)
		}
		if err := json.Unmarshal(resp.raw, &body); err != nil || body.Parameters.MigrateToChatID != -1004100 {
			t.Errorf("%s after the upgrade: parameters %s, want migrate_to_chat_id -1004100", try.method, resp.raw)
		}
	}
	if got := s.Messages("-4100"); len(got) != 2 || got[0].Edits != 0 {
		t.Errorf("the group has %+v, want its 2 messages unedited", got)
	}
	r := send(t, s, "-1004100", "tercera")
	var m struct {
		MessageID int64 `json:"message_id"`
	}
	if !r.OK || json.Unmarshal(r.Result, &m) != nil || m.MessageID != 1 {
		t.Errorf("first message to the supergroup: %+v, want ok with message_id 1", r)
	}
	if got := s.Messages("-1004100"); len(got) != 1 || got[0].PlainText != "tercera" {
		t.Errorf("the supergroup has %+v", got)
	}
}

// TestMigrateAfterZero upgrades at once, as Migrate does.
func TestMigrateAfterZero(t *testing.T) {
	s := Start(t, token, NoRateLimits())
	s.MigrateAfter("-4200", "-1004200", 0)
	if r := send(t, s, "-4200", "hola"); r.Status != 400 || !strings.Contains(r.Description, "upgraded") {
		t.Errorf("send to the group: %+v, want 400 upgraded", r)
	}
	if r := send(t, s, "-1004200", "hola"); !r.OK {
		t.Errorf("send to the supergroup: %+v", r)
	}
}
