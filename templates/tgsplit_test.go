package templates

import (
	"strings"
	"testing"
	"unicode"
)

// splitBody renders body with messages of at most limit, checks every part
// and that together they hold the same text as one unlimited message.
func splitBody(t *testing.T, body string, limit int) []string {
	t.Helper()
	r := newRenderer(t)
	parts, err := r.telegram(release("", body), "es", limit)
	if err != nil {
		t.Fatal(err)
	}
	got := checkParts(t, parts, limit)
	whole, err := r.telegram(release("", body), "es", 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	if len(whole) != 1 {
		t.Fatalf("unlimited rendering has %d parts", len(whole))
	}
	want, err := parseTelegram(whole[0])
	if err != nil {
		t.Fatal(err)
	}
	if noSpace(got) != noSpace(want) {
		t.Errorf("split text differs from the whole text\n got: %q\nwant: %q", got, want)
	}
	return parts
}

func TestTelegramSplit(t *testing.T) {
	sentences := strings.Repeat("Esta es una frase de prueba con acentos: ñandú. ¿Y esta otra? ¡Sí! ", 20)
	tests := []struct {
		name  string
		body  string
		limit int
		check func(t *testing.T, i int, part, text string)
	}{
		{
			name: "sentences", body: sentences, limit: 100,
			check: func(t *testing.T, i int, part, text string) {
				if !sentenceEnd([]rune(text)) {
					t.Errorf("part %d does not end a sentence: %q", i, text)
				}
			},
		},
		{
			name: "long word", body: strings.Repeat("a", 500), limit: 64,
			check: func(t *testing.T, i int, part, text string) {
				if len(text) != 64 && i < 7 {
					t.Errorf("part %d has %d letters, want 64", i, len(text))
				}
			},
		},
		{
			name: "emoji", body: strings.Repeat("👍", 300), limit: 63,
			check: func(t *testing.T, i int, part, text string) {
				if n := strings.Count(text, "👍"); n != 31 && i < 9 {
					t.Errorf("part %d has %d emoji, want 31", i, n)
				}
			},
		},
		{
			name: "combining marks", body: strings.Repeat("e\u0301\u0323", 200), limit: 16,
			check: func(t *testing.T, i int, part, text string) {
				if unicode.Is(unicode.Mn, []rune(text)[0]) {
					t.Errorf("part %d starts with a combining mark: %q", i, text)
				}
			},
		},
		{
			name: "flags", body: strings.Repeat("🇲🇽🇪🇸🇦🇷", 30), limit: 14,
			check: func(t *testing.T, i int, part, text string) {
				if n := len([]rune(text)); n%2 != 0 {
					t.Errorf("part %d splits a flag: %q", i, text)
				}
			},
		},
		{
			name: "zwj sequences", body: strings.Repeat("👩🏽‍🌾", 40), limit: 20,
			check: func(t *testing.T, i int, part, text string) {
				if strings.Count(text, "👩🏽‍🌾")*len("👩🏽‍🌾") != len(text) {
					t.Errorf("part %d splits an emoji: %q", i, text)
				}
			},
		},
		{
			name: "right to left", body: strings.Repeat("שלום עולם. مرحبا بالعالم. ", 30), limit: 40,
		},
		{
			name: "bold across parts", body: "**" + strings.TrimSpace(sentences) + "**", limit: 80,
			check: func(t *testing.T, i int, part, text string) {
				if !strings.HasPrefix(part, "<b>") || !strings.HasSuffix(part, "</b>") {
					t.Errorf("part %d is not all bold: %q", i, part)
				}
			},
		},
		{
			name: "link across parts", body: "[" + strings.TrimSpace(sentences) + "](https://example.org/?a=1&b=2)", limit: 80,
			check: func(t *testing.T, i int, part, text string) {
				if !strings.HasPrefix(part, `<a href="https://example.org/?a=1&amp;b=2">`) || !strings.HasSuffix(part, "</a>") {
					t.Errorf("part %d is not all link: %q", i, part)
				}
			},
		},
		{
			name: "entities near cuts", body: strings.Repeat("<&>\"", 100), limit: 10,
		},
		{
			name: "code block", body: "```\n" + strings.Repeat("linea := 1 // con <código>\n", 30) + "```", limit: 60,
			check: func(t *testing.T, i int, part, text string) {
				if !strings.HasPrefix(part, "<pre>") || !strings.HasSuffix(part, "</pre>") || strings.Count(text, "linea") != 2 {
					t.Errorf("part %d is not two whole lines of code: %q", i, part)
				}
			},
		},
		{
			name: "list", body: strings.Repeat("- Organización número uno\n", 40), limit: 100,
			check: func(t *testing.T, i int, part, text string) {
				for _, l := range strings.Split(text, "\n") {
					if l != "• Organización número uno" {
						t.Errorf("part %d has a broken item %q", i, l)
					}
				}
			},
		},
		{
			name: "quote", body: "> " + sentences, limit: 120,
			check: func(t *testing.T, i int, part, text string) {
				if !strings.HasPrefix(part, "<blockquote>") || !strings.HasSuffix(part, "</blockquote>") {
					t.Errorf("part %d is not all quote: %q", i, part)
				}
			},
		},
		{
			name: "spaces in code", body: "```\nx" + strings.Repeat(" ", 300) + "y\n" + strings.Repeat("\n", 50) + "z\n```", limit: 50,
		},
		{
			name: "exactly the limit", body: strings.Repeat("ab", 50), limit: 100,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parts := splitBody(t, tt.body, tt.limit)
			if len(parts) < 2 && tt.name != "exactly the limit" {
				t.Errorf("got %d parts, want a split", len(parts))
			}
			if tt.check == nil {
				return
			}
			for i, p := range parts {
				text, _ := parseTelegram(p)
				tt.check(t, i, p, text)
			}
		})
	}
}

func TestTelegramPacking(t *testing.T) {
	para := func(c string, n int) string { return strings.Repeat(c, n) }
	tests := []struct {
		name  string
		body  string
		limit int
		want  []string
	}{
		{
			name:  "blocks fill messages",
			body:  para("a", 40) + "\n\n" + para("b", 40) + "\n\n" + para("c", 40),
			limit: 90,
			want:  []string{para("a", 40) + "\n\n" + para("b", 40), para("c", 40)},
		},
		{
			name:  "heading goes with its paragraph",
			body:  para("a", 40) + "\n\n## " + para("h", 10) + "\n\n" + para("b", 60),
			limit: 80,
			want:  []string{para("a", 40), "<b>" + para("h", 10) + "</b>\n\n" + para("b", 60)},
		},
		{
			name:  "introduction goes with its list",
			body:  para("a", 40) + "\n\nFirman:\n\n- " + para("b", 60),
			limit: 80,
			want:  []string{para("a", 40), "Firman:\n\n• " + para("b", 60)},
		},
		{
			name:  "long block starts a message",
			body:  para("a", 40) + "\n\n" + para("b ", 60),
			limit: 80,
			want:  []string{para("a", 40), strings.TrimSpace(para("b ", 40)), strings.TrimSpace(para("b ", 20))},
		},
		{
			name:  "heading starts a long block",
			body:  para("a", 60) + "\n\n## H\n\n" + para("b ", 60),
			limit: 80,
			want:  []string{para("a", 60), "<b>H</b>\n\n" + strings.TrimSpace(para("b ", 39)), strings.TrimSpace(para("b ", 21))},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parts := splitBody(t, tt.body, tt.limit)
			if len(parts) != len(tt.want) {
				t.Fatalf("got %d parts %q, want %d", len(parts), parts, len(tt.want))
			}
			for i := range parts {
				if parts[i] != tt.want[i] {
					t.Errorf("part %d:\n got %q\nwant %q", i, parts[i], tt.want[i])
				}
			}
		})
	}
}

func TestTelegramLength(t *testing.T) {
	tests := []struct {
		html string
		want int
	}{
		{"", 0},
		{"abc", 3},
		{"👍", 2},
		{"é", 1},
		{"e\u0301", 2},
		{"ñandú", 5},
		{"שלום", 4},
		{"مرحبا", 5},
		{"🇲🇽", 4},
		{"👍🏽", 4},
		{"👩🏽‍🌾", 7},
		{"中文", 2},
		{"𝄞", 2},
		{"<b>a</b>", 1},
		{`<a href="https://example.org/?a=1&amp;b=2">ab</a>`, 2},
		{"&lt;&gt;&amp;&quot;", 4},
		{"&#128077;&#x1F44D;", 4},
		{"&#233;", 1},
		{"a & b", 5},
		{"&unknown;", 9},
		{"a < b", 5},
		{"<blockquote>“cita”</blockquote>\n\n<pre>x</pre>", 9},
	}
	for _, tt := range tests {
		if got := TelegramLength(tt.html); got != tt.want {
			t.Errorf("TelegramLength(%q) = %d, want %d", tt.html, got, tt.want)
		}
	}
}
