package redistest

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

// StrictClient returns a cluster client on which every Lua script fails
// with "undeclared key" when it touches a key it did not pass in KEYS, as
// Redis Cluster requires of scripts (it only catches such a key when it is
// in another slot, or on another node). It runs each script through EVAL
// with a prelude that wraps redis.call and redis.pcall and checks each
// command's keys, found where COMMAND INFO says they are. A command whose
// keys Redis cannot place by position (EVAL, ZUNIONSTORE, ...) fails too.
func (c *Cluster) StrictClient(tb testing.TB) *redis.ClusterClient {
	tb.Helper()
	cc := c.Client(tb)
	info, err := cc.Command(context.Background()).Result()
	if err != nil {
		tb.Fatalf("COMMAND: %v", err)
	}
	names := make([]string, 0, len(info))
	for name := range info {
		names = append(names, name)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("local __KP = {")
	for _, name := range names {
		ci := info[name]
		if ci.FirstKeyPos == 0 && !strings.Contains(strings.Join(ci.Flags, " "), "movablekeys") {
			continue // no keys
		}
		first, last, step := ci.FirstKeyPos, ci.LastKeyPos, ci.StepCount
		if first == 0 || ci.Name == "" {
			first, last, step = -1, 0, 0 // movable keys: refused
		}
		fmt.Fprintf(&b, "[%q]={%d,%d,%d},", strings.ToUpper(name), first, last, step)
	}
	b.WriteString("}\n")
	b.WriteString(strictPrelude)
	prelude := b.String()
	cc.AddHook(strictHook{prelude: prelude})
	return cc
}

const strictPrelude = `local __declared = {}
for _, k in ipairs(KEYS) do __declared[k] = true end
local __redis = redis
local function __check(cmd, ...)
  local kp = __KP[string.upper(cmd)]
  if not kp then return end
  if kp[1] < 0 then error('undeclared key check: ' .. cmd .. ' takes keys not by position') end
  local a = {...}
  local last = kp[2]
  if last < 0 then last = #a + 1 + last end
  for i = kp[1], last, math.max(kp[3], 1) do
    if a[i] ~= nil and not __declared[a[i]] then
      error('undeclared key ' .. tostring(a[i]) .. ' in ' .. cmd .. ' (KEYS: ' .. table.concat(KEYS, ' ') .. ')')
    end
  end
end
local redis = setmetatable({
  call = function(cmd, ...) __check(cmd, ...) return __redis.call(cmd, ...) end,
  pcall = function(cmd, ...) __check(cmd, ...) return __redis.pcall(cmd, ...) end,
}, {__index = __redis})
`

// strictHook sends every script as EVAL with the prelude: an EVALSHA is
// answered NOSCRIPT, so that go-redis's Script sends the source.
type strictHook struct{ prelude string }

func (h strictHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h strictHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if h.rewrite(cmd) {
			return cmd.Err()
		}
		return next(ctx, cmd)
	}
}

func (h strictHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		var rest []redis.Cmder
		var firstErr error
		for _, c := range cmds {
			if h.rewrite(c) {
				if firstErr == nil {
					firstErr = c.Err()
				}
				continue
			}
			rest = append(rest, c)
		}
		if len(rest) > 0 {
			if err := next(ctx, rest); err != nil && firstErr == nil {
				firstErr = err
			}
		}
		return firstErr
	}
}

// rewrite answers an EVALSHA NOSCRIPT (reporting true: handled) and
// prefixes an EVAL's script with the prelude.
func (h strictHook) rewrite(cmd redis.Cmder) bool {
	args := cmd.Args()
	switch strings.ToLower(cmd.Name()) {
	case "evalsha", "evalsha_ro":
		cmd.SetErr(redis.ErrNoScript)
		return true
	case "eval", "eval_ro":
		if src, ok := args[1].(string); ok && !strings.HasPrefix(src, "local __KP") {
			args[1] = h.prelude + src
		}
	}
	return false
}
