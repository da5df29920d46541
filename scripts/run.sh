#!/usr/bin/env bash
# run.sh (make run): build Pregón, start it with its own Redis, and walk
# through a whole release: lists, a CSV import, a Telegram channel, a
# statement with its translation sent to all of them, and what came out.
# Then it keeps serving until Ctrl-C.
#
# With no SMTP server or Telegram bot configured, Pregón writes what it would
# send into the outbox folder, so nothing leaves this machine.
#
# Environment (all optional):
#   PREGON_HTTP_ADDR        where the API listens (127.0.0.1:8080)
#   PREGON_OUTBOX_DIR       where emails and posts are written (outbox)
#   PREGON_DEMO_REDIS_PORT  the port of the demo's Redis (6390)
#   PREGON_DEMO_DATA_DIR    Redis data, log, token and ids (.data)
#   PREGON_DEMO_EXIT=1      stop everything after the demo; exit 0 only if
#                           the release ended "sent"
# Any other PREGON_* variable (PREGON_SMTP_URL, PREGON_TELEGRAM_TOKEN, ...)
# is passed on to Pregón.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD

REDIS_PORT=${PREGON_DEMO_REDIS_PORT:-6390}
DATA=${PREGON_DEMO_DATA_DIR:-.data}
EXIT_AFTER=${PREGON_DEMO_EXIT:-0}
export PREGON_HTTP_ADDR=${PREGON_HTTP_ADDR:-127.0.0.1:8080}
export PREGON_OUTBOX_DIR=${PREGON_OUTBOX_DIR:-outbox}

if [ -t 1 ]; then bold=$'\033[1m' reset=$'\033[0m'; else bold='' reset=''; fi
step() { printf '\n%s==> %s%s\n' "$bold" "$*" "$reset"; }
die() {
	echo "run.sh: $*" >&2
	exit 1
}

command -v go >/dev/null 2>&1 || die "Go is not installed (Pregón needs Go 1.26): see https://go.dev/doc/install"

step "Checking for redis-server and curl"
scripts/ensure-redis.sh

step "Building bin/pregon"
go build -o bin/pregon ./cmd/pregon
PREGON=$ROOT/bin/pregon

mkdir -p "$DATA"
DATA=$(cd "$DATA" && pwd)
REDIS_DIR=$DATA/redis
[ "$REDIS_PORT" = 6390 ] || REDIS_DIR=$DATA/redis-$REDIS_PORT
REDIS_PIDFILE=$DATA/redis-$REDIS_PORT.pid
mkdir -p "$REDIS_DIR"

STARTED_REDIS=0
PREGON_PID=
# shellcheck disable=SC2317 # stop_all runs from the trap
stop_all() {
	local code=$?
	trap - EXIT INT TERM
	if [ -n "$PREGON_PID" ] && kill -0 "$PREGON_PID" 2>/dev/null; then
		echo "stopping Pregón (pid $PREGON_PID)..." >&2
		kill -TERM "$PREGON_PID" 2>/dev/null || true
		for _ in $(seq 1 150); do
			kill -0 "$PREGON_PID" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$PREGON_PID" 2>/dev/null; then
			echo "Pregón did not stop within 15s; killing it" >&2
			kill -KILL "$PREGON_PID" 2>/dev/null || true
		fi
		wait "$PREGON_PID" 2>/dev/null || true
	fi
	if [ "$STARTED_REDIS" = 1 ]; then
		echo "stopping Redis on 127.0.0.1:$REDIS_PORT..." >&2
		if ! redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown >/dev/null 2>&1; then
			if [ -f "$REDIS_PIDFILE" ]; then
				kill -TERM "$(cat "$REDIS_PIDFILE")" 2>/dev/null || true
			fi
		fi
	fi
	exit "$code"
}
trap stop_all EXIT
trap 'exit 0' INT TERM

redis_up() { [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; }

step "Starting Redis on 127.0.0.1:$REDIS_PORT (data in $REDIS_DIR)"
if redis_up; then
	echo "a Redis already answers on 127.0.0.1:$REDIS_PORT: using it"
else
	redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$REDIS_DIR" \
		--appendonly yes --appendfsync everysec --maxmemory-policy noeviction \
		--daemonize yes --pidfile "$REDIS_PIDFILE" --logfile "$DATA/redis-$REDIS_PORT.log"
	STARTED_REDIS=1
	for _ in $(seq 1 100); do
		redis_up && break
		sleep 0.1
	done
	redis_up || {
		tail -n 20 "$DATA/redis-$REDIS_PORT.log" >&2 || true
		die "Redis did not start on 127.0.0.1:$REDIS_PORT (log: $DATA/redis-$REDIS_PORT.log)"
	}
fi
export PREGON_REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0

# The API's address as a client reaches it.
http_host=${PREGON_HTTP_ADDR%:*}
http_port=${PREGON_HTTP_ADDR##*:}
case $http_host in "" | 0.0.0.0 | "[::]") http_host=127.0.0.1 ;; esac
export PREGON_API_URL=http://$http_host:$http_port
if (echo >"/dev/tcp/$http_host/$http_port") 2>/dev/null; then
	die "something already listens on $PREGON_HTTP_ADDR (another Pregón?); stop it or set PREGON_HTTP_ADDR=127.0.0.1:PORT"
fi

step "Starting Pregón (pregon serve) on $PREGON_HTTP_ADDR (log: $DATA/pregon.log)"
"$PREGON" serve >>"$DATA/pregon.log" 2>&1 &
PREGON_PID=$!
ready=0
for _ in $(seq 1 150); do
	if ! kill -0 "$PREGON_PID" 2>/dev/null; then
		tail -n 20 "$DATA/pregon.log" >&2 || true
		PREGON_PID=
		die "Pregón exited at start (log: $DATA/pregon.log)"
	fi
	if curl -fsS -o /dev/null "$PREGON_API_URL/readyz" 2>/dev/null; then
		ready=1
		break
	fi
	sleep 0.2
done
[ "$ready" = 1 ] || die "Pregón was not ready after 30s (log: $DATA/pregon.log)"
echo "ready: $PREGON_API_URL/readyz answers"

# api_ok PATH: whether a GET of PATH succeeds with the current token.
api_ok() {
	curl -fsS -o /dev/null -H "Authorization: Bearer ${PREGON_TOKEN:-}" "$PREGON_API_URL$1" 2>/dev/null
}

step "Creating an admin token (saved in $DATA/token)"
PREGON_TOKEN=
if [ -s "$DATA/token" ]; then
	PREGON_TOKEN=$(cat "$DATA/token")
fi
export PREGON_TOKEN
if [ -n "$PREGON_TOKEN" ] && api_ok /v1/lists; then
	echo "the token in $DATA/token still works: reusing it"
else
	(umask 077 && "$PREGON" token create --name demo --role admin >"$DATA/token.new")
	mv "$DATA/token.new" "$DATA/token"
	PREGON_TOKEN=$(cat "$DATA/token")
	echo "created; it is printed only once, by: pregon token create --name demo --role admin"
fi

step "Creating a person to sign in to the web app (password saved in $DATA/web-password)"
WEB_USER=demo@example.org
if [ -s "$DATA/web-password" ]; then
	echo "$WEB_USER from an earlier run: its password is in $DATA/web-password"
elif (umask 077 && "$PREGON" user create --email "$WEB_USER" --name Demo --role admin >"$DATA/web-password.new" 2>"$DATA/user-create.log"); then
	mv "$DATA/web-password.new" "$DATA/web-password"
	echo "created $WEB_USER (admin); more people: pregon user create --email E --role coordinator"
else
	rm -f "$DATA/web-password.new"
	echo "could not create $WEB_USER: $(cat "$DATA/user-create.log")" >&2
	echo "make one yourself: bin/pregon user create --email you@example.org --role admin" >&2
fi

# Lists made by an earlier run are reused while they still exist.
IDS=$DATA/demo-ids
saved_id() { [ -f "$IDS" ] && sed -n "s/^$1=//p" "$IDS" | tail -n 1; }
PRESS_LIST=$(saved_id press || true)
SUBS_LIST=$(saved_id subscribers || true)

step "Creating a press list and a subscribers list"
if [ -n "$PRESS_LIST" ] && api_ok "/v1/lists/$PRESS_LIST"; then
	echo "press list $PRESS_LIST (from an earlier run)"
else
	PRESS_LIST=$("$PREGON" list create --name "Prensa (demo)" --kind press --description "Journalists, imported from examples/demo-press.csv")
	echo "press list $PRESS_LIST"
fi
if [ -n "$SUBS_LIST" ] && api_ok "/v1/lists/$SUBS_LIST"; then
	echo "subscribers list $SUBS_LIST (from an earlier run)"
else
	SUBS_LIST=$("$PREGON" list create --name "Suscriptores (demo)" --kind subscribers)
	echo "subscribers list $SUBS_LIST"
fi
printf 'press=%s\nsubscribers=%s\n' "$PRESS_LIST" "$SUBS_LIST" >"$IDS"

step "Importing contacts (one row of demo-press.csv is bad on purpose, one repeats an address)"
"$PREGON" list import "$PRESS_LIST" examples/demo-press.csv
"$PREGON" list import "$SUBS_LIST" examples/demo-subscribers.csv

step "Adding the Telegram channel @pregon_demo"
CHANNEL=$("$PREGON" channel add --chat @pregon_demo --title "Pregón demo" --language es --exists-ok)
echo "channel $CHANNEL"

step "Sending examples/demo-release.md with its English translation, and waiting"
touch "$DATA/demo-started" # the outbox files newer than this are the ones this run wrote
set +e
RELEASE=$("$PREGON" release send examples/demo-release.md --translation examples/demo-release.en.md \
	--list "$PRESS_LIST" --list "$SUBS_LIST" --channel "$CHANNEL" --wait)
send_status=$?
set -e
[ -n "$RELEASE" ] || die "the release was not created"
echo "release $RELEASE"

step "pregon release status $RELEASE"
"$PREGON" release status "$RELEASE"

step "pregon release deliveries $RELEASE"
"$PREGON" release deliveries "$RELEASE"

step "Files written to the outbox ($PREGON_OUTBOX_DIR)"
if [ -d "$PREGON_OUTBOX_DIR" ]; then
	find "$PREGON_OUTBOX_DIR" -type f -newer "$DATA/demo-started" -printf '%8s  %p\n' | sort -k2
	first_eml=$(find "$PREGON_OUTBOX_DIR" -type f -name '*.eml' -newer "$DATA/demo-started" | sort | head -n 1)
	if [ -n "$first_eml" ]; then
		echo
		echo "The headers of $first_eml:"
		sed -e '/^\r\{0,1\}$/q' "$first_eml" | head -n 15
	fi
else
	echo "(no outbox folder: PREGON_SMTP_URL and PREGON_TELEGRAM_TOKEN are set, so Pregón really sent them)"
fi

if [ "$EXIT_AFTER" = 1 ]; then
	if [ "$send_status" -ne 0 ]; then
		die "the release did not end \"sent\" (see the deliveries above and $DATA/pregon.log)"
	fi
	step "The demo release was sent; stopping (PREGON_DEMO_EXIT=1)"
	exit 0
fi

step "Pregón is running at $PREGON_API_URL"
cat <<EOF
The web app: open $PREGON_API_URL/ and sign in as $WEB_USER with the password in
${DATA#"$ROOT"/}/web-password (pregon user create --email E --role admin|coordinator|viewer adds people).

Or use it from another terminal:

  export PREGON_API_URL=$PREGON_API_URL
  export PREGON_TOKEN=\$(cat ${DATA#"$ROOT"/}/token)
  curl -H "Authorization: Bearer \$PREGON_TOKEN" \$PREGON_API_URL/v1/releases/$RELEASE
  bin/pregon release deliveries $RELEASE --channel telegram
  bin/pregon release preview $RELEASE --channel telegram --language en

Logs: ${DATA#"$ROOT"/}/pregon.log. Emails and posts: $PREGON_OUTBOX_DIR/. API reference: README.md.
Press Ctrl-C to stop Pregón and its Redis.
EOF
if [ "$send_status" -ne 0 ]; then
	echo "(note: the release did not end \"sent\"; see the deliveries above)" >&2
fi
wait "$PREGON_PID" || true
PREGON_PID=
die "Pregón stopped by itself; see $DATA/pregon.log"
