#!/usr/bin/env bash
# dsir: log importance weights end to end: a target equal to the raw distribution weighs nothing, a
# target-like text outweighs the rest, --raw, --fit/--model round trips, pipes, determinism, errors.
source "$(dirname "$0")/../lib.sh"

{
	for i in $(seq 1 30); do printf '{"id": %d, "text": "def f%d(self): return self.x + %d"}\n' "$i" "$i" "$i"; done
	for i in $(seq 31 60); do printf '{"id": %d, "text": "the cat %d sat on the mat in the sun"}\n' "$i" "$i"; done
	printf '{"id": 61, "text": ""}\n'
} >pool.jsonl
printf '{"text": "def g(self): return self.y"}\n{"text": "def h(self, z): return z"}\n' >t.jsonl
pack pool.jsonl >pool.wnw 2>/dev/null
pack t.jsonl >t.wnw 2>/dev/null

dsir -t t.wnw pool.wnw >w.wnw
unpack --tsv id,logw w.wnw | awk 'NR > 1' >w.tsv
same "every record gets logw, the other fields pass through" \
	"$(wc -l <w.tsv) $(unpack --tsv id,text w.wnw | sed -n 2p)" "61 $(printf '0\tdef f1(self): return self.x + 1')"
truthy "every code record outweighs every prose record for a code target" \
	"awk '\$1 < 30 && (lo == \"\" || \$2 < lo) { lo = \$2 } \$1 >= 30 && \$1 < 60 && (hi == \"\" || \$2 > hi) { hi = \$2 }
	     END { exit !(lo > hi) }' w.tsv"
same "a text without n-grams has logw 0" "$(awk '$1 == 60 { print $2 }' w.tsv)" 0
same "a target equal to the pool weighs nothing: logw 0 for all" \
	"$(dsir -t pool.wnw pool.wnw | unpack --tsv logw | awk 'NR > 1 && $1 != 0' | wc -l)" 0
same "--raw POOL gives the pool's own first pass" \
	"$(dsir -t t.wnw --raw pool.wnw pool.wnw | unpack --tsv id,logw)" "$(unpack --tsv id,logw w.wnw)"
same "a pipe gives the same as a file (replayed through a temporary copy)" \
	"$(cat pool.wnw | dsir -t t.wnw | unpack --tsv id,logw)" "$(unpack --tsv id,logw w.wnw)"
dsir -t t.wnw -o a.wnw pool.wnw
same_file "the same input gives the same bytes" a.wnw w.wnw
ok "--fit writes the models" dsir -t t.wnw --fit m.wnw pool.wnw
same "the model file: 7 parameter records, then buckets with counts" \
	"$(unpack --tsv bucket,target,raw m.wnw | sed -n 2,8p | cut -f1,2 | tr '\t\n' ' ;')" \
	"4294967296 10000;4294967297 1;4294967298 2;4294967299 0;4294967300 1;4294967301 2;4294967302 61;"
same "--model gives what fitting gives" "$(dsir --model m.wnw pool.wnw | unpack --tsv id,logw)" \
	"$(unpack --tsv id,logw w.wnw)"
same "--model with -t refits the target only" \
	"$(dsir --model m.wnw -t pool.wnw pool.wnw | unpack --tsv logw | awk 'NR > 1 && $1 != 0' | wc -l)" 0
same "--fit with --raw reads no pool" "$(dsir -t t.wnw --raw pool.wnw --fit m2.wnw && cmp m.wnw m2.wnw >/dev/null; \
	unpack --tsv bucket,target,raw m2.wnw | md5sum)" "$(unpack --tsv bucket,target,raw m.wnw | md5sum)"
same "--fit from a pipe: the same counts" "$(cat pool.wnw | dsir -t t.wnw --fit m4.wnw && \
	unpack --tsv bucket,target,raw m4.wnw | md5sum)" "$(unpack --tsv bucket,target,raw m.wnw | md5sum)"
same "--buckets and --ngram reach the model" \
	"$(dsir -t t.wnw --buckets 64 --ngram 1-3 --fit m3.wnw pool.wnw && unpack --tsv target m3.wnw | sed -n 2,4p | tr '\n' ' ')" \
	"64 1 3 "
same "--out names the field" "$(dsir -t t.wnw --out w pool.wnw | inspect | grep -c 'name: w,')" 1
# logw is not normalised by length: the empty text's 0 outranks the (negative) weights of the rest.
same "dsir | sample --top: the empty text, then code records" \
	"$(dsir -t t.wnw pool.wnw | sample --top 6 --by logw | unpack --ids | awk '$1 < 30 || $1 == 60' | wc -l)" 6

# --- errors ------------------------------------------------------------------------------------------
fails 2 "give -t TARGET, --model FILE, or both" "neither -t nor --model" dsir pool.wnw
fails 2 "no --raw, --buckets or --ngram" "--model with --buckets" dsir --model m.wnw --buckets 8 pool.wnw
fails 2 "--fit writes only the models" "--fit with -o" dsir -t t.wnw --fit x.wnw -o y.wnw pool.wnw
fails 2 "--ngram: '0-2'" "--ngram 0-2" dsir -t t.wnw --ngram 0-2 pool.wnw
fails 2 "--buckets: '0'" "--buckets 0" dsir -t t.wnw --buckets 0 pool.wnw
fails 1 "no field 'body'" "a missing text field is bad data" dsir -t t.wnw --field body pool.wnw
fails 1 "field 'id'" "a text field that is not bytes is bad data" dsir -t t.wnw --field id pool.wnw
pack </dev/null >empty.wnw 2>/dev/null
fails 1 "no target texts" "an empty target is bad data" dsir -t empty.wnw pool.wnw
fails 1 "not a dsir model" "a stream that is not a model" dsir --model pool.wnw pool.wnw
head -c 300 m.wnw >trunc.wnw
fails 1 "trunc" "a truncated model" dsir --model trunc.wnw pool.wnw
head -c 400 pool.wnw >cutpool.wnw
fails 1 "trunc" "a truncated pool" dsir -t t.wnw cutpool.wnw
