#!/usr/bin/env bash
# test.sh (make test): every check a change must pass, in order: no compiled
# binary among the tracked files, go vet, gofmt, staticcheck, the tests with
# the race detector, a short fuzzing of each fuzz target, govulncheck, and the
# demo (scripts/run.sh) as a smoke test on free ports.
#
# Environment (all optional):
#   FUZZTIME   how much to fuzz each target (10000x: ten thousand inputs).
#              A count, not a duration: with a duration, Go 1.26's fuzz
#              coordinator can fail a target with "context deadline exceeded"
#              at the deadline on a loaded machine (golang/go#75804, fixed in
#              Go 1.27); a count has no deadline to race.
#
# staticcheck is the one on PATH, or the pinned version below installed into
# a temporary folder; when it cannot be installed (no module proxy) the step
# says SKIPPED and does not fail the run. Its findings do fail it.
#
# govulncheck runs after the fuzzing: the one on PATH, or the pinned version
# below installed into a temporary folder. It needs the Go module proxy (to
# install) and https://vuln.go.dev (its database); when either is out of
# reach the step says SKIPPED and why, and does not fail the run.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

FUZZTIME=${FUZZTIME:-10000x}
GOVULNCHECK_VERSION=v1.9.0
STATICCHECK_VERSION=v0.8.2 # honnef.co/go/tools: the release that builds with Go 1.26
passed=0
skipped=()
current=
smoke=
toolbin=
finish() {
	local code=$?
	if [ -n "$smoke" ]; then rm -rf "$smoke"; fi
	if [ -n "$toolbin" ]; then rm -rf "$toolbin"; fi
	if [ "$code" -ne 0 ]; then
		echo
		echo "test.sh: FAILED at: $current"
		echo "checks: $passed passed, 1 failed"
	fi
}
trap finish EXIT
toolbin=$(mktemp -d) # staticcheck and govulncheck, when not on PATH

step() {
	current=$1
	printf '\n==> %s\n' "$1"
}
ok() { passed=$((passed + 1)); }

# tool NAME PACKAGE VERSION prints the path of the command NAME: the one on
# PATH, or PACKAGE@VERSION installed into a temporary folder. When it cannot
# be installed it prints nothing, and says SKIPPED and why on stderr.
tool() {
	local bin
	if bin=$(command -v "$1"); then
		echo "$bin"
		return
	fi
	echo "installing $2@$3 into a temporary folder" >&2
	if GOBIN="$toolbin" go install "$2@$3" >"$toolbin/$1.log" 2>&1; then
		echo "$toolbin/$1"
	else
		sed 's/^/    /' "$toolbin/$1.log" >&2
		echo "$1: SKIPPED: it could not be installed (is the Go module proxy reachable?)" >&2
	fi
}

command -v go >/dev/null 2>&1 || {
	current="looking for Go"
	echo "test.sh: Go is not installed (Pregón needs Go 1.26)" >&2
	exit 1
}

step "no compiled binary among the tracked files"
scripts/check-binaries.sh
ok

step "ensure redis-server, curl and chromium (the tests start their own Redis; the browser tests drive chromium)"
scripts/ensure-redis.sh
scripts/ensure-chromium.sh # the newsroom's and the web app's browser tests
ok

step "go vet ./..."
go vet ./...
ok

step "gofmt -l"
unformatted=$(gofmt -l .)
if [ -n "$unformatted" ]; then
	echo "these files need gofmt -w:"
	echo "$unformatted"
	exit 1
fi
ok

step "staticcheck ./..."
staticcheck=$(tool staticcheck honnef.co/go/tools/cmd/staticcheck "$STATICCHECK_VERSION")
[ -n "$staticcheck" ] || skipped+=("staticcheck (not installable)")
if [ -n "$staticcheck" ]; then
	"$staticcheck" ./...
	ok
fi

step "go test -race -shuffle=on -count=1 -timeout 20m ./..."
go test -race -shuffle=on -count=1 -timeout 20m ./...
ok

step "fuzzing each fuzz target for $FUZZTIME"
# go test -list prints each test's name, then "ok  <package> <time>".
targets=()
names=()
while read -r first second _; do
	case $first in
	Fuzz*) names+=("$first") ;;
	ok)
		for n in "${names[@]}"; do targets+=("$second $n"); done
		names=()
		;;
	*) names=() ;;
	esac
done < <(go test -list '^Fuzz' ./...)
if [ "${#targets[@]}" -eq 0 ]; then
	echo "no fuzz targets"
fi
for t in "${targets[@]}"; do
	pkg=${t% *}
	name=${t#* }
	echo "--- $name in $pkg"
	go test -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" "$pkg"
done
ok

step "govulncheck ./... (known vulnerabilities in the code's dependencies and Go)"
vulncheck=$(tool govulncheck golang.org/x/vuln/cmd/govulncheck "$GOVULNCHECK_VERSION")
[ -n "$vulncheck" ] || skipped+=("govulncheck (not installable)")
if [ -n "$vulncheck" ]; then
	set +e
	vulnout=$("$vulncheck" ./... 2>&1)
	vulnrc=$?
	set -e
	echo "$vulnout"
	if [ "$vulnrc" -eq 0 ]; then
		ok
	elif grep -q "fetching vulnerabilities" <<<"$vulnout"; then
		echo "govulncheck: SKIPPED: its vulnerability database (https://vuln.go.dev) is not reachable from here"
		skipped+=("govulncheck (vulnerability database not reachable)")
	else
		exit 1
	fi
fi

step "smoke test: the demo (scripts/run.sh) on free ports, with PREGON_DEMO_EXIT=1"
port_free() { ! (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
	local p
	for _ in $(seq 1 100); do
		p=$((20000 + RANDOM % 20000))
		if port_free "$p" && [ "$p" != "${1:-}" ]; then
			echo "$p"
			return 0
		fi
	done
	echo "test.sh: found no free port" >&2
	return 1
}
http_port=$(free_port)
redis_port=$(free_port "$http_port")
smoke=$(mktemp -d)
PREGON_DEMO_EXIT=1 PREGON_HTTP_ADDR=127.0.0.1:$http_port PREGON_DEMO_REDIS_PORT=$redis_port \
	PREGON_DEMO_DATA_DIR="$smoke/data" PREGON_OUTBOX_DIR="$smoke/outbox" \
	PREGON_SMTP_URL='' PREGON_TELEGRAM_TOKEN='' PREGON_API_URL='' PREGON_TOKEN='' \
	scripts/run.sh
if [ ! -s "$smoke/data/web-password" ]; then
	echo "test.sh: the demo made no web app sign-in ($smoke/data/web-password is missing)" >&2
	exit 1
fi
ok

current=
echo
echo "test.sh: all checks passed (no binaries, go vet, gofmt, staticcheck, go test -race, ${#targets[@]} fuzz targets, govulncheck, the demo)"
for s in "${skipped[@]}"; do echo "skipped: $s"; done
echo "checks: $passed passed, 0 failed"
