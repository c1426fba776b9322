#!/usr/bin/env bash
# knn-build when many candidates lie at one distance from a query (copies and near-copies of a record):
# their bounds overlap, so the lists are settled by exact distances between blocks, read back from the
# block or from the kept records, spilled or not. Lists equal a brute force whatever -j, --block and -S.
source "$(dirname "$0")/../lib.sh"

python3 - <<'EOF2'
import numpy as np
r = np.random.default_rng(5)
p = r.standard_normal((3000, 37)).astype(np.float32)
c = p[10].copy()
p[100:1600] = c                                     # 1500 exact copies
p[1600:2400] = c + r.standard_normal((800, 37)).astype(np.float32) * 1e-6  # 800 near-copies
np.save('pool.npy', p[r.permutation(3000)])
q = r.standard_normal((20, 37)).astype(np.float32) * 0.1 + c
q[0] = c
np.save('q.npy', q)
EOF2
pack --vectors pool.npy >pool.wnw
pack --vectors q.npy >q.wnw

knn-build -q q.wnw -k 60 <pool.wnw >u.wnw
unpack --tsv id,nbr u.wnw >u.tsv
same "2300 copies and near-copies: lists equal brute force" "$(python3 "$TOP/tests/e2e/knn_brute.py" 60 u.tsv)" same
# From a file, records are read again from it; from a pipe they are copied, and with -S 1 spilled.
for opts in "--block 64" "--block 64 -S 1" "-j 2 --block 50 -S 1" "-j 3 --block 7"; do
	# shellcheck disable=SC2086
	knn-build -q q.wnw -k 60 $opts <pool.wnw >o.wnw
	unpack --tsv id,nbr o.wnw >o.tsv
	same_file "$opts: the same records" o.tsv u.tsv
	# shellcheck disable=SC2086
	cat pool.wnw | knn-build -q q.wnw -k 60 $opts >o.wnw
	unpack --tsv id,nbr o.wnw >o.tsv
	same_file "$opts, from a pipe: the same records" o.tsv u.tsv
done
