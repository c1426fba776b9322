#!/usr/bin/env bash
# bench/gradex.sh: gradex on N = 1,000,000 pool examples in 100 groups, d = 200, M = 1000 random
# subsets, 1000 target examples, on -j 2; total time and time per subset. Beside it, the plain way in
# numpy (Newton from zero on each subset's rows, as one would with a per-subset solver) on the first
# few of the same subsets: its time per subset, and how far its L(S) is from gradex's.
# Run as: B=build/rel bench/gradex.sh   (N, NGROUPS, DIM, M, THREADS, PEER in the environment)
set -eu
B=${B:-build/rel}
case $B in /*) ;; *) B=$(pwd)/$B ;; esac
N=${N:-1000000} NGROUPS=${NGROUPS:-100} DIM=${DIM:-200} M=${M:-1000} THREADS=${THREADS:-2} PEER=${PEER:-3}
W=$(mktemp -d "${TMPDIR:-/tmp}/gradex-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT
cd "$W"

echo "gradex bench: n=$N groups=$NGROUPS d=$DIM M=$M -j $THREADS (machine: $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg))"
# Groups with their own mean gradient direction plus noise, so that subsets differ.
/usr/bin/python3 - "$N" "$NGROUPS" "$DIM" <<'EOF'
import sys
import numpy as np
n, groups, d = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(1)
mu = rng.standard_normal((groups, d)) / np.sqrt(d)
src = np.sort(rng.integers(0, groups, n))
G = np.empty((n, d), np.float32)
for a in range(0, n, 100000):
    b = min(n, a + 100000)
    G[a:b] = 0.5 * mu[src[a:b]] + rng.standard_normal((b - a, d)).astype(np.float32) / np.sqrt(d)
np.save("pool_grad.npy", G)
np.save("pool_src.npy", src)
with open("pool.tsv", "w") as f:
    f.write("source\tf0\n")
    f.writelines("g%03d\t%.6f\n" % (s, v) for s, v in zip(src, rng.standard_normal(n)))
nt = 1000
T = (0.5 * mu[:5].mean(0) + rng.standard_normal((nt, d)) / np.sqrt(d)).astype(np.float32)
np.save("target_grad.npy", T)
with open("target.tsv", "w") as f:
    f.write("f0\n")
    f.writelines("%.6f\n" % v for v in rng.standard_normal(nt))
EOF
"$B/bin/pack" --tsv --text source --vectors grad=pool_grad.npy --field f0:f64 --field source:text pool.tsv > pool.wnw
"$B/bin/pack" --tsv --text f0 --vectors grad=target_grad.npy --field f0:f64 target.tsv > target.wnw
rm pool.tsv

# Wall time depends on what else the machine runs; CPU time (user + system) does much less, and
# divided by the thread count it is the wall time the same work takes on otherwise idle cores.
/usr/bin/time -f '%e %U %S' -o gradex.time "$B/bin/gradex" -t target.wnw -M "$M" -j "$THREADS" --progress \
	--losses losses.tsv -o groups.wnw pool.wnw 2> gradex.err
tr '\r' '\n' < gradex.err | grep -v 'records,' || true
read -r wall user sys < gradex.time
awk -v w="$wall" -v u="$user" -v s="$sys" -v m="$M" -v j="$THREADS" 'BEGIN {
	printf "gradex total: %.1f s wall, %.1f s CPU (%.1f s per core on %d threads) for %d subsets: %.3f s wall, %.3f s CPU per subset\n", w, u + s, (u + s) / j, j, m, w / m, (u + s) / m }'

/usr/bin/python3 - "$PEER" <<'EOF'
import sys, time
import numpy as np
peer = int(sys.argv[1])
G = np.load("pool_grad.npy", mmap_mode="r")
src = np.load("pool_src.npy")
T = np.load("target_grad.npy").astype(np.float64)
f0 = np.loadtxt("target.tsv", skiprows=1)
subsets, est = {}, {}
with open("losses.tsv") as f:
    next(f)
    for line in f:
        j, loss, group = line.rstrip("\n").split("\t")
        subsets.setdefault(int(j), []).append(int(group[1:]))
        est[int(j)] = float(loss)

def nls(z):
    return np.logaddexp(0, -z)

C, s = 1.0, 1.0
worst, took = 0.0, []
for j in sorted(subsets)[:peer]:
    t0 = time.time()
    X = np.asarray(G[np.isin(src, subsets[j])], dtype=np.float64)
    b = np.zeros(X.shape[1])
    for it in range(50):
        z = X @ b
        q = np.exp(-np.logaddexp(0, z))           # sigmoid(-z)
        g = -(X.T @ q) + b / C
        if np.linalg.norm(g) <= 1e-6 * 0.5 * max(np.linalg.norm(X.sum(0)), np.sqrt((X * X).sum())):
            break
        H = (X.T * (q * (1 - q))) @ X + np.eye(len(b)) / C
        b -= np.linalg.solve(H, g)
    L = nls(f0 + s * (T @ b) / np.linalg.norm(b)).mean()
    took.append(time.time() - t0)
    worst = max(worst, abs(L - est[j]))
print("numpy peer (Newton per subset from zero): %.2f s per subset over %d subsets, so %.0f s for %d; "
      "largest |L_numpy - L_gradex| = %.2e" % (np.mean(took), len(took), np.mean(took) * len(subsets),
                                               len(subsets), worst))
EOF
