# The fuzz harnesses without libFuzzer: each seed corpus (tests/fuzz/corpus/NAME) and any crash
# reproducers kept in tests/fuzz/crashes/NAME replay through the harness's own entry point.
. "$(dirname "$0")/../lib.sh"

for h in "$TOP"/tests/fuzz/fuzz_*.c; do
	name=$(basename "$h" .c)
	bin=$B/fuzz/$name
	truthy "$name: its replay driver is built" "[ -x '$bin' ]" || continue
	dirs=("$TOP/tests/fuzz/corpus/$name")
	[ -d "$TOP/tests/fuzz/crashes/$name" ] && dirs+=("$TOP/tests/fuzz/crashes/$name")
	"$bin" "${dirs[@]}" >replay.out 2>replay.err
	rc=$?
	same "$name: every input replays without a crash or a sanitizer report" \
		"$rc $(grep -c '^not ok' replay.out)" "0 0"
	[ "$rc" = 0 ] || sed 's/^/#   /' replay.err | head -20
done
