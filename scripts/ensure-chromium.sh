#!/usr/bin/env bash
# ensure-chromium.sh: make sure Debian's chromium is installed at
# /usr/bin/chromium, installing it when it is not. The browser tests drive
# it (newsroom/browser_test.go, cmd/pregon/webapp_browser_test.go); without
# it they fail (PREGON_SKIP_BROWSER=1 skips them on purpose).
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
	exit 0
fi

die() {
	echo "ensure-chromium: $*" >&2
	echo "ensure-chromium: install it yourself (Debian/Ubuntu: apt-get install chromium) and run this again," >&2
	echo "ensure-chromium: or set PREGON_SKIP_BROWSER=1 to skip the browser test." >&2
	exit 1
}

if ! command -v apt-get >/dev/null 2>&1; then
	die "/usr/bin/chromium is missing, and apt-get is not available to install it."
fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then
	if ! command -v sudo >/dev/null 2>&1; then
		die "/usr/bin/chromium is missing; installing it needs root, and sudo is not available."
	fi
	sudo=(sudo)
fi

echo "ensure-chromium: installing chromium from Debian's packages..." >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq || die "apt-get update failed."
"${sudo[@]}" apt-get install -y -qq --no-install-recommends chromium >/dev/null || die "apt-get install chromium failed."

[ -x /usr/bin/chromium ] || die "/usr/bin/chromium is still missing after the install."
echo "ensure-chromium: installed $(/usr/bin/chromium --version 2>/dev/null || echo chromium)" >&2
