package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pregon/pregon/internal/testkit"
)

func TestFrontMatterParse(t *testing.T) {
	tests := []struct {
		name     string
		src      string
		wantMeta map[string]string
		wantBody string
		wantErr  string // a substring of the error; "" for success
	}{
		{
			name: "all keys",
			src: "---\ntitle: Las comunidades del valle dicen “no”\nsummary: Más de cuarenta comunidades.\nlanguage: es\n" +
				"contact_name: Ana Pérez\ncontact_email: prensa@example.org\ncontact_phone: +52 55 0000 0000\n" +
				"source_url: https://example.org/comunicados/1\n---\n\nPrimer párrafo.\n\nSegundo: con dos puntos.\n",
			wantMeta: map[string]string{
				"title": "Las comunidades del valle dicen “no”", "summary": "Más de cuarenta comunidades.", "language": "es",
				"contact_name": "Ana Pérez", "contact_email": "prensa@example.org", "contact_phone": "+52 55 0000 0000",
				"source_url": "https://example.org/comunicados/1",
			},
			wantBody: "Primer párrafo.\n\nSegundo: con dos puntos.",
		},
		{
			name:     "windows line endings and a byte-order mark",
			src:      "\uFEFF---\r\ntitle: T\r\nlanguage: en\r\n---\r\nBody line 1\r\nline 2\r\n",
			wantMeta: map[string]string{"title": "T", "language": "en"},
			wantBody: "Body line 1\nline 2",
		},
		{
			name:     "comments, blank lines, upper-case keys and spaces",
			src:      "---\n# a comment\n\n  Title :   spaced out  \nLANGUAGE: es\n---\nbody",
			wantMeta: map[string]string{"title": "spaced out", "language": "es"},
			wantBody: "body",
		},
		{
			name:     "quoted values",
			src:      "---\ntitle: \"Quoted: \\\"twice\\\" and a tab\\t\"\nsummary: 'It''s single'\nlanguage: \"es\"\n---\nb",
			wantMeta: map[string]string{"title": "Quoted: \"twice\" and a tab\t", "summary": "It's single", "language": "es"},
			wantBody: "b",
		},
		{
			name:     "a value with a colon and a hash stays whole",
			src:      "---\ntitle: Hora: 11:00 #AguaLibre\n---\nb",
			wantMeta: map[string]string{"title": "Hora: 11:00 #AguaLibre"},
			wantBody: "b",
		},
		{
			name:     "empty value",
			src:      "---\nsummary:\ntitle: T\n---\nb",
			wantMeta: map[string]string{"summary": "", "title": "T"},
			wantBody: "b",
		},
		{
			name:     "a later --- line belongs to the body",
			src:      "---\ntitle: T\n---\nabove\n\n---\n\nbelow\n",
			wantMeta: map[string]string{"title": "T"},
			wantBody: "above\n\n---\n\nbelow",
		},
		{
			name:     "empty body",
			src:      "---\ntitle: T\n---\n",
			wantMeta: map[string]string{"title": "T"},
			wantBody: "",
		},
		{name: "no front matter", src: "# Title\n\nbody", wantErr: "line 1: the file must start with a front matter block"},
		{name: "empty file", src: "", wantErr: "line 1: the file must start"},
		{name: "not closed", src: "---\ntitle: T\nlanguage: es\n", wantErr: "is not closed"},
		{name: "line without colon", src: "---\ntitle: T\njust text\n---\nb", wantErr: `line 3: want "key: value", got "just text"`},
		{name: "empty key", src: "---\n: value\n---\nb", wantErr: "line 2: want \"key: value\""},
		{name: "unknown key", src: "---\ntitel: T\n---\nb", wantErr: `line 2: unknown front matter key "titel" (known keys: title, summary,`},
		{name: "repeated key", src: "---\ntitle: A\nTitle: B\n---\nb", wantErr: `line 3: "title" is set twice`},
		{name: "unclosed double quote", src: "---\ntitle: \"abc\n---\nb", wantErr: "line 2: title: the quote \" is not closed"},
		{name: "lone quote", src: "---\ntitle: '\n---\nb", wantErr: "line 2: title: the quote ' is not closed"},
		{name: "bad escape", src: "---\ntitle: \"a\\qb\"\n---\nb", wantErr: "line 2: title: bad escape"},
		{name: "stray single quote", src: "---\ntitle: 'it's'\n---\nb", wantErr: "write '' for a quote"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			meta, body, err := parseFrontMatter(tt.src)
			if testkit.WantErr(t, err, tt.wantErr) {
				return
			}
			if diff := cmp.Diff(tt.wantMeta, meta); diff != "" {
				t.Errorf("meta (-want +got):\n%s", diff)
			}
			if body != tt.wantBody {
				t.Errorf("body = %q, want %q", body, tt.wantBody)
			}
		})
	}
}

func TestFrontMatterReleaseFile(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		want    *releaseFile
		wantErr string
	}{
		{
			name: "complete",
			src:  "---\ntitle: T\nsummary: S\nlanguage: es\ncontact_name: N\ncontact_email: e@example.org\ncontact_phone: 1\nsource_url: https://example.org\n---\nBody\n",
			want: &releaseFile{Title: "T", Summary: "S", Language: "es", ContactName: "N", ContactEmail: "e@example.org",
				ContactPhone: "1", SourceURL: "https://example.org", Body: "Body"},
		},
		{name: "title and language only", src: "---\ntitle: T\nlanguage: en\n---\nB", want: &releaseFile{Title: "T", Language: "en", Body: "B"}},
		{name: "time zone", src: "---\ntitle: T\nlanguage: es\ntimezone: America/Mexico_City\n---\nB",
			want: &releaseFile{Title: "T", Language: "es", Timezone: "America/Mexico_City", Body: "B"}},
		{name: "unknown time zone", src: "---\ntitle: T\nlanguage: es\ntimezone: CST\n---\nB", wantErr: `rel.md: timezone "CST" is not a time zone name such as America/Mexico_City`},
		{name: "local time zone", src: "---\ntitle: T\nlanguage: es\ntimezone: Local\n---\nB", wantErr: `rel.md: timezone "Local" is not`},
		{name: "no title", src: "---\nlanguage: en\n---\nB", wantErr: "rel.md: the front matter needs title ("},
		{name: "no title nor language", src: "---\nsummary: S\n---\nB", wantErr: "needs title and language"},
		{name: "no body (a draft's text may come later)", src: "---\ntitle: T\nlanguage: en\n---\n\n  \n", want: &releaseFile{Title: "T", Language: "en", Body: ""}},
		{name: "syntax error names the file", src: "---\ntitle T\n---\n", wantErr: "rel.md: line 2:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseReleaseFile("rel.md", tt.src)
			if testkit.WantErr(t, err, tt.wantErr) {
				return
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("release file (-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzFrontMatter checks that the parser never panics and that what it
// accepts keeps only known keys and a trimmed body.
func FuzzFrontMatter(f *testing.F) {
	f.Add("---\ntitle: T\nlanguage: es\n---\nbody\n")
	f.Add("\uFEFF---\r\ntitle: \"a\\\"b\"\r\nsummary: 'it''s'\r\n---\r\n")
	f.Add("---\n# c\n---")
	f.Fuzz(func(t *testing.T, src string) {
		meta, body, err := parseFrontMatter(src)
		if err != nil {
			return
		}
		for k := range meta {
			if !slices.Contains(frontMatterKeys, k) {
				t.Errorf("unknown key %q accepted", k)
			}
		}
		if body != strings.TrimRight(body, " \t\n") || strings.HasPrefix(body, "\n") {
			t.Errorf("body %q is not trimmed", body)
		}
	})
}
