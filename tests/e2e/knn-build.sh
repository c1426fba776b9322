#!/usr/bin/env bash
# knn-build: exact neighbour lists against a brute force in numpy, independence of threads, block size and
# memory budget, shard merge, and every error case.
source "$(dirname "$0")/../lib.sh"

# Random pool with exact duplicates (ties broken by the smaller id) and a query set.
python3 - <<'EOF'
import numpy as np
r = np.random.default_rng(7)
p = r.standard_normal((2000, 16)).astype(np.float32)
p[100] = p[5]; p[1999] = p[5]; p[700] = p[699]
np.save('pool.npy', p)
np.save('q.npy', r.standard_normal((23, 16)).astype(np.float32))
np.save('q8.npy', r.standard_normal((3, 8)).astype(np.float32))
# pack refuses NaN: a marker value is packed and then overwritten in the stream's bytes.
bad = p[:10].copy(); bad[5, 3] = 12345.0; np.save('marked.npy', bad)
np.save('near5.npy', (p[5] + 1e-4).reshape(1, 16))
EOF
pack --vectors pool.npy >pool.wnw
pack --vectors q.npy >q.wnw
pack --vectors marked.npy >marked.wnw
python3 - <<'EOF'
import numpy as np
raw = open('marked.wnw', 'rb').read()
mark = np.float32(12345.0).tobytes()
assert raw.count(mark) == 1
open('nan.wnw', 'wb').write(raw.replace(mark, np.float32(np.nan).tobytes()))
open('inf.wnw', 'wb').write(raw.replace(mark, np.float32(np.inf).tobytes()))
EOF

knn-build -q q.wnw -k 30 <pool.wnw >u.wnw
unpack --tsv id,nbr u.wnw >u.tsv
same "neighbour sets and distances equal brute force" "$(python3 "$TOP/tests/e2e/knn_brute.py" 30 u.tsv)" same
same "the union is in ascending candidate id" "$(cut -f1 u.tsv | tail -n +2 | sort -n -c && echo sorted)" sorted
truthy "every query id in nbr lists is ascending" "[ \"\$(awk -F'\t' 'NR>1{n=split(\$2,a,\",\");for(i=2;i<=n;i++)if(a[i]+0<=a[i-1]+0)print}' u.tsv)\" = '' ]"
pack --vectors near5.npy >near5.wnw
same "exact duplicates (ids 5, 100, 1999) tie to the smaller ids" \
	"$(knn-build -q near5.wnw -k 2 pool.wnw | unpack --ids | tr '\n' ' ')" "5 100 "

knn-build -q q.wnw -k 30 -j 3 --block 7 <pool.wnw | unpack --tsv id,nbr >j3.tsv
same_file "-j 3 with blocks of 7 writes the same records" j3.tsv u.tsv
# From a file the union's records are read again from it at the end; from a pipe or zstd they are
# copied as they come, and spilled beyond -S.
cat pool.wnw | knn-build -q q.wnw -k 30 | unpack --tsv id,nbr >pipe.tsv
same_file "a pool from a pipe (records copied) writes the same records as from a file" pipe.tsv u.tsv
printf 'skip' >off.wnw
cat pool.wnw >>off.wnw
{ head -c 4 >/dev/null && knn-build -q q.wnw -k 30 | unpack --tsv id,nbr >off.tsv; } <off.wnw
same_file "a pool file on standard input read from an offset: records read again from the right places" off.tsv u.tsv
zstd -q -c pool.wnw >pool.wnw.zst
knn-build -q q.wnw -k 30 pool.wnw.zst | unpack --tsv id,nbr >zst.tsv
same_file "a zstd pool writes the same records" zst.tsv u.tsv
cat pool.wnw | knn-build -q q.wnw -k 30 -S 2k | unpack --tsv id,nbr >spill.tsv
same_file "spilling with -S 2k writes the same records" spill.tsv u.tsv
knn-build -q q.wnw -k 30 -j 2 <pool.wnw >u2.wnw
knn-build -q q.wnw -k 30 <pool.wnw >u1.wnw
same_file "same bytes with -j 2 and -j 1 (provenance included)" u2.wnw u1.wnw
# A union of about 7 MB is written in chunks of about 1 MB, built two per thread at a time: several
# rounds, records read again from the file, copied from a pipe, or spilled and read from the temporary file.
python3 -c "import numpy as np; np.save('big.npy', np.random.default_rng(3).standard_normal((20000, 16)).astype(np.float32))"
pack --vectors big.npy >big.wnw
knn-build -q q.wnw -k 20000 big.wnw >b1.wnw
same "a union of 20000 records with 23 pairs each" "$(unpack --tsv id,nbr b1.wnw | awk -F'\t' 'NR>1 && split($2,a,",")==23' | wc -l)" 20000
for j in 2 3; do
	knn-build -q q.wnw -k 20000 -j $j big.wnw >bj.wnw
	same_file "-j $j: the same bytes for a union written in many chunks" bj.wnw b1.wnw
done
unpack --tsv id,nbr b1.wnw >b1.tsv
cat big.wnw | knn-build -q q.wnw -k 20000 -j 2 -S 100k | unpack --tsv id,nbr >bs.tsv
same_file "-j 2 from a pipe with -S 100k (chunks read from the temporary file) writes the same records" bs.tsv b1.tsv

shard -n 3 'part%d.wnw' pool.wnw
for i in 0 1 2; do knn-build -q q.wnw -k 30 <part$i.wnw >out$i.wnw; done
cat out2.wnw out0.wnw out1.wnw | knn-build --merge -k 30 | unpack --tsv id,nbr >merged.tsv
same_file "merge of shard outputs (in any order) equals the single run" merged.tsv u.tsv
cat out1.wnw out2.wnw out0.wnw | knn-build --merge -k 30 -S 1k | unpack --tsv id,nbr >merged2.tsv
same_file "merge with spilling equals the single run" merged2.tsv u.tsv
knn-build -q q.wnw -k 30 <u.wnw | unpack --tsv id,nbr >again.tsv
same_file "a pool that already has nbr gets it replaced" again.tsv u.tsv

knn-build -q q.wnw -k 5000 <pool.wnw >all.wnw 2>all.err
same "k above the pool size keeps every candidate" "$(unpack --ids all.wnw | wc -l)" 2000
truthy "k above the pool size warns" "grep -q 'larger than the pool' all.err"

fails 1 "dimension 8 but the queries' has 16" "dimension mismatch is an error" \
	sh -c 'pack --vectors q8.npy | knn-build -q q.wnw -k 3'
fails 1 "no field 'vec'" "a pool without vec is an error" \
	sh -c 'printf "{\"text\":\"a\"}\n" | pack | knn-build -q q.wnw -k 3'
fails 1 "record 6: component 3 of vec is not a finite number" "NaN in the pool names the record" \
	knn-build -q q.wnw -k 3 nan.wnw
fails 1 "record 6: component 3 of vec is not a finite number" "infinity in the queries names the record" \
	knn-build -q inf.wnw -k 3 pool.wnw
printf '{"id":5,"text":"a"}\n{"id":7,"text":"b"}\n{"id":5,"text":"c"}\n' >dq.jsonl
python3 -c "import numpy as np; np.save('dq.npy', np.ones((3, 16), np.float32))"
pack --id id --vectors dq.npy dq.jsonl >dq.wnw
fails 1 "records 1 and 3: duplicate query id 5" "duplicate query ids are an error" \
	knn-build -q dq.wnw -k 3 pool.wnw
fails 1 "no field 'nbr'" "merging a stream without nbr is an error" knn-build --merge -k 3 pool.wnw
cat pool.wnw pool.wnw >twice.wnw
fails 1 "duplicate candidate id 5" "a candidate id twice in the union is an error" knn-build -q near5.wnw -k 2 twice.wnw
fails 2 "-k K is required" "-k is required" knn-build -q q.wnw pool.wnw
fails 2 "no -q" "--merge with -q is a usage error" knn-build --merge -q q.wnw -k 3 pool.wnw
fails 2 "not a whole number" "-k 0 is a usage error" knn-build -q q.wnw -k 0 pool.wnw
# The union written over the pool it is read from, through a descriptor that does not truncate: each
# output record is bigger than its input (23 (query, distance) pairs), so the output overtakes the
# records still to be read again (past the first 1 MB window) and they are found changed.
fails 1 "stdin: record [0-9]+: the input file changed while being read" "a pool file changed under the run is an error" \
	sh -c 'knn-build -q q.wnw -k 20000 <big.wnw 1<>big.wnw'
head -c 3000 pool.wnw >cut.wnw
status 1 "a truncated pool is an error" knn-build -q q.wnw -k 3 cut.wnw
# Repeated string ids (two packs of one file concatenated, or merged) are named as the strings pack was
# given (winnow(5), String ids), not by their u64 hashes. The union is in ascending u64 id, where the
# hash of doc-b comes first.
printf '{"id":"doc-a","text":"alpha beta"}\n{"id":"doc-b","text":"gamma delta"}\n{"id":"doc-c","text":"beta gamma"}\n' >sid.jsonl
pack --id id sid.jsonl | embed-hash --dim 16 >sid.wnw
cat sid.wnw sid.wnw >sid2.wnw
fails 1 "sid2.wnw: records 1 and 4: duplicate query id \"doc-a\"\$" "a repeated string query id is named as the string" \
	knn-build -q sid2.wnw -k 2 sid.wnw
fails 1 "sid2.wnw: records 2 and 5: duplicate candidate id \"doc-b\"\$" "a repeated string candidate id is named as the string" \
	knn-build -q sid.wnw -k 2 sid2.wnw
fails 1 "stdin: records 2 and 5: duplicate candidate id \"doc-b\"\$" "... also when the records are copies (a pipe)" \
	sh -c 'knn-build -q sid.wnw -k 2 <sid2.wnw'
knn-build -q sid.wnw -k 3 sid.wnw >sidk.wnw
fails 1 "stdin: records 1 and 4: duplicate candidate id \"doc-b\"\$" "... and in a merge of two outputs over one pool" \
	sh -c 'cat sidk.wnw sidk.wnw | knn-build --merge -k 3'
