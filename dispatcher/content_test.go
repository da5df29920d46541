package dispatcher

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestEmailContentWithUnsubscribe(t *testing.T) {
	c := &EmailContent{
		Subject: "T",
		Text:    "Hola\n",
		HTML:    "<p>Hola</p>\n</div>",
		Unsubscribe: UnsubscribeSlots{
			Text: LinkSlot{At: 5, Parts: []string{"\nBaja: ", "\n"}},
			HTML: LinkSlot{At: 12, Parts: []string{`<p><a href="`, `">`, "</a></p>\n"}},
		},
	}
	shared := *c
	tests := []struct {
		link, text, html string
	}{
		{"https://x.example/u/t?a=1&b=2", "Hola\n\nBaja: https://x.example/u/t?a=1&b=2\n",
			`<p>Hola</p>` + "\n" + `<p><a href="https://x.example/u/t?a=1&amp;b=2">https://x.example/u/t?a=1&amp;b=2</a></p>` + "\n</div>"},
		{"", "Hola\n", "<p>Hola</p>\n</div>"},
	}
	for _, tt := range tests {
		got := c.WithUnsubscribe(tt.link)
		want := &EmailContent{Subject: "T", Text: tt.text, HTML: tt.html}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("WithUnsubscribe(%q) (-want +got):\n%s", tt.link, diff)
		}
	}
	if !cmp.Equal(shared, *c) {
		t.Error("WithUnsubscribe changed the shared content")
	}
	if got := (LinkSlot{}).Split("abc"); !cmp.Equal(got, []string{"abc"}) {
		t.Errorf("zero slot Split = %q", got)
	}
}
