#!/usr/bin/env bash
# The hostile-input sweep (issue 19): a few small streams cut, flipped and inflated, run through every
# program that reads streams. Each run must end (timeout), with a documented status, no sanitizer
# report, a cut stream never taken for complete, and a failure on bad data naming the file. One TAP
# line per program and kind of damage; the failing runs are listed under it.
source "$(dirname "$0")/../lib.sh"
export ASAN_OPTIONS=exitcode=99:detect_leaks=0 UBSAN_OPTIONS=exitcode=98:print_stacktrace=1

/usr/bin/python3 - <<'PY' || { echo "not ok - generate test data"; exit 1; }
import json
import numpy as np
r = np.random.default_rng(3)
np.save("v.npy", r.standard_normal((30, 8)).astype(np.float32))
np.save("q.npy", r.standard_normal((3, 8)).astype(np.float32))
with open("p.jsonl", "w") as f:
    for i in range(30):
        f.write(json.dumps({"id": i, "text": "line %d of the pool, %s" % (i, "xyz" * (i % 4)),
                            "f0": 1.0, "source": "s%d" % (i % 3)}) + "\n")
with open("q.jsonl", "w") as f:
    for i in range(3):
        f.write(json.dumps({"text": "line %d of the target" % i, "f0": 1.0}) + "\n")
PY
pack --vectors v.npy --vectors grad=v.npy --field f0:f64 --field source:text p.jsonl >pool.wnw 2>/dev/null
pack --vectors q.npy --vectors grad=q.npy --field f0:f64 q.jsonl >q.wnw 2>/dev/null
knn-build -q q.wnw -k 4 <pool.wnw 2>/dev/null | kde-dedup --sigma 0.75 -k 4 >kde.wnw 2>/dev/null
ot-weight --alpha 0.5 -C 1 kde.wnw >prob.wnw 2>/dev/null
seq 0 2 29 >ids
for f in pool.wnw q.wnw kde.wnw prob.wnw; do
	[ -s "$f" ] || { echo "not ok - build the stream $f"; exit 1; }
done

# damage SRC KIND N: writes the Nth damaged copy of SRC of KIND (cut, flip, inflate) to d.wnw.
damage() {
	/usr/bin/python3 - "$@" <<'PY'
import struct, sys
src, kind, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
b = bytearray(open(src, "rb").read())
hlen = struct.unpack_from("<I", b, 12)[0]
first = 16 + hlen + 4                      # the first record's length word
if b[:4] == b"\x28\xb5\x2f\xfd":            # zstd: no header to find, damage the middle
    first = len(b) // 3
if kind == "cut":
    b = b[:[20, first + 2, len(b) // 2, len(b) - 17, len(b) - 1][n]]
elif kind == "flip":
    at = [12, 17, first, first + 9, len(b) // 2, len(b) - 5][n]
    b[at] ^= 0x5a
else:                                      # inflate: a legal but huge length, or a huge field count
    if n == 0: struct.pack_into("<I", b, first, 1 << 30)
    elif n == 1: struct.pack_into("<I", b, first, 0xFFFFFFFE)
    else: struct.pack_into("<I", b, 16, 1 << 24)
open("d.wnw", "wb").write(b)
PY
}
counts() { case $1 in cut) echo 5 ;; flip) echo 6 ;; inflate) echo 3 ;; esac; }

# sweep SRC NAME CMD...: CMD on every damaged copy of SRC, given as the word @ of CMD (else as its
# last operand), or as standard input through a pipe when CMD starts with "pipe"; one TAP line per
# kind of damage.
sweep() {
	local src=$1 name=$2; shift 2
	local named="d\.wnw" args=("$@") pipe=0
	if [ "$1" = pipe ]; then pipe=1 named=stdin args=("${@:2}"); fi
	[[ " ${args[*]} " == *" @ "* ]] || [ $pipe = 1 ] || args+=(@)
	args=("${args[@]/#@/d.wnw}")
	for kind in cut flip inflate; do
		local bad="" i
		for ((i = 0; i < $(counts $kind); i++)); do
			damage "$src" $kind $i
			if [ $pipe = 1 ]; then
				cat d.wnw | timeout 30 "${args[@]}" >/dev/null 2>d.err
			else
				timeout 30 "${args[@]}" >/dev/null 2>d.err
			fi
			local rc=$? why=""
			case $rc in
			0) [ $kind = cut ] && why="a cut stream taken for complete" ;;
			1 | 3) grep -q "$named" d.err || why="status $rc without naming the input" ;;
			2) why="a usage error on bad data" ;;
			124) why="no end within 30 s" ;;
			*) why="status $rc" ;;
			esac
			grep -Eq "Sanitizer|runtime error" d.err && why="a sanitizer report"
			[ -n "$why" ] && bad="$bad|$kind $i: $why: $(head -c 300 d.err | tr '\n' ' ')"
		done
		if [ -z "$bad" ]; then _pass "$name: $kind $src"
		else IFS='|' read -ra lines <<<"${bad#|}"; _fail "$name: $kind $src" "${lines[@]}"; fi
	done
}

sweep pool.wnw inspect inspect
sweep pool.wnw "inspect --check" inspect --check
sweep pool.wnw "inspect --hist" inspect --hist text
sweep pool.wnw unpack unpack --tsv id,text
sweep pool.wnw "sample --random" sample --random 3
sweep pool.wnw pick pick --ids ids
sweep pool.wnw shard shard -n 2 part%d.wnw
sweep pool.wnw embed-hash embed-hash
sweep pool.wnw gzfit gzfit -t q.wnw
sweep pool.wnw "gzfit --fast" gzfit --fast -t q.wnw
sweep pool.wnw knn-build knn-build -q q.wnw -k 3
sweep pool.wnw "kde-dedup" kde-dedup --sigma 1 -k 3
sweep pool.wnw pursuit pursuit -t q.wnw -k 3
sweep pool.wnw gradex gradex -t q.wnw -M 8
sweep kde.wnw ot-weight ot-weight --alpha 0.5 -C 1
sweep prob.wnw "sample -n" sample -n 5
# the second inputs: queries, targets, parts to merge, ids
sweep q.wnw "knn-build -q" knn-build -q @ -k 3 pool.wnw
sweep q.wnw "pursuit -t" pursuit -t @ -k 3 pool.wnw
sweep q.wnw "gzfit -t" gzfit -t @ pool.wnw
sweep q.wnw "gradex -t" gradex -t @ -M 8 pool.wnw
sweep pool.wnw "kde-dedup --reference" kde-dedup --drop-within 0.5 --reference @ q.wnw
sweep pool.wnw "shard --merge" shard --merge @
sweep pool.wnw "pick --ids (a stream)" pick --ids @ pool.wnw
# pipes (the two-pass programs copy them), and threads
sweep kde.wnw "ot-weight, piped" pipe ot-weight --alpha 0.5 -C 1
sweep pool.wnw "inspect --hist, piped" pipe inspect --hist vec
sweep pool.wnw "pursuit, piped" pipe pursuit -t q.wnw -k 3
sweep pool.wnw "knn-build -j 2" knn-build -j 2 -q q.wnw -k 3
sweep pool.wnw "kde-dedup -j 2" kde-dedup -j 2 --sigma 1 -k 3
zstd -q -c pool.wnw >pool.zst && zstd -q -c kde.wnw >kde.zst
sweep pool.zst "inspect --check, zstd" inspect --check
sweep pool.zst "knn-build, zstd" knn-build -q q.wnw -k 3
sweep kde.zst "ot-weight, zstd" ot-weight --alpha 0.5 -C 1

# The sweep itself can fail: a program that takes a cut stream for complete is caught.
out=$(sweep pool.wnw true true)
same "the sweep catches a cut stream taken for complete" "$(echo "$out" | grep -c '^not ok')" 1
