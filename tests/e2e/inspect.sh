#!/usr/bin/env bash
# End-to-end tests of inspect(1).
source "$(dirname "$0")/../lib.sh"
D=$DATA/pack
PY=/usr/bin/python3
noversion() { sed 's/^\(  version: \).*/\1V/' "$@"; }

(cd "$D" && pack --text '{instruction} {input}' --field n:u64 --field output alpaca.jsonl) >a.wnw
inspect -n 1 - <a.wnw >a.yaml
same_file "header, first record, count and statistics as expected" <(noversion a.yaml) \
	<(noversion "$DATA/inspect/alpaca.yaml")
same "the schema lists fields in order with their types" "$(grep -c '^- {name: .*, type: .*}$' a.yaml)" "5"
same "-n 0 shows no records" "$(inspect a.wnw | grep -c records_shown)" "0"
same "-n N shows N records" "$(inspect -n 2 a.wnw | grep -c '^- id: ')" "2"
same "-n larger than the stream shows them all" "$(inspect -n 50 a.wnw | grep -c '^- id: ')" "2"

# --- statistics against numpy ----------------------------------------------------------------------
$PY - <<'EOF'
import json, numpy as np
rng = np.random.default_rng(11)
v = (rng.standard_normal((500, 24)) * rng.uniform(0.1, 5, (500, 1))).astype(np.float32)
np.save("v.npy", v)
with open("s.jsonl", "w") as f:
    for i in range(500):
        f.write(json.dumps({"text": "x" * int(rng.integers(0, 300)), "loss": float(rng.standard_normal()) * 3}) + "\n")
EOF
pack --field loss:f64 --vectors v.npy s.jsonl | inspect >s.yaml
ok "min/mean/max of numbers, text lengths and vector norms agree with numpy (relative 1e-7)" $PY - <<'EOF'
import json, re, numpy as np
v = np.load("v.npy").astype(np.float64)
rows = [json.loads(l) for l in open("s.jsonl")]
want = {
    "vec": np.linalg.norm(v, axis=1),
    "loss": np.array([r["loss"] for r in rows]),
    "text": np.array([len(r["text"]) for r in rows], float),
    "id": np.arange(500, dtype=float),
}
got = {}
for line in open("s.yaml"):
    m = re.match(r"  (\w+): \{of: \w+, min: (\S+), mean: (\S+), max: (\S+)\}$", line)
    if m:
        got[m.group(1)] = [float(m.group(i)) for i in (2, 3, 4)]
for k, w in want.items():
    ref = [w.min(), w.mean(), w.max()]
    assert k in got, (k, got)
    for g, r in zip(got[k], ref):
        assert abs(g - r) <= 1e-7 * max(1.0, abs(r)), (k, got[k], ref)
assert "records: 500\n" in open("s.yaml").read()
EOF
same "vectors are shown by their first 16 components" \
	"$(pack --vectors v.npy | inspect -n 1 | grep '^  vec:' | grep -o '(8 more)')" "(8 more)"

# --- --check ----------------------------------------------------------------------------------------
ok "--check passes a good stream" inspect --check a.wnw
same "--check prints nothing" "$(inspect --check a.wnw 2>&1)" ""
status 2 "--check takes no -n" inspect --check -n 2 a.wnw
$PY -c "
d = open('a.wnw', 'rb').read()
for i in range(len(d)):
    open('cut%d.wnw' % i, 'wb').write(d[:i])
    open('flip%d.wnw' % i, 'wb').write(d[:i] + bytes([d[i] ^ 0x10]) + d[i + 1:])"
n=$(stat -c %s a.wnw)
bad=""
for ((i = 0; i < n; i++)); do
	inspect --check "cut$i.wnw" 2>cut.err
	rc=$?
	if [ $rc -ne 1 ] || ! grep -Eq "^inspect: cut$i\\.wnw: (record [0-9]+: truncated|empty input)" cut.err; then
		bad="$bad $i:$rc:$(head -c 100 cut.err)"
	fi
done
same "--check: a stream cut at every one of its $n byte offsets is a truncation error, exit 1" "$bad" ""
bad=""
for ((i = 0; i < n; i++)); do
	inspect --check "flip$i.wnw" 2>flip.err
	rc=$?
	if [ $rc -ne 1 ] || ! grep -Eq "^inspect: flip$i\\.wnw: .*(CRC|corrupt|not|bad|truncated|plausible|stray|past)" flip.err; then
		bad="$bad $i:$rc:$(head -c 100 flip.err)"
	fi
done
same "--check: a byte flipped at any offset gives a CRC or format error, exit 1" "$bad" ""
head -c 200 a.wnw >cut.wnw
fails 1 "^inspect: cut.wnw: record [0-9]+: truncated" "inspect without --check also fails on truncation" inspect cut.wnw

# --- concatenation, zstd, pipes -------------------------------------------------------------------------
cat a.wnw a.wnw a.wnw >aaa.wnw
same "cat of three streams: one stream of all records" "$(inspect aaa.wnw | grep '^records:')" "records: 6"
ok "--check passes concatenated streams" inspect --check aaa.wnw
pack "$D/tricky.jsonl" | cat a.wnw - >mixed.wnw
fails 1 "^inspect: mixed.wnw: concatenated streams disagree: member 2 has fields \(id:u64,text:bytes,json:bytes\), member 1 has \(id:u64,text:bytes,json:bytes,n:u64,output:bytes\)" \
	"a schema mismatch on concatenation names both" inspect --check mixed.wnw
same "several files: one YAML document each" "$(inspect a.wnw aaa.wnw | grep -c '^---')" "2"
zstd -q -c a.wnw >a.wnw.zst
same "zstd input is read" "$(inspect a.wnw.zst | grep '^records:')" "records: 2"
ok "--check on zstd input" inspect --check a.wnw.zst
head -c 60 a.wnw.zst >cutz.wnw
fails 1 "^inspect: cutz.wnw: " "a truncated zstd stream is an error" inspect --check cutz.wnw
inspect -z -o a.yaml.zst a.wnw
same_file "-z compresses the report" <(zstd -d -c a.yaml.zst) <(inspect a.wnw)
for _ in $(seq 200); do cat "$TOP/demo/sample.jsonl"; done | pack >big.wnw
inspect -n 10000 big.wnw 2>err.txt | head -1 >/dev/null
same "| head -1: inspect ends quietly with status 0" "${PIPESTATUS[0]}:$(cat err.txt)" "0:"
fails 2 "nope.wnw" "a missing file is named" inspect nope.wnw

# --hist: a text histogram, from a file or a pipe
printf '{"text": "a", "s": 1}\n{"text": "bb", "s": 2}\n{"text": "ccc", "s": 2}\n{"text": "dddd", "s": 10}\n' >h.jsonl
pack --field s:f64 h.jsonl >h.wnw
same "--hist counts values in equal bins" "$(inspect --hist s --bins 3 h.wnw | awk 'NR > 1 { print $4 }' | tr '\n' ' ')" "3 0 1 "
same "its first line names the stream, what is counted, and the range" "$(inspect --hist text --bins 2 h.wnw | head -1)" \
	"h.wnw: length of text: 4 records, min 1, max 4"
same "a pipe gives the same histogram" "$(inspect --hist s h.wnw | tail -n +2)" "$(cat h.wnw | inspect --hist s | tail -n +2)"
fails 1 "no field 'nope'" "--hist on a missing field names it" inspect --hist nope h.wnw
fails 2 "1 to 200" "--bins is range-checked" inspect --hist s --bins 0 h.wnw
