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
// with "undeclared key" when it touches a key that it did not pass in KEYS
// and that does not share the hash tag of one it passed. Redis Cluster
// requires a script's keys to be in one slot, but it only catches a key
// of another slot when that slot is on another node, which on a small
// cluster it often is not; this catches it always. (A key of the same
// hash tag, such as a release's delivery bucket found while the script
// runs, is in the same slot: Redis Cluster runs it.) It runs each script through EVAL
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

const strictPrelude = `local __declared, __tags = {}, {}
local function __tag(k)
  local s = string.find(k, '{', 1, true)
  if s then
    local e = string.find(k, '}', s + 1, true)
    if e and e > s + 1 then return string.sub(k, s + 1, e - 1) end
  end
  return nil
end
for _, k in ipairs(KEYS) do
  __declared[k] = true
  local t = __tag(k)
  if t then __tags[t] = true end
end
local __redis = redis
local function __check(cmd, ...)
  local kp = __KP[string.upper(cmd)]
  if not kp then return end
  if kp[1] < 0 then error('undeclared key check: ' .. cmd .. ' takes keys not by position') end
  local a = {...}
  local last = kp[2]
  if last < 0 then last = #a + 1 + last end
  for i = kp[1], last, math.max(kp[3], 1) do
    local t = a[i] ~= nil and __tag(a[i])
    if a[i] ~= nil and not __declared[a[i]] and not (t and __tags[t]) then
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
