#!/usr/bin/env bash
# bench/kde.sh: kde-dedup on a union of N = 100,000 records, d = 256, KDE_K = 100, beside FAISS IVF as the
# TSDS reference uses it, with the agreement of both approximate searches with the exact kde.
#   B=build/rel bench/kde.sh        (N=20000 for a quick look)
# The data: unit vectors in clusters of about 50 with spreads from tight to loose (clusters overlap), a
# tenth of them near-copies of another record, so that kde is far from trivial (sigma 0.75 as in the
# TSDS toy case). Agreement: the share of records whose kde
# is within 1% of the exact value. The machine is shared: compare ratios within one run.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
B=${B:-build/rel}
case $B in /*) ;; *) B=$TOP/$B ;; esac
PATH=$B/bin:/usr/bin:/bin
N=${N:-100000} D=256 KK=${KK:-100} SIGMA=${SIGMA:-0.75}
W=$(mktemp -d "${TMPDIR:-/tmp}/kde-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT
cd "$W"

python3 - "$N" "$D" <<'PY'
import sys, numpy as np
n, d = int(sys.argv[1]), int(sys.argv[2])
r = np.random.default_rng(5)
nc = max(1, n // 50)
c = r.standard_normal((nc, d)).astype(np.float32); c /= np.linalg.norm(c, axis=1, keepdims=True)
scale = r.uniform(0.01, 0.06, (n, 1)).astype(np.float32)
x = c[r.integers(0, nc, n)] + scale * r.standard_normal((n, d)).astype(np.float32)
dup = r.random(n) < 0.1
src = r.integers(0, n, n)
x[dup] = x[src[dup]] + (0.002 * r.standard_normal((int(dup.sum()), d))).astype(np.float32)
x /= np.linalg.norm(x, axis=1, keepdims=True)
np.save('x.npy', x.astype(np.float32))
PY
pack --vectors x.npy >x.wnw
echo "# data: n = $N, d = $D, KDE_K = $KK, sigma = $SIGMA"

run() { # LABEL OUT ARGS...: times kde-dedup, keeps its kde column
	local label=$1 out=$2; shift 2
	/usr/bin/time -f '%e %U' -o t.txt kde-dedup --sigma "$SIGMA" -k "$KK" "$@" <x.wnw 2>err.txt | unpack --tsv kde >"$out"
	read -r secs cpu <t.txt
	printf '%-34s %7.2f s wall %7.2f s cpu   %s\n' "$label" "$secs" "$cpu" "$(sed 's/^kde-dedup: //' err.txt)"
}
run "kde-dedup exact -j 2" exact.tsv --exact -j 2
run "kde-dedup inverted file -j 1" ivf1.tsv --exact-max 0 -j 1
run "kde-dedup inverted file -j 2" ivf2.tsv --exact-max 0 -j 2
# One FAISS run (its IVF search takes minutes here): two OpenMP threads that sleep when idle, the best
# setting of the flat benchmark.
t=$(OMP_WAIT_POLICY=PASSIVE OPENBLAS_NUM_THREADS=1 python3 "$TOP/bench/kde_faiss.py" x.npy "$SIGMA" "$KK" faiss.npy 2)
printf '%-34s %s\n' "faiss IVF (TSDS), 2 threads" "$t"

python3 - <<'PY'
import numpy as np
ex = np.loadtxt('exact.tsv', skiprows=1)
def agree(k):
    rel = np.abs(k - ex) / ex
    return '%.2f%% within 1%%, %.2f%% within 1e-5, worst %.3g' % (100 * (rel <= 0.01).mean(), 100 * (rel <= 1e-5).mean(), rel.max())
print('agreement with exact: kde-dedup inverted file:', agree(np.loadtxt('ivf1.tsv', skiprows=1)))
print('agreement with exact: faiss IVF:              ', agree(np.load('faiss.npy')))
print('same kde with -j 1 and -j 2:', bool((np.loadtxt('ivf1.tsv', skiprows=1) == np.loadtxt('ivf2.tsv', skiprows=1)).all()))
PY

# Where exact stops paying: exact and inverted file on smaller unions (cpu seconds).
for n in 2000 5000 10000 20000; do
	[ "$n" -lt "$N" ] || continue
	python3 -c "import numpy as np; np.save('s.npy', np.load('x.npy')[:$n])"
	pack --vectors s.npy >s.wnw
	/usr/bin/time -f '%U' -o a.txt kde-dedup --sigma "$SIGMA" -k "$KK" --exact <s.wnw >/dev/null 2>&1
	/usr/bin/time -f '%U' -o b.txt kde-dedup --sigma "$SIGMA" -k "$KK" --exact-max 0 <s.wnw >/dev/null 2>&1
	echo "n = $n: exact $(cat a.txt) s cpu, inverted file $(cat b.txt) s cpu"
done
