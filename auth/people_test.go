package auth

import "testing"

func TestPasswordHash(t *testing.T) {
	if _, err := HashPassword("short"); err != ErrWeakPassword {
		t.Errorf("HashPassword(short) = %v, want ErrWeakPassword", err)
	}
	h, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := HashPassword("correct horse battery")
	if h == h2 {
		t.Errorf("two hashes of one password are equal: no salt")
	}
	for _, c := range []struct {
		hash, password string
		want           bool
	}{
		{h, "correct horse battery", true},
		{h, "correct horse batterY", false},
		{h, "", false},
		{"", "correct horse battery", false},
		{"$argon2id$v=19$m=1,t=0,p=1$AA$AA", "x", false},
		{"$bcrypt$whatever", "x", false},
	} {
		if got := CheckPassword(c.hash, c.password); got != c.want {
			t.Errorf("CheckPassword(%q, %q) = %v, want %v", c.hash, c.password, got, c.want)
		}
	}
}
