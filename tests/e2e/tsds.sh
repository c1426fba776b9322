#!/usr/bin/env bash
# TSDS end to end: the pipelines/tsds recipe from JSONL and from the reference's config.yaml, its stage
# cache, and robustness to near-duplicates (a pool with one example copied 1,000 times).
source "$(dirname "$0")/../lib.sh"
PY=/usr/bin/python3
TSDS=$TOP/pipelines/tsds
TOY=$TSDS_TOY
zipfit_toy
ZIP=$T/zipfit-toy

# --- from JSONL: the ZIP-FIT toy's 20 Python targets against its 304-example pool ------------------------
ok "recipe: JSONL in, JSONL out" "$TSDS" -n 50 -C 1 -d cache -o sel.jsonl "$ZIP/target.jsonl" "$ZIP/pool.jsonl"
same "recipe: 50 draws, each record once with its count" \
	"$(grep -o '"count":[0-9]*' sel.jsonl | awk -F: '{ s += $2 } END { print s }') $(sort -u sel.jsonl | wc -l)" \
	"50 $(wc -l <sel.jsonl)"
ok "recipe: --expand writes each as often as drawn" "$TSDS" -q --expand -n 50 -C 1 -d cache -o exp.jsonl \
	"$ZIP/target.jsonl" "$ZIP/pool.jsonl"
same "recipe: so 50 lines, each a pool line" "$(wc -l <exp.jsonl) $(sort -u exp.jsonl | grep -cvxFf "$ZIP/pool.jsonl")" "50 0"
"$TSDS" -q -n 50 -C 1 -d cache2 -o quiet.jsonl "$ZIP/target.jsonl" "$ZIP/pool.jsonl" 2>quiet.err
same "recipe: -q is silent, kde-dedup's summary included" "$(cat quiet.err)" ""
same_file "recipe: -q selects the same" quiet.jsonl sel.jsonl
ok "recipe: - reads the pool from standard input" bash -c "'$TSDS' -q -n 50 -C 1 -d cache3 -o stdin.jsonl \
	'$ZIP/target.jsonl' - <'$ZIP/pool.jsonl'"
same_file "recipe: to the same selection" stdin.jsonl sel.jsonl
ok "recipe: - for the queries" bash -c "'$TSDS' -q -n 50 -C 1 -d cache3 - '$ZIP/pool.jsonl' <'$ZIP/target.jsonl' >stdin2.jsonl"
same_file "recipe: to the same selection again" stdin2.jsonl sel.jsonl
sed 's/"text":/"body":/' "$ZIP/target.jsonl" >body.jsonl
ok "recipe: --query-text packs the queries by their own member" "$TSDS" -q -n 50 -C 1 -d cache --query-text body \
	-o body.sel.jsonl body.jsonl "$ZIP/pool.jsonl"
same_file "recipe: to the same selection" body.sel.jsonl sel.jsonl
"$TSDS" -n 50 -C 1 -d cache --alpha 0.3 -o sel2.jsonl "$ZIP/target.jsonl" "$ZIP/pool.jsonl" 2>stages.txt
same "recipe: a new alpha re-runs only ot-weight and sample" \
	"$(grep -o '^tsds: [a-z]*: [a-z]*' stages.txt | tr '\n' ';')" \
	"tsds: queries: cached;tsds: pool: cached;tsds: knn: cached;tsds: kde: cached;tsds: ot: done;tsds: sample: done;"
"$TSDS" -n 50 -C 1 -d cache -o sel3.jsonl "$ZIP/target.jsonl" "$ZIP/pool.jsonl" 2>/dev/null
same_file "recipe: the same settings give the same selection" sel3.jsonl sel.jsonl
fails 2 "give QUERY.jsonl and POOL.jsonl" "recipe: one operand is a usage error" "$TSDS" "$ZIP/pool.jsonl"
fails 2 "cannot read" "recipe: a missing input" "$TSDS" nothing.jsonl "$ZIP/pool.jsonl"

# --- from the reference's config.yaml, on the TSDS toy --------------------------------------------------
cat >config.yaml <<EOF
query_embedding_path: $TOY/query_examples.npy
candidate_embedding_path: $TOY/candidates.npy
output_folder: out
sample_size: 100
alpha: 0.5
C: 5.0
sigma: 0.75
max_K: 5000   # clamped to a tenth of the pool, 100, as the reference does
kde_K: 1000
EOF
ok "config.yaml: the recipe runs" "$TSDS" -q --config config.yaml
pack --vectors "$TOY/candidates.npy" 2>/dev/null | knn-build -q <(pack --vectors "$TOY/query_examples.npy") -k 100 \
	2>/dev/null | kde-dedup --sigma 0.75 -k 100 2>/dev/null | ot-weight --alpha 0.5 -C 5 |
	sample -n 100 --seed 0 --expand | unpack --npy id >chain.npy
same_file "config.yaml: the indices equal the chain's with K and KDE_K clamped to 100" \
	out/selected_candidate_indices.npy chain.npy
same "config.yaml: 100 indices, all candidates the reference gives mass" \
	"$($PY -c "import numpy as np; i = np.load('out/selected_candidate_indices.npy'); \
p = np.load('$TOY/expected_probs.npy'); print(len(i), bool((p[i.astype(int)] > 0).all()), bool((np.diff(i.astype(int)) >= 0).all()))")" \
	"100 True True"
"$TSDS" --config config.yaml --seed 1 -n 20 2>stages.txt
same "config.yaml: the command line wins, and only sample runs again" \
	"$(grep -c ': done' stages.txt) $($PY -c "import numpy as np; print(len(np.load('out/selected_candidate_indices.npy')))")" "1 20"
grep -v '^output_folder:' config.yaml >noc.yaml
fails 2 "key 'output_folder' is missing" "config.yaml: a missing key" "$TSDS" --config noc.yaml
sed 's/^alpha: 0.5/alpha: 1.5/' config.yaml >bad.yaml
fails 2 "line 5: alpha: '1.5' is not strictly between 0 and 1" "config.yaml: a bad value names its line" \
	"$TSDS" --config bad.yaml
printf 'query_embedding_path: a\nfoo: 1\n' >unk.yaml
fails 2 "line 2: unknown key 'foo'" "config.yaml: an unknown key" tsds-config unk.yaml
printf 'alpha: [1, 2]\n' >seq.yaml
fails 2 "line 1: expected a scalar value" "config.yaml: a sequence is refused" tsds-config seq.yaml
same "tsds-config prints the settings in a fixed order, seed 0 by default" \
	"$(tsds-config config.yaml | cut -f1 | tr '\n' ' ')$(tsds-config config.yaml | awk -F'\t' '$1 == "seed" { print $2 }')" \
	"query_embedding_path candidate_embedding_path output_folder sample_size alpha C sigma max_K kde_K seed 0"

# --- robustness to near-duplicates ---------------------------------------------------------------------------
# 2,000 diverse candidates (standard normal, d = 16) and 1,000 copies of the origin (ids 2000-2999); 20
# queries near the origin (sd 0.3), so every query's nearest candidates are the copies.
$PY -c "
import numpy as np
r = np.random.default_rng(1)
np.save('dpool.npy', np.concatenate([r.normal(size=(2000, 16)), np.zeros((1000, 16))]).astype(np.float32))
np.save('dq.npy', (r.normal(size=(20, 16)) * 0.3).astype(np.float32))"
pack --vectors dpool.npy >dpool.wnw 2>/dev/null
pack --vectors dq.npy >dq.wnw 2>/dev/null
copies() { unpack --tsv id,prob | awk 'NR > 1 { if ($1 >= 2000) c += $2 } END { printf "%.6f", c }'; }
topk=$(knn-build -q dq.wnw -k 100 dpool.wnw 2>/dev/null | unpack --ids | awk '$1 >= 2000' | wc -l)
same "duplicates: top-100 by distance takes only copies (100 of the 100 records it keeps)" "$topk" 100
knn-build -q dq.wnw -k 1500 dpool.wnw >du.wnw 2>/dev/null
kde-dedup --sigma 1 -k 1000 du.wnw >duk.wnw 2>/dev/null
nodedup=$(ot-weight --alpha 0.5 -C 5 --no-kde du.wnw | copies)
truthy "duplicates: without the KDE (sigma 0) the copies take most of the mass ($nodedup)" \
	"awk 'BEGIN { exit !($nodedup > 0.5) }'"
share=$(ot-weight --alpha 0.5 -C 5 duk.wnw | copies)
s=$(ot-weight --alpha 0.5 -C 5 -v -o /dev/null duk.wnw 2>&1 | sed -n 's/.* s \([0-9.e+-]*\),.*/\1/p')
# Each copy has kde = KDE_K (its KDE_K nearest are copies at distance 0), so a query sends a copy at most
# 1/(M s KDE_K), and all 1,000 copies together receive at most 1000 / (KDE_K s) = 1/s of the mass.
truthy "duplicates: with sigma 1 the copies get at most 1000/(KDE_K s) = 1/$s of the mass ($share)" \
	"awk 'BEGIN { exit !($share <= 1000 / (1000 * $s) + 1e-9) }'"
truthy "duplicates: with sigma 1 the copies together get at most 6% of the mass ($share)" \
	"awk 'BEGIN { exit !($share <= 0.06) }'"
drawn=$(ot-weight --alpha 0.5 -C 5 duk.wnw | sample -n 1000 --seed 1 | unpack --tsv id,count |
	awk 'NR > 1 && $1 >= 2000 { c += $2 } END { print c + 0 }')
truthy "duplicates: 1,000 draws take few copies ($drawn, expected about 50)" "[ $drawn -le 80 ]"
