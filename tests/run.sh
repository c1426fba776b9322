#!/usr/bin/env bash
# tests/run.sh: runs every unit test binary and end-to-end script, counts their TAP lines, and ends
# with the line "N passed, N failed"; exits non-zero if anything failed or a test died. ONLY='unit/x|e2e/y'
# (an extended regular expression over the names) runs only the tests it matches whole.
set -u
cd "$(dirname "$0")/.." || exit 3
B=${B:-build/rel}
export B
pass=0 fail=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
run() {
	local name=$1; shift
	[ -z "${ONLY:-}" ] || [[ $name =~ ^(${ONLY})$ ]] || return 0
	"$@" >"$log" 2>&1
	local rc=$?
	local p f
	p=$(grep -c '^ok ' "$log")
	f=$(grep -c '^not ok ' "$log")
	grep -E '^(not ok|#)' "$log" | sed "s|^|$name: |"
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "$name: died with status $rc"; tail -5 "$log" | sed "s|^|$name: |"; f=1
	fi
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then echo "$name: ran no check"; f=1; fi
	printf '%-28s %4d passed %4d failed\n' "$name" "$p" "$f"
	pass=$((pass + p)); fail=$((fail + f))
}
for t in "$B"/tests/*; do [ -x "$t" ] && run "unit/$(basename "$t")" "$t"; done
for t in tests/e2e/*.sh; do [ -f "$t" ] && run "e2e/$(basename "$t" .sh)" bash "$t"; done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
