#!/usr/bin/env bash
# bench/embed-hash.sh: throughput of embed-hash in MB of text per second, on one core and with -j 2,
# at dim 256 and 4096, on real text from this machine (/usr/share/doc, /usr/include, /usr/lib/python3)
# cut into records of about 2 KB. embed-hash reads a pre-packed file, so pack is timed on its own;
# the pipeline pack | embed-hash is shown too. Peer in the same run: scikit-learn's HashingVectorizer
# (python3-sklearn: the same signed feature hashing, word 1-2 grams, l2 norm) on a part of the text.
# Run as `B=build/rel bench/embed-hash.sh`; MB=150 sets the text size, REPS=3 the runs (best kept),
# PEER_MB=20 the peer's share. On a shared machine compare ratios within one run.
# `bench/embed-hash.sh goal` runs only the goal's measurement (issue 23: 150 MB/s per core at dim
# 256): MB of text per CPU-second and per wall second, -j 1 and the default (every core), on the
# evaluation corpus (../shared/eval, its 20,000 texts EVALX=5 times over: a longer run, in which
# the first touch of the buffers weighs less) and on SYN=200000 synthetic 500-byte texts
# (bench/textgen.c); with BEFORE=DIR, the build tree of an earlier commit, its runs beside.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
B=${B:-build/rel}
case $B in /*) ;; *) B=$TOP/$B ;; esac
PATH=$B/bin:/usr/bin:/bin
PY=/usr/bin/python3
MB=${MB:-150}
REPS=${REPS:-3}
PEER_MB=${PEER_MB:-20}
W=$(mktemp -d "${TMPDIR:-/tmp}/winnow-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT
export SOURCE_DATE_EPOCH=0

# best REAL CPU of REPS runs (seconds of wall clock, and of user + system time of the command and its
# children): on a busy machine MB per CPU second is the steadier figure of per-core speed.
best() {
	local br="" bc="" r u s
	for ((i = 0; i < REPS; i++)); do
		read -r r u s < <({ TIMEFORMAT='%R %U %S'; time "$@" >/dev/null 2>&1; } 2>&1)
		local cpu
		cpu=$(echo "$u + $s" | bc -l)
		if [ -z "$br" ] || [ "$(echo "$r < $br" | bc -l)" = 1 ]; then br=$r; fi
		if [ -z "$bc" ] || [ "$(echo "$cpu < $bc" | bc -l)" = 1 ]; then bc=$cpu; fi
	done
	echo "$br $bc"
}
rate() { echo "scale=1; $1 / $2 / 1000000" | bc -l; }
# row LABEL BYTES "REAL CPU"
row() {
	set -- "$1" "$2" $3
	printf '%-58s %7s MB/s %7s MB/cpu-s %8.3f s\n' "$1" "$(rate "$2" "$3")" "$(rate "$2" "$4")" "$3"
}

# goal: this build (and BEFORE's) on the evaluation corpus and on synthetic texts, dim 256.
goal() {
	local eval=$TOP/../shared/eval/public/pool.jsonl.zst
	for ((i = 0; i < ${EVALX:-5}; i++)); do zstd -dc "$eval"; done >"$W/eval.jsonl"
	cc -O2 -o "$W/textgen" "$TOP/bench/textgen.c"
	"$W/textgen" "${SYN:-200000}" 500 1 >"$W/syn.jsonl"
	echo "goal: embed-hash --dim 256 (word 1-2), MB of text per second; best of $REPS; $(nproc) cores"
	# the kernel alone (bench/embed_kernel.c), against this build's library and BEFORE's
	local cc="cc -O2 -I$TOP/common/stream -I$TOP/common/methods"
	$cc -o "$W/kernel" "$TOP/bench/embed_kernel.c" "$B/libwinnow.a" -lutf8proc -lxxhash -lzstd -lz -lm -lpthread
	if [ -n "${BEFORE:-}" ]; then
		$cc -o "$W/kernel_before" "$TOP/bench/embed_kernel.c" "$BEFORE/libwinnow.a" -lutf8proc -lxxhash -lzstd \
			-lz -lm -lpthread
	fi
	for c in eval syn; do
		pack "$W/$c.jsonl" -o "$W/$c.wnw" 2>/dev/null
		local bytes
		bytes=$($PY -c 'import json, sys; print(sum(len(json.loads(l)["text"].encode()) for l in open(sys.argv[1])))' \
			"$W/$c.jsonl")
		echo "--- $c: $(echo "scale=1; $bytes / 1000000" | bc) MB of text in $(wc -l <"$W/$c.jsonl") records"
		$PY -c 'import json, sys
for l in open(sys.argv[1]): print(json.loads(l)["text"].replace("\n", " "))' "$W/$c.jsonl" >"$W/$c.txt"
		echo "kernel alone, no stream (this build):   $("$W/kernel" "$W/$c.txt" "$REPS")"
		[ -z "${BEFORE:-}" ] || echo "kernel alone, no stream (BEFORE):       $("$W/kernel_before" "$W/$c.txt" "$REPS")"
		for j in "-j 1" ""; do
			# shellcheck disable=SC2086
			row "embed-hash $j${j:+ }(this build)" "$bytes" "$(best embed-hash $j "$W/$c.wnw")"
			if [ -n "${BEFORE:-}" ]; then
				# shellcheck disable=SC2086
				row "embed-hash $j${j:+ }(BEFORE: $BEFORE)" "$bytes" "$(best "$BEFORE/bin/embed-hash" $j "$W/$c.wnw")"
				cmp -s <(embed-hash $j "$W/$c.wnw") <("$BEFORE/bin/embed-hash" $j "$W/$c.wnw") &&
					echo "  (same output bytes)" || echo "  OUTPUTS DIFFER"
			fi
		done
	done
}
if [ "${1:-}" = goal ]; then
	goal
	exit 0
fi

# Text files of this machine (UTF-8 only, gzip-compressed docs included), in a fixed order, cut at
# line ends into records of about 2 KB, until $MB MB of text. Prints the text bytes and records.
$PY - "$W/text.jsonl" "$MB" >"$W/size" <<'EOF'
import gzip, json, os, sys
target = int(sys.argv[2]) * 1000000
roots = ["/usr/share/doc", "/usr/include", "/usr/lib/python3"]
n = recs = 0
with open(sys.argv[1], "w", encoding="utf-8") as out:
    def emit(t):
        global n, recs
        if t.strip():
            out.write(json.dumps({"text": t}, ensure_ascii=False) + "\n")
            n += len(t.encode()); recs += 1
    for root in roots:
        for d, dirs, files in os.walk(root):
            dirs.sort()
            for f in sorted(files):
                if n >= target:
                    break
                p = os.path.join(d, f)
                try:
                    if os.path.islink(p) or os.path.getsize(p) > 4000000:
                        continue
                    raw = gzip.open(p).read() if f.endswith(".gz") else open(p, "rb").read()
                    text = raw.decode("utf-8")
                except (OSError, UnicodeDecodeError, EOFError):
                    continue
                if "\0" in text:
                    continue
                chunk = []
                size = 0
                for line in text.splitlines(keepends=True):
                    chunk.append(line); size += len(line)
                    if size >= 2000:
                        emit("".join(chunk)); chunk = []; size = 0
                emit("".join(chunk))
print(n, recs)
EOF
read -r tbytes records <"$W/size"

echo "text: $(echo "scale=1; $tbytes / 1000000" | bc) MB in $records records from /usr/share/doc," \
	"/usr/include, /usr/lib/python3; best of $REPS; $(nproc) cores"
echo "--- MB/s of text"
t=$(best pack "$W/text.jsonl" -o "$W/text.wnw")
row "pack JSONL -> stream (alone)" "$tbytes" "$t"
for dim in 256 4096; do
	t1=$(best embed-hash --dim $dim -j 1 "$W/text.wnw")
	row "embed-hash --dim $dim -j 1 (word 1-2), pre-packed file" "$tbytes" "$t1"
	t2=$(best embed-hash --dim $dim -j 2 "$W/text.wnw")
	row "embed-hash --dim $dim -j 2" "$tbytes" "$t2"
	printf '%-58s %7.2f x (wall clock)\n' "  speed-up of -j 2 over -j 1" "$(echo "${t1%% *} / ${t2%% *}" | bc -l)"
done
t=$(best embed-hash --dim 256 --char 3-5 -j 1 "$W/text.wnw")
row "embed-hash --dim 256 --char 3-5 -j 1 (word and char)" "$tbytes" "$t"
t=$(best embed-hash --fit-idf "$W/idf.wnw" -j 1 "$W/text.wnw")
row "embed-hash --fit-idf -j 1" "$tbytes" "$t"
t=$(best embed-hash --idf "$W/idf.wnw" --dim 256 -j 1 "$W/text.wnw")
row "embed-hash --idf --dim 256 -j 1" "$tbytes" "$t"
t=$(best bash -c "pack '$W/text.jsonl' | embed-hash -j 2")
row "pipeline pack | embed-hash -j 2 (dim 256)" "$tbytes" "$t"

# The peer on the first $PEER_MB MB of the same text, timed inside Python (parsing excluded).
head -c $((PEER_MB * 1000000)) "$W/text.jsonl" | sed '$d' >"$W/peer.jsonl"
pack "$W/peer.jsonl" -o "$W/peer.wnw" 2>/dev/null
pbytes=$($PY -c 'import json, sys; print(sum(len(json.loads(l)["text"].encode()) for l in open(sys.argv[1])))' "$W/peer.jsonl")
for dim in 256 4096; do
	t=$($PY - "$W/peer.jsonl" $dim "$REPS" <<'EOF' 2>/dev/null || echo none
import json, sys, time
from sklearn.feature_extraction.text import HashingVectorizer
texts = [json.loads(l)["text"] for l in open(sys.argv[1])]
hv = HashingVectorizer(n_features=int(sys.argv[2]), ngram_range=(1, 2), alternate_sign=True, norm="l2",
                       lowercase=True, token_pattern=r"\w+|[^\w\s]+", dtype="float32")
br = bc = None
for _ in range(int(sys.argv[3])):
    t0 = time.perf_counter(); c0 = time.process_time()
    hv.transform(texts).toarray()
    r = time.perf_counter() - t0; c = time.process_time() - c0
    br = r if br is None or r < br else br
    bc = c if bc is None or c < bc else bc
print("%.3f %.3f" % (br, bc))
EOF
)
	if [ "$t" = none ]; then
		echo "peer: scikit-learn HashingVectorizer not available (apt-get install python3-sklearn)"
	else
		row "peer: sklearn HashingVectorizer n_features=$dim, (1,2)-grams" "$pbytes" "$t"
	fi
	t=$(best embed-hash --dim $dim -j 1 "$W/peer.wnw")
	row "  embed-hash --dim $dim -j 1 on the same text" "$pbytes" "$t"
done

echo
goal
