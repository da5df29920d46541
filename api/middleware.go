package api

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"
)

// reqInfo is what an endpoint tells the request log about a request.
type reqInfo struct {
	pattern string // the route pattern, never the raw path (it may hold an email)
	token   string // the name of the token used, never the token
	err     error  // the error behind a 5xx response
}

type infoKey struct{}

// infoFrom returns the request's reqInfo; a throwaway one outside observe.
func infoFrom(ctx context.Context) *reqInfo {
	if info, ok := ctx.Value(infoKey{}).(*reqInfo); ok {
		return info
	}
	return &reqInfo{}
}

// recorder remembers the status a handler wrote.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (rec *recorder) WriteHeader(code int) {
	if rec.status == 0 {
		rec.status = code
	}
	rec.ResponseWriter.WriteHeader(code)
}

func (rec *recorder) Write(b []byte) (int, error) {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	n, err := rec.ResponseWriter.Write(b)
	rec.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (rec *recorder) Unwrap() http.ResponseWriter { return rec.ResponseWriter }

// observe logs one line per request (method, route pattern, status, duration,
// token name; never headers, so never the Authorization header) and turns a
// panic into a 500 problem.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := s.now()
		info := &reqInfo{}
		rec := &recorder{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				info.err = fmt.Errorf("panic: %v\n%s", v, debug.Stack())
				if rec.status == 0 {
					writeProblem(rec, &Problem{Status: http.StatusInternalServerError})
				}
			}
			s.logRequest(r, rec, info, start)
		}()
		next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), infoKey{}, info)))
	})
}

func (s *Server) logRequest(r *http.Request, rec *recorder, info *reqInfo, start time.Time) {
	status := rec.status
	if status == 0 {
		status = http.StatusOK
	}
	pattern := info.pattern
	if pattern == "" {
		pattern = "-"
	}
	attrs := []slog.Attr{
		slog.String("method", r.Method),
		slog.String("pattern", pattern),
		slog.Int("status", status),
		slog.Duration("duration", s.now().Sub(start)),
		slog.Int64("bytes", rec.bytes),
	}
	if info.token != "" {
		attrs = append(attrs, slog.String("token", info.token))
	}
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
		if info.err != nil {
			attrs = append(attrs, slog.String("error", info.err.Error()))
		}
	}
	s.log.LogAttrs(r.Context(), level, "http request", attrs...)
}

// secureHeaders sets headers that keep browsers from doing anything clever
// with API responses, which are all JSON.
func secureHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-store")
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
		h.Set("Referrer-Policy", "no-referrer")
		next.ServeHTTP(w, r)
	})
}
