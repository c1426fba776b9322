# bench/timed.sh: sourced by the benchmarks that time whole commands (gzfit.sh, dedup.sh); needs $T,
# a scratch directory of the caller's.

# run NAME CMD...: runs CMD with stdout to $T/NAME.out; sets W (wall s) and C (cpu s)
run() {
	local name=$1; shift
	/usr/bin/time -f "%e %U %S" -o "$T/time" "$@" >"$T/$name.out" 2>"$T/$name.err" ||
		{ echo "$name failed:"; cat "$T/$name.err"; exit 1; }
	read -r W u s <"$T/time"
	C=$(awk -v u="$u" -v s="$s" 'BEGIN { print u + s }')
}
