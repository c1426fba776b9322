#!/usr/bin/env bash
# embed-hash: the pack | embed-hash | unpack pipeline, pass-through of other fields, unit norms and
# zero vectors, the same bytes for every -j, IDF fitting and use, and every error.
source "$(dirname "$0")/../lib.sh"
PY=/usr/bin/python3

# vecinfo: for unpack --add vec JSONL on stdin, "n dim zeros bad" where bad counts vectors that are
# neither unit length (within 1e-5) nor all zeros, or that hold a NaN.
vecinfo() {
	$PY -c '
import json, math, sys
n = zeros = bad = 0; dim = set()
for l in sys.stdin:
    v = json.loads(l)["'"${1:-vec}"'"]; n += 1; dim.add(len(v))
    s = math.sqrt(sum(x * x for x in v))
    if any(x != x for x in v): bad += 1
    elif s == 0: zeros += 1
    elif abs(s - 1) > 1e-5: bad += 1
print(n, ",".join(map(str, sorted(dim))), zeros, bad)'
}

zstd -dc "$TOP/demo/pool.jsonl.zst" >pool.jsonl  # 1230 records of five domains
pack --field domain pool.jsonl >pool.wnw 2>/dev/null
printf '%s\n' '{"text":"The cat sat on the mat.","k":7,"lang":"en"}' '{"text":"","k":8,"lang":"none"}' \
	'{"text":"Le chat est assis.","k":9,"lang":"fr"}' >small.jsonl
pack --field k:u64 --field lang small.jsonl >small.wnw 2>/dev/null

# --- the pipeline of the issue, and what comes out ---------------------------------------------------
ok "pack < pool.jsonl | embed-hash | unpack --npy vec > vec.npy" \
	bash -c 'pack <pool.jsonl | embed-hash | unpack --npy vec >vec.npy'
same "vec.npy is a 1230 x 256 little-endian f32 array" \
	"$($PY -c 'import ast; h = open("vec.npy","rb").read(200); d = ast.literal_eval(h[10:10 + int.from_bytes(h[8:10], "little")].decode()); print(d["descr"], d["shape"])')" \
	"<f4 (1230, 256)"
same "vec.npy holds 1230 x 256 floats after its header" \
	"$($PY -c 'import os; h = open("vec.npy","rb").read(10); print(os.path.getsize("vec.npy") - 10 - int.from_bytes(h[8:10], "little"))')" \
	$((1230 * 256 * 4))
# Nearest neighbours by these vectors share the record's domain: 0.916 measured, chance 0.233.
read -r nn chance < <($PY -c '
import json, numpy as np
v = np.load("vec.npy"); d = [json.loads(l)["domain"] for l in open("pool.jsonl")]
s = v @ v.T; np.fill_diagonal(s, -2); nn = s.argmax(1)
_, k = np.unique(d, return_counts=True)
print("%.3f %.3f" % (np.mean([d[i] == d[j] for i, j in enumerate(nn)]), ((k / len(d)) ** 2).sum()))')
echo "# nearest neighbour shares the domain: $nn (chance $chance)"
truthy "nearest neighbours share the domain: above 0.85 and 3 x chance (measured 0.916, chance 0.233)" \
	"awk -v a='$nn' -v c='$chance' 'BEGIN { exit !(a > 0.85 && a > 3 * c) }'"
embed-hash pool.wnw >pool.vec.wnw 2>/dev/null
same "every pool vector has unit length, none is zero" "$(unpack --add vec pool.vec.wnw | vecinfo)" "1230 256 0 0"

# --- other fields pass through; the vector field is appended or replaced -------------------------------
embed-hash --dim 8 small.wnw >small.vec.wnw 2>small.err
same "pass-through: the other fields come out unchanged" \
	"$(unpack --tsv id,text,k,lang small.vec.wnw)" "$(unpack --tsv id,text,k,lang small.wnw)"
same "pass-through: the json field comes out unchanged" "$(unpack small.vec.wnw)" "$(unpack small.wnw)"
same "the vector field is appended after the others" \
	"$(inspect small.vec.wnw 2>/dev/null | grep -o 'name: [a-z]*, type: [^}]*' | tr '\n' ' ')" \
	"name: id, type: u64 name: text, type: bytes name: json, type: bytes name: k, type: u64 name: lang, type: bytes name: vec, type: 'vec[8]' "
same "empty text: a zero vector, the others unit length" "$(unpack --add vec small.vec.wnw | vecinfo)" "3 8 1 0"
same "empty text: counted in a warning at the end, exit 0" "$(cat small.err)" \
	"embed-hash: small.wnw: 1 of 3 records had no features (empty text): zero vectors"
embed-hash --dim 4 small.vec.wnw 2>/dev/null | embed-hash --dim 16 --out vec >twice.wnw 2>/dev/null
same "an existing vector field of that name is replaced in place" \
	"$(inspect twice.wnw 2>/dev/null | grep -c 'name: vec, type:') $(unpack --add vec twice.wnw | vecinfo)" "1 3 16 1 0"
embed-hash --field lang --out lang_vec --dim 4 small.wnw 2>/dev/null | unpack --add lang_vec >lang.jsonl
same "--field and --out name the text and vector fields" "$(vecinfo lang_vec <lang.jsonl)" "3 4 0 0"
embed-hash --dim 4 --out text small.wnw 2>/dev/null | unpack --tsv id,k >inplace.tsv
same "--out may replace the text field itself" "$(cat inplace.tsv)" "$(unpack --tsv id,k small.wnw)"

# --- the same bytes for every thread count, run and input form ---------------------------------------
embed-hash -j 1 pool.wnw >j1.wnw 2>/dev/null
embed-hash -j 2 pool.wnw >j2.wnw 2>/dev/null
embed-hash -j 3 pool.wnw >j3.wnw 2>/dev/null
same_file "-j 2 gives the bytes of -j 1" j2.wnw j1.wnw
same_file "-j 3 gives the bytes of -j 1" j3.wnw j1.wnw
same_file "a second run gives the same bytes" pool.vec.wnw j1.wnw
# Several batches with threads (4096 records at most, and 4 MB of vectors: 512 at dim 2048), one record
# at a time with -j 1: the same bytes.
cat pool.wnw pool.wnw pool.wnw pool.wnw >pool4.wnw
embed-hash -j 1 pool4.wnw >p4j1.wnw 2>/dev/null
embed-hash -j 2 pool4.wnw >p4j2.wnw 2>/dev/null
same_file "4920 records, two batches with -j 2: the bytes of -j 1" p4j2.wnw p4j1.wnw
embed-hash --dim 2048 -j 1 pool4.wnw >p4d1.wnw 2>/dev/null
embed-hash --dim 2048 -j 3 pool4.wnw >p4d3.wnw 2>/dev/null
same_file "dim 2048, ten batches with -j 3: the bytes of -j 1" p4d3.wnw p4d1.wnw
cat pool.wnw | embed-hash -j 2 | unpack --add vec >pipe.jsonl 2>/dev/null
same "standard input gives the records of a file" "$(md5sum <pipe.jsonl)" "$(unpack --add vec j1.wnw | md5sum)"
embed-hash --char 3-5 --dim 1024 -j 1 pool.wnw >c1.wnw 2>/dev/null
embed-hash --char 3-5 --dim 1024 -j 2 pool.wnw >c2.wnw 2>/dev/null
same_file "character n-grams at dim 1024: -j 2 gives the bytes of -j 1" c2.wnw c1.wnw
same "character n-grams: unit vectors of dimension 1024" "$(unpack --add vec c1.wnw | vecinfo)" "1230 1024 0 0"
embed-hash -z 5 -o comp.wnw.zst pool.wnw 2>/dev/null
same "zstd output (-z) holds the same records" "$(unpack --add vec comp.wnw.zst | md5sum)" "$(unpack --add vec j1.wnw | md5sum)"
zstd -q -c pool.wnw >pool.wnw.zst
same "zstd-compressed input gives the same records" "$(embed-hash pool.wnw.zst 2>/dev/null | unpack --add vec | md5sum)" \
	"$(unpack --add vec j1.wnw | md5sum)"
same "a changed seed changes the vectors" "$(embed-hash --seed 1 pool.wnw 2>/dev/null | cmp -s - j1.wnw; echo $?)" 1
printf 'dim: 32\nword: 1-3\n' >cfg.yaml
same "--config sets the options" "$(embed-hash --config cfg.yaml small.wnw 2>/dev/null | unpack --add vec | vecinfo)" \
	"3 32 1 0"

# --- IDF: fit, inspect, apply --------------------------------------------------------------------------
ok "--fit-idf writes the document frequencies" embed-hash --fit-idf idf.wnw -j 2 pool.wnw
mkdir j1 && cp pool.wnw j1/ && (cd j1 && embed-hash --fit-idf idf.wnw -j 1 pool.wnw 2>/dev/null)
same_file "--fit-idf: -j 2 gives the bytes of -j 1" idf.wnw j1/idf.wnw
unpack --tsv bucket,df idf.wnw >idf.tsv
same "IDF file: parameter records docs, bits, seed, word 1-2, char 0-0, rules" \
	"$(sed -n 2,9p idf.tsv | tr '\t\n' ': ')" \
	"4294967296:1230 4294967297:20 4294967298:0 4294967299:1 4294967300:2 4294967301:0 4294967302:0 4294967303:1 "
truthy "IDF file: buckets increase, below 2^20, with 1 <= df <= 1230" \
	"awk -F'\t' 'NR > 9 { if (\$1 <= p && NR > 10 || \$1 >= 1048576 || \$2 < 1 || \$2 > 1230) bad = 1; p = \$1 } END { exit bad }' idf.tsv"
embed-hash --idf idf.wnw pool.wnw >idfvec.wnw 2>/dev/null
same "--idf: unit vectors" "$(unpack --add vec idfvec.wnw | vecinfo)" "1230 256 0 0"
same "--idf changes the vectors" "$(cmp -s idfvec.wnw j1.wnw; echo $?)" 1
# df by hand: "a" in 3 of 3 documents, "b" and "c" in 1: idf(a) = ln(4/4) + 1 = 1, idf(b) = ln(4/2) + 1.
printf '%s\n' '{"text":"a b"}' '{"text":"a c"}' '{"text":"a"}' | pack >abc.wnw 2>/dev/null
embed-hash --word 1 --fit-idf abc.idf --idf-bits 10 abc.wnw 2>/dev/null
same "IDF by hand: document frequencies 3, 1, 1 of 3 documents" \
	"$(unpack --tsv bucket,df abc.idf | awk -F'\t' 'NR == 2 { print "docs", $2 } NR > 9 { print $2 }' | sort | tr '\n' ' ')" \
	"1 1 3 docs 3 "
same "IDF by hand: in 'a b' the weight of b is (1 + ln 2) times that of a" \
	"$(embed-hash --word 1 --idf abc.idf --dim 65536 abc.wnw 2>/dev/null | unpack --add vec | head -1 |
		$PY -c 'import json, sys; v = sorted(abs(x) for x in json.load(sys.stdin)["vec"] if x); print("%.5f" % (v[1] / v[0]))')" \
	"1.69315"
fails 2 "fitted with --seed 0, not 5" "--idf with another seed than the fit: usage error" \
	embed-hash --idf idf.wnw --seed 5 pool.wnw
fails 2 "fitted with --word 1-2, not 1-3" "--idf with other n-grams than the fit: usage error" \
	embed-hash --idf idf.wnw --word 1-3 pool.wnw
fails 1 "not an IDF file" "--idf on a stream that is not an IDF file: data error" embed-hash --idf pool.wnw pool.wnw
# Hand-made IDF files through pack: the parameters of a word 1-2 fit, then bucket records.
meta() { for k in 0 1 2 3 4 5 6 7; do
	printf '{"text":"","bucket":%d,"df":%d}\n' $((4294967296 + k)) "$(echo "3 10 0 1 2 0 0 1" | cut -d' ' -f$((k + 1)))"; done; }
{ meta; printf '{"text":"","bucket":5,"df":1}\n{"text":"","bucket":9,"df":3}\n'; } | pack --field bucket:u64 --field df:u64 >good.idf 2>/dev/null
ok "a hand-made IDF file is accepted" embed-hash --idf good.idf small.wnw
{ meta; printf '{"text":"","bucket":9,"df":1}\n{"text":"","bucket":5,"df":3}\n'; } | pack --field bucket:u64 --field df:u64 >order.idf 2>/dev/null
fails 1 "order.idf: record 10: bucket 5 out of order" "IDF buckets out of order: data error" embed-hash --idf order.idf small.wnw
{ meta; printf '{"text":"","bucket":5,"df":4}\n'; } | pack --field bucket:u64 --field df:u64 >df.idf 2>/dev/null
fails 1 "df.idf: record 9: df 4 not in 1..3" "IDF df above docs: data error" embed-hash --idf df.idf small.wnw
{ meta | head -3; } | pack --field bucket:u64 --field df:u64 >short.idf 2>/dev/null
fails 1 "short.idf: parameter record word_lo" "IDF parameters missing: data error" embed-hash --idf short.idf small.wnw
{ meta; printf '{"text":"","bucket":1024,"df":1}\n'; } | pack --field bucket:u64 --field df:u64 >big.idf 2>/dev/null
fails 1 "bucket 1024 out of order or beyond 1024" "IDF bucket beyond 2^bits: data error" embed-hash --idf big.idf small.wnw
head -c 2000 idf.wnw >idf.cut
fails 1 "idf.cut" "--idf on a truncated IDF file: data error" embed-hash --idf idf.cut pool.wnw
embed-hash nope.wnw >/dev/null 2>&1
missing=$?
fails $missing "nope.wnw: cannot open" "--idf on a missing file: the status of a missing input ($missing)" \
	embed-hash --idf nope.wnw pool.wnw

# --- errors --------------------------------------------------------------------------------------------
fails 1 "no field 'body'" "missing text field: data error naming it" embed-hash --field body small.wnw
fails 1 "field 'k' is u64, not bytes" "text field of another type: data error" embed-hash --field k small.wnw
head -c 3000 pool.wnw >cut.wnw
fails 1 "cut.wnw" "truncated input: data error" embed-hash cut.wnw
fails 1 "" "input that is not a stream: data error" embed-hash pool.jsonl
fails 2 "--dim: '0'" "--dim 0: usage error" embed-hash --dim 0 small.wnw
fails 2 "--dim: '65537'" "--dim 65537: usage error" embed-hash --dim 65537 small.wnw
fails 2 "--word: '3-1'" "--word 3-1: usage error" embed-hash --word 3-1 small.wnw
fails 2 "--char: '1-9'" "--char 1-9: usage error" embed-hash --char 1-9 small.wnw
fails 2 "no features" "--word 0 without --char: usage error" embed-hash --word 0 small.wnw
fails 2 "exclude each other" "--idf with --fit-idf: usage error" embed-hash --idf idf.wnw --fit-idf x.wnw small.wnw
fails 2 "needs --fit-idf" "--idf-bits without --fit-idf: usage error" embed-hash --idf-bits 12 small.wnw
fails 2 "--idf-bits: '9'" "--idf-bits 9: usage error" embed-hash --fit-idf x.wnw --idf-bits 9 small.wnw
fails 2 "-o is not allowed" "-o with --fit-idf: usage error" embed-hash --fit-idf x.wnw -o y.wnw small.wnw
fails 2 "one input at most" "two inputs: usage error" embed-hash small.wnw small.wnw
fails 2 "unknown option" "unknown option: usage error" embed-hash --bogus small.wnw
ok "--help exits 0" embed-hash --help
same "--help shows the defaults" "$(embed-hash --help | grep -c 'default: 256\|default: 1-2\|default: text\|default: vec')" 4
ok "--version exits 0" embed-hash --version
same "a closed downstream pipe ends it quietly with status 0" \
	"$(embed-hash -j 2 pool.wnw 2>&1 | head -c 10 >/dev/null; echo "${PIPESTATUS[0]}")" 0
fails 3 "write" "a full disk is a system error" bash -c 'embed-hash -j 2 pool.wnw >/dev/full'
embed-hash --word 1-9 -o never.wnw small.wnw 2>/dev/null
same "a failed run leaves no output file" "$(ls never.wnw* 2>/dev/null | wc -l)" 0
