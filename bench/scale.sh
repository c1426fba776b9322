#!/usr/bin/env bash
# bench/scale.sh: a synthetic pool (500-byte texts, embed-hash d 256) through every stage at growing n:
# pack, embed-hash, knn-build (m queries), kde-dedup, ot-weight and sample (the TSDS chain on the kNN
# union), and gzfit --fast, dedup --minhash and dsir on the whole pool; wall time, CPU time and peak RSS
# of each stage at each n, then each stage's RSS at the largest n over that at the smallest (flat: about 1).
#   B=build/rel bench/scale.sh                 (SIZES="1000000 3000000" M=1000 K=100 KDE_K=100 J=2)
# Disk: about 3.5 KB a record at the largest n (text in JSON Lines and packed, the embedded stream, the
# outputs), in TMPDIR or /tmp; the work directory goes at the end. No peer: the figures are for scaling.
set -eu
cd "$(dirname "$0")/.."
B=${B:-build/rel}
case $B in /*) ;; *) B=$PWD/$B ;; esac
PATH=$B/bin:/usr/bin:/bin
SIZES=${SIZES:-"1000000 3000000"} M=${M:-1000} K=${K:-100} KDE_K=${KDE_K:-100} J=${J:-2} LEN=${LEN:-500}
W=$(mktemp -d "${TMPDIR:-/tmp}/winnow-bench-scale.XXXXXX")
trap 'rm -rf "$W"' EXIT
for p in pack embed-hash knn-build kde-dedup ot-weight sample gzfit dedup dsir; do
	[ -x "$B/bin/$p" ] || { echo "bench/scale.sh: $B/bin/$p is missing: make B=$B all" >&2; exit 3; }
done
cc -O2 -o "$W/textgen" bench/textgen.c
cd "$W"
./textgen "$M" "$LEN" 2 >q.jsonl
pack --id id q.jsonl | embed-hash --dim 256 -o q.wnw
pack --id id -o t.wnw q.jsonl

# stage NAME CMD...: one row: n, stage, wall s, cpu s, peak RSS MB; the RSS also into rss.NAME.n
stage() {
	local name=$1
	shift
	/usr/bin/time -f "%e %U %S %M" -o t.txt "$@" 2>>log.txt || { echo "bench/scale.sh: $name failed" >&2; tail -5 log.txt >&2; exit 1; }
	read -r w u s k <t.txt
	echo "$k" >"rss.$name.$n"
	awk -v n="$n" -v st="$name" -v w="$w" -v c="$(echo "$u + $s" | bc)" -v k="$k" \
		'BEGIN { printf "%9d  %-11s %8.2f %8.2f %9.0f\n", n, st, w, c, k / 1024 }'
}

cat /proc/cpuinfo | grep -m1 "model name" | sed 's/.*: /cpu: /'
echo "m $M queries, K $K, KDE_K $KDE_K, -j $J, texts of about $LEN bytes, d 256; $(date -u +%F)"
printf '%9s  %-11s %8s %8s %9s\n' n stage wall_s cpu_s rss_MB
for n in $SIZES; do
	./textgen "$n" "$LEN" 1 >pool.jsonl
	stage pack pack -j "$J" --id id -o pool.wnw pool.jsonl
	rm -f pool.jsonl
	stage embed-hash embed-hash -j "$J" --dim 256 -o emb.wnw pool.wnw
	stage knn-build knn-build -j "$J" -q q.wnw -k "$K" -o union.wnw emb.wnw
	stage kde-dedup kde-dedup -j "$J" --sigma 0.75 -k "$KDE_K" -o kde.wnw union.wnw
	stage ot-weight ot-weight --alpha 0.5 -C 5 -o prob.wnw kde.wnw
	stage sample sample -n 10000 --seed 1 -o sel.wnw prob.wnw
	rm -f emb.wnw union.wnw kde.wnw prob.wnw sel.wnw
	stage gzfit gzfit -j "$J" -t t.wnw --fast -o /dev/null pool.wnw
	stage dedup dedup -j "$J" --minhash -o /dev/null pool.wnw
	stage dsir dsir -t t.wnw -o /dev/null pool.wnw
	echo "$n" >last
	[ -n "${first:-}" ] || first=$n
done
echo "peak RSS at n $(cat last) over n $first (1.0: flat in n):"
for st in pack embed-hash knn-build kde-dedup ot-weight sample gzfit dedup dsir; do
	awk -v st="$st" -v a="$(cat "rss.$st.$(cat last)")" -v b="$(cat "rss.$st.$first")" \
		'BEGIN { printf "  %-11s %5.2f\n", st, a / b }'
done
