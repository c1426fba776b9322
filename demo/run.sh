#!/usr/bin/env bash
# demo/run.sh (make demo): the bundled corpus through the stream tools, what dedup and decontam remove,
# then TSDS, ZIP-FIT and DSIR on the cleaned pool, showing what each method picked for a target of Python
# code and how the three overlap. Stages are cached in $DEMO_OUT (default demo-out).
set -euo pipefail
cd "$(dirname "$0")/.."
B=${B:-build/rel}
W=$PWD/$B/bin/
OUT=${DEMO_OUT:-demo-out}
N=${DEMO_N:-30}
POOL=demo/pool.jsonl.zst
TARGET=demo/target.jsonl.zst
# a toy benchmark of four test items, two of which quote Python code of the pool (demo/LICENSE)
BENCH=demo/benchmark.jsonl
# the pool's cleaning in every recipe: near copies out, and whatever shares 13 words with the benchmark
CLEAN=(DEDUP=minhash DECONTAM="$BENCH" DECONTAM_TEXT=prompt)
mkdir -p "$OUT"
hr() { printf '\n\033[1m== %s\033[0m\n' "$1"; }
# per-domain counts and the first lines of a few picks of a selected JSONL
show() {
	printf 'per domain:'
	grep -o '"domain": "[a-z]*"' "$1" | sort | uniq -c | sort -rn | awk '{ printf " %s %d", $3, $1 }' | tr -d '"'
	printf '\n'
	"$W"pack --id id --field domain:text "$1" | "$W"unpack --tsv id,domain,text | tail -n +2 | head -4 |
		while IFS=$'\t' read -r id dom text; do
			printf -- '--- id %s (%s)\n' "$id" "$dom"
			printf '%b\n' "$text" | grep -v '^[[:space:]]*$' | head -3 | cut -c1-100 | sed 's/^/    /'
		done || true # head ends the pipe early on purpose
}

hr "the stream: pack the pool, look at it, check it, unpack it"
"$W"pack --field domain:text -o "$OUT/pool.wnw" "$POOL"
"$W"inspect "$OUT/pool.wnw" | sed -n '/^schema:/,/^provenance:/p;/^records:/p'
"$W"inspect --check "$OUT/pool.wnw" && echo "inspect --check: trailer and CRC are good"
"$W"unpack "$OUT/pool.wnw" | cmp - <(zstd -dc "$POOL") && echo "unpack gives back the JSONL byte for byte"
echo "pool by domain: $(grep -o '"domain": "[a-z]*"' <(zstd -dc "$POOL") | sort | uniq -c | awk '{ printf "%s %d  ", $3, $1 }' | tr -d '"')"
echo "target: $(zstd -dc "$TARGET" | wc -l) Python examples from files the pool does not hold"

hr "before selecting: dedup --minhash and decontam -r $BENCH"
# first lines of record ID of the pool
first() { "$W"pick --ids <(echo "$1") "$OUT/pool.wnw" | "$W"unpack --tsv text | sed -n 2p | cut -c1-90; }
"$W"dedup --minhash --mark -o "$OUT/pool.dup.wnw" "$OUT/pool.wnw"
"$W"unpack --tsv id,dup_of,domain "$OUT/pool.dup.wnw" | awk -F '\t' 'NR > 1 && $1 != $2' >"$OUT/dups.tsv"
echo "dedup --minhash: $(wc -l <"$OUT/dups.tsv") records are near copies (estimated Jaccard >= 0.8 over word 5-grams) of an earlier one, e.g.:"
head -3 "$OUT/dups.tsv" | while IFS=$'\t' read -r id of dom; do
	printf -- '--- id %s (%s), a near copy of id %s:\n    %s\n    %s\n' "$id" "$dom" "$of" "$(first "$id")" "$(first "$of")"
done
"$W"pack --text prompt -o "$OUT/bench.wnw" "$BENCH"
"$W"decontam -r "$OUT/bench.wnw" --mark -o "$OUT/pool.contam.wnw" "$OUT/pool.wnw"
echo "decontam: records sharing a 13-word span with a benchmark item (id, shared 13-grams, domain):"
"$W"unpack --tsv id,contam,domain "$OUT/pool.contam.wnw" | awk -F '\t' 'NR > 1 && $2 > 0 { printf "    %s %s %s\n", $1, $2, $3 }'
echo "Each recipe below runs these two stages on its pool first (${CLEAN[*]})."

hr "TSDS: embed-hash | knn-build | kde-dedup | ot-weight | sample -n $N"
make --no-print-directory -s -f pipelines/tsds.mk W="$W" QUERY="$TARGET" POOL="$POOL" OUT="$OUT/tsds" \
	"${CLEAN[@]}" N="$N" K=50 KDE_K=50 DIM=1024 C=0.2 LABEL=domain all plots
show "$OUT/tsds/selected.jsonl"

hr "ZIP-FIT: gzfit | sample --top $N"
make --no-print-directory -s -f pipelines/zipfit.mk W="$W" TARGET="$TARGET" POOL="$POOL" OUT="$OUT/zipfit" \
	"${CLEAN[@]}" TOP="$N" LABEL=domain all plots
show "$OUT/zipfit/selected.jsonl"

hr "DSIR: dsir -t | sample -n $N --without-replacement --log --by logw"
make --no-print-directory -s -f pipelines/dsir.mk W="$W" TARGET="$TARGET" POOL="$POOL" OUT="$OUT/dsir" \
	"${CLEAN[@]}" N="$N" LABEL=domain all plots
show "$OUT/dsir/selected.jsonl"

hr "how much the three selections overlap"
W="$W" pipelines/overlap "$OUT/tsds/selected.wnw" "$OUT/zipfit/selected.wnw" "$OUT/dsir/selected.wnw"
echo
echo "Stages are cached in $OUT/ (look at any with inspect); pictures: $(ls "$OUT"/*/*.png | tr '\n' ' ')"
