package web

import (
	"context"
	"fmt"
	"net/http"

	xlang "golang.org/x/text/language"
)

// Lang is the interface's language for one request and its messages.
type Lang struct {
	Code  string // "es" or "en"
	msgs  map[string]string
	Other string // the other language, for the switch
}

// T returns the message key in the language, formatted with args; the key
// itself when there is no such message (TestMessages keeps them complete).
func (l *Lang) T(key string, args ...any) string {
	m, ok := l.msgs[key]
	if !ok {
		if two, found := manageMessages[key]; found { // messages_manage.go
			m, ok = two[0], true
			if l.Code == "en" {
				m = two[1]
			}
		}
	}
	if !ok {
		return key
	}
	if len(args) > 0 {
		return fmt.Sprintf(m, args...)
	}
	return m
}

var (
	languages = []xlang.Tag{xlang.Spanish, xlang.English}
	matcher   = xlang.NewMatcher(languages)
)

const langCookie = "pregon_lang"

type langKey struct{}

// withLanguage picks the language of a request: a "lang" parameter (which
// is kept in a cookie, so that the choice sticks), the cookie, or the
// browser's Accept-Language; Spanish when none says.
func withLanguage(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code := ""
		if p := r.URL.Query().Get("lang"); p == "es" || p == "en" {
			code = p
			http.SetCookie(w, &http.Cookie{Name: langCookie, Value: p, Path: "/", MaxAge: 365 * 24 * 3600, SameSite: http.SameSiteLaxMode, HttpOnly: true})
		} else if c, err := r.Cookie(langCookie); err == nil && (c.Value == "es" || c.Value == "en") {
			code = c.Value
		} else {
			tags, _, _ := xlang.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
			_, i, _ := matcher.Match(tags...)
			code = []string{"es", "en"}[i]
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), langKey{}, newLang(code))))
	})
}

func newLang(code string) *Lang {
	if code == "en" {
		return &Lang{Code: "en", msgs: messagesEN, Other: "es"}
	}
	return &Lang{Code: "es", msgs: messagesES, Other: "en"}
}

// language returns the request's language (withLanguage).
func language(_ http.ResponseWriter, r *http.Request) *Lang {
	if l, ok := r.Context().Value(langKey{}).(*Lang); ok {
		return l
	}
	return newLang("es")
}
