#!/usr/bin/env bash
# bench/blas.sh: should winnow's own kernels replace OpenBLAS on the kNN hot path? The same knn-build run
# with the screen by OpenBLAS sgemm (WINNOW_ISA=portable: the product by cblas_sgemm, then a scan of it)
# and by winnow's fused AVX2 kernel (the default on this CPU), in turn in the same run, beside the
# sgemm peak measured just before. Outputs are compared byte for byte.
#   B=build/rel bench/blas.sh          (N=300000 pool vectors, d 256, K 1000, m 100 and 1000; R=3 best of 3)
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
B=${B:-build/rel}
case $B in /*) ;; *) B=$TOP/$B ;; esac
PATH=$B/bin:/usr/bin:/bin
export SOURCE_DATE_EPOCH=0 # the provenance time would differ between the runs compared
N=${N:-300000} K=${K:-1000} R=${R:-3}
W=$(mktemp -d "${TMPDIR:-/tmp}/blas-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT
cd "$W"
/usr/bin/python3 - "$N" <<'EOF2'
import sys, numpy as np
n, d = int(sys.argv[1]), 256
r = np.random.default_rng(0)
x = r.standard_normal((n, d), dtype=np.float32)
np.save('pool.npy', x / np.linalg.norm(x, axis=1, keepdims=True))
q = r.standard_normal((1000, d), dtype=np.float32)
q /= np.linalg.norm(q, axis=1, keepdims=True)
np.save('q1000.npy', q)
np.save('q100.npy', q[:100])
EOF2
pack --vectors pool.npy >pool.wnw
pack --vectors q100.npy >q100.wnw
pack --vectors q1000.npy >q1000.wnw
cc -O2 -o sgemm "$TOP/bench/knn_sgemm.c" -lopenblas
echo "# n $N, d 256, K $K; OpenBLAS core $(OPENBLAS_VERBOSE=2 ./sgemm 1 2>&1 >/dev/null | grep -io 'core: *[a-z0-9]*' | head -1)"
# best LEVEL M J: the best wall and cpu seconds of R runs, output in out.LEVEL.M.J
best() {
	local bw= bc=
	for _ in $(seq "$R"); do
		WINNOW_ISA=$1 /usr/bin/time -f '%e %U %S' -o t.txt knn-build -q "q$2.wnw" -k "$K" -j "$3" pool.wnw >"out.$1.$2.$3"
		read -r w u s <t.txt
		c=$(awk -v u="$u" -v s="$s" 'BEGIN { print u + s }')
		if [ -z "$bw" ] || awk -v a="$w" -v b="$bw" 'BEGIN { exit !(a < b) }'; then bw=$w bc=$c; fi
	done
	echo "$bw $bc"
}
for m in 100 1000; do
	for j in 1 2; do
		peak=$(./sgemm "$j")
		read -r bw bc < <(best portable "$m" "$j")
		read -r fw fc < <(best avx2 "$m" "$j")
		same=$(cmp -s "out.portable.$m.$j" "out.avx2.$m.$j" && echo identical || echo DIFFERENT)
		awk -v m="$m" -v j="$j" -v n="$N" -v p="$peak" -v bw="$bw" -v bc="$bc" -v fw="$fw" -v fc="$fc" -v s="$same" 'BEGIN {
			f = 2 * m * n * 256 / 1e9
			printf "m %4d -j %d: OpenBLAS screen %6.2f s (%5.1f GFLOP/s, cpu %5.2f s)  fused kernel %6.2f s (%5.1f GFLOP/s, cpu %5.2f s)  %.2fx; sgemm peak %.1f; outputs %s\n",
				m, j, bw, f / bw, bc, fw, f / fw, fc, bw / fw, p, s }'
	done
done
