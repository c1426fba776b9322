#!/usr/bin/env bash
# bench/stream.sh: throughput of the stream library itself: its CRC alone (bench/crc.c), and a
# pass-through filter (read, validate, CRC, rewrite every record) over a synthetic stream, plain and
# zstd, beside cat(1) on the same file.
# Usage: B=build/rel bench/stream.sh [RECORDS]   (default 1,000,000 records of ~1.2 KB)
# With BASE=DIR (a libwinnow.a built from another commit) the chains are also run through that library
# in the same run: before and after side by side. R=N: best of N runs (3). The bytes/s of the chain
# and embed-hash rows are of the input stream (p.wnw, t.wnw).
set -eu
cd "$(dirname "$0")/.."
B=${B:-build/rel}
N=${1:-1000000}
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
CF="-Icommon/stream -Icommon/methods -D_GNU_SOURCE -std=c11 -O2"
# the libraries the Makefile links (prog.c reaches the BLAS set-up)
LIBS="-lzstd -lz -lyaml -ljansson -lopenblas -lutf8proc -lxxhash -lpthread -lm"
cc $CF -o "$T/passthru" bench/passthru.c "$B/libwinnow.a" $LIBS
cc $CF -o "$T/gen" bench/gen.c "$B/libwinnow.a" $LIBS
"$T/gen" "$N" 200 256 -o "$T/p.wnw"
bytes=$(stat -c %s "$T/p.wnw")
# cpu seconds and wall seconds of a command, best of R (3)
measure() {
	local best_w=999999 best_c=999999
	for _ in $(seq "${R:-3}"); do
		/usr/bin/time -f "%e %U %S" -o "$T/t" "$@" >/dev/null
		read -r w u s <"$T/t"
		best_w=$(awk -v a="$w" -v b="$best_w" 'BEGIN { print (a < b ? a : b) }')
		best_c=$(awk -v a="$u" -v s="$s" -v b="$best_c" 'BEGIN { c = a + s; print (c < b ? c : b) }')
	done
	echo "$best_w $best_c"
}
row() { # name wall cpu
	awk -v n="$1" -v b="$bytes" -v w="$2" -v c="$3" \
		'BEGIN { printf "%-34s %6.2f GB/s wall %6.2f GB/s per cpu-second\n", n, b / w / 1e9, b / c / 1e9 }'
}
echo "stream of $N records, $bytes bytes (id, 200-byte text, vec[256])"
# the CRC alone: what the reader and the writer each pay per byte, beside memcpy on the same bytes
cc $CF -o "$T/crc" bench/crc.c "$B/libwinnow.a" $LIBS
"$T/crc"
if [ -n "${BASE:-}" ]; then # kernel 3 of both libraries in turn, the best of three of each column
	cc $CF -o "$T/crc0" bench/crc.c "$BASE/libwinnow.a" $LIBS
	for _ in 1 2 3; do "$T/crc" | sed -n '$s/^/new /p'; "$T/crc0" | sed -n '$s/^/base /p'; done |
		awk '{ a = $(NF - 3); b = $(NF - 1); if (a > x[$1]) x[$1] = a; if (b > y[$1]) y[$1] = b }
		END { printf "%-28s %7.2f GB/s %7.2f GB/s\n%-28s %7.2f GB/s %7.2f GB/s\n", "kernel 3, this library", x["new"], y["new"], "kernel 3, BASE library", x["base"], y["base"] }'
fi
read -r w c < <(measure cat "$T/p.wnw"); row "cat (peer: the disk cache)" "$w" "$c"
read -r w c < <(measure "$T/passthru" "$T/p.wnw"); row "passthru (file -> stdout)" "$w" "$c"
read -r w c < <(measure sh -c "\"$T/passthru\" < \"$T/p.wnw\" | cat"); row "passthru (pipe -> pipe, + cat)" "$w" "$c"
# Four filters in a pipe: every byte crosses four pipes and is checked and rewritten four times. The
# chain runs at the rate of its slowest hop, so bytes / wall is the rate of each hop.
P=$T/passthru
read -r w c < <(measure sh -c "\"$P\" \"$T/p.wnw\" | \"$P\" | \"$P\" | \"$P\" | cat >/dev/null")
row "chain of 4 passthru (per hop)" "$w" "$c"
if [ -n "${BASE:-}" ]; then
	cc $CF -o "$T/passthru0" bench/passthru.c "$BASE/libwinnow.a" $LIBS
	P=$T/passthru0
	read -r w c < <(measure sh -c "\"$P\" \"$T/p.wnw\" | \"$P\" | \"$P\" | \"$P\" | cat >/dev/null")
	row "chain of 4 passthru, BASE library" "$w" "$c"
fi
read -r w c < <(measure sh -c "cat \"$T/p.wnw\" | cat | cat | cat | cat >/dev/null")
row "chain of 4 cat (peer: the pipes alone)" "$w" "$c"
# Per-record costs: records of 56 bytes (id and a 40-byte text), file -> /dev/null.
"$T/gen" $((N * 10)) 40 0 -o "$T/s.wnw"
recs() { # name wall cpu
	awk -v n="$1" -v r=$((N * 10)) -v w="$2" -v c="$3" \
		'BEGIN { printf "%-34s %6.1f M records/s wall %6.1f M per cpu-second\n", n, r / w / 1e6, r / c / 1e6 }'
}
read -r w c < <(measure "$T/passthru" "$T/s.wnw"); recs "passthru, 56-byte records" "$w" "$c"
if [ -n "${BASE:-}" ]; then
	read -r w c < <(measure "$T/passthru0" "$T/s.wnw"); recs "same, BASE library" "$w" "$c"
fi
# A two-stage chain users run: embed-hash (text -> text and vec[256]) into inspect --check by a pipe.
"$T/gen" "$N" 500 0 -o "$T/t.wnw"
bytes=$(stat -c %s "$T/t.wnw")
for p in embed-hash inspect; do cc $CF -Icommon -o "$T/$p" "filters/$p.c" "$B/libwinnow.a" $LIBS; done
read -r w c < <(measure sh -c "\"$T/embed-hash\" -j 2 --dim 256 \"$T/t.wnw\" | \"$T/inspect\" --check -")
row "embed-hash -j 2 | inspect --check" "$w" "$c"
if [ -n "${BASE:-}" ]; then
	for p in embed-hash inspect; do cc $CF -Icommon -o "$T/${p}0" "filters/$p.c" "$BASE/libwinnow.a" $LIBS; done
	read -r w c < <(measure sh -c "\"$T/embed-hash0\" -j 2 --dim 256 \"$T/t.wnw\" | \"$T/inspect0\" --check -")
	row "same, BASE library" "$w" "$c"
fi
bytes=$(stat -c %s "$T/p.wnw")
"$T/passthru" -z 1 -o "$T/p.wnw.zst" "$T/p.wnw"
read -r w c < <(measure "$T/passthru" "$T/p.wnw.zst"); row "passthru (zstd input)" "$w" "$c"
