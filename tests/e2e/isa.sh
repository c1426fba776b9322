#!/usr/bin/env bash
# WINNOW_ISA: every kernel level gives the same output bytes (knn join and distances, the KDE self-join,
# pursuit's correlations, MinHash, the tokeniser of embed-hash and dsir, the stream CRC), and a bad
# value is a usage error. A level above the CPU's runs the CPU's own, so the list covers every level
# this machine has.
source "$(dirname "$0")/../lib.sh"

# d 37: the vector kernels' tails; exact copies (ties) and a tight group (the KDE radius).
/usr/bin/python3 - <<'EOF2' || { echo "not ok - generate test data"; exit 1; }
import numpy as np
r = np.random.default_rng(23)
x = r.standard_normal((2500, 37)).astype(np.float32)
x[10] = x[11] = x[12]
x[400:420] = x[399] + 0.002 * r.standard_normal((20, 37)).astype(np.float32)
np.save('x.npy', x)
np.save('q.npy', r.standard_normal((40, 37)).astype(np.float32))
np.save('t.npy', (x[[3, 50, 900]].mean(0, keepdims=True) + 0.01).astype(np.float32))
EOF2
pack --vectors x.npy >x.wnw
pack --vectors q.npy >q.wnw
pack --vectors grad=t.npy >t.wnw
pack --vectors grad=x.npy >g.wnw
pack --id id "$DATA/dedup/pool.jsonl" >text.wnw

# run LEVEL: every dispatched kernel through a program, outputs in LEVEL/.
run() {
	mkdir -p "$1" && export WINNOW_ISA=$1
	knn-build -q q.wnw -k 25 -j 2 x.wnw >"$1/knn.wnw"
	knn-build -q q.wnw -k 25 --block 7 x.wnw >"$1/knn7.wnw"
	kde-dedup --sigma 0.5 -k 20 x.wnw >"$1/kde.wnw" 2>/dev/null
	kde-dedup --sigma 0.5 -k 20 --exact-max 10 --nlist 8 --nprobe 3 x.wnw >"$1/ivf.wnw" 2>/dev/null
	kde-dedup --drop-within 0.05 x.wnw >"$1/drop.wnw" 2>/dev/null
	pursuit -t t.wnw -k 20 g.wnw >"$1/pursuit.wnw"
	dedup --minhash --mark text.wnw >"$1/dedup.wnw"
	embed-hash --char 2-4 text.wnw >"$1/embed.wnw"
	dsir -t text.wnw --ngram 1-3 text.wnw >"$1/dsir.wnw"
	inspect --check "$1/kde.wnw" >"$1/check.txt"
	unset WINNOW_ISA
}
run portable
run avx2
run avx512
for f in knn knn7 kde ivf drop pursuit dedup embed dsir; do
	truthy "$f has records" "[ \$(unpack --ids portable/$f.wnw | wc -l) -gt 0 ]"
	same_file "$f: avx2 gives the portable bytes" avx2/$f.wnw portable/$f.wnw
	same_file "$f: avx512 (or the CPU's best) gives the portable bytes" avx512/$f.wnw portable/$f.wnw
done
same_file "the CRC check agrees across levels" avx2/check.txt portable/check.txt

fails 2 "WINNOW_ISA: 'sse9' is not portable, avx2 or avx512" "an unknown WINNOW_ISA is a usage error" \
	env WINNOW_ISA=sse9 unpack --ids x.wnw
status 0 "an empty WINNOW_ISA is the default" env WINNOW_ISA= unpack --ids x.wnw
