package telegramtest

import (
	"bytes"
	"encoding/json"
	"mime/multipart"
	"strconv"
	"strings"
	"testing"
	"time"
)

var testPNG = append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{1, 2, 3}, 100)...)

// album posts sendMediaGroup of n photos uploaded in a multipart body, the
// way go-telegram/bot does, or, with ids, sent by file_id.
func album(t *testing.T, s *Server, chatID string, n int, ids []string) reply {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	var media []map[string]string
	for i := range n {
		m := map[string]string{"type": "photo", "media": "attach://f" + strconv.Itoa(i)}
		if ids != nil {
			m["media"] = ids[i]
		} else {
			fw, _ := mw.CreateFormFile("f"+strconv.Itoa(i), "f.png")
			fw.Write(testPNG)
		}
		if i == 0 {
			m["caption"], m["parse_mode"] = "<b>Agua</b>", "HTML"
		}
		media = append(media, m)
	}
	b, _ := json.Marshal(media)
	mw.WriteField("chat_id", chatID)
	mw.WriteField("media", string(b))
	mw.Close()
	return do(t, s.URL()+"/bot"+token+"/sendMediaGroup", mw.FormDataContentType(), &body)
}

// TestMediaGroup: an album of 2 to 10 photos is accepted, uploads counted,
// and sent again by its file_ids; an unknown file_id, an album of 1 or 11
// and a caption over 1024 UTF-16 units are refused; each item of an album
// counts against the limits: a chat of one a second is held 3 s by an
// album of 3, and the bot's 30 a second count its items.
func TestMediaGroup(t *testing.T) {
	now := time.UnixMilli(1_800_000_000_000)
	s := Start(t, token, PerChatPerSecond(1), GlobalPerSecond(4), Clock(func() time.Time { return now }))
	s.AddChat("@a")
	s.AddChat("@b")
	r := album(t, s, "@a", 3, nil)
	if !r.OK {
		t.Fatalf("album of 3: %+v", r)
	}
	var msgs []struct {
		ID    int64 `json:"message_id"`
		Photo []struct {
			FileID string `json:"file_id"`
		} `json:"photo"`
		Caption string `json:"caption"`
	}
	if err := json.Unmarshal(r.Result, &msgs); err != nil || len(msgs) != 3 || msgs[0].Caption != "Agua" {
		t.Fatalf("album answered %s (%v)", r.Result, err)
	}
	if got := send(t, s, "@b", "x"); !got.OK {
		t.Errorf("a 4th message in the second: %+v, want it accepted", got)
	}
	if got := send(t, s, "@b", "y"); got.Status != 429 {
		t.Errorf("a 5th message in the second (3 album items): %+v, want 429", got)
	}
	now = now.Add(1500 * time.Millisecond)
	if got := send(t, s, "@a", "z"); got.Status != 429 || s.ViolationsOf(LimitChatSecond) != 1 {
		t.Errorf("@a 1.5 s after an album of 3: %+v, want 429 (per chat and second)", got)
	}
	now = now.Add(1500 * time.Millisecond)
	var ids []string
	for _, m := range msgs {
		ids = append(ids, m.Photo[len(m.Photo)-1].FileID)
	}
	if got := album(t, s, "@a", 3, ids); !got.OK {
		t.Errorf("the album again by file_id, 3 s later: %+v", got)
	}
	if s.Uploads() != 3 || s.FileIDSends() != 3 {
		t.Errorf("%d uploads, %d file_id sends; want 3 and 3", s.Uploads(), s.FileIDSends())
	}
	now = now.Add(time.Minute)
	for _, tc := range []struct {
		name string
		n    int
		ids  []string
		want string
	}{
		{"one item", 1, nil, "must be 2-10"},
		{"eleven items", 11, nil, "must be 2-10"},
		{"unknown file_id", 2, []string{"AgACnope", "AgACnope2"}, "wrong file identifier"},
	} {
		now = now.Add(time.Minute)
		if got := album(t, s, "@b", tc.n, tc.ids); got.Status != 400 || !strings.Contains(got.Description, tc.want) {
			t.Errorf("%s: %+v, want 400 %q", tc.name, got, tc.want)
		}
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("photo", "f.png")
	fw.Write(testPNG)
	mw.WriteField("chat_id", "@b")
	mw.WriteField("caption", strings.Repeat("𝔄", 513))
	mw.Close()
	if got := do(t, s.URL()+"/bot"+token+"/sendPhoto", mw.FormDataContentType(), &body); got.Status != 400 || !strings.Contains(got.Description, "caption is too long") {
		t.Errorf("a caption of 1026 units: %+v, want 400", got)
	}
	if s.Violations() != 2 {
		t.Errorf("%d violations, want 2", s.Violations())
	}
}
