package email

import (
	"bufio"
	"bytes"
	"net/textproto"
	"strings"
	"testing"
)

// dotWriter returns what net/textproto's DotWriter writes for msg.
func dotWriter(msg []byte) []byte {
	var out bytes.Buffer
	bw := bufio.NewWriter(&out)
	w := textproto.NewWriter(bw).DotWriter()
	w.Write(msg)
	w.Close()
	return out.Bytes()
}

func TestAppendData(t *testing.T) {
	long := strings.Repeat("x", 4095) // a line that ends at a 4 KiB buffer boundary
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "\r\n.\r\n"},
		{"one line", "hello\r\n", "hello\r\n.\r\n"},
		{"no final line break", "hello", "hello\r\n.\r\n"},
		{"leading dot", ".hidden\r\nnext\r\n", "..hidden\r\nnext\r\n.\r\n"},
		{"dot alone", "a\r\n.\r\nb\r\n", "a\r\n..\r\nb\r\n.\r\n"},
		{"dot alone at the end", "a\r\n.", "a\r\n..\r\n.\r\n"},
		{"dots mid-line stay", "a.b.\r\n", "a.b.\r\n.\r\n"},
		{"bare LF", "a\nb\n.c\n", "a\r\nb\r\n..c\r\n.\r\n"},
		{"bare CR is not a line start", "a\r.b\r\n", "a\r.b\r\n.\r\n"},
		{"CR at the end", "a\r", "a\r\n.\r\n"},
		{"two CRs before LF", "a\r\r\nb", "a\r\r\r\nb\r\n.\r\n"},
		{"dot after a 4 KiB line", long + "\r\n.x\r\n", long + "\r\n..x\r\n.\r\n"},
		{"dot at 4 KiB", long + "\n.\n", long + "\r\n..\r\n.\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := appendData(nil, []byte(tt.in))
			if string(got) != tt.want {
				t.Errorf("appendData(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if dw := dotWriter([]byte(tt.in)); !bytes.Equal(got, dw) {
				t.Errorf("appendData(%q) = %q, DotWriter writes %q", tt.in, got, dw)
			}
		})
	}
}

func TestAppendDataAppends(t *testing.T) {
	got := appendData([]byte("MAIL"), []byte(".x"))
	if string(got) != "MAIL..x\r\n.\r\n" {
		t.Errorf("got %q", got)
	}
}

// FuzzAppendData checks appendData against net/textproto's DotWriter.
func FuzzAppendData(f *testing.F) {
	for _, s := range []string{"", ".", "\r\n.\r\n", "a\n.b\r\r\n", "\r\r\r", ".\r.\n.", "x\ry\r\n..\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		if got, want := appendData(nil, msg), dotWriter(msg); !bytes.Equal(got, want) {
			t.Errorf("appendData(%q) = %q, DotWriter writes %q", msg, got, want)
		}
	})
}

func BenchmarkAppendData(b *testing.B) {
	msg := bytes.Repeat([]byte("a quoted-printable line of the body that is about seventy-six chars=\r\n.x\r\n"), 80)
	buf := make([]byte, 0, 2*len(msg))
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		buf = appendData(buf[:0], msg)
	}
}
