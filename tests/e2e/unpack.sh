#!/usr/bin/env bash
# End-to-end tests of unpack(1).
source "$(dirname "$0")/../lib.sh"
D=$DATA/pack
PY=/usr/bin/python3

pack --id id --field label --field loss:f64 "$D/tricky.jsonl" >t.wnw
pack --text output --field n:u64 "$D/alpaca.jsonl" >a.wnw

# --- JSONL ----------------------------------------------------------------------------------------
same_file "JSONL round trip is byte-identical" <(unpack t.wnw) "$D/tricky.jsonl"
same "--add --replace of a member the object has replaces its value in place" "$(unpack --add n --replace a.wnw)" \
	"$(cat "$D/alpaca.jsonl")"
fails 1 "a.wnw: record 1: .*already has a member \"n\" \(rename: --add n=NEW, or --replace\)" \
	"--add never clobbers a member the line has" unpack --add n a.wnw
truthy "and leaves no output behind" '! unpack --add n -o clob.jsonl a.wnw 2>/dev/null && ! ls clob.jsonl* 2>/dev/null'
same "--add FIELD=NAME adds the field under another name, the line's bytes kept" \
	"$(unpack --add n=zipfit_n a.wnw | head -1)" \
	"$(head -1 "$D/alpaca.jsonl" | sed 's/}$/,"zipfit_n":1}/')"
$PY -c "import numpy as np; np.save('seven.npy', np.arange(7, dtype=np.float32).reshape(7, 1) / 4)"
same "--add of a new field keeps the original bytes and appends before the brace" \
	"$(pack --vectors seven.npy "$D/tricky.jsonl" | unpack --add vec | sed -n 3p)" \
	'  { "text" : "spaced out" , "id" : 12 , "label" : "config", "loss": 1e-3 ,"vec":[0.5]}  '
pack --field n:f64 --text output "$D/alpaca.jsonl" | unpack --add text,id >clash.out
same "--add of an existing member replaces it (object rebuilt)" "$(head -1 clash.out)" \
	'{"instruction":"Add 2 and 3.","input":"","output":"5","n":1,"text":"5","id":0}'
same "without a json field: an object of the scalar and text fields" \
	"$(pack --lines "$D/lines.txt" | unpack | sed -n 2p)" '{"id":1,"text":"plain two"}'
printf '{"text":"a","v":1}\n' >one.jsonl
$PY -c "import numpy as np; np.save('one.npy', np.array([[0.5, -1.25, 3.0]], np.float32))"
same "--add a vector gives a JSON array" "$(pack --vectors one.npy one.jsonl | unpack --add vec)" \
	'{"text":"a","v":1,"vec":[0.5,-1.25,3]}'
fails 1 "^unpack: t.wnw: no field 'nope'" "--add of an unknown field is an error" unpack --add nope t.wnw
status 2 "--add goes with JSONL only" unpack --ids --add id t.wnw

# --- TSV: numbers read back exactly ---------------------------------------------------------------
$PY - <<'EOF' >nums.jsonl
import json, random, struct
r = random.Random(5)
for i in range(300):
    x = struct.unpack('<d', struct.pack('<Q', r.getrandbits(64)))[0]
    while x != x or x in (float('inf'), float('-inf')):
        x = struct.unpack('<d', struct.pack('<Q', r.getrandbits(64)))[0]
    print(json.dumps({"text": str(i), "x": x if i % 3 else r.random() * 10 ** r.randint(-30, 30)}))
EOF
pack --field x:f64 nums.jsonl | unpack --tsv id,x >nums.tsv
ok "--tsv: f64 values read back bit for bit (%.17g)" $PY -c "
import json
want = [json.loads(l)['x'] for l in open('nums.jsonl')]
rows = open('nums.tsv').read().splitlines()
assert rows[0] == 'id\tx', rows[0]
got = [float(r.split('\t')[1]) for r in rows[1:]]
assert [int(r.split('\t')[0]) for r in rows[1:]] == list(range(len(want)))
assert got == want, [(a, b) for a, b in zip(got, want) if a != b][:3]"
$PY -c "
import numpy as np
np.save('f32.npy', np.random.default_rng(3).standard_normal((200, 3)).astype(np.float32) * 1e3)"
pack --vectors f32.npy | unpack --tsv vec >f32.tsv
ok "--tsv: f32 components read back bit for bit (%.9g)" $PY -c "
import numpy as np
a = np.load('f32.npy')
rows = open('f32.tsv').read().splitlines()[1:]
b = np.array([[np.float32(v) for v in r.split(',')] for r in rows], np.float32)
assert np.array_equal(a, b)"
same "--tsv escapes tab, newline, backslash in text" "$(printf '{"text":"a\\tb\\nc\\\\d"}\n' | pack | unpack --tsv text | tail -1)" 'a\tb\nc\\d'
status 2 "--tsv needs a field list" unpack --tsv '' t.wnw

# --- ids and npy ------------------------------------------------------------------------------------
same "--ids: one id per line" "$(unpack --ids t.wnw | tr '\n' ' ')" "7 3 12 0 18446744 5 9 "
$PY -c "
import numpy as np
np.save('m.npy', np.random.default_rng(1).standard_normal((1000, 7)).astype(np.float32))"
pack --vectors m.npy >m.wnw
unpack --npy vec -o out.npy m.wnw
unpack --npy vec m.wnw | cat >piped.npy
unpack --npy vec m.wnw >direct.npy
for f in out piped direct; do
	ok "npy round trip ($f): numpy.load gives the same matrix" $PY -c "
import numpy as np
a = np.load('m.npy'); b = np.load('$f.npy')
assert b.dtype == np.float32 and a.shape == b.shape and np.array_equal(a, b)"
done
same_file "the .npy is the same through a pipe, a file and -o" piped.npy out.npy
unpack --npy id m.wnw >ids.npy
ok "--npy of a u64 field is a 1-D uint64 array" $PY -c "
import numpy as np
a = np.load('ids.npy'); assert a.dtype == np.uint64 and list(a) == list(range(1000))"
unpack --npy loss t.wnw >loss.npy
ok "--npy of an f64 field is a 1-D float64 array" $PY -c "
import numpy as np
a = np.load('loss.npy'); assert a.dtype == np.float64 and list(a) == [0.125, 2.5, 1e-3, 0, -0.1, 3, 1.0000000000000002]"
fails 1 "field 'text' is bytes: --npy takes a vector or a number" "--npy of a text field is refused" unpack --npy text t.wnw
$PY -c "import numpy as np; np.save('zero.npy', np.zeros((0, 4), np.float32))"
pack --vectors zero.npy | unpack --npy vec >zero-out.npy
ok "a stream of no records gives a (0, dim) .npy" $PY -c "
import numpy as np; a = np.load('zero-out.npy'); assert a.shape == (0, 4) and a.dtype == np.float32"

# --- truncation, corruption, concatenation -----------------------------------------------------------
# Every prefix and every one-byte corruption of a.wnw, made in one go.
n=$(stat -c %s a.wnw)
$PY -c "
import sys
d = open('a.wnw', 'rb').read()
for i in range(len(d)):
    open('cut%d.wnw' % i, 'wb').write(d[:i])
    open('flip%d.wnw' % i, 'wb').write(d[:i] + bytes([d[i] ^ 0x41]) + d[i + 1:])"
bad=""
for ((i = 0; i < n; i++)); do
	unpack "cut$i.wnw" >/dev/null 2>cut.err
	rc=$?
	if [ $rc -ne 1 ] || ! grep -Eq "^unpack: cut$i\.wnw: (record [0-9]+: truncated|empty input)" cut.err; then
		bad="$bad $i:$rc:$(head -c 100 cut.err)"
	fi
done
same "a stream cut at every one of its $n byte offsets: exit 1, truncation named with file and record" "$bad" ""
bad=""
for ((i = 0; i < n; i++)); do
	unpack -o flip.out "flip$i.wnw" 2>flip.err
	rc=$?
	if [ $rc -ne 1 ] || ! grep -Eq "^unpack: flip$i\.wnw: " flip.err || [ -e flip.out ]; then
		bad="$bad $i:$rc:$(head -c 100 flip.err)"
	fi
done
same "a byte flipped at any offset: exit 1 with a CRC or format error, no output file" "$bad" ""
truthy "no temporary files are left behind" '[ -z "$(ls flip.out* 2>/dev/null)" ]'
cat a.wnw a.wnw >aa.wnw
same "cat of two streams reads as one" "$(unpack --ids aa.wnw | tr '\n' ' ')" "0 1 0 1 "
same "several input files are read in turn" "$(unpack --ids a.wnw a.wnw | tr '\n' ' ')" "0 1 0 1 "
cat a.wnw t.wnw >mixed.wnw
fails 1 "^unpack: mixed\.wnw: concatenated streams disagree: member 2 has fields \(.*\), member 1 has \(id:u64,text:bytes,json:bytes,n:u64\)" \
	"a schema mismatch on concatenation names both schemas" unpack mixed.wnw
fails 1 "t\.wnw: schema .* differs from that of a\.wnw" "input files with different schemas are an error" unpack a.wnw t.wnw

# --- zstd and pipes -----------------------------------------------------------------------------------
zstd -q -c t.wnw >t.wnw.zst
same_file "zstd-compressed input is read (by its magic)" <(unpack t.wnw.zst) "$D/tricky.jsonl"
pack -z --id id --field label --field loss:f64 "$D/tricky.jsonl" | cat - t.wnw.zst >tz2.wnw
same "concatenated zstd streams read as one" "$(unpack --ids tz2.wnw | wc -l)" "14"
unpack -z t.wnw >out.jsonl.zst
same_file "-z compresses the output with zstd" <(zstd -d -c out.jsonl.zst) "$D/tricky.jsonl"
unpack -o out2.jsonl.zst t.wnw
same_file "-o NAME.zst compresses too" <(zstd -d -c out2.jsonl.zst) "$D/tricky.jsonl"
for _ in $(seq 300); do cat "$TOP/demo/sample.jsonl"; done | pack >big.wnw
unpack big.wnw 2>err.txt | head -1 >/dev/null
same "| head -1: unpack ends quietly with status 0" "${PIPESTATUS[0]}:$(cat err.txt)" "0:"
unpack --npy vec m.wnw 2>err.txt | head -c 10 >/dev/null
same "| head with --npy: quiet too" "${PIPESTATUS[0]}:$(cat err.txt)" "0:"

# --- outputs by name, plain lines, the .npy spool ----------------------------------------------------------
unpack -o out.jsonl.gz t.wnw
same "-o FILE.gz writes gzip" "$(head -c 2 out.jsonl.gz | od -A n -t x1 | tr -d ' ')$(zcat out.jsonl.gz | md5sum)" \
	"1f8b$(md5sum <"$D/tricky.jsonl")"
fails 2 "-o out2.jsonl.gz: -z compresses with zstd" "-z with a .gz name is refused" unpack -z -o out2.jsonl.gz t.wnw
unpack -o out.jsonl.zst t.wnw
same "-o FILE.zst writes zstd" "$(zstd -dc out.jsonl.zst | md5sum)" "$(md5sum <"$D/tricky.jsonl")"
pack --lines "$D/lines.txt" >l.wnw
same_file "--lines gives back the lines pack --lines read" <(unpack --lines l.wnw) <(tr -d '\r' <"$D/lines.txt"; echo)
fails 1 "record 1: field 'text' holds a newline" "--lines refuses a text holding a newline" \
	unpack --lines <(printf '{"text":"a\\nb"}\n' | pack)
mkdir -p spooldir
TMPDIR=$T/nosuchdir unpack --npy vec <(pack --vectors seven.npy) 2>err.txt | cat >/dev/null
same "--npy to a pipe spools in TMPDIR" "$(cat err.txt)" \
	"unpack: $T/nosuchdir: cannot create a temporary file: No such file or directory"
same "and the spooled .npy is whole" "$(TMPDIR=$T/spooldir unpack --npy vec <(pack --vectors seven.npy) | md5sum)" \
	"$(unpack --npy vec -o direct.npy <(pack --vectors seven.npy) && md5sum <direct.npy)"
same "leaving nothing in TMPDIR" "$(ls spooldir | wc -l)" 0
if command -v script >/dev/null; then
	pack --vectors seven.npy -o v.wnw
	script -qec "unpack --npy vec $T/v.wnw" /dev/null >tty.out 2>&1
	truthy "--npy is not written to a terminal" 'grep -q "unpack: will not write binary output" tty.out'
	script -qec "unpack $T/t.wnw" /dev/null >tty.out 2>&1
	truthy "while JSONL is" 'grep -q text tty.out'
fi
