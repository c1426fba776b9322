#!/usr/bin/env bash
# bench/tsds.sh: the whole TSDS chain on n = 1,000,000 candidates, d = 256, m = 100 queries, K = 1000,
# KDE_K = 100, beside the reference procedure in Python (numpy + FAISS IVF, as the reference runs it,
# bench/tsds_ref.py) on the same data in the same run; wall time of every stage, and how far each
# result is from the exact probabilities.
#   B=build/rel bench/tsds.sh            (N=..., M=..., D=..., K=..., KDE_K=... to change the sizes)
# The machine is shared and has 2 cores: compare the two columns of one run, not runs with each other.
set -eu
cd "$(dirname "$0")/.."
B=${B:-build/rel}
case $B in /*) ;; *) B=$PWD/$B ;; esac
PATH=$B/bin:/usr/bin:/bin
PY=/usr/bin/python3
N=${N:-1000000} M=${M:-100} D=${D:-256} K=${K:-1000} KDE_K=${KDE_K:-100}
SIGMA=${SIGMA:-0.75} ALPHA=${ALPHA:-0.5} C=${C:-5} SAMPLE=${SAMPLE:-10000} J=${J:-2}
W=$(mktemp -d "${TMPDIR:-/tmp}/winnow-bench-tsds.XXXXXX")
trap 'rm -rf "$W"' EXIT
for p in pack knn-build kde-dedup ot-weight sample unpack; do
	[ -x "$B/bin/$p" ] || { echo "bench/tsds.sh: $B/bin/$p is missing: make B=$B all" >&2; exit 3; }
done
$PY -c 'import faiss, numpy' 2>/dev/null || { echo "bench/tsds.sh: needs python3-faiss and python3-numpy (make bench-deps)" >&2; exit 3; }

# Data: 2,000 clusters on the unit sphere with points scattered around them (many near-duplicates at
# sigma 0.75), the queries drawn around 20 of the same clusters.
$PY - "$W" "$N" "$M" "$D" <<'EOF'
import sys
import numpy as np
w, n, m, d = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
r = np.random.default_rng(12345)
centres = r.standard_normal((2000, d)).astype(np.float32)
centres /= np.linalg.norm(centres, axis=1, keepdims=True)
x = np.empty((n, d), np.float32)
for s in range(0, n, 100000):
    e = min(n, s + 100000)
    x[s:e] = centres[r.integers(0, 2000, e - s)] + 0.03 * r.standard_normal((e - s, d)).astype(np.float32)
x /= np.linalg.norm(x, axis=1, keepdims=True)
q = centres[r.integers(0, 20, m)] + 0.03 * r.standard_normal((m, d)).astype(np.float32)
q /= np.linalg.norm(q, axis=1, keepdims=True)
np.save(f"{w}/cand.npy", x)
np.save(f"{w}/query.npy", q.astype(np.float32))
EOF

now() { date +%s.%N; }
declare -A T
# time_stage NAME CMD...: wall time of one stage, into T[NAME].
time_stage() {
	local name=$1 t0
	shift
	t0=$(now)
	"$@"
	T[$name]=$(awk -v a="$(now)" -v b="$t0" 'BEGIN { printf "%.3f", a - b }')
}

cd "$W"
time_stage pack pack --vectors cand.npy -o pool.wnw
pack --vectors query.npy -o q.wnw
time_stage knn knn-build -j "$J" -q q.wnw -k "$K" -o union.wnw pool.wnw
time_stage kde kde-dedup -j "$J" --sigma "$SIGMA" -k "$KDE_K" -o union.kde.wnw union.wnw 2>kde.log
time_stage kdex kde-dedup -j "$J" --exact --sigma "$SIGMA" -k "$KDE_K" -o union.kdex.wnw union.wnw 2>>kde.log
time_stage ot ot-weight --alpha "$ALPHA" -C "$C" -v -o union.prob.wnw union.kde.wnw 2>ot.log
time_stage sample sample -n "$SAMPLE" --seed 1 -o sel.wnw union.prob.wnw
unpack --tsv id,prob union.prob.wnw >winnow.tsv
ot-weight --alpha "$ALPHA" -C "$C" union.kdex.wnw | unpack --tsv id,prob >winnow_exact.tsv
union=$(unpack --ids union.wnw | wc -l)

# The reference procedure, with FAISS IVF (approximate) and with flat search (exact).
$PY "$OLDPWD/bench/tsds_ref.py" --candidates cand.npy --queries query.npy -K "$K" --kde-K "$KDE_K" \
	--sigma "$SIGMA" --alpha "$ALPHA" -C "$C" --probs ref_ivf.npy --sample "$SAMPLE" 2>ref_ivf.log
$PY "$OLDPWD/bench/tsds_ref.py" --candidates cand.npy --queries query.npy -K "$K" --kde-K "$KDE_K" \
	--sigma "$SIGMA" --alpha "$ALPHA" -C "$C" --exact --probs ref_flat.npy --sample "$SAMPLE" 2>ref_flat.log
ref() { awk -v s="ref $2:" '$0 ~ "^" s { print $3 }' "$1"; }

echo "TSDS chain: n=$N d=$D m=$M K=$K KDE_K=$KDE_K sigma=$SIGMA alpha=$ALPHA C=$C, $union records reached"
echo "(seconds of wall time; winnow with -j $J; FAISS with its default threads)"
printf '%-22s %10s %14s %14s\n' stage winnow "ref FAISS IVF" "ref FAISS flat"
printf '%-22s %10.2f %14s %14s\n' "load / pack" "${T[pack]}" "$(ref ref_ivf.log load)" "$(ref ref_flat.log load)"
printf '%-22s %10.2f %14s %14s\n' "kNN (K nearest)" "${T[knn]}" "$(ref ref_ivf.log knn)" "$(ref ref_flat.log knn)"
printf '%-22s %10.2f %14s %14s\n' "KDE" "${T[kde]}" "$(ref ref_ivf.log kde)" "$(ref ref_flat.log kde)"
printf '%-22s %10.2f %14s %14s\n' "KDE, exact (--exact)" "${T[kdex]}" - -
printf '%-22s %10.2f %14s %14s\n' "OT weights" "${T[ot]}" "$(ref ref_ivf.log ot)" "$(ref ref_flat.log ot)"
printf '%-22s %10.2f %14s %14s\n' "sample $SAMPLE" "${T[sample]}" "$(ref ref_ivf.log sample)" "$(ref ref_flat.log sample)"
tot=$(awk -v a="${T[pack]}" -v b="${T[knn]}" -v c="${T[kde]}" -v d="${T[ot]}" -v e="${T[sample]}" 'BEGIN { print a + b + c + d + e }')
sum_ref() { awk '/^ref [a-z]*:/ { s += $3 } END { printf "%.2f", s }' "$1"; }
printf '%-22s %10.2f %14s %14s\n' "total" "$tot" "$(sum_ref ref_ivf.log)" "$(sum_ref ref_flat.log)"
sed 's/^/# /' kde.log ot.log
$PY - <<'EOF'
import numpy as np
flat, ivf = np.load("ref_flat.npy"), np.load("ref_ivf.npy")
def load(path):
    got = np.zeros_like(flat)
    with open(path) as f:
        next(f)
        for line in f:
            i, p = line.split("\t")
            got[int(i)] = float(p)
    return got
for name, v in (("winnow", load("winnow.tsv")), ("winnow --exact", load("winnow_exact.tsv")),
                ("ref FAISS IVF", ivf)):
    print(f"{name:15s} vs exact flat reference: max |diff| {np.abs(v - flat).max():.3g}, "
          f"L1 {np.abs(v - flat).sum():.3g}, non-zero {(v > 0).sum()} (exact {(flat > 0).sum()}), "
          f"same set {bool(((v > 0) == (flat > 0)).all())}")
EOF
