#!/usr/bin/env bash
# demo/run.sh (make demo): the bundled corpus through the stream tools, TSDS and ZIP-FIT, showing what
# each method picked for a target of Python code. Stages are cached in $DEMO_OUT (default demo-out).
set -euo pipefail
cd "$(dirname "$0")/.."
B=${B:-build/rel}
W=$PWD/$B/bin/
OUT=${DEMO_OUT:-demo-out}
N=${DEMO_N:-30}
POOL=demo/pool.jsonl.zst
TARGET=demo/target.jsonl.zst
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

hr "TSDS: embed-hash | knn-build | kde-dedup | ot-weight | sample -n $N"
make --no-print-directory -s -f pipelines/tsds.mk W="$W" QUERY="$TARGET" POOL="$POOL" OUT="$OUT/tsds" \
	N="$N" K=50 KDE_K=50 DIM=1024 C=0.2 LABEL=domain all plots
show "$OUT/tsds/selected.jsonl"

hr "ZIP-FIT: gzfit | sample --top $N"
make --no-print-directory -s -f pipelines/zipfit.mk W="$W" TARGET="$TARGET" POOL="$POOL" OUT="$OUT/zipfit" \
	TOP="$N" LABEL=domain all plots
show "$OUT/zipfit/selected.jsonl"

hr "how much the two selections overlap"
W="$W" pipelines/overlap "$OUT/tsds/selected.wnw" "$OUT/zipfit/selected.wnw"
echo
echo "Stages are cached in $OUT/ (look at any with inspect); pictures: $(ls "$OUT"/*/*.png | tr '\n' ' ')"
