package main

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// logSummary is what a pregon log says beyond the expected: how many lines
// at each level, and the most frequent warnings and errors.
type logSummary struct {
	file   string
	lines  int
	levels map[string]int
	top    []string // "12 × ERROR message: error", most frequent first
}

// expectedWarnings are warnings every bench run causes on purpose.
var expectedWarnings = []string{"pprof profiling endpoint enabled"}

// scanLog reads a pregon log of JSON lines (non-JSON lines count as "OTHER").
func scanLog(path string) logSummary {
	s := logSummary{file: filepath.Base(path), levels: map[string]int{}}
	f, err := os.Open(path)
	if err != nil {
		s.top = []string{err.Error()}
		return s
	}
	defer f.Close()
	type key struct{ level, msg string }
	seen := map[key]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		s.lines++
		var rec map[string]any
		k := key{level: "OTHER", msg: line}
		if json.Unmarshal([]byte(line), &rec) == nil {
			k.level, _ = rec["level"].(string)
			k.msg, _ = rec["msg"].(string)
			if e, ok := rec["error"].(string); ok {
				k.msg += ": " + e
			}
		}
		if len(k.msg) > 200 {
			k.msg = k.msg[:200] + "…"
		}
		if slices.ContainsFunc(expectedWarnings, func(w string) bool { return strings.HasPrefix(k.msg, w) }) {
			continue
		}
		s.levels[k.level]++
		if k.level != "INFO" && k.level != "DEBUG" {
			seen[k]++
		}
	}
	keys := make([]key, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b key) int {
		return cmp.Or(cmp.Compare(seen[b], seen[a]), cmp.Compare(a.level, b.level), cmp.Compare(a.msg, b.msg))
	})
	for _, k := range keys[:min(len(keys), 5)] {
		s.top = append(s.top, fmt.Sprintf("%d × %s %s", seen[k], k.level, k.msg))
	}
	return s
}

// String says what the log holds beyond the expected, or "clean".
func (s logSummary) String() string {
	var parts []string
	for _, l := range []string{"ERROR", "WARN", "OTHER"} {
		if n := s.levels[l]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, l))
		}
	}
	if len(parts) == 0 && len(s.top) == 0 {
		return s.file + ": clean"
	}
	out := s.file + ": " + strings.Join(parts, ", ")
	for _, t := range s.top {
		out += "\n    " + t
	}
	return out
}
