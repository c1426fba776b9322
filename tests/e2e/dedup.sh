#!/usr/bin/env bash
# dedup: exact duplicates (normalised and raw, hash collisions), near duplicates against brute-force
# Jaccard, --mark, --keep-by, determinism across -j, -S spills and pipes, and every error.
source "$(dirname "$0")/../lib.sh"
D=$DATA/dedup

# 55 records: 40 texts, 5 of them twice more (once as is, once upper-cased with tabs and doubled
# spaces), 5 others once more with one word changed.
pack --id id --field len:u64 "$D/pool.jsonl" >pool.wnw

# --- exact ---------------------------------------------------------------------------------------------
dedup --exact pool.wnw | unpack --ids >exact.ids
same "--exact drops the 10 copies that differ only in case and white space" "$(wc -l <exact.ids)" 45
same "--exact keeps the first record of each text" \
	"$(dedup --exact --mark pool.wnw | unpack --tsv id,dup_of | awk -F '\t' 'NR > 1 && $2 > $1' | wc -l)" 0
same "--raw keeps the case and white space variants" "$(dedup --exact --raw pool.wnw | unpack --ids | wc -l)" 50
dedup --exact --mark pool.wnw | unpack --tsv id,dup_of >mark.tsv
same "--mark writes every record" "$(awk 'NR > 1' mark.tsv | wc -l)" 55
same "--mark: dup_of is the record's own id for the kept ones" \
	"$(awk -F '\t' 'NR > 1 && $1 == $2' mark.tsv | cut -f1)" "$(cat exact.ids)"
same "--mark: each copy points to a kept record of the same text" \
	"$(awk -F '\t' 'NR > 1 && $1 != $2 { print $2 }' mark.tsv | sort -u | wc -l)" 5
same "--mark then dropping the marked gives --exact's output" \
	"$(dedup --exact --mark pool.wnw | unpack --tsv id,dup_of | awk -F '\t' 'NR > 1 && $1 == $2 { print $1 }')" \
	"$(cat exact.ids)"
same "every field passes through" "$(dedup --exact pool.wnw | unpack | head -3)" "$(pack --id id "$D/pool.jsonl" | \
	pick --ids <(head -3 exact.ids) 2>/dev/null | unpack | head -3)"
# Hash collisions: with the hash cut to 1 bit nearly every pair of records collides; the texts are
# compared, so the output must not change (it would lose every second text if a hash match sufficed).
WINNOW_DEDUP_HASH_BITS=1 dedup --exact pool.wnw | unpack --ids >collide.ids
same_file "texts whose hashes collide are compared, never dropped for the hash alone" collide.ids exact.ids
WINNOW_DEDUP_HASH_BITS=0 dedup --exact --raw pool.wnw | unpack --ids >collide0.ids
same "with every hash equal, --raw still keeps all 50 distinct texts" "$(wc -l <collide0.ids)" 50
dedup --exact --keep-by len --mark pool.wnw | unpack --tsv id,dup_of,len >keep.tsv
same "--keep-by len keeps the longest of each cluster (the tab-widened copy)" \
	"$(awk -F '\t' 'NR > 1 { l[$1] = $3; d[$1] = $2 } END { for (i in d) if (l[d[i]] < l[i]) print i }' keep.tsv)" ""
same "--keep-by: the kept record of a widened text is its widened copy" \
	"$(awk -F '\t' 'NR > 1 && $1 != $2' keep.tsv | wc -l)" 10

# --- near duplicates -----------------------------------------------------------------------------------
dedup --minhash --mark pool.wnw | unpack --add dup_of >near.jsonl
same "--minhash joins every pair of true Jaccard >= 0.85 and nothing below 0.5 (brute force)" \
	"$(python3 "$TOP/tests/e2e/dedup_brute.py" 0.85 0.5 <near.jsonl)" "pairs 1485 joined 15"
same "--minhash also drops the exact copies" \
	"$(dedup --minhash pool.wnw | dedup --exact -v 2>&1 >/dev/null | grep -o '[0-9]* dropped')" "0 dropped"
dedup --minhash --threshold 1 pool.wnw | unpack --ids >t1.ids
same "--threshold 1 joins only texts of equal shingle sets: the 10 exact copies" "$(wc -l <t1.ids)" 45
dedup --minhash -v pool.wnw 2>verbose.err >/dev/null
truthy "-v reports records, drops and clusters" "grep -q '55 records, 15 dropped, in 10 clusters' verbose.err"
truthy "-v names the largest clusters' kept ids" "grep -q 'cluster of 3: kept id' verbose.err"

# --- determinism: threads, spills, pipes -------------------------------------------------------------
dedup --minhash --mark pool.wnw | unpack --tsv id,dup_of >j1.tsv
dedup --minhash --mark -j 3 pool.wnw | unpack --tsv id,dup_of >j3.tsv
same_file "-j 3 gives the output of -j 1" j3.tsv j1.tsv
same "--exact -j 3 gives the bytes of -j 1" "$(dedup --exact --mark -j 3 pool.wnw | md5sum)" \
	"$(dedup --exact --mark pool.wnw | md5sum)"
dedup --minhash --mark -S 1K -v pool.wnw 2>spill.err | unpack --tsv id,dup_of >spill.tsv
truthy "-S 1K spills sorted runs" "grep -q '; 14 sorted runs on disk' spill.err"
same_file "-S 1K (sorted runs spilled to disk and merged) gives the in-memory output" spill.tsv j1.tsv
dedup --exact --mark -S 1K pool.wnw | unpack --tsv id,dup_of >spillx.tsv
same_file "--exact -S 1K too" spillx.tsv <(dedup --exact --mark pool.wnw | unpack --tsv id,dup_of)
zstd -q -c pool.wnw | dedup --minhash --mark | unpack --tsv id,dup_of >pipe.tsv
same_file "a compressed pipe gives the output of a file" pipe.tsv j1.tsv
dedup --minhash -o a.wnw pool.wnw
dedup --minhash -o b.wnw pool.wnw
same_file "the same input gives the same bytes" a.wnw b.wnw

# --- shards: signatures per shard, clusters from their merge -----------------------------------------
shard -n 3 part%d.wnw pool.wnw
for k in 0 1 2; do dedup --minhash --signatures -o sig$k.wnw part$k.wnw; done
shard --merge sig0.wnw sig1.wnw sig2.wnw | dedup --minhash --merge | unpack --tsv id,dup_of >merged.tsv
same_file "signatures of 3 shards, merged, give the single run's clusters" merged.tsv j1.tsv
for k in 0 1 2; do dedup --minhash --signatures --keep-by len -o ksig$k.wnw part$k.wnw; done
shard --merge ksig0.wnw ksig1.wnw ksig2.wnw | dedup --minhash --merge -S 1K | unpack --tsv id,dup_of >kmerged.tsv
same_file "with --keep-by (carried as keep_by) and a spilling merge, too" kmerged.tsv \
	<(dedup --minhash --mark --keep-by len pool.wnw | unpack --tsv id,dup_of)
same "--signatures -j 3 gives the bytes of -j 1" "$(dedup --minhash --signatures -j 3 part0.wnw | md5sum)" \
	"$(md5sum <sig0.wnw)"
same "--signatures writes id, minhash (4P bytes), minhash_params" \
	"$(inspect sig0.wnw | grep -o 'name: [a-z_]*' | tr '\n' ' ')" "name: id name: minhash name: minhash_params "
same "a signature is 512 bytes with --perms 128" "$(inspect sig0.wnw | grep -o 'minhash: {of: length, min: [0-9]*')" \
	"minhash: {of: length, min: 512"
fails 1 "other --ngram, --perms or --seed" "merging signatures of other options is bad data" \
	dedup --minhash --merge --seed 3 sig0.wnw
fails 1 "field 'minhash'" "--merge of a stream without signatures is bad data" dedup --minhash --merge pool.wnw
fails 2 "--signatures takes no" "--signatures writes no records to --mark" dedup --minhash --signatures --mark pool.wnw
fails 2 "--merge takes no" "--merge takes no --keep-by (the signatures carry it)" \
	dedup --minhash --merge --keep-by len sig0.wnw
fails 2 "go with --minhash" "--signatures goes with --minhash" dedup --exact --signatures pool.wnw

# --- hostile input and usage ---------------------------------------------------------------------------
printf '' | pack >empty.wnw
same "an empty stream gives an empty stream" "$(dedup --minhash empty.wnw | unpack --ids | wc -l)" 0
printf '{"text": ""}\n{"text": "  \\t "}\n{"text": "!"}\n{"text": ""}\n' | pack >blank.wnw
same "empty and blank texts are exact duplicates of each other" "$(dedup --exact blank.wnw | unpack --ids | tr '\n' ' ')" "0 2 "
same "and near duplicates too (equal empty shingle sets)" "$(dedup --minhash blank.wnw | unpack --ids | tr '\n' ' ')" "0 2 "
awk 'BEGIN { for (r = 0; r < 3; r++) { printf "{\"text\": \""; for (i = 0; i < 200000; i++) printf "%s ", (r == 2 ? "b" : "a"); print "\"}" } }' | pack >long.wnw
same "texts of 200,000 tokens (one shingle repeated) cluster like short ones" \
	"$(dedup --minhash long.wnw | unpack --ids | tr '\n' ' ')" "0 2 "
head -c 3000 pool.wnw >cut.wnw
fails 1 "cut.wnw" "a truncated stream is bad data naming the file" dedup --exact cut.wnw
fails 1 "field 'body'" "a missing field is bad data" dedup --exact --field body pool.wnw
fails 1 "'id' is u64" "a text field of another type is bad data" dedup --exact --field id pool.wnw
fails 1 "'text' is bytes, not a number" "--keep-by a text field is bad data" dedup --exact --keep-by text pool.wnw
fails 2 "exactly one of" "a mode is required" dedup pool.wnw
fails 2 "exactly one of" "one mode only" dedup --exact --minhash pool.wnw
fails 2 "--perms: '12'" "--perms is a multiple of 8" dedup --minhash --perms 12 pool.wnw
fails 2 "--bands: '7'" "--bands divides --perms" dedup --minhash --bands 7 pool.wnw
fails 2 "--threshold: '1.5'" "--threshold is at most 1" dedup --minhash --threshold 1.5 pool.wnw
fails 2 "go with --minhash" "--ngram goes with --minhash" dedup --exact --ngram 3 pool.wnw
fails 2 "--raw goes with --exact" "--raw goes with --exact" dedup --minhash --raw pool.wnw
fails 3 "nowhere" "an unwritable TMPDIR is a system error" env TMPDIR=/nowhere dedup --exact pool.wnw
