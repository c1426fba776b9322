#!/usr/bin/env bash
# bench/pursuit.sh: pursuit(1) against peers in the same run.
#  speed:   n x d Gaussian pool (default 1,000,000 x 256), K = 1000: pursuit (OMP, -j 1 and -j 2;
#           --batch 100) beside a numpy non-negative OMP written independently (bench/pursuit_peer.py),
#           with the overlap of their selections; and numpy top-K by cosine.
#  quality: ../shared/eval/public with embed-hash vectors standing in for gradients, K = 1000:
#           quality.py figures of pursuit's selection beside top-K by cosine to the target mean, on
#           pool and pool_dup, at embed-hash dimensions 256 and 4096.
# Usage: B=build/rel bench/pursuit.sh [speed|quality|all] [N]. The machine is shared: compare ratios
# within one run.
set -eu
cd "$(dirname "$0")/.."
TOP=$PWD
B=${B:-build/rel}
case $B in /*) ;; *) B=$TOP/$B ;; esac
WHAT=${1:-all}
N=${2:-1000000}
PY=/usr/bin/python3
EVAL=$TOP/../shared/eval
export PATH=$B/bin:/usr/bin:/bin SOURCE_DATE_EPOCH=0 LC_ALL=C
T=$(mktemp -d "${TMPDIR:-/tmp}/pursuit-bench.XXXXXX")
trap 'rm -rf "$T"' EXIT
cd "$T"

# seconds COMMAND...: wall seconds of one run (stdout to /dev/null, stderr kept in .err)
seconds() { /usr/bin/time -f %e -o .t "$@" >/dev/null 2>.err; cat .t; }
summary() { grep 'stopped after' "$1" | sed 's/^pursuit: //'; }

# make_problem N D ROWS SEED: pool.npy (N standard normal rows of dimension D) and target.npy (1000
# vectors around the mean of ROWS pool rows), for a pursuit that has a good answer to find.
make_problem() {
	$PY - "$@" <<-'EOF'
	import sys, numpy as np
	n, d, rows, seed = (int(a) for a in sys.argv[1:5])
	r = np.random.default_rng(seed)
	A = r.standard_normal((n, d), dtype=np.float32)
	np.save("pool.npy", A)
	T = A[r.choice(n, rows, replace=False)].mean(0) + 0.05 * r.standard_normal((1000, d), dtype=np.float32)
	np.save("target.npy", T.astype(np.float32))
	EOF
}

speed() {
	local d=256 k=1000
	echo "== speed: n=$N d=$d K=$k, $(nproc) cores"
	make_problem "$N" "$d" 300 2
	pack --vectors grad=pool.npy -o pool.wnw
	pack --vectors grad=target.npy -o target.wnw
	cat pool.wnw > /dev/null
	printf '%-34s %8s  %s\n' program seconds result
	for j in 2 1; do
		s=$(seconds pursuit -t target.wnw -k $k -j $j --report -o omp$j.wnw pool.wnw)
		printf '%-34s %8s  %s\n' "pursuit OMP -j $j" "$s" "$(summary .err)"
	done
	cmp -s omp1.wnw omp2.wnw && echo "(-j 1 and -j 2 outputs identical)" || echo "(-j 1 and -j 2 outputs DIFFER)"
	s=$(seconds pursuit -t target.wnw -k $k -j 2 --batch 100 --report -o batch.wnw pool.wnw)
	printf '%-34s %8s  %s\n' "pursuit --batch 100 -j 2" "$s" "$(summary .err)"
	unpack --ids omp2.wnw > omp.ids
	s=$(seconds $PY "$TOP/bench/pursuit_peer.py" omp pool.npy target.npy $k peer.ids)
	printf '%-34s %8s  %s\n' "numpy NN-OMP (peer)" "$s" "$(tail -1 .err)"
	$PY -c 'import sys
a = [l.strip() for l in open("omp.ids")]; b = [l.strip() for l in open("peer.ids")]
same = sum(x == y for x, y in zip(a, b))
print("overlap of pursuit and peer selections: %d of %d/%d ids, first %d in the same order" %
      (len(set(a) & set(b)), len(a), len(b), next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))))'
	s=$(seconds $PY "$TOP/bench/pursuit_peer.py" topk pool.npy target.npy $k top.ids)
	printf '%-34s %8s  %s\n' "numpy top-K by cosine (peer)" "$s" "$(tail -1 .err)"
	s=$(seconds pursuit -t target.wnw -k $k -j 2 --tol 0 --report pool.wnw)
	printf '%-34s %8s  %s\n' "pursuit OMP -j 2 --tol 0" "$s" "$(summary .err)"
	rm -f pool.npy pool.wnw
	# with d < K the fit is exact with about d records; d = 1024 makes the pursuit run K steps
	local n4=$((N / 4)) d4=1024
	echo "== speed: n=$n4 d=$d4 K=$k (no peer: the numpy OMP would take minutes)"
	make_problem "$n4" "$d4" 3000 3
	pack --vectors grad=pool.npy -o pool.wnw
	pack --vectors grad=target.npy -o target.wnw
	rm -f pool.npy
	s=$(seconds pursuit -t target.wnw -k $k -j 2 --report pool.wnw)
	printf '%-34s %8s  %s\n' "pursuit OMP -j 2" "$s" "$(summary .err)"
	s=$(seconds pursuit -t target.wnw -k $k -j 2 --batch 100 --report pool.wnw)
	printf '%-34s %8s  %s\n' "pursuit --batch 100 -j 2" "$s" "$(summary .err)"
	rm -f pool.wnw
}

quality() {
	local pub=$EVAL/public k=1000
	echo "== quality: $pub, embed-hash vectors as gradients, K=$k"
	for p in pool pool_dup query; do pack --id id "$pub/$p.jsonl.zst" -o $p.wnw; done
	for d in 256 4096; do
		for p in pool pool_dup query; do embed-hash -j 2 --dim $d --out grad $p.wnw -o $p.$d.wnw; done
		for p in pool pool_dup; do
			pursuit -t query.$d.wnw -k $k -j 2 --report $p.$d.wnw 2>rep | unpack --ids | sed 's/.*/{"id": &}/' > omp.$p.$d.jsonl
			echo "pursuit OMP $p dim $d: $(summary rep)"
			pursuit -t query.$d.wnw -k $k -j 2 --batch 100 --report $p.$d.wnw 2>rep | unpack --ids |
				sed 's/.*/{"id": &}/' > batch.$p.$d.jsonl
			echo "pursuit --batch 100 $p dim $d: $(summary rep)"
			unpack --npy grad $p.$d.wnw > a.npy
			unpack --npy grad query.$d.wnw > q.npy
			$PY "$TOP/bench/pursuit_peer.py" topk a.npy q.npy $k top.ids 2>/dev/null
			sed 's/.*/{"id": &}/' top.ids > top.$p.$d.jsonl
		done
	done
	for p in pool pool_dup; do
		echo "-- $p"
		$PY "$EVAL/quality.py" --pool "$pub/$p.jsonl.zst" --heldout "$pub/heldout.jsonl.zst" \
			omp256=omp.$p.256.jsonl batch256=batch.$p.256.jsonl cosine256=top.$p.256.jsonl \
			omp4096=omp.$p.4096.jsonl batch4096=batch.$p.4096.jsonl cosine4096=top.$p.4096.jsonl
	done
}

case $WHAT in
speed) speed ;;
quality) quality ;;
all) speed; quality ;;
*) echo "usage: bench/pursuit.sh [speed|quality|all] [N]" >&2; exit 2 ;;
esac
