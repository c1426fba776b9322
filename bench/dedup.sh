#!/usr/bin/env bash
# bench/dedup.sh: dedup and decontam on the evaluation corpus (../shared/eval/public), in one run:
#  - dedup --minhash (-j 1 and -j 2) beside bench/dedup_numpy.py, a plain numpy MinHash-LSH with the
#    same shingles, permutations, bands and verification, on pool_dup (26,000 records) and on a pool ten
#    times larger made from it (copy k > 0 appends k to every word, so the copies are new texts);
#  - dedup --exact; the text rate per CPU-second of dedup --minhash -j 1 (whole program: reading,
#    shingles, signatures, sort, verification, writing);
#  - quality on pool_dup against dup_groups (bench/dedup_quality.py);
#  - decontam on pool with 300 records given a 60-word span of a held-out record (bench/decontam_pool.py).
# Times are wall and cpu seconds (user + sys) of single runs; the machine may be shared, so compare the
# ratios within one run. Usage: B=build/rel bench/dedup.sh; PEER10=0 skips the peer on the large pool.
set -eu
cd "$(dirname "$0")/.."
TOP=$(pwd)
B=$(cd "${B:-build/rel}" && pwd)
PY=/usr/bin/python3
EVAL=$(cd .. && pwd)/shared/eval/public
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
export PATH="$B/bin:$PATH" SOURCE_DATE_EPOCH=0

source "$TOP/bench/timed.sh"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }

zstd -dc "$EVAL/pool_dup.jsonl.zst" >"$T/dup.jsonl"
$PY -c '
import json, re, sys
word = re.compile(r"\w+")
with open(sys.argv[2], "w") as out:
    for k in range(10):
        for line in open(sys.argv[1]):
            o = json.loads(line)
            if k:
                o["text"] = word.sub(lambda m: m.group(0) + str(k), o["text"])
            o["id"] += k * 100000
            out.write(json.dumps(o) + "\n")' "$T/dup.jsonl" "$T/dup10.jsonl"
for p in dup dup10; do
	pack --id id "$T/$p.jsonl" >"$T/$p.wnw"
	bytes=$(inspect "$T/$p.wnw" | awk '/^records:/ { n = $2 } /^  text:/ { gsub(/[,}]/, ""); m = $(NF - 2) } END { printf "%d %.0f", n, n * m }')
	read -r n tb <<<"$bytes"
	echo "== $p: $n records, $tb bytes of text"
	run mh1 dedup --minhash -j 1 "$T/$p.wnw"
	W1=$W C1=$C K1=$(inspect "$T/mh1.out" | awk '/^records:/ { print $2 }')
	run mh2 dedup --minhash -j 2 "$T/$p.wnw"
	W2=$W C2=$C
	cmp -s "$T/mh1.out" "$T/mh2.out" || { echo "-j 2 differs from -j 1"; exit 1; }
	run ex dedup --exact "$T/$p.wnw"
	WX=$W CX=$C KX=$(inspect "$T/ex.out" | awk '/^records:/ { print $2 }')
	echo "dedup --minhash -j 1: $W1 s wall, $C1 s cpu, kept $K1; $(awk -v b="$tb" -v c="$C1" 'BEGIN { printf "%.0f", b / c / 1e6 }') MB of text per cpu-second"
	echo "dedup --minhash -j 2: $W2 s wall, $C2 s cpu (same bytes as -j 1)"
	echo "dedup --exact     -j 1: $WX s wall, $CX s cpu, kept $KX"
	if [ "$p" = dup ] || [ "${PEER10:-1}" = 1 ]; then
		run peer $PY "$TOP/bench/dedup_numpy.py" <"$T/$p.jsonl"
		echo "numpy peer:             $W s wall, $C s cpu, kept $(cat "$T/peer.out")"
		echo "dedup --minhash -j 1 is $(ratio "$C" "$C1")x the peer in cpu time, $(ratio "$W" "$W1")x in wall time"
	fi
done

echo "== quality on pool_dup (defaults)"
for m in exact minhash; do
	echo "dedup --$m:"
	dedup --$m --mark "$T/dup.wnw" | unpack --add dup_of | $PY "$TOP/bench/dedup_quality.py" "$EVAL/dup_groups.jsonl.zst"
done

echo "== decontam: pool with 300 planted 60-word spans of held-out records, reference: the held-out set"
$PY "$TOP/bench/decontam_pool.py" "$EVAL/pool.jsonl.zst" "$EVAL/heldout.jsonl.zst" >"$T/cpool.jsonl"
pack --id id --field planted:u64 "$T/cpool.jsonl" >"$T/cpool.wnw"
zstd -dc "$EVAL/heldout.jsonl.zst" >"$T/heldout.jsonl"
for opt in "" "--bloom" "--min-overlap 0.1"; do
	# shellcheck disable=SC2086
	run dc decontam $opt -r "$T/heldout.jsonl" "$T/cpool.wnw"
	unpack --tsv planted "$T/dc.out" | awk -v o="$opt" -v w="$W" -v c="$C" '
		NR > 1 { kept++; p += $1 }
		END { printf "decontam %s: planted caught %d of 300, others dropped %d; %s s wall, %s s cpu\n",
			o, 300 - p, 20000 - kept - (300 - p), w, c }'
done
decontam -v -r "$T/heldout.jsonl" "$T/cpool.wnw" 2>&1 >/dev/null | sed 's/^/  /'
