#!/usr/bin/env bash
# ensure-redis.sh: make sure redis-server, redis-cli and curl are installed,
# installing them from Debian's packages when they are not.
# Pregón's tests and its demo (scripts/run.sh) need them.
set -euo pipefail

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || missing+=(redis-tools)
command -v curl >/dev/null 2>&1 || missing+=(curl)
if [ "${#missing[@]}" -eq 0 ]; then
	exit 0
fi

# redis-server depends on redis-tools (redis-cli); name it only once.
pkgs=()
for p in "${missing[@]}"; do
	if [ "$p" = redis-tools ] && [[ " ${missing[*]} " == *" redis-server "* ]]; then
		continue
	fi
	pkgs+=("$p")
done

die() {
	echo "ensure-redis: $*" >&2
	echo "ensure-redis: install them yourself (Debian/Ubuntu: apt-get install redis-server curl) and run this again." >&2
	exit 1
}

if ! command -v apt-get >/dev/null 2>&1; then
	die "missing ${pkgs[*]}, and apt-get is not available to install them."
fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then
	if ! command -v sudo >/dev/null 2>&1; then
		die "missing ${pkgs[*]}; installing them needs root, and sudo is not available."
	fi
	sudo=(sudo)
fi

echo "ensure-redis: installing ${pkgs[*]} from Debian's packages..." >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq || die "apt-get update failed."
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null || die "apt-get install ${pkgs[*]} failed."

for cmd in redis-server redis-cli curl; do
	command -v "$cmd" >/dev/null 2>&1 || die "$cmd is still missing after the install."
done
echo "ensure-redis: installed $(redis-server --version | cut -d' ' -f1-3)" >&2
