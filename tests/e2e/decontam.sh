#!/usr/bin/env bash
# decontam: records sharing a 13-gram with the reference are dropped or marked; the normalisation, the
# n-gram length, --min-overlap, the Bloom filter, stream and JSONL references, -v, -j, and errors.
source "$(dirname "$0")/../lib.sh"
D=$DATA/decontam

# 20 pool records of 60 random words; 10-14 carry a 20-word span of reference record 0-4, 15 only 12
# words of reference 5, 16 a 20-word span of reference 1 upper-cased with a tab, 17 exactly 13 words of
# reference 2. The reference is 6 records of 80 words (ids 900-905).
pack --id id "$D/pool.jsonl" >pool.wnw
pack --id id "$D/ref.jsonl" >ref.wnw

same "drops the records sharing a 13-gram, keeps the rest in order" \
	"$(decontam -r ref.wnw pool.wnw | unpack --ids | tr '\n' ' ')" "0 1 2 3 4 5 6 7 8 9 15 18 19 "
decontam -r ref.wnw --mark pool.wnw | unpack --tsv id,contam >mark.tsv
same "--mark keeps every record and counts the shared 13-grams (20 words share 8; 13 words, 1)" \
	"$(awk -F '\t' 'NR > 1 && $2 > 0 { printf "%s:%s ", $1, $2 }' mark.tsv)" "10:8 11:8 12:8 13:8 14:8 16:8 17:1 "
same "a JSONL reference gives the same as a stream" \
	"$(decontam -r "$D/ref.jsonl" pool.wnw | unpack --ids | md5sum)" "$(decontam -r ref.wnw pool.wnw | unpack --ids | md5sum)"
same "--ngram 12 also catches the 12-word span" \
	"$(decontam -r ref.wnw --ngram 12 pool.wnw | unpack --ids | tr '\n' ' ')" "0 1 2 3 4 5 6 7 8 9 18 19 "
same "--ngram 14 misses the 13-word span" \
	"$(decontam -r ref.wnw --ngram 14 --mark pool.wnw | unpack --tsv id,contam | awk -F '\t' '$1 == 17 { print $2 }')" 0
same "--min-overlap 0.1 drops only records with 10% of their n-grams shared (8 of 68, not 1 of 61)" \
	"$(decontam -r ref.wnw --min-overlap 0.1 pool.wnw | unpack --ids | tr '\n' ' ')" "0 1 2 3 4 5 6 7 8 9 15 17 18 19 "
same "--bloom finds the same records" \
	"$(decontam -r ref.wnw --bloom --mark pool.wnw | unpack --tsv id,contam | md5sum)" "$(md5sum <mark.tsv)"
same "-j 3 gives the bytes of -j 1" \
	"$(decontam -r ref.wnw -j 3 pool.wnw | md5sum)" "$(decontam -r ref.wnw pool.wnw | md5sum)"
same "a compressed pipe reads as a file" \
	"$(zstd -q -c pool.wnw | decontam -r ref.wnw | unpack --ids | md5sum)" "$(decontam -r ref.wnw pool.wnw | unpack --ids | md5sum)"
decontam -r ref.wnw -v pool.wnw 2>v.err >/dev/null
truthy "-v says how many records were dropped" "grep -q 'pool.wnw: 7 of 20 records dropped' v.err"
truthy "-v names the reference records that caused most, by id, with an n-gram" \
	"grep -q \"reference id 901 caused 2 (first shared n-gram: 'nqqxvn jzgrfey\" v.err"
same "a record equal to a short reference text (fewer than 13 tokens) is caught" \
	"$(printf '{"text": "Too Short"}\n' >short.jsonl; printf '{"text": "too  short"}\n{"text": "too short by far"}\n' | pack | \
	decontam -r short.jsonl --mark | unpack --tsv contam | tr '\n' ' ')" "contam 1 0 "

# --- errors -----------------------------------------------------------------------------------------------
fails 2 "-r REFERENCE is required" "the reference is required" decontam pool.wnw
fails 2 "--min-overlap: '2'" "--min-overlap is a fraction" decontam -r ref.wnw --min-overlap 2 pool.wnw
fails 2 "--ngram: '0'" "--ngram is at least 1" decontam -r ref.wnw --ngram 0 pool.wnw
fails 2 "not a regular file" "--bloom needs a reference it can read twice" decontam -r <(cat ref.wnw) --bloom pool.wnw
fails 2 "missing.wnw: cannot open" "a missing reference is named" decontam -r missing.wnw pool.wnw
printf '{"text": "a"}\n{"text": \n' >bad.jsonl
fails 1 "bad.jsonl: line 2" "a bad reference line names file and line" decontam -r bad.jsonl pool.wnw
head -c 2000 pool.wnw >cut.wnw
fails 1 "cut.wnw" "a truncated input is bad data" decontam -r ref.wnw cut.wnw
fails 1 "field 'body'" "a missing text field is bad data" decontam -r ref.wnw --field body pool.wnw
