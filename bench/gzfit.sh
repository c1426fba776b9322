#!/usr/bin/env bash
# bench/gzfit.sh: gzfit on the evaluation corpus (../shared/eval/public: 20,000 pool examples of
# 200-2000 bytes, 100 python targets), in one run:
#  - exact mode at default options (every core) beside bench/gzfit_ref.py, plain Python gzip over as
#    many processes: same data, identical scores, pairs/s and MB/s (MB of x ++ t compressed per
#    second); and beside zlib alone (bench/zlib_alone.c on every core: the deflate calls of the
#    definition, one per pair over x ++ t, and the calls gzfit makes, with no stream and no scoring),
#    the limit for exact mode;
#  - fast mode variants: speed-up over exact mode, Spearman rank agreement with it;
#  - selection quality of the top K = 1000 of each with ../shared/eval/quality.py, the spread of fast
#    mode's quality over other background samples, and both modes on the pool with injected copies.
# Times are wall seconds and cpu seconds (user + sys) of single runs: the machine may be shared, so
# compare the ratios within one run. Usage: B=build/rel bench/gzfit.sh [LEVELS]  (default "9 1");
# N=300 bench/gzfit.sh takes only the first N pool examples, for a quick look; EXACT_ONLY=1 stops
# after exact mode.
set -eu
cd "$(dirname "$0")/.."
B=$(cd "${B:-build/rel}" && pwd)
LEVELS=${1:-9 1}
PY=/usr/bin/python3
EVAL=$(cd .. && pwd)/shared/eval
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
export PATH="$B/bin:$PATH" SOURCE_DATE_EPOCH=0
K=1000

zstd -dc "$EVAL/public/pool.jsonl.zst" | head -n "${N:-20000}" >"$T/pool.jsonl"
zstd -dc "$EVAL/public/query.jsonl.zst" >"$T/query.jsonl"
pack --id id "$T/pool.jsonl" >"$T/pool.wnw" 2>/dev/null
pack --id id "$T/query.jsonl" >"$T/query.wnw" 2>/dev/null
# the texts for zlib_alone: a 4-byte little-endian length and the bytes, per text
$PY -c '
import json, struct, sys
for src, dst in zip(sys.argv[1::2], sys.argv[2::2]):
    with open(dst, "wb") as o:
        for l in open(src):
            b = json.loads(l)["text"].encode()
            o.write(struct.pack("<I", len(b)) + b)' "$T/pool.jsonl" "$T/pool.bin" "$T/query.jsonl" "$T/query.bin"
cc -O2 -o "$T/zlib_alone" bench/zlib_alone.c -lz -lpthread
NPROC=$(nproc)
read -r NP NT PB TB < <($PY -c '
import json, sys
p = [len(json.loads(l)["text"].encode()) for l in open(sys.argv[1])]
t = [len(json.loads(l)["text"].encode()) for l in open(sys.argv[2])]
print(len(p), len(t), sum(p), sum(t))' "$T/pool.jsonl" "$T/query.jsonl")
PAIRS=$((NP * NT))
PAIRBYTES=$((PB * NT + TB * NP)) # bytes of all x ++ t
echo "pool: $NP examples, $PB bytes; targets: $NT, $TB bytes; $PAIRS pairs, $PAIRBYTES bytes of x ++ t"

source bench/timed.sh
# scores NAME: id<TAB>score of a gzfit output $T/NAME.out into $T/NAME.tsv, and the top K as selection
scores() {
	unpack --tsv id,score "$T/$1.out" >"$T/$1.tsv"
	sample --top $K --by score "$T/$1.out" 2>/dev/null | unpack --tsv id | tail -n +2 |
		awk '{ printf "{\"id\": %s}\n", $1 }' >"$T/sel_$1.jsonl"
}
# spearman A B: rank correlation of two score files over the same ids
spearman() {
	$PY -c '
import sys, numpy as np
def load(f):
    d = np.loadtxt(f, skiprows=1, delimiter="\t")
    return d[np.argsort(d[:, 0]), 1]
def rank(v):
    o = np.argsort(v, kind="stable"); r = np.empty(len(v)); r[o] = np.arange(len(v))
    u, inv, c = np.unique(v, return_inverse=True, return_counts=True)
    s = np.zeros(len(u)); np.add.at(s, inv, r); return (s / c)[inv]
print("%.3f" % np.corrcoef(rank(load(sys.argv[1])), rank(load(sys.argv[2])))[0, 1])' "$1" "$2"
}
maxdiff() {
	paste "$1" "$2" | awk -F'\t' 'NR > 1 { if ($1 != $3) bad = 1; d = $2 - $4; if (d < 0) d = -d; if (d > m) m = d }
		END { if (bad) print "ids differ"; else printf "%.3g\n", m }'
}

echo
echo "exact mode (the ZIP-FIT definition), default options ($NPROC cores), beside plain Python gzip +"
echo "multiprocessing and zlib alone, each on $NPROC cores"
printf '%-34s %8s %8s %9s %7s %11s %9s %s\n' mode wall_s cpu_s pairs/s MB/s pairs/cpu-s MB/cpu-s \
	"max |score - python|"
SELS=""
# line NAME WALL CPU NOTE
line() {
	awk -v n="$1" -v w="$2" -v c="$3" -v p="$PAIRS" -v b="$PAIRBYTES" -v d="$4" \
		'BEGIN { printf "%-34s %8.2f %8.2f %9.0f %7.1f %11.0f %9.1f %s\n", n, w, c, p / w, b / w / 1e6,
			p / c, b / c / 1e6, d }'
}
for L in $LEVELS; do
	run "exact$L" gzfit --level "$L" -t "$T/query.wnw" "$T/pool.wnw"
	EW[L]=$W EC[L]=$C
	scores "exact$L"
	run "py$L" $PY bench/gzfit_ref.py --level "$L" -j "$NPROC" --pool "$T/pool.jsonl" --targets "$T/query.jsonl"
	PW[L]=$W PC[L]=$C
	cp "$T/py$L.out" "$T/py$L.tsv"
	run "zo$L" "$T/zlib_alone" -l "$L" -j "$NPROC" -m oneshot "$T/pool.bin" "$T/query.bin"
	ZOW=$W ZOC=$C
	run "zg$L" "$T/zlib_alone" -l "$L" -j "$NPROC" -m gzfit "$T/pool.bin" "$T/query.bin"
	ZGW=$W ZGC=$C
	cmp -s "$T/zo$L.out" "$T/zg$L.out" || { echo "zlib_alone: the two modes' sizes differ"; exit 1; }
	line "gzfit --level $L" "${EW[$L]}" "${EC[$L]}" "$(maxdiff "$T/exact$L.tsv" "$T/py$L.tsv")"
	line "python gzip level $L" "${PW[$L]}" "${PC[$L]}" "(reference)"
	line "zlib alone, one call per pair" "$ZOW" "$ZOC" "$(cat "$T/zo$L.out")"
	line "zlib alone, gzfit's calls" "$ZGW" "$ZGC" ""
	awk -v a="${PW[$L]}" -v b="${EW[$L]}" -v c="${PC[$L]}" -v d="${EC[$L]}" \
		'BEGIN { printf "  gzfit level '"$L"' is %.2fx Python in wall time, %.2fx in cpu time\n", a / b, c / d }'
	awk -v zo="$ZOW" -v zg="$ZGW" -v e="${EW[$L]}" -v zoc="$ZOC" -v zgc="$ZGC" -v ec="${EC[$L]}" \
		'BEGIN { printf "  gzfit level '"$L"' runs at %.2f / %.2f of zlib alone (one call per pair / gzfit'"'"'s calls) in wall time, %.2f / %.2f in cpu time\n",
			zo / e, zg / e, zoc / ec, zgc / ec }'
	SELS="$SELS exact_L$L=$T/sel_exact$L.jsonl"
done
[ -z "${EXACT_ONLY:-}" ] || exit 0
REF=$(echo "$LEVELS" | awk '{ print $1 }')

echo
echo "fast mode: compressions against the targets and backgrounds as dictionaries (-j 2)"
printf '%-58s %7s %7s %10s %6s %12s %s\n' mode wall_s cpu_s examples/s MB/s "x exact L$REF" "spearman vs exact L$REF"
# name and options of each variant; the first is the default
VARIANTS=(
	"default:"
	"bg_none:--background none"
	"raw1:--fast-level 1"
	"raw2:--fast-level 2"
	"raw9:--fast-level 9"
	"trained3:--dict trained"
	"zlib6:--dict zlib --fast-level 6"
	"zlib6_none:--dict zlib --fast-level 6 --background none"
)
for v in "${VARIANTS[@]}"; do
	name=fast_${v%%:*} opts=${v#*:}
	# shellcheck disable=SC2086
	run "$name" gzfit -j 2 --fast $opts -t "$T/query.wnw" "$T/pool.wnw"
	scores "$name"
	awk -v n="--fast $opts" -v w="$W" -v c="$C" -v np="$NP" -v pb="$PB" -v ew="${EW[$REF]}" \
		-v ec="${EC[$REF]}" -v r="$(spearman "$T/$name.tsv" "$T/exact$REF.tsv")" \
		'BEGIN { printf "%-58s %7.2f %7.2f %10.0f %6.1f %5.0fx/%4.0fx %s\n", n, w, c, np / w, pb / w / 1e6,
			ew / w, ec / c, r }'
	SELS="$SELS $name=$T/sel_$name.jsonl"
done
echo "  (x exact: wall-time ratio / cpu-time ratio)"

echo
echo "selection quality of the top $K (quality.py: target precision, held-out bits per byte; lower bpb is better)"
# shellcheck disable=SC2086
$PY "$EVAL/quality.py" --pool "$EVAL/public/pool.jsonl.zst" --heldout "$EVAL/public/heldout.jsonl.zst" $SELS 2>&1 |
	grep -v '^#'

# The backgrounds are samples chosen by a hash of the ids: other ids give other samples. Renumbering the
# pool (id + offset, undone before scoring the selection) shows how much the selection depends on them.
echo
echo "fast mode's sensitivity to the background sample: the pool renumbered 4 more ways"
SELS=""
for off in 1000000 2000000 3000000 4000000; do
	$PY -c '
import json, sys
off = int(sys.argv[1])
for l in open(sys.argv[2]):
    r = json.loads(l); r["id"] += off; print(json.dumps(r))' "$off" "$T/pool.jsonl" | pack --id id >"$T/pool_$off.wnw" 2>/dev/null
	gzfit -j 2 --fast -t "$T/query.wnw" "$T/pool_$off.wnw" >"$T/renum.out"
	sample --top $K --by score "$T/renum.out" 2>/dev/null | unpack --tsv id | tail -n +2 |
		awk -v off="$off" '{ printf "{\"id\": %d}\n", $1 - off }' >"$T/sel_renum_$off.jsonl"
	SELS="$SELS fast_ids+$off=$T/sel_renum_$off.jsonl"
done
# shellcheck disable=SC2086
$PY "$EVAL/quality.py" --pool "$EVAL/public/pool.jsonl.zst" --heldout "$EVAL/public/heldout.jsonl.zst" $SELS 2>&1 |
	grep -v '^#' | grep -v -e '^random' -e '^domain' -e '^whole'

# The pool with 6,000 injected copies: a selector that floods its picks with copies scores badly.
if [ -z "${N:-}" ]; then
	echo
	echo "pool_dup (20,000 + 6,000 copies): exact level $REF beside fast mode"
	zstd -dc "$EVAL/public/pool_dup.jsonl.zst" | pack --id id >"$T/dup.wnw" 2>/dev/null
	SELS=""
	for v in "exact_L$REF:--level $REF" "fast_default:--fast" "fast_raw1:--fast --fast-level 1" \
		"fast_bg_none:--fast --background none"; do
		name=dup_${v%%:*} opts=${v#*:}
		# shellcheck disable=SC2086
		run "$name" gzfit -j 2 $opts -t "$T/query.wnw" "$T/dup.wnw"
		printf '%-24s %7.2f s wall, %7.2f s cpu\n' "${v%%:*}" "$W" "$C"
		scores "$name"
		SELS="$SELS ${v%%:*}=$T/sel_$name.jsonl"
	done
	# shellcheck disable=SC2086
	$PY "$EVAL/quality.py" --pool "$EVAL/public/pool_dup.jsonl.zst" --heldout "$EVAL/public/heldout.jsonl.zst" \
		$SELS 2>&1 | grep -v '^#'
fi
