#!/usr/bin/env bash
# kde-dedup: kde against a brute force in numpy, the inverted file's agreement, the near-duplicate removal
# rules, and the error cases.
source "$(dirname "$0")/../lib.sh"

# Clustered points with near-duplicate groups and exact copies; ids are row indices.
python3 - <<'EOF'
import numpy as np
r = np.random.default_rng(11)
c = r.standard_normal((60, 12)); c /= np.linalg.norm(c, axis=1, keepdims=True)
x = c[r.integers(0, 60, 1500)] + 0.15 * r.standard_normal((1500, 12))
x[200:230] = x[199] + 0.002 * r.standard_normal((30, 12))   # a tight group
x[300] = x[301] = x[302]                                     # exact copies
np.save('x.npy', x.astype(np.float32))
np.save('ref.npy', x[[5, 250, 1200]].astype(np.float32) + 0.001)
np.save('x3.npy', x[:4, :3].astype(np.float32))
bad = x[:10].astype(np.float32); bad[4, 2] = 12345.0; np.save('marked.npy', bad)
EOF
pack --vectors x.npy >x.wnw
pack --vectors marked.npy >marked.wnw
python3 -c "
import numpy as np
raw = open('marked.wnw', 'rb').read(); m = np.float32(12345.0).tobytes(); assert raw.count(m) == 1
open('nan.wnw', 'wb').write(raw.replace(m, np.float32(np.nan).tobytes()))"

# Brute force: kde(x) = sum over the KDE_K nearest (distance, id) of max(0, 1 - d^2 / S^2).
cat >brute.py <<'EOF'
import sys, numpy as np
x = np.load('x.npy').astype(np.float64); S = float(sys.argv[1]); K = int(sys.argv[2]); n = len(x)
got = np.array([float(l.split()[1]) for l in list(open(sys.argv[3]))[1:]])
want = np.zeros(n); near = 0
for i in range(n):
    d = np.sqrt(((x - x[i]) ** 2).sum(1)).astype(np.float32).astype(np.float64)
    k = np.maximum(0, 1 - d[np.lexsort((np.arange(n), d))[:K]] ** 2 / S ** 2)
    want[i] = k.sum(); near += (k > 0).sum() - 1
rel = np.abs(got - want) / want
mode = sys.argv[4]
if mode == 'exact':
    print('same' if rel.max() <= 1e-5 else 'worst relative error %g' % rel.max())
elif mode == 'near':
    print('%.4g' % (near / n))
else:
    frac = (rel <= 0.01).mean()
    print('agree' if frac >= 0.99 else 'only %.4f within 1%%' % frac)
EOF

kde-dedup --sigma 0.5 -k 20 x.wnw >k.wnw 2>k.err
unpack --tsv id,kde k.wnw >k.tsv
same "kde equals brute force within 1e-5 relative" "$(python3 brute.py 0.5 20 k.tsv exact)" same
same "stderr reports the average near-duplicates per record" \
	"$(sed -n 's/.*records, \([^ ]*\) near-duplicates.*/\1/p' k.err)" "$(python3 brute.py 0.5 20 k.tsv near)"
same "records keep their input order" "$(unpack --ids k.wnw | head -3 | tr '\n' ' ')" "0 1 2 "
# From a file the records are read again from it at the end; from a pipe they are copied, and spilled.
cat x.wnw | kde-dedup --sigma 0.5 -k 20 -j 3 -S 1k | unpack --tsv id,kde >j.tsv
same_file "-j 3 from a pipe with spilling gives the same kde" j.tsv k.tsv
kde-dedup --sigma 0.5 -k 20 k.wnw | unpack --tsv id,kde >again.tsv
same_file "an existing kde field is replaced" again.tsv k.tsv
kde-dedup --sigma 0.5 -k 20 --exact-max 10 --nlist 8 --nprobe 8 x.wnw | unpack --tsv id,kde >all.tsv
same_file "the inverted file probing every cell is exact" all.tsv k.tsv
kde-dedup --sigma 0.5 -k 20 --exact-max 10 --nlist 40 --nprobe 8 x.wnw | unpack --tsv id,kde >ivf.tsv
same "the inverted file puts 99% of records within 1% of exact" "$(python3 brute.py 0.5 20 ivf.tsv approx)" agree
kde-dedup --sigma 0 -k 20 x.wnw | unpack --tsv kde >zero.tsv
same "sigma 0 makes every kde 1" "$(tail -n +2 zero.tsv | sort -u)" 1
same "kde is never below 1" "$(awk 'NR>1 && $2<1' k.tsv)" ""

# Near-duplicate removal against a plain greedy pass in ascending id.
cat >dedup.py <<'EOF'
import sys, numpy as np
x = np.load('x.npy').astype(np.float64); R = float(sys.argv[1]); n = len(x)
d2 = ((x[:, None, :] - x[None, :, :]) ** 2).sum(2)
close = d2 <= R * R
if sys.argv[2] == 'one':
    kept = []
    for i in range(n):
        if not any(close[i, j] for j in kept):
            kept.append(i)
else:
    kept = [i for i in range(n) if close[i].sum() == 1]
print(' '.join(map(str, kept)))
EOF
kde-dedup --drop-within 0.05 x.wnw >one.wnw 2>one.err
same "--keep one keeps the smallest id of each group (greedy in id order)" \
	"$(unpack --ids one.wnw | tr '\n' ' ' | sed 's/ $//')" "$(python3 dedup.py 0.05 one)"
truthy "the number dropped is reported" "grep -q 'dropped 32 of 1500 records' one.err"
kde-dedup --drop-within 0.05 --keep none x.wnw | unpack --ids >none.txt
same "--keep none drops every member of a group" "$(tr '\n' ' ' <none.txt | sed 's/ $//')" \
	"$(python3 dedup.py 0.05 none)"
pack --vectors ref.npy >ref.wnw
kde-dedup --drop-within 0.01 --reference ref.wnw x.wnw 2>ref.err | unpack --ids >refkept.txt
same "--reference drops the records within R of the reference" "$(grep -c -x -E '5|250|1200' refkept.txt)" 0
same "--reference keeps the rest" "$(wc -l <refkept.txt)" 1497
kde-dedup --drop-within 0.3 --exact-max 10 --nlist 30 --nprobe 30 x.wnw | unpack --ids >ivfone.txt
kde-dedup --drop-within 0.3 x.wnw | unpack --ids >exone.txt
same_file "dedup over a fully probed inverted file equals exact" ivfone.txt exone.txt

fails 1 "record 5: component 2 of vec is not a finite number" "NaN names the record" \
	kde-dedup --sigma 1 -k 3 nan.wnw
fails 1 "no field 'vec'" "a stream without vec is an error" \
	sh -c 'printf "{\"text\":\"a\"}\n" | pack | kde-dedup --sigma 1 -k 3'
pack --vectors x3.npy >x3.wnw
fails 1 "dimension 12 but the reference's" "reference of another dimension is an error" \
	kde-dedup --drop-within 1 --reference x3.wnw x.wnw
fails 2 "are required" "--sigma without -k is a usage error" kde-dedup --sigma 1 x.wnw
fails 2 "mode of its own" "--drop-within with --sigma is a usage error" kde-dedup --drop-within 1 --sigma 1 -k 2 x.wnw
fails 2 "goes with --drop-within" "--keep without --drop-within is a usage error" kde-dedup --keep none --sigma 1 -k 2 x.wnw
fails 2 "not one or none" "--keep takes one or none" kde-dedup --drop-within 1 --keep two x.wnw
