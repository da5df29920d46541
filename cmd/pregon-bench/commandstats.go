package main

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// commandStats is Redis's INFO commandstats: per command, the calls and the
// microseconds spent in them (Lua scripts count as one evalsha call, and the
// commands they run as their own calls too).
type commandStats map[string]commandStat

type commandStat struct {
	calls int64
	usec  int64
}

// readCommandStats reads INFO commandstats.
func readCommandStats(ctx context.Context, rdb *redis.Client) (commandStats, error) {
	info, err := rdb.Info(ctx, "commandstats").Result()
	if err != nil {
		return nil, fmt.Errorf("INFO commandstats: %w", err)
	}
	out := commandStats{}
	for line := range strings.SplitSeq(info, "\n") {
		// cmdstat_hset:calls=3,usec=12,usec_per_call=4.00,rejected_calls=0,failed_calls=0
		name, fields, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || !strings.HasPrefix(name, "cmdstat_") {
			continue
		}
		var st commandStat
		for f := range strings.SplitSeq(fields, ",") {
			k, v, _ := strings.Cut(f, "=")
			switch k {
			case "calls":
				st.calls, _ = strconv.ParseInt(v, 10, 64)
			case "usec":
				st.usec, _ = strconv.ParseInt(v, 10, 64)
			}
		}
		out[strings.TrimPrefix(name, "cmdstat_")] = st
	}
	return out, nil
}

// since returns the calls and time of each command from before to s.
func (s commandStats) since(before commandStats) commandStats {
	out := commandStats{}
	for name, st := range s {
		b := before[name]
		if d := (commandStat{st.calls - b.calls, st.usec - b.usec}); d.calls > 0 {
			out[name] = d
		}
	}
	return out
}

// note describes the commands per email of a run of n emails: the calls and
// microseconds of the busiest commands, and of the scripts (eval, evalsha,
// fcall), whose commands are counted on their own lines as well.
func (s commandStats) note(n int) string {
	if len(s) == 0 || n == 0 {
		return ""
	}
	names := make([]string, 0, len(s))
	var calls int64
	for name, st := range s {
		names = append(names, name)
		if !isScript(name) {
			calls += st.calls
		}
	}
	sort.Slice(names, func(i, j int) bool { return s[names[i]].usec > s[names[j]].usec })
	var parts []string
	for _, name := range names[:min(len(names), 8)] {
		st := s[name]
		parts = append(parts, fmt.Sprintf("%s %.2f calls, %.1f µs", name, float64(st.calls)/float64(n), float64(st.usec)/float64(n)))
	}
	return fmt.Sprintf("Redis commands per email (INFO commandstats over the send; a script's commands also on their own lines): %.1f commands in all; %s",
		float64(calls)/float64(n), strings.Join(parts, "; "))
}

func isScript(name string) bool {
	switch strings.ToLower(name) {
	case "eval", "evalsha", "eval_ro", "evalsha_ro", "fcall", "fcall_ro":
		return true
	}
	return false
}
