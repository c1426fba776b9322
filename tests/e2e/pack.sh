#!/usr/bin/env bash
# End-to-end tests of pack(1).
source "$(dirname "$0")/../lib.sh"
D=$DATA/pack
PY=/usr/bin/python3

# --- JSONL: the json field keeps each line byte for byte -----------------------------------------
ok "pack the demo sample" pack -o demo.wnw "$TOP/demo/sample.jsonl"
unpack demo.wnw >demo.out 2>&1
same_file "demo sample: JSONL -> pack -> unpack is byte-identical" demo.out "$TOP/demo/sample.jsonl"
pack "$D/tricky.jsonl" | unpack >tricky.out
same_file "unicode, escapes, spacing, CRLF, \\u0000: round trip is byte-identical" tricky.out "$D/tricky.jsonl"
same "ids are record indexes from 0 by default" "$(pack "$D/tricky.jsonl" | unpack --ids | tr '\n' ' ')" "0 1 2 3 4 5 6 "
same "--id takes the id from a member" "$(pack --id id "$D/tricky.jsonl" | unpack --ids | tr '\n' ' ')" \
	"7 3 12 0 18446744 5 9 "
same "the text is the member 'text' (escapes decoded, TSV-escaped on output)" \
	"$(pack "$D/tricky.jsonl" | unpack --tsv text | sed -n 3p)" 'tab\there "quoted" back\\slash é 😀'
same "a template makes the text from several members" \
	"$(pack --text '{instruction}\n{input}|{output} {{n}}={n}' "$D/alpaca.jsonl" | unpack --tsv text | tail -n +2)" \
	"$(printf 'Add 2 and 3.\\n|5 {n}=1\nName a colour.\\nwarm|red {n}=2')"
fails 1 "tricky.jsonl: line 1: member \"n\" is missing" "a missing --field member names file and line" \
	pack --field n:u64 "$D/tricky.jsonl"
same "--field lifts members into typed fields" \
	"$(pack --id id --field label --field loss:f64 "$D/tricky.jsonl" | unpack --tsv id,label,loss | sed -n '2p;5p;6p;8p')" \
	"$(printf '7\tprose\t0.125\n0\tprose\t0\n18446744\tcode\t-0.10000000000000001\n9\tx\t1.0000000000000002')"
same "--field types are in the schema" \
	"$(pack --text output --field input:text --field n:f64 "$D/alpaca.jsonl" | inspect | grep -c -e '{name: input, type: bytes}' -e '{name: "n", type: f64}')" "2"

# --- bad lines --------------------------------------------------------------------------------
fails 1 "^pack: $D/bad.jsonl: line 3: string or '}' expected near '}'\$" \
	"a bad line stops with file, line number and jansson's message" pack "$D/bad.jsonl"
printf '{"text":"a"}\n[1,2]\n' >array.jsonl
fails 1 "^pack: array.jsonl: line 2: not a JSON object\$" "a JSON value that is not an object is a bad line" \
	pack array.jsonl
pack <"$D/bad.jsonl" 2>err.txt >/dev/null
same "stdin is named 'stdin' in messages" "$(cat err.txt)" "pack: stdin: line 3: string or '}' expected near '}'"
pack --skip-bad "$D/bad.jsonl" >skip.wnw 2>err.txt
same "--skip-bad skips bad lines and says how many" "$(cat err.txt)" "pack: skipped 2 bad lines"
same "--skip-bad keeps the good lines, ids counted over records" \
	"$(unpack --tsv id,text skip.wnw | tail -n +2 | tr '\t\n' ':,')" "0:a,1:b,2:f,"
ok "the output of a failed pack is not left behind" bash -c "! pack -o gone.wnw '$D/bad.jsonl' 2>/dev/null"
truthy "no output or temporary file after a failure" '[ -z "$(ls gone.wnw* 2>/dev/null)" ]'
printf '{"text":"%s"}\n' "$(head -c 3000 /dev/zero | tr '\0' x)" >long.jsonl
fails 1 "long.jsonl: line 1: line longer than 1024 bytes" "--max-line bounds a line" pack --max-line 1K long.jsonl
printf '{"text":"a"}\n{"text":"\xff"}\n' >badutf.jsonl
fails 1 "badutf.jsonl: line 2: unable to decode byte 0xff" "invalid UTF-8 is a bad line" pack badutf.jsonl
fails 1 "alpaca.jsonl: line 1: member \"n\" is not a string" "--text must name a string member" pack --text n "$D/alpaca.jsonl"

printf '\xef\xbb\xbf{"text":"bom"}\n{"text":"x"}\n' >bom.jsonl
same "a UTF-8 byte order mark at the start of a file is skipped" "$(pack bom.jsonl | unpack | head -1)" '{"text":"bom"}'

# --- compressed and multiple inputs -------------------------------------------------------------
gzip -c "$D/tricky.jsonl" >t.gz
zstd -q -c "$D/tricky.jsonl" >t.zst
cp t.gz t_gz_named.jsonl
same ".gz input is read transparently" "$(pack t.gz | unpack | md5sum)" "$(md5sum <"$D/tricky.jsonl")"
same ".zst input is read transparently" "$(pack t.zst | unpack | md5sum)" "$(md5sum <"$D/tricky.jsonl")"
same "compression is told by magic, not name" "$(pack t_gz_named.jsonl | unpack | md5sum)" "$(md5sum <"$D/tricky.jsonl")"
cat t.gz t.gz >tt.gz
same "concatenated gzip members are all read" "$(pack tt.gz | unpack | wc -l)" "14"
same "several input files make one stream, ids running on" \
	"$(gzip -c "$D/alpaca.jsonl" >a.gz; pack --text output "$D/alpaca.jsonl" a.gz - <"$D/alpaca.jsonl" | unpack --ids | tr '\n' ' ')" \
	"0 1 2 3 4 5 "
head -c 200 t.gz >cut.gz
fails 1 "cut.gz: truncated gzip input" "a truncated .gz is an error" pack cut.gz
head -c 200 t.zst >cut.zst
fails 1 "cut.zst: truncated zstd input" "a truncated .zst is an error" pack cut.zst
fails 2 "nope.jsonl" "a missing input file is named" pack nope.jsonl

# --- TSV and plain lines -------------------------------------------------------------------------
same "--tsv: columns by header name, json object built from the row" \
	"$(pack --tsv --id id --field score:f64 "$D/rows.tsv" | unpack --add score --replace)" \
	"$(printf '%s\n' '{"id":"10","text":"first row","score":0.5,"src":"a"}' \
		'{"id":"20","text":"second é","score":-1.25,"src":"b"}' '{"id":"30","text":"third","score":1000,"src":"c"}')"
printf 'a\tb\n1\t2\n3\n' >short.tsv
fails 1 "short.tsv: line 3: 1 columns, the header has 2" "a TSV row with too few columns" pack --tsv --text a short.tsv
fails 1 "short.tsv: line 1: the header has no column 'text'" "a TSV header without the text column" pack --tsv short.tsv
same "--lines: every line is a record, CR stripped, last line without newline kept" \
	"$(pack --lines "$D/lines.txt" | unpack --tsv id,text | tail -n +2 | tr '\t\n' ':|')" \
	"0:plain one|1:plain two|2:|3:last without newline|"
same "--lines writes id and text only" "$(pack --lines "$D/lines.txt" | unpack | head -1)" '{"id":0,"text":"plain one"}'
status 2 "--lines and --tsv exclude each other" pack --lines --tsv "$D/lines.txt"
status 2 "--lines takes no --text" pack --lines --text x "$D/lines.txt"
status 2 "stdin can be read once only" pack --vectors - -

# --- vectors ------------------------------------------------------------------------------------
$PY - <<'EOF'
import numpy as np
rng = np.random.default_rng(7)
a = rng.standard_normal((7, 5))
np.save("v64.npy", a)
np.save("v32.npy", a.astype(np.float32))
np.save("v16.npy", a.astype(np.float16))
np.save("vbe.npy", a.astype(">f4"))
np.save("short.npy", a[:6].astype(np.float32))
np.save("fortran.npy", np.asfortranarray(a.astype(np.float32)))
np.save("ints.npy", np.arange(7 * 5).reshape(7, 5))
np.save("cube.npy", np.zeros((7, 5, 2), np.float32))
b = a.astype(np.float32); b[3, 2] = np.nan
np.save("nan.npy", b)
EOF
for t in 64 32 16 be; do
	pack --vectors "v$t.npy" "$D/tricky.jsonl" | unpack --npy vec -o "out$t.npy"
	ok "--vectors with a $t matrix: rows joined, values exact as float32" $PY -c "
import numpy as np
a = np.load('v$t.npy').astype(np.float32); b = np.load('out$t.npy')
assert b.dtype == np.float32 and b.shape == a.shape and np.array_equal(a, b), (a, b)"
done
ok "two --vectors with names" bash -c "pack --vectors v32.npy --vectors e2=v16.npy '$D/tricky.jsonl' | inspect | grep -q 'name: e2, type: .vec.5.'"
same "--vectors alone: one record per row, id = row" "$(pack --vectors v32.npy | unpack --ids | tr '\n' ' ')" "0 1 2 3 4 5 6 "
fails 1 "short.npy: has 6 rows, but the input has more records" "too few rows" pack --vectors short.npy "$D/tricky.jsonl"
fails 1 "v32.npy: has 7 rows, but the input has 2 records" "too many rows" pack --text output --vectors v32.npy "$D/alpaca.jsonl"
fails 1 "fortran.npy: array is in Fortran order" "Fortran order is refused" pack --vectors fortran.npy
fails 1 "ints.npy: dtype '<i8' is not float16, float32 or float64" "integer matrices are refused" pack --vectors ints.npy
fails 1 "cube.npy: array has 3 dimensions" "3-D arrays are refused" pack --vectors cube.npy
fails 1 "nan.npy: row 3: component 2 is not a finite number" "NaN in a vector is refused" pack --vectors nan.npy
head -c 150 v32.npy >cut.npy
fails 1 "cut.npy: file holds 150 bytes, its header announces" "a truncated .npy is refused" pack --vectors cut.npy
fails 1 "stdin: truncated: row 2 of 7 is missing" "a truncated .npy on a pipe is refused" \
	bash -c 'head -c 150 v32.npy | pack --vectors -'
status 2 "--skip-bad with --vectors is refused" pack --skip-bad --vectors v32.npy "$D/tricky.jsonl"

# --- output ---------------------------------------------------------------------------------------
pack "$D/tricky.jsonl" >a.wnw
pack "$D/tricky.jsonl" >b.wnw
same_file "same input, same bytes (SOURCE_DATE_EPOCH set)" a.wnw b.wnw
pack -o c.wnw "$D/tricky.jsonl"
same_file "-o writes the same stream as stdout" c.wnw a.wnw
pack -z "$D/tricky.jsonl" >z.wnw
same "-z writes zstd" "$(head -c 4 z.wnw | od -An -tx1 | tr -d ' ')" "28b52ffd"
same "-z output reads back the same" "$(unpack z.wnw | md5sum)" "$(md5sum <"$D/tricky.jsonl")"
for _ in $(seq 1500); do cat "$D/tricky.jsonl"; done >big.jsonl
pack big.jsonl >j1.wnw
pack -j 3 big.jsonl >j3.wnw
same_file "-j 3 writes the same bytes as -j 1 (10500 lines, several batches)" j3.wnw j1.wnw
{ head -6000 big.jsonl; echo '{bad'; sed -n '6001,9000p' big.jsonl; echo '[]'; tail -1500 big.jsonl; } >bad2.jsonl
fails 1 "^pack: bad2.jsonl: line 6001: " "-j 2: the first bad line in input order is the one reported" pack -j 2 bad2.jsonl
pack -j 2 --skip-bad bad2.jsonl 2>err.txt | unpack >skipped.out
same "-j 2 --skip-bad: every good line kept, in order" "$(cat err.txt; md5sum <skipped.out)" \
	"pack: skipped 2 bad lines
$(md5sum <big.jsonl)"
pack big.jsonl 2>err.txt | head -c 10 >/dev/null
same "| head: pack ends quietly with status 0" "${PIPESTATUS[0]}:$(cat err.txt)" "0:"
ok "--help" pack --help

# --- memory follows the longest line (pack(1), MEMORY) --------------------------------------------------
# A line of 40 MB: the peak resident size stays under 6 times it (it was 7.9 times before long lines
# were parsed in place). Sanitizer builds keep shadow memory, so the bound is checked on release builds.
if [ -x /usr/bin/time ] && ! case $B in *san*) true ;; *) false ;; esac; then
	$PY -c "import json; print(json.dumps({'text': 'x' * 40_000_000, 'id': 1}))" >long40.jsonl
	/usr/bin/time -f %M -o rss.txt pack long40.jsonl >long40.wnw
	truthy "a 40 MB line packs in less than 6 times its size ($(cat rss.txt) KB)" '[ "$(cat rss.txt)" -lt 240000 ]'
	same "and comes back byte for byte" "$(unpack long40.wnw | md5sum)" "$(md5sum <long40.jsonl)"
	rm -f long40.jsonl long40.wnw
fi

# --- where the output goes ------------------------------------------------------------------------------------
fails 3 "^pack: /dev/full: write: No space left on device\$" "-o /dev/full names the device, not stdout" \
	pack -o /dev/full "$D/tricky.jsonl"
fails 2 "a winnow stream is compressed with zstd" "-o FILE.gz is refused for a stream" pack -o s.wnw.gz "$D/tricky.jsonl"
if command -v script >/dev/null; then
	script -qec "pack $D/tricky.jsonl" /dev/null >tty.out 2>&1
	truthy "a stream is not written to a terminal: a one-line hint instead" \
		'grep -q "pack: will not write binary output to a terminal: give -o FILE or a pipe (or --force)" tty.out && [ $(wc -l <tty.out) = 1 ]'
	script -qec "pack -f $D/tricky.jsonl" /dev/null >tty.out 2>&1
	truthy "-f writes it anyway" 'grep -q WNW tty.out'
	script -qec "pack $D/tricky.jsonl | embed-hash" /dev/null >tty.out 2>&1
	truthy "and so for every program writing a stream (embed-hash)" \
		'grep -q "embed-hash: will not write binary output to a terminal" tty.out'
fi
