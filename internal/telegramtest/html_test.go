package telegramtest

import (
	"testing"

	"github.com/pregon/pregon/internal/testkit"
)

func TestParseHTML(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr string // substring; "" means success
	}{
		{"plain", "Hola, mundo", "Hola, mundo", ""},
		{"all tags", `<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>n</ins><s>s</s><strike>k</strike><del>d</del>` +
			`<span class="tg-spoiler">p</span><tg-spoiler>q</tg-spoiler><a href="https://example.org/?a=1&amp;b=2">a</a>` +
			`<code>c</code><pre><code class="language-go">x</code></pre><blockquote expandable>q</blockquote><tg-emoji emoji-id="1">👍</tg-emoji>`,
			"bsieunskdpqacxq👍", ""},
		{"nested", "<b>negrita <i>y cursiva</i></b>", "negrita y cursiva", ""},
		{"upper-case tags", "<B>x</b>", "x", ""},
		{"entities", "&lt;&gt;&amp;&quot;&#39;&#x1F44D;&#241;", `<>&"'👍ñ`, ""},
		{"accents and curly quotes", "“Cambiemos…” — Peñón", "“Cambiemos…” — Peñón", ""},
		{"unsupported tag", "uno<br>dos", "", `Unsupported start tag "br" at byte offset 3`},
		{"paragraph tag", "<p>x</p>", "", `Unsupported start tag "p"`},
		{"bare less-than", "a < b", "", `Unsupported start tag "" at byte offset 2`},
		{"unclosed", "<b>x", "", `Can't find end tag corresponding to start tag "b"`},
		{"crossed", "<b><i>x</b></i>", "", `Unmatched end tag at byte offset 7, expected "</i>", found "</b>"`},
		{"stray end tag", "x</b>", "", "Unexpected end tag at byte offset 1"},
		{"unterminated tag", "<b", "", "Unclosed start tag at byte offset 0"},
		{"span without class", "<span>x</span>", "", `Tag "span" must have class "tg-spoiler"`},
		{"attribute without value", `<a href>x</a>`, "", "Expected equal sign"},
		{"named entity", "a&nbsp;b", "", `Unsupported HTML entity "&nbsp;" at byte offset 1`},
		{"bare ampersand", "AT&T and more text here", "", `Unescaped "&" at byte offset 2`},
		{"surrogate reference", "&#xD800;", "", "Unsupported HTML entity"},
		{"zero reference", "&#0;", "", "Unsupported HTML entity"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseHTML(tt.in)
			if testkit.WantErr(t, err, tt.wantErr) {
				return
			}
			if got != tt.want {
				t.Errorf("ParseHTML(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestUTF16Len(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"", 0},
		{"abc", 3},
		{"ñáé", 3},
		{"👍", 2},
		{"a👍b", 4},
		{"🇲🇽", 4}, // two regional indicators
	}
	for _, tt := range tests {
		if got := UTF16Len(tt.in); got != tt.want {
			t.Errorf("UTF16Len(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}
