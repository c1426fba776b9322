#!/usr/bin/env bash
# bench/pack.sh: throughput of pack (JSONL -> stream) and of reading a stream, beside peers in the
# same run: Python's json module parsing the same JSONL (the usual way such files are loaded), and
# cat / zstd for raw I/O. Run as `B=build/rel bench/pack.sh`; MB=200 sets the JSONL size.
# Figures are best of $REPS runs; on a shared machine compare ratios within one run.
# OLD=DIR (a bin directory of another build, e.g. of the base commit) also runs that pack on the same
# input, interleaved run by run, and prints new/old throughput: `OLD=/tmp/base/build/rel/bin bench/pack.sh`.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
B=${B:-build/rel}
case $B in /*) ;; *) B=$TOP/$B ;; esac
PATH=$B/bin:/usr/bin:/bin
PY=/usr/bin/python3
MB=${MB:-200}
REPS=${REPS:-3}
W=$(mktemp -d "${TMPDIR:-/tmp}/winnow-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT
export SOURCE_DATE_EPOCH=0

# A JSONL pool of about $MB MB: instruction/output pairs of varied length with a label and a loss,
# some non-ASCII text and escapes, as fine-tuning data looks.
$PY - "$W/pool.jsonl" "$MB" <<'EOF'
import json, random, sys
r = random.Random(1)
words = ("data model select target pool sample weight kernel neighbour transport vector stream "
         "record filter train query gzip align token text code prose config caf\u00e9 na\u00efve "
         "\u00fcber \u65e5\u672c").split()
target = int(sys.argv[2]) * 1000000
with open(sys.argv[1], "w", encoding="utf-8") as f:
    n = 0
    i = 0
    while n < target:
        ins = " ".join(r.choice(words) for _ in range(r.randint(5, 40)))
        out = " ".join(r.choice(words) for _ in range(r.randint(20, 250)))
        if i % 7 == 0:
            out += '\n\t"quoted" \\ end'
        line = json.dumps({"instruction": ins, "output": out, "source": r.choice(["a", "b", "c"]),
                           "loss": r.random() * 4, "text": ins + "\n" + out}, ensure_ascii=False) + "\n"
        f.write(line)
        n += len(line.encode())
        i += 1
EOF
bytes=$(stat -c %s "$W/pool.jsonl")
records=$(wc -l <"$W/pool.jsonl")

# best REPS: "WALL CPU" seconds of the run with the least wall time; CPU is user + system time of
# all its processes, which is what a loaded machine distorts least.
TIMEFORMAT='%R %U %S'
best() {
	local b="" t
	for ((i = 0; i < REPS; i++)); do
		t=$({ time "$@" >/dev/null 2>/dev/null; } 2>&1)
		b=$(echo "$t" | awk -v b="$b" '{ w = $1; c = $2 + $3 }
			END { split(b, o, " "); if (b == "" || w < o[1]) print w, c; else print b }')
	done
	echo "$b"
}
row() { # LABEL BYTES "WALL CPU": MB/s by wall-clock time and per CPU second, thousand records/s
	awk -v l="$1" -v n="$2" -v t="$3" -v r="$records" 'BEGIN { split(t, x, " ");
		printf "%-50s %8.1f MB/s %8.1f MB/cpu-s %7.1f krec/s %7.3f s\n", l, n / x[1] / 1e6,
			n / (x[2] > 0 ? x[2] : 1e-3) / 1e6, r / x[1] / 1e3, x[1] }'
}
mb() { awk -v n="$1" 'BEGIN { printf "%.1f", n / 1e6 }'; }

echo "input: $(mb "$bytes") MB JSONL, $records records; best of $REPS; $(nproc) cores"
echo "--- JSONL in (MB/s of JSONL read)"
# against OLD: best of REPS for each, the two run alternately so that load on the machine hits both
versus() { # LABEL ARGS...: pack ARGS with this build and with OLD's
	local label=$1 bn="" bo="" t
	shift
	for ((k = 0; k < REPS; k++)); do
		bn=$(REPS=1 best pack "$@" | awk -v b="$bn" '{ split(b, o, " "); if (b == "" || $1 < o[1]) print; else print b }')
		bo=$(REPS=1 best "$OLD/pack" "$@" | awk -v b="$bo" '{ split(b, o, " "); if (b == "" || $1 < o[1]) print; else print b }')
	done
	row "$label" "$bytes" "$bn"
	row "  the same, OLD build" "$bytes" "$bo"
	awk -v n="$bn" -v o="$bo" 'BEGIN { split(n, a, " "); split(o, b, " ");
		printf "  new/old throughput: %.3f (wall), %.3f (CPU)\n", b[1] / a[1], b[2] / a[2] }'
}
if [ -n "${OLD:-}" ]; then
	versus "pack JSONL -> stream (text, json)" "$W/pool.jsonl" -o "$W/pool.wnw"
	versus "pack with a template and two --field" --text '{instruction}\n{output}' --field source \
		--field loss:f64 "$W/pool.jsonl" -o "$W/pool2.wnw"
else
	t=$(best pack "$W/pool.jsonl" -o "$W/pool.wnw")
	row "pack JSONL -> stream (text, json)" "$bytes" "$t"
	t=$(best pack --text '{instruction}\n{output}' --field source --field loss:f64 "$W/pool.jsonl" -o "$W/pool2.wnw")
	row "pack with a template and two --field" "$bytes" "$t"
fi
t=$(best pack -j "$(nproc)" "$W/pool.jsonl" -o "$W/poolj.wnw")
row "pack -j $(nproc) (parse on all cores)" "$bytes" "$t"
t=$(best pack -z "$W/pool.jsonl" -o "$W/pool.wnw.zst")
row "pack -z (zstd level 3 output)" "$bytes" "$t"
zstd -q -f "$W/pool.jsonl" -o "$W/pool.jsonl.zst"
t=$(best pack "$W/pool.jsonl.zst" -o "$W/pool3.wnw")
row "pack of .zst input" "$bytes" "$t"
t=$(best $PY -c "
import json, sys
for line in open(sys.argv[1], 'rb'):
    json.loads(line)" "$W/pool.jsonl")
row "peer: python3 json.loads per line (parse only)" "$bytes" "$t"
t=$(best cat "$W/pool.jsonl")
row "peer: cat" "$bytes" "$t"

sbytes=$(stat -c %s "$W/pool.wnw")
echo "--- stream in: $(mb "$sbytes") MB uncompressed (MB/s of stream read)"
t=$(best inspect --check "$W/pool.wnw")
row "inspect --check (read, frame, CRC every record)" "$sbytes" "$t"
t=$(best sh -c "inspect --check - <'$W/pool.wnw'")
row "inspect --check - < file (stdin a regular file)" "$sbytes" "$t"
t=$(best sh -c "cat '$W/pool.wnw' | inspect --check")
row "cat | inspect --check (through a pipe)" "$sbytes" "$t"
t=$(best unpack "$W/pool.wnw")
row "unpack to JSONL" "$sbytes" "$t"
t=$(best inspect --check "$W/pool.wnw.zst")
row "inspect --check of the zstd stream" "$sbytes" "$t"
t=$(best zstd -d -c "$W/pool.wnw.zst")
row "peer: zstd -d (decompression alone)" "$sbytes" "$t"
t=$(best cat "$W/pool.wnw")
row "peer: cat" "$sbytes" "$t"
unpack "$W/pool.wnw" | cmp -s - "$W/pool.jsonl" && echo "check: pack | unpack gave back the JSONL byte for byte"
