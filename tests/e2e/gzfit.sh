#!/usr/bin/env bash
# gzfit: exact ZIP-FIT scores against Python's gzip on the toy set (levels 1 and 9, 1e-12) and on binary
# data, targets as stream or JSONL, pass-through, the same bytes for every -j and with or without the
# primed deflate state, fast mode, empty and huge texts, and every error.
source "$(dirname "$0")/../lib.sh"
zipfit_toy
TOY=$T/zipfit-toy
D=$DATA/gzfit

# maxdiff GOT.tsv WANT.tsv: "N maxabs" over lines with the same id in the same order, or "id mismatch"
maxdiff() {
	paste "$1" "$2" | awk -F'\t' 'NR > 1 { if ($1 != $3) bad = 1; d = $2 - $4; if (d < 0) d = -d;
		if (d > m) m = d; n++ } END { if (bad) print "id mismatch"; else printf "%d %s\n", n, (m > 1e-12 ? m : "ok") }'
}

pack --id id "$TOY/pool.jsonl" >pool.wnw 2>/dev/null
pack --id id "$TOY/target.jsonl" >target.wnw 2>/dev/null
unpack nonexistent.wnw >/dev/null 2>&1
missing=$? # the documented status of a missing input
head -c 3000 pool.wnw >cut.wnw

# --- exactness: Python's gzip on the toy set, and on binary data ------------------------------------
for L in 1 9; do
	gzfit -t target.wnw --level $L pool.wnw >s$L.wnw 2>/dev/null
	unpack --tsv id,score s$L.wnw >s$L.tsv
	same "level $L: 304 toy scores within 1e-12 of expected_scores_level$L.tsv" \
		"$(maxdiff s$L.tsv "$TOY/expected_scores_level$L.tsv")" "304 ok"
	unpack --tsv id,score "$(gzfit -t "$D/binary_targets.wnw" --level $L "$D/binary_pool.wnw" >b$L.wnw; echo b$L.wnw)" >b$L.tsv
	same "level $L: binary texts (NUL, 0xff, empty, a target of 85 KB) as Python's gzip" \
		"$(maxdiff b$L.tsv "$D/expected_binary_level$L.tsv")" "5 ok"
done
gzfit -t target.wnw pool.wnw >default.wnw 2>/dev/null
same "the default level is 9" "$(unpack --tsv id,score default.wnw)" "$(cat s9.tsv)"
same "the exact copy of a target (id 303) scores highest" "$(sort -t$'\t' -k2,2gr s9.tsv | head -1 | cut -f1)" 303
gzfit --no-prime -t target.wnw --level 1 pool.wnw >np1.wnw 2>/dev/null
same "--no-prime (one deflate call per pair) gives the same scores, level 1" "$(unpack --tsv id,score np1.wnw)" \
	"$(cat s1.tsv)"
gzfit --no-prime -t target.wnw pool.wnw >np9.wnw 2>/dev/null
same "--no-prime gives the same scores, level 9" "$(unpack --tsv id,score np9.wnw)" "$(cat s9.tsv)"

# --- targets as JSONL, other fields, pass-through ----------------------------------------------------
gzfit -t "$TOY/target.jsonl" pool.wnw >j.wnw 2>/dev/null
same "targets as JSONL score as the same targets in a stream" "$(unpack --tsv id,score j.wnw)" "$(cat s9.tsv)"
sed 's/"text":/"body":/' "$TOY/target.jsonl" >body.jsonl
zstd -q -c body.jsonl >body.jsonl.zst
gzfit -t body.jsonl.zst --text body pool.wnw >jb.wnw 2>/dev/null
same "-t FILE.jsonl.zst --text MEMBER" "$(unpack --tsv id,score jb.wnw)" "$(cat s9.tsv)"
same "pass-through: every other field unchanged" "$(unpack s9.wnw | md5sum)" "$(unpack pool.wnw | md5sum)"
same "score is appended as f64" \
	"$(inspect s9.wnw 2>/dev/null | grep -o 'name: [a-z]*, type: [a-z0-9]*' | tr '\n' ' ')" \
	"name: id, type: u64 name: text, type: bytes name: json, type: bytes name: score, type: f64 "
gzfit -t target.wnw --level 1 s9.wnw >again.wnw 2>/dev/null
same "an existing score field is replaced in place" \
	"$(unpack --tsv id,score again.wnw | md5sum) $(inspect again.wnw 2>/dev/null | grep -c 'name: score')" \
	"$(md5sum <s1.tsv) 1"
printf '{"id": 0, "text": "", "body": "def f(x):\\n    return x + 1\\n"}\n{"id": 1, "text": "", "body": "Dear Sir"}\n' >f.jsonl
printf '{"id": 0, "text": "def f(x):\\n    return x + 1\\n"}\n{"id": 1, "text": "Dear Sir"}\n' >g.jsonl
pack --id id --field body f.jsonl >f.wnw 2>/dev/null
pack --id id g.jsonl >g.wnw 2>/dev/null
same "--field names the pool's text field" "$(gzfit --field body -t target.wnw f.wnw | unpack --tsv id,score)" \
	"$(gzfit -t target.wnw g.wnw | unpack --tsv id,score)"
same "--text names the targets' text field" "$(gzfit --field body --text body -t f.wnw f.wnw | unpack --tsv id,score)" \
	"$(gzfit -t g.wnw g.wnw | unpack --tsv id,score)"

# --- determinism over -j -------------------------------------------------------------------------------
for j in 2 3; do
	gzfit -j $j -t target.wnw pool.wnw >j$j.wnw 2>/dev/null
	same "exact mode: -j $j writes the same bytes as -j 1" "$(cmp -s j$j.wnw default.wnw && echo same)" same
	gzfit -j $j --fast -t target.wnw pool.wnw >fj$j.wnw 2>/dev/null
done
gzfit --fast -t target.wnw pool.wnw >f1.wnw 2>/dev/null
same "fast mode: -j 2 and -j 3 write the same bytes as -j 1" \
	"$(cmp -s fj2.wnw f1.wnw && cmp -s fj3.wnw f1.wnw && echo same)" same

# --- fast mode -----------------------------------------------------------------------------------------
unpack --tsv id,score f1.wnw >f1.tsv
same "fast: a score for every record, all below 1, the empty text 0" \
	"$(awk -F'\t' 'NR > 1 { n++; if ($2 >= 1) bad++; if ($1 == 300) e = $2 } END { print n, bad + 0, e }' f1.tsv)" \
	"304 0 0"
same "fast: the copy of a target scores highest" "$(sort -t$'\t' -k2,2gr f1.tsv | head -1 | cut -f1)" 303
gzfit --fast --dict zlib -t target.wnw pool.wnw >fz.wnw 2>/dev/null
same "fast --dict zlib: the copy of a target scores highest" \
	"$(unpack --tsv id,score fz.wnw | sort -t$'\t' -k2,2gr | head -1 | cut -f1)" 303
fails 1 "cannot train" "fast --dict trained on too few targets is a data error" \
	gzfit --fast --dict trained -t "$D/binary_targets.wnw" pool.wnw
same "fast --fast-level changes the scores" \
	"$(gzfit --fast --fast-level 9 -t target.wnw pool.wnw 2>/dev/null | cmp -s - f1.wnw && echo same)" ""

# --- fast mode's backgrounds ---------------------------------------------------------------------------
# The default background is NBACK = 3 samples of the pool, each about the targets' bytes; a record is
# never scored against a sample that holds it: were it, Z(x | B) would be a few bytes and its score far
# below -1.
gzfit --fast --background none -t target.wnw pool.wnw >fn.wnw 2>/dev/null
unpack --tsv id,score fn.wnw >fn.tsv
truthy "--background none: every score is the share the targets save over plain compression, in [-1, 1)" \
	"awk -F'\t' 'NR > 1 && (\$2 < -1 || \$2 >= 1) { bad++ } END { exit bad > 0 }' fn.tsv"
same "--background none: the copy of a target scores highest" "$(sort -t$'\t' -k2,2gr fn.tsv | head -1 | cut -f1)" 303
same "--background none differs from the default (pool)" "$(cmp -s fn.wnw f1.wnw && echo same)" ""
same "background from a pool on standard input, a file: the same scores" \
	"$(gzfit --fast -t target.wnw <pool.wnw 2>/dev/null | unpack --tsv id,score)" "$(cat f1.tsv)"
same "... and from a pipe (copied aside for the second pass)" \
	"$(cat pool.wnw | gzfit --fast -t target.wnw 2>/dev/null | unpack --tsv id,score)" "$(cat f1.tsv)"
same "--background FILE holding the pool gives the same scores as the default" \
	"$(gzfit --fast --background pool.wnw -t target.wnw pool.wnw 2>/dev/null | unpack --tsv id,score)" \
	"$(cat f1.tsv)"
# shards scored against the whole pool as background give each record the score of the single run
shard -n 3 'part%d.wnw' pool.wnw 2>/dev/null
for k in 0 1 2; do gzfit --fast --background pool.wnw -t target.wnw part$k.wnw >sp$k.wnw 2>/dev/null; done
same "shards scored with --background POOL: every record's score as in one run" \
	"$(cat sp0.wnw sp1.wnw sp2.wnw | unpack --tsv id,score | tail -n +2 | sort -n | md5sum)" \
	"$(tail -n +2 f1.tsv | sort -n | md5sum)"
# the sample depends on ids and texts, not on their order
unpack pool.wnw | tac | pack --id id >rev.wnw 2>/dev/null
same "the pool in reverse order: every record keeps its score" \
	"$(gzfit --fast -t target.wnw rev.wnw 2>/dev/null | unpack --tsv id,score | tail -n +2 | sort -n | md5sum)" \
	"$(tail -n +2 f1.tsv | sort -n | md5sum)"
gzfit --fast -v -t target.wnw pool.wnw 2>verbose.txt >/dev/null
same "-v: the targets' and three backgrounds' dictionaries, each background at least the targets' bytes" \
	"$(awk '/targets:/ { t = $5 } /background:/ { n++; if ($5 >= t && $3 > 0) ok++ } END { print n, ok }' verbose.txt)" \
	"3 3"
# 400 texts of 60 random words each, no two alike: a record scored against a background holding its own
# text would compress to a few bytes there and score far below -1.
awk 'BEGIN { srand(7); for (i = 0; i < 400; i++) { s = ""; for (w = 0; w < 60; w++) { n = 3 + int(rand() * 6); t = "";
	for (c = 0; c < n; c++) t = t sprintf("%c", 97 + int(rand() * 26)); s = s t " " } printf "{\"id\": %d, \"text\": \"%s\"}\n", i, s } }' \
	>words.jsonl
pack --id id words.jsonl >words.wnw 2>/dev/null
head -20 words.jsonl | pack --id id >wtarget.wnw 2>/dev/null
gzfit --fast -t wtarget.wnw words.wnw 2>/dev/null | unpack --tsv id,score >words.tsv
same "no record scores below -1 when no text repeats: a background's records are scored against the other two" \
	"$(awk -F'\t' 'NR > 1 { n++; if ($2 < -1) bad++ } END { print n, bad + 0 }' words.tsv)" "400 0"
truthy "the default's scores differ from --background none's for most records" \
	"[ \"\$(paste f1.tsv fn.tsv | awk -F'\t' 'NR > 1 && \$2 != \$4' | wc -l)\" -gt 250 ]"
fails 2 "need --fast" "--background without --fast is a usage error" gzfit --background none -t target.wnw pool.wnw
fails $missing "nosuch.wnw" "a missing --background FILE: the status of a missing input" \
	gzfit --fast --background nosuch.wnw -t target.wnw pool.wnw
fails 1 "cut.wnw" "a truncated --background FILE is a data error" \
	gzfit --fast --background cut.wnw -t target.wnw pool.wnw
fails 2 "standard input" "--background - with the pool on stdin is a usage error" \
	gzfit --fast --background - -t target.wnw <pool.wnw

# --- empty and huge texts -----------------------------------------------------------------------------
printf '{"text": ""}\n' >empty_target.jsonl
gzfit -t empty_target.jsonl pool.wnw 2>/dev/null | unpack --tsv id,score >et.tsv
same "an empty target: NCD (C(x) - 20) / C(x), so the empty example scores 1" \
	"$(awk -F'\t' '$1 == 300 { print $2 }' et.tsv)" 1
same "an empty target in fast mode: no dictionary and empty backgrounds, so every score is 0" \
	"$(gzfit --fast -t empty_target.jsonl pool.wnw 2>/dev/null | unpack --tsv score | tail -n +2 | sort -u)" 0
printf '{"text": "%s"}\n' "$(seq -s ' ' 1 600000)" >huge.jsonl # 4.5 MB, more than 100 deflate windows
head -3 "$TOY/pool.jsonl" | pack --id id >three.wnw 2>/dev/null
gzfit -t huge.jsonl --level 1 three.wnw >h.wnw 2>/dev/null
gzfit -t huge.jsonl --level 1 --no-prime three.wnw >hn.wnw 2>/dev/null
same "a 4.5 MB target: primed and one-call sizes agree" "$(unpack --tsv score h.wnw)" "$(unpack --tsv score hn.wnw)"
truthy "a 4.5 MB target: three finite scores" "[ \"\$(unpack --tsv score h.wnw | grep -c '^[0-9.e-]*$')\" = 3 ]"
cat huge.jsonl huge.jsonl >huge2.jsonl
ok "fast mode with 9 MB of targets (only the last 8 MiB are the dictionary)" \
	gzfit --fast -t huge2.jsonl -o hf.wnw three.wnw

# --- errors -------------------------------------------------------------------------------------------
fails 2 "-t FILE is required" "no targets is a usage error" gzfit pool.wnw
fails 2 "--level: '0'" "--level 0 is refused" gzfit --level 0 -t target.wnw pool.wnw
fails 2 "--level: '10'" "--level 10 is refused" gzfit --level 10 -t target.wnw pool.wnw
fails 2 "--fast-level" "--level with --fast is a usage error" gzfit --fast --level 3 -t target.wnw pool.wnw
fails 2 "need --fast" "--dict without --fast is a usage error" gzfit --dict raw -t target.wnw pool.wnw
fails 2 "--dict: 'lz4'" "an unknown --dict is a usage error" gzfit --fast --dict lz4 -t target.wnw pool.wnw
fails 2 "zlib" "--fast-level above 9 with zlib is a usage error" gzfit --fast --dict zlib --fast-level 12 -t target.wnw pool.wnw
fails 2 "standard input" "-t - with the pool on stdin is a usage error" gzfit -t - <pool.wnw
fails $missing "nonexistent.wnw: cannot open" "a missing targets stream: the status of a missing input ($missing)" \
	gzfit -t nonexistent.wnw pool.wnw
fails $missing "nonexistent.jsonl" "a missing targets JSONL: the status of a missing input ($missing)" \
	gzfit -t nonexistent.jsonl pool.wnw
: >none.jsonl
fails 1 "no targets" "an empty target set is a data error" gzfit -t none.jsonl pool.wnw
printf '{"text": "a"}\n{"text": \n' >bad.jsonl
fails 1 "bad.jsonl: line 2" "a bad JSONL target line names file and line" gzfit -t bad.jsonl pool.wnw
printf '{"id": 1}\n' >notext.jsonl
fails 1 "notext.jsonl: line 1" "a JSONL target without the member names file and line" gzfit -t notext.jsonl pool.wnw
fails 1 "nosuch" "a missing pool field is a data error" gzfit --field nosuch -t "$TOY/target.jsonl" pool.wnw
fails 1 "id" "a pool field that is not bytes is a data error" gzfit --field id -t "$TOY/target.jsonl" pool.wnw
fails 1 "cut.wnw" "a truncated pool is a data error" gzfit -t target.wnw cut.wnw
head -c 3000 target.wnw >cutt.wnw
fails 1 "cutt.wnw" "a truncated target stream is a data error" gzfit -t cutt.wnw pool.wnw
