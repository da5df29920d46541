package templates

import "testing"

func BenchmarkEmail(b *testing.B) {
	r := newRenderer(b)
	rel := fixture(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Email(rel, "es"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTelegram(b *testing.B) {
	r := newRenderer(b)
	rel := fixture(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Telegram(rel, "es"); err != nil {
			b.Fatal(err)
		}
	}
}
