#!/usr/bin/env bash
# End-to-end tests of pursuit(1): recovery and duplicates against top-K by cosine (both asserted),
# determinism, sharding against --merge, --in-domain, segments, stopping rules, and bad input.
source "$(dirname "$0")/../lib.sh"

# Test data from a seeded generator (numpy): a planted problem, a pool with 100 exact copies of the
# best match, consecutive slices for external shards, and broken inputs.
/usr/bin/python3 - <<'EOF' || { echo "not ok - generate test data"; exit 1; }
import json
import numpy as np
r = np.random.default_rng(5)
n, d, k = 3000, 512, 30
A = (r.standard_normal((n, d)) / np.sqrt(d)).astype(np.float32)
planted = 11 + np.arange(k) * (n // k)
coef = np.concatenate([[8.0], r.uniform(0.5, 1.5, k - 1)])
b = (coef[:, None] * A[planted]).sum(0) / k
# near-copies of the dominant planted row: they lure top-K by cosine, not the pursuit
others = np.setdiff1d(np.arange(n), planted)[:60]
A[others] = 0.9 * A[planted[0]] + 0.44 * (r.standard_normal((60, d)) / np.sqrt(d))
T = b + 0.001 * r.standard_normal((5, d)) / np.sqrt(d)   # mean of 5 noisy copies
T = T - T.mean(0) + b
np.save("pool.npy", A)
np.save("target.npy", T.astype(np.float32))
np.save("planted.npy", planted)
with open("pool.jsonl", "w") as f:
    for i in range(n):
        f.write(json.dumps({"id": i, "text": "row %d" % i}) + "\n")
for s in range(6):   # consecutive shards of 500 records, with the same ids
    np.save("slice%d.npy" % s, A[s * 500:(s + 1) * 500])
    with open("slice%d.jsonl" % s, "w") as f:
        for i in range(s * 500, (s + 1) * 500):
            f.write(json.dumps({"id": i, "text": "row %d" % i}) + "\n")
# duplicates: 100 exact copies of the row that best matches the goal
D = r.standard_normal((2000, 64)).astype(np.float32)
g = D[[3, 50, 700, 1200, 1900]].sum(0) + 4 * D[3]
cos = D @ g / np.linalg.norm(D, axis=1)
best = int(np.argmax(cos))
D = np.concatenate([D, np.repeat(D[best:best + 1], 100, axis=0)])
np.save("dup.npy", D)
np.save("dupt.npy", g[None, :].astype(np.float32))
with open("dupbest", "w") as f:
    f.write("%d\n" % best)
# broken inputs
np.save("t64.npy", np.ones((2, 64), np.float32))
bad = A[:10].copy()
bad[3, 7] = 12345.0   # a unique value, made NaN in the packed stream below
np.save("nanbase.npy", bad)
EOF

pack --vectors grad=pool.npy -o pool.wnw pool.jsonl
pack --vectors grad=target.npy -o target.wnw
pack --vectors grad=dup.npy -o dup.wnw
pack --vectors grad=dupt.npy -o dupt.wnw
for s in 0 1 2 3 4 5; do pack --vectors grad=slice$s.npy -o slice$s.wnw slice$s.jsonl; done

# cosine_topk STREAM TARGET K: ids of the K records of largest cosine with the target mean (numpy)
cosine_topk() {
	unpack --npy grad "$1" > .a.npy && unpack --npy grad "$2" > .t.npy &&
		/usr/bin/python3 -c '
import sys, numpy as np
A = np.load(".a.npy"); b = np.load(".t.npy").astype(np.float64).mean(0)
c = A @ b / np.maximum(np.linalg.norm(A, axis=1), 1e-30)
for i in np.argsort(-c, kind="stable")[:int(sys.argv[1])]: print(i)' "$3"
}
planted_hits() { /usr/bin/python3 -c 'import sys, numpy as np
p = set(np.load("planted.npy").tolist()); print(sum(int(l) in p for l in sys.stdin))'; }

# --- recovery: the planted rows, where top-K by cosine falls for the near-copies
ok "pursuit runs on the planted problem" pursuit -t target.wnw -k 30 -o sel.wnw pool.wnw
hits=$(unpack --ids sel.wnw | planted_hits)
truthy "OMP recovers >= 95% of 30 planted rows (got $hits)" '[ "$hits" -ge 29 ]'
top=$(cosine_topk pool.wnw target.wnw 30 | planted_hits)
truthy "top-K by cosine does not (got $top)" '[ "$top" -lt 29 ]'
hits=$(pursuit -t target.wnw -k 30 --batch 10 pool.wnw | unpack --ids | planted_hits)
truthy "--batch 10 recovers >= 95% (got $hits)" '[ "$hits" -ge 29 ]'
same "the dominant planted row is chosen first" "$(unpack --ids sel.wnw | head -1)" 11
sum=$(unpack --tsv weight sel.wnw | awk 'NR > 1 { s += $1; if ($1 <= 0) bad = 1 } END { printf "%.12f %d", s, bad }')
same "weights are positive and sum to 1" "$sum" "1.000000000000 0"
same "weight is an f64 field appended after the others" \
	"$(inspect sel.wnw 2>/dev/null | grep -c 'weight.*f64')" 1

# --- against the independent numpy implementation of the same definition (bench/pursuit_peer.py)
/usr/bin/python3 -c 'import numpy as np
r = np.random.default_rng(1)
A = (r.choice([-1, 1], (3000, 64)) * (r.random((3000, 64)) < 0.15) * r.random((3000, 64))).astype(np.float32)
np.save("sp.npy", A); np.save("spt.npy", (A[:40] + 0.05 * r.standard_normal((40, 64))).astype(np.float32))'
pack --vectors grad=sp.npy -o sp.wnw && pack --vectors grad=spt.npy -o spt.wnw
/usr/bin/python3 "$TOP/bench/pursuit_peer.py" omp sp.npy spt.npy 200 peer.ids 2>/dev/null
same "OMP chooses what the numpy peer chooses, in the same order" \
	"$(pursuit -t spt.wnw -k 200 --rounds 1 sp.wnw 2>/dev/null | unpack --ids)" "$(cat peer.ids)"
/usr/bin/python3 "$TOP/bench/pursuit_peer.py" omp pool.npy target.npy 30 peer.ids 2>/dev/null
same "... also on the planted problem" "$(unpack --ids sel.wnw)" "$(cat peer.ids)"

# --- duplicates: 100 exact copies of the best match (ids 2000..2099 and the original)
best=$(cat dupbest)
isdup() { awk -v b="$best" '$1 == b || $1 >= 2000 { n++ } END { print n + 0 }'; }
got=$(pursuit -t dupt.wnw -k 100 --rounds 1 dup.wnw 2>/dev/null | unpack --ids | isdup)
truthy "pursuit chooses at most one of the 101 identical rows (got $got)" '[ "$got" -le 1 ]'
got=$(pursuit -t dupt.wnw -k 100 --batch 50 --rounds 1 dup.wnw 2>/dev/null | unpack --ids | isdup)
truthy "--batch 50 chooses at most one of them (got $got)" '[ "$got" -le 1 ]'
top=$(cosine_topk dup.wnw dupt.wnw 100 | isdup)
same "top-K by cosine takes 100 of them" "$top" 100

# --- determinism and plumbing
pursuit -t target.wnw -k 30 -j 1 pool.wnw > j1.wnw
pursuit -t target.wnw -k 30 -j 2 pool.wnw > j2.wnw
same_file "-j 1 and -j 2 write the same bytes" j1.wnw j2.wnw
same "a piped pool gives the same records as a named one" \
	"$(cat pool.wnw | pursuit -t target.wnw -k 30 -j 2 | unpack --add weight)" "$(unpack --add weight j1.wnw)"
zstd -q -c pool.wnw > pool.wnw.zst
same "a zstd pool gives the same records" "$(pursuit -t target.wnw -k 30 pool.wnw.zst | unpack --tsv id,weight)" \
	"$(unpack --tsv id,weight j1.wnw)"
pursuit -t target.wnw -k 30 --report pool.wnw 2> report.txt > /dev/null
same "--report prints one line per step and a summary" "$(grep -c ': step ' report.txt) $(grep -c 'stopped after' report.txt)" "30 1"
dec=$(awk '/: step /{ r = $7 + 0; if (n++ && r >= prev) bad = 1; prev = r } END { print bad + 0 }' report.txt)
same "the reported residual decreases at every step" "$dec" 0
n=$(pursuit -t target.wnw -k 30 --tol 0.5 --rounds 1 --report pool.wnw 2> tol.txt | unpack --ids | wc -l)
truthy "--tol 0.5 stops early ($n chosen)" '[ "$n" -lt 30 ] && grep -q "tolerance reached" tol.txt'
n=$(pursuit -t target.wnw -k 5 --in-domain pool.wnw 2>&1 >/dev/null | grep -c 'exactly one')
same "-t and --in-domain exclude each other" "$n" 1

# --- --in-domain: the goal is the pool's own mean, the same as -t POOL
same "--in-domain equals -t with the pool as target" \
	"$(pursuit --in-domain -k 40 pool.wnw | unpack --tsv id,weight)" \
	"$(pursuit -t pool.wnw -k 40 pool.wnw | unpack --tsv id,weight)"
same "--in-domain with --shard-size equals -t POOL with it" \
	"$(pursuit --in-domain -k 40 --shard-size 700 --keep-per-shard 60 pool.wnw | unpack --tsv id,weight)" \
	"$(pursuit -t pool.wnw -k 40 --shard-size 700 --keep-per-shard 60 pool.wnw | unpack --tsv id,weight)"
fails 2 'name it as POOL' "--in-domain with --shard-size on stdin is refused" \
	sh -c 'pursuit --in-domain -k 4 --shard-size 100 < pool.wnw'

# --- sharding: built in, and by hand with --merge over shortlists made one by one
pursuit -t target.wnw -k 30 --shard-size 500 --keep-per-shard 40 pool.wnw > sharded.wnw
for s in 0 1 2 3 4 5; do pursuit -t target.wnw -k 40 slice$s.wnw > short$s.wnw; done
cat short0.wnw short1.wnw short2.wnw short3.wnw short4.wnw short5.wnw |
	pursuit --merge -t target.wnw -k 30 > merged.wnw
same "--merge over hand-made shortlists equals --shard-size (records and weights)" \
	"$(unpack --add weight merged.wnw)" "$(unpack --add weight sharded.wnw)"
same "... and the vectors" "$(unpack --npy grad merged.wnw | md5sum)" "$(unpack --npy grad sharded.wnw | md5sum)"
hits=$(unpack --ids sharded.wnw | planted_hits)
# shards without the dominant row fill their shortlists with rows correlated with it (see pursuit(1))
truthy "sharded pursuit recovers >= 70% (got $hits)" '[ "$hits" -ge 21 ]'
pursuit -t target.wnw -k 30 --shard-size 500 --keep-per-shard 40 -j 2 pool.wnw > sharded2.wnw
same_file "sharded output is the same for -j 2" sharded2.wnw sharded.wnw
fails 1 "no field 'weight'" "--merge refuses a stream that is not a shortlist" \
	pursuit --merge -t target.wnw -k 5 pool.wnw

# --- segments: weights 1,0 select as the first half alone would
/usr/bin/python3 -c 'import numpy as np
A = np.load("pool.npy"); T = np.load("target.npy")
np.save("half.npy", A[:, :256].copy()); np.save("halft.npy", T[:, :256].copy())
np.save("wide.npy", np.concatenate([A[:, :256], 3 * A[:, 256:]], 1)); np.save("widet.npy", np.concatenate([T[:, :256], 3 * T[:, 256:]], 1))'
pack --vectors grad=half.npy -o half.wnw && pack --vectors grad=halft.npy -o halft.wnw
pack --vectors grad=wide.npy -o wide.wnw && pack --vectors grad=widet.npy -o widet.wnw
same "--segment-weights 1,0 selects as the first block alone" \
	"$(pursuit -t target.wnw -k 20 --segments 2 --segment-weights 1,0 pool.wnw | unpack --ids)" \
	"$(pursuit -t halft.wnw -k 20 half.wnw | unpack --ids)"
same "--segment-weights 1,3 undoes a block scaled by 1/3" \
	"$(pursuit -t widet.wnw -k 20 --segments 2 --segment-weights 1,0.333333333333333333 wide.wnw | unpack --ids)" \
	"$(pursuit -t target.wnw -k 20 pool.wnw | unpack --ids)"
fails 1 'not a multiple of 3 segments' "--segments must divide the dimension" \
	pursuit -t target.wnw -k 5 --segments 3 pool.wnw
fails 2 '2 weights for 4 segments' "--segment-weights must give one weight per segment" \
	pursuit -t target.wnw -k 5 --segments 4 --segment-weights 1,2 pool.wnw

# --- bad input and usage
pack --vectors grad=t64.npy -o t64.wnw
pack --vectors grad=nanbase.npy -o nanbase.wnw
# a stream with a NaN component: pack refuses NaN, so patch the packed bytes and fix the trailer's CRC
/usr/bin/python3 -c 'import struct, zlib
b = bytearray(open("nanbase.wnw", "rb").read())
i = b.index(struct.pack("<f", 12345.0)); b[i:i + 4] = struct.pack("<I", 0x7fc00000)
start = 16 + struct.unpack_from("<I", b, 12)[0] + 4
struct.pack_into("<I", b, len(b) - 4, zlib.crc32(bytes(b[start:len(b) - 16])))
open("nan.wnw", "wb").write(b)'
fails 1 "no field 'emb'" "a missing vector field is bad data" pursuit -t target.wnw -k 5 --field emb pool.wnw
fails 1 "no field 'grad'" "a target without the field is bad data" sh -c 'pack pool.jsonl | pursuit -t - -k 5 pool.wnw'
fails 1 'dimension 512, the target.s has 64' "a dimension mismatch names both" pursuit -t t64.wnw -k 5 pool.wnw
fails 1 'nan.wnw: record 4: field .grad.: component 7 is not finite' "a NaN component names the record" \
	pursuit -t target.wnw -k 5 nan.wnw
fails 1 'nan.wnw: record 4: field' "... also in the target" pursuit -t nan.wnw -k 5 pool.wnw
fails 2 "-k: '0' is not a whole number" "K = 0 is a usage error" pursuit -t target.wnw -k 0 pool.wnw
fails 2 '-k K is required' "K is required" pursuit -t target.wnw pool.wnw
fails 2 'larger than -k' "--batch above K is a usage error" pursuit -t target.wnw -k 5 --batch 6 pool.wnw
head -c 100000 pool.wnw > cut.wnw
fails 1 'trunc' "a truncated pool is an error, not a shorter pool" pursuit -t target.wnw -k 5 cut.wnw
same "a goal met before the first step selects nothing" \
	"$(pursuit -t target.wnw -k 5 --tol 1 pool.wnw | unpack --ids | wc -l)" 0

# --- rounds: a rank-deficient pool (200 non-negative vectors of dimension 16 spanning 3 dimensions)
/usr/bin/python3 -c '
import numpy as np
r = np.random.default_rng(9)
B = r.random((3, 16))
A = (r.random((200, 3)) @ B).astype(np.float32)
np.save("rd.npy", A); np.save("rdt.npy", A[:4]); np.save("rd20.npy", A[:20])'
pack --vectors grad=rd.npy -o rd.wnw && pack --vectors grad=rdt.npy -o rdt.wnw && pack --vectors grad=rd20.npy -o rd20.wnw
one=$(pursuit -t rdt.wnw -k 50 --rounds 1 rd.wnw 2>r1.err | unpack --ids | wc -l)
truthy "--rounds 1: one pursuit stops short on a rank-3 pool ($one of 50) and says why" \
	"[ $one -lt 50 ] && grep -q 'asked for 50 records, chose $one in 1 round' r1.err"
pursuit -t rdt.wnw -k 50 rd.wnw 2>rn.err | unpack --tsv id,weight >rn.tsv
same "rounds reach K on the rank-3 pool: 50 distinct records, quietly" \
	"$(awk 'NR > 1' rn.tsv | cut -f1 | sort -u | wc -l) $(wc -c <rn.err)" "50 0"
truthy "the weights of all rounds sum to 1" \
	"awk 'NR > 1 { s += \$2 } END { exit !(s > 0.999999 && s < 1.000001) }' rn.tsv"
same "the first round is the single pursuit, in order" \
	"$(awk 'NR > 1' rn.tsv | head -n $one | cut -f1)" "$(pursuit -t rdt.wnw -k 50 --rounds 1 rd.wnw 2>/dev/null | unpack --ids)"
fails 0 "asked for 50 records, chose 20 in [0-9]+ rounds: the pool is exhausted" \
	"a pool smaller than K is taken whole, and that is said" pursuit -t rdt.wnw -k 50 -o /dev/null rd20.wnw
