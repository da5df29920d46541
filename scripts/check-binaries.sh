#!/usr/bin/env bash
# check-binaries.sh: fail when a file tracked by git is a compiled program
# (ELF, Mach-O or Windows PE), so that the tree stays source only. Build
# outputs belong in .gitignore; this catches one committed by mistake.
# Outside a git checkout, or without git, it prints SKIPPED and succeeds.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v git >/dev/null 2>&1; then
	echo "check-binaries: SKIPPED: git is not installed"
	exit 0
fi
if ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	echo "check-binaries: SKIPPED: $PWD is not a git checkout"
	exit 0
fi

# kind sets what to the executable format a file's first bytes announce. The
# magic numbers hold no NUL byte, so bash's read (which stops at one) sees
# them whole; no process is started per file.
kind() {
	what=
	case $1 in
	$'\x7fELF'*) what="ELF executable" ;;
	$'\xfe\xed\xfa\xce'* | $'\xfe\xed\xfa\xcf'* | $'\xce\xfa\xed\xfe'* | $'\xcf\xfa\xed\xfe'* | $'\xca\xfe\xba\xbe'*)
		what="Mach-O executable" ;;
	MZ*) what="Windows (MZ/PE) executable" ;;
	esac
}

export LC_ALL=C
found=0
checked=0
while IFS= read -r -d '' f; do
	[ -f "$f" ] || continue # tracked, but deleted in the working tree
	checked=$((checked + 1))
	magic=
	IFS= read -r -d '' -n 4 magic <"$f" || true
	kind "$magic"
	if [ -n "$what" ]; then
		echo "check-binaries: $f is a compiled binary ($what): git rm --cached it and add it to .gitignore"
		found=$((found + 1))
	fi
done < <(git ls-files -z)

if [ "$found" -gt 0 ]; then
	exit 1
fi
echo "check-binaries: $checked tracked files, none compiled"
