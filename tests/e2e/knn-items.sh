#!/usr/bin/env bash
# knn-build with enough queries for several panels of 16 and work items per block, a tail panel of 4
# (the half tile) and a d that is not a multiple of 8: lists equal a brute force in numpy, and the bytes
# are the same whatever -j and --block.
source "$(dirname "$0")/../lib.sh"

python3 - <<'EOF'
import numpy as np
r = np.random.default_rng(11)
p = r.standard_normal((3000, 21)).astype(np.float32)
p[200] = p[17]; p[2999] = p[17]
np.save('pool.npy', p)
q = r.standard_normal((100, 21)).astype(np.float32)
q[3] = p[17] # a query on an exact duplicate: distance 0, ties to the smaller id
np.save('q.npy', q)
EOF
pack --vectors pool.npy >pool.wnw
pack --vectors q.npy >q.wnw


knn-build -q q.wnw -k 40 <pool.wnw >u1.wnw
unpack --tsv id,nbr u1.wnw >u1.tsv
same "100 queries, d 21: neighbour sets and distances equal brute force" "$(python3 "$TOP/tests/e2e/knn_brute.py" 40 u1.tsv)" same
for opts in "-j 2" "-j 3" "-j 2 --block 5" "-j 4 --block 1000" "--block 1"; do
	# shellcheck disable=SC2086
	knn-build -q q.wnw -k 40 $opts <pool.wnw >o.wnw
	unpack --tsv id,nbr o.wnw >o.tsv
	same_file "$opts writes the same records" o.tsv u1.tsv
done
knn-build -q q.wnw -k 40 -j 3 <pool.wnw >u3.wnw
same_file "same bytes with -j 3 and -j 1 (provenance included)" u3.wnw u1.wnw
same "a query on a record duplicated three times finds the smallest ids first at distance 0" \
	"$(unpack --tsv id,nbr u1.wnw | awk -F'\t' '$2 ~ /(^|,)3:0(,|$)/ {print $1}' | head -3 | tr '\n' ' ')" "17 200 2999 "
