#!/usr/bin/env bash
# bench/dsir.sh: throughput of dsir in MB of text per second, beside embed-hash (its peer: the same
# tokeniser and hashes) on the same stream in the same run. Text: the eval pool of ../shared/eval,
# packed once and concatenated COPIES times (default 3: 57 MB of text). Timed: dsir scoring with a
# fitted model (one pass), dsir fitting the raw model on the pool and scoring it (two passes),
# embed-hash --dim 256 with -j 1 and -j 2. Best of REPS runs (default 3); compare within one run.
# Run as `B=build/rel bench/dsir.sh`.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
B=${B:-build/rel}
case $B in /*) ;; *) B=$TOP/$B ;; esac
PATH=$B/bin:/usr/bin:/bin
EVAL=${EVAL:-$TOP/../shared/eval/public}
COPIES=${COPIES:-3}
REPS=${REPS:-3}
W=$(mktemp -d "${TMPDIR:-/tmp}/winnow-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT
export SOURCE_DATE_EPOCH=0

zstd -dc "$EVAL/pool.jsonl.zst" | pack -o "$W/one.wnw"
zstd -dc "$EVAL/query.jsonl.zst" | pack -o "$W/q.wnw"
for i in $(seq "$COPIES"); do cat "$W/one.wnw"; done >"$W/pool.wnw"
mb=$(unpack --tsv text "$W/one.wnw" | tail -n +2 | wc -c | awk -v c="$COPIES" '{ printf "%.1f", $1 * c / 1e6 }')
dsir -t "$W/q.wnw" --fit "$W/model.wnw" "$W/pool.wnw"

# best SECONDS of REPS runs of a command
best() {
	local b=
	for _ in $(seq "$REPS"); do
		local s e
		s=$(date +%s.%N)
		"$@" >/dev/null
		e=$(date +%s.%N)
		b=$(awk -v b="$b" -v s="$s" -v e="$e" 'BEGIN { t = e - s; print (b == "" || t < b) ? t : b }')
	done
	echo "$b"
}
rate() { awk -v mb="$mb" -v s="$1" 'BEGIN { printf "%.0f MB/s (%.2f s)", mb / s, s }'; }

echo "dsir and embed-hash on $mb MB of text ($COPIES copies of the eval pool), best of $REPS; $(nproc) CPUs"
echo "  dsir --model (one pass, -j 1):            $(rate "$(best dsir --model "$W/model.wnw" -o /dev/null "$W/pool.wnw")")"
echo "  dsir -t (fit raw on the pool, then score): $(rate "$(best dsir -t "$W/q.wnw" -o /dev/null "$W/pool.wnw")")"
echo "  embed-hash --dim 256 -j 1 (peer):         $(rate "$(best embed-hash -j 1 -o /dev/null "$W/pool.wnw")")"
echo "  embed-hash --dim 256 -j 2 (peer):         $(rate "$(best embed-hash -j 2 -o /dev/null "$W/pool.wnw")")"
