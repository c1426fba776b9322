# tests/lib.sh: sourced by every end-to-end test. Each check prints one TAP line, "ok - intent" or
# "not ok - intent" with what differed; tests/run.sh counts them.
set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
B=${B:-build/rel}
case $B in /*) ;; *) B=$TOP/$B ;; esac
DATA=$TOP/tests/data
# Tests read only the checkout: fixtures live in tests/data (the reference toys too), never beside it.
TSDS_TOY=$DATA/tsds-toy
# Tests run against the build tree only: a program missing there must fail, not find an installed copy.
PATH=$B/bin:/usr/bin:/bin
export PATH SOURCE_DATE_EPOCH=0 LC_ALL=C
unset WINNOW_ZSTD_LEVEL WINNOW_THREADS
T=$(mktemp -d "${TMPDIR:-/tmp}/winnow-test.XXXXXX")
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 1

# zipfit_toy: the ZIP-FIT toy set (tests/data/zipfit-toy, its pool kept compressed) in ./zipfit-toy.
zipfit_toy() {
	mkdir -p "$T/zipfit-toy" && cp "$DATA"/zipfit-toy/*.tsv "$DATA/zipfit-toy/target.jsonl" "$T/zipfit-toy/" &&
		zstd -dcq "$DATA/zipfit-toy/pool.jsonl.zst" >"$T/zipfit-toy/pool.jsonl"
}

_pass() { echo "ok - $1"; }
_fail() { echo "not ok - $1"; shift; for l in "$@"; do printf '#   %s\n' "$l"; done; }

# ok INTENT CMD...: the command exits 0.
ok() {
	local what=$1; shift
	if "$@" >"$T/.out" 2>"$T/.err"; then _pass "$what"
	else _fail "$what" "exit $? from: $*" "$(head -c 600 "$T/.err")"; fi
}

# status N INTENT CMD...: the command exits with status N.
status() {
	local want=$1 what=$2; shift 2
	"$@" >"$T/.out" 2>"$T/.err"
	local got=$?
	if [ "$got" = "$want" ]; then _pass "$what"
	else _fail "$what" "exit $got, wanted $want, from: $*" "$(head -c 600 "$T/.err")"; fi
}

# fails N PATTERN INTENT CMD...: exits N and stderr matches the extended regex PATTERN.
fails() {
	local want=$1 pat=$2 what=$3; shift 3
	"$@" >"$T/.out" 2>"$T/.err"
	local got=$?
	if [ "$got" = "$want" ] && grep -Eq -- "$pat" "$T/.err"; then _pass "$what"
	else _fail "$what" "exit $got (wanted $want), stderr: $(head -c 600 "$T/.err")" "wanted /$pat/"; fi
}

# same INTENT GOT WANT: two strings are equal.
same() {
	if [ "$2" = "$3" ]; then _pass "$1"
	else _fail "$1" "got:  $(printf %s "$2" | head -c 600)" "want: $(printf %s "$3" | head -c 600)"; fi
}

# same_file INTENT GOT_FILE WANT_FILE: two files are byte-identical.
same_file() {
	if cmp -s "$2" "$3"; then _pass "$1"
	else _fail "$1" "$(diff <(head -c 20000 "$2" | cat -v) <(head -c 20000 "$3" | cat -v) | head -20)"; fi
}

# truthy INTENT SHELL-EXPRESSION: passes when the expression (evaluated by bash) is true.
truthy() {
	local what=$1; shift
	if eval "$*"; then _pass "$what"; else _fail "$what" "false: $*"; fi
}
