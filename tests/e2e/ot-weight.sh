#!/usr/bin/env bash
# ot-weight: the TSDS toy agreement with the reference, hand-made neighbour lists, the over-1/M case,
# pipes against files, and every error.
source "$(dirname "$0")/../lib.sh"
PY=/usr/bin/python3
TOY=$TSDS_TOY
AGREE=$TOP/tests/e2e/tsds_agree.py
npy() { $PY -c "import numpy as np, sys; np.save(sys.argv[1], np.array($2, dtype=np.float32))" "$1"; }

# --- the toy case of the TSDS reference: the real chain, exact kNN, K = KDE_K = 100 -------------------
pack --vectors "$TOY/candidates.npy" >cand.wnw 2>/dev/null
pack --vectors "$TOY/query_examples.npy" >q.wnw 2>/dev/null
knn-build -q q.wnw -k 100 <cand.wnw >union.wnw 2>/dev/null
kde-dedup --sigma 0.75 -k 100 <union.wnw >union.kde.wnw 2>/dev/null
ok "toy: ot-weight runs on kde-dedup's output" ot-weight --alpha 0.5 -C 5 -o toy.wnw union.kde.wnw
unpack --tsv id,prob toy.wnw >toy.tsv 2>/dev/null
ok "toy: probabilities within 1e-7 of expected_probs.npy, the same 488 non-zero candidates" \
	$PY "$AGREE" toy.tsv "$TOY/expected_probs.npy" "$TOY/candidates.npy" 1e-7
same "toy: 488 candidates with prob > 0" "$(awk -F'\t' 'NR > 1 && $2 > 0' toy.tsv | wc -l)" 488
same "toy: every record of the union comes out" "$(unpack --ids toy.wnw | wc -l)" 690

# With sigma 0 (no kde field) the chain equals the procedure run in Python on the same exact lists.
$PY "$TOP/bench/tsds_ref.py" --candidates "$TOY/candidates.npy" --queries "$TOY/query_examples.npy" \
	-K 100 --kde-K 100 --sigma 0 --alpha 0.5 -C 5 --exact --probs ref0.npy 2>/dev/null
ot-weight --alpha 0.5 -C 5 union.wnw | unpack --tsv id,prob >sigma0.tsv
ok "toy, sigma 0: equal to the Python procedure within 1e-12" \
	$PY "$AGREE" sigma0.tsv ref0.npy "$TOY/candidates.npy" 1e-12

# --- the over-1/M case: alpha 0.9, C 0.01 stops before most queries are reached --------------------
fails 0 "scaled back to 1/M" "over-1/M: reported on stderr" ot-weight --alpha 0.9 -C 0.01 -o over.wnw union.kde.wnw
sum=$(unpack --tsv prob over.wnw | awk 'NR > 1 { s += $1 } END { printf "%.12f", s }')
same "over-1/M: probabilities still sum to 1" "$sum" 1.000000000000
# Every query gives its whole 1/M = 0.1 to its nearest candidate: 10 queries, at most 10 records > 0.
truthy "over-1/M: each query's mass stays on its nearest candidates" \
	"[ $(unpack --tsv prob over.wnw | awk 'NR > 1 && $1 > 0' | wc -l) -le 10 ]"

# --- pipes and files give the same records; the temporary copy is removed ----------------------------
mkdir tmpd
ot-weight --alpha 0.5 -C 5 union.kde.wnw | unpack --tsv id,prob >file.tsv
cat union.kde.wnw | ot-weight --alpha 0.5 -C 5 -T tmpd | unpack --tsv id,prob >pipe.tsv
ot-weight --alpha 0.5 -C 5 <union.kde.wnw | unpack --tsv id,prob >stdin.tsv
same_file "a pipe gives the same records as a file" pipe.tsv file.tsv
same_file "a redirected file gives the same records as a named one" stdin.tsv file.tsv
printf 'alpha: 0.5\nC: 5\n' >ot.yaml
ot-weight --config ot.yaml union.kde.wnw | unpack --tsv id,prob >config.tsv
same_file "--config with keys alpha and C" config.tsv file.tsv
same "the temporary copy of a pipe is removed" "$(ls -A tmpd)" ""
zstd -q -c union.kde.wnw >union.kde.wnw.zst
ok "zstd input, piped" bash -c 'cat union.kde.wnw.zst | ot-weight --alpha 0.5 -C 5 | unpack --tsv id,prob >zst.tsv'
same_file "zstd input gives the same records" zst.tsv file.tsv

# --- hand-made lists from 1-D points ------------------------------------------------------------------
# Query 0 at 0 and query 1 at 100; candidates 0:2, 1:1, 2:2 (tied with 0), 3:101, 4:102, 5:104, 6:3.
# With K 4 the lists are q0: (1, id1) (2, id0) (2, id2) (3, id6) and q1: (1, id3) (2, id4) (4, id5)
# (97, id6). alpha 0.5, C 2, M 2: stop when E >= 4. Pops: (1,0,q0) E = 2-1 = 1; (1,0,q1) E = 2;
# (2,1,q0) E = 2 - 1 + (2*2 - 3) = 2, L(q0) = 1; (2,1,q1) E = 2 - 1 + (4*2 - 3) = 6 stops at s = 2.
# q0 keeps positions 0 and 1 at 1/(2*2) each; q1 keeps id3 at 1/4 and leaves 1/4 to id4.
# The tie between id0 and id2 goes to id0, the smaller id: id2 gets nothing.
npy hq.npy "[[0], [100]]"
npy hp.npy "[[2], [1], [2], [101], [102], [104], [3]]"
pack --vectors hq.npy >hq.wnw 2>/dev/null
pack --vectors hp.npy >hp.wnw 2>/dev/null
knn-build -q hq.wnw -k 4 <hp.wnw >h.wnw 2>/dev/null
same "hand-made lists: the traced probabilities; equal distances go to the smaller candidate id" \
	"$(ot-weight --alpha 0.5 -C 2 h.wnw | unpack --tsv id,prob | tr '\t\n' ' ;')" \
	"id prob;0 0.25;1 0.25;2 0;3 0.25;4 0.25;5 0;6 0;"
# C 1000 never stops (E ends at 288 < 2000): every query reaches t = K-2 = 2, s = 3, positions 0..2 get 1/(2*3), the last 0.
same "a run that never stops keeps K - 1 candidates of each query" \
	"$(ot-weight --alpha 0.5 -C 1000 h.wnw | unpack --tsv id,prob | awk 'NR > 1 { printf "%s:%.15f ", $1, $2 }')" \
	"0:0.166666666666667 1:0.166666666666667 2:0.166666666666667 3:0.166666666666667 4:0.166666666666667 5:0.166666666666667 6:0.000000000000000 "
# -k 2: lists (id1, id0) and (id3, id4); nothing is pushed back, s = 1, each nearest gets 1/2.
same "-k 2 cuts each list: records beyond it pass through with prob 0" \
	"$(ot-weight --alpha 0.5 -C 100 -k 2 h.wnw | unpack --tsv id,prob | tr '\t\n' ' ;')" \
	"id prob;0 0;1 0.5;2 0;3 0.5;4 0;5 0;6 0;"
fails 0 "s 3,.*every query reached its last candidate" "--verbose reports s and how the loop ended" \
	ot-weight --alpha 0.5 -C 1000 -v -o /dev/null h.wnw
ok "an existing prob field is replaced" bash -c \
	'ot-weight --alpha 0.5 -C 100 h.wnw | ot-weight --alpha 0.5 -C 0.5 -o twice.wnw'
same "replaced in place, not added twice" "$(inspect twice.wnw | grep -c 'name: prob')" 1

# --- errors ------------------------------------------------------------------------------------------
fails 2 "alpha and -C are required" "missing --alpha" ot-weight -C 5 h.wnw
fails 2 "between 0 and 1" "alpha 1 is refused" ot-weight --alpha 1 -C 5 h.wnw
fails 2 "not a positive number" "C 0 is refused" ot-weight --alpha 0.5 -C 0 h.wnw
fails 2 "-k: '1'" "-k 1 is refused" ot-weight --alpha 0.5 -C 5 -k 1 h.wnw
fails 1 "no nbr field 'nbr'" "a stream without neighbours" ot-weight --alpha 0.5 -C 5 hp.wnw
knn-build -q hq.wnw -k 1 <hp.wnw >k1.wnw 2>/dev/null
fails 1 "query 0 has 1 candidate: ot-weight needs K >= 2" "K = 1 is a clear error" \
	ot-weight --alpha 0.5 -C 5 k1.wnw
printf '{"text": "a", "kde": 1}\n{"text": "b", "kde": -2}\n{"text": "c", "kde": 1}\n{"text": "d", "kde": 1}\n' >bad.jsonl
npy hb.npy "[[3], [1], [1], [2]]"
pack --vectors hb.npy --field kde:f64 bad.jsonl >badk.wnw 2>/dev/null
knn-build -q hq.wnw -k 4 <badk.wnw >badu.wnw 2>/dev/null
mkdir tmpe
fails 1 "record 2: kde is -2, not a positive number" "a negative kde names the record" \
	bash -c 'cat badu.wnw | ot-weight --alpha 0.5 -C 5 -T tmpe'
same "no temporary file is left behind after an error" "$(ls -A tmpe)" ""
fails 1 "no field 'dens'" "a missing --kde field" ot-weight --alpha 0.5 -C 5 --kde dens h.wnw
head -c 300 union.kde.wnw >cut.wnw
fails 1 "trunc" "a truncated input is an error" ot-weight --alpha 0.5 -C 5 cut.wnw
# A string id twice (two knn-build outputs of one string-id pool concatenated) is named as the string.
printf '{"id":"doc-a","text":"alpha beta"}\n{"id":"doc-b","text":"gamma delta"}\n' | pack --id id | embed-hash --dim 16 >sid.wnw
knn-build -q sid.wnw -k 2 sid.wnw >sidk.wnw
fails 1 "stdin: record 3: id \"doc-b\" appears twice\$" "a repeated string id is named as the string" \
	sh -c 'cat sidk.wnw sidk.wnw | ot-weight --alpha 0.5 -C 5'
