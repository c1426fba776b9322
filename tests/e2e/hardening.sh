#!/usr/bin/env bash
# Faults a hostile-input audit found (issue 19): two-pass programs on named pipes, leftover temporary
# files, all-or-nothing shard, memory bounds, a pool changed under knn-build, zero-field schemas, and
# the consistency of messages. Each check failed before its fix.
source "$(dirname "$0")/../lib.sh"

/usr/bin/python3 - <<'PY' || { echo "not ok - generate test data"; exit 1; }
import json
import numpy as np
r = np.random.default_rng(1)
np.save("v.npy", r.standard_normal((40, 8)).astype(np.float32))
np.save("q.npy", r.standard_normal((4, 8)).astype(np.float32))
with open("p.jsonl", "w") as f:
    for i in range(40):
        f.write(json.dumps({"id": i, "text": "row %d about %s" % (i, "abc" * (i % 5))}) + "\n")
big = r.standard_normal((40, 8)).astype(np.float32)
big[3] = 1e20                            # finite, but its squared norm overflows a float
np.save("big.npy", big)
with open("g.jsonl", "w") as f:
    for i in range(40):
        f.write(json.dumps({"text": "g%d" % i, "f0": 1.0, "source": "s%d\tx" % (i % 4)}) + "\n")
with open("gt.jsonl", "w") as f:
    for i in range(4):
        f.write(json.dumps({"text": "t%d" % i, "f0": 1.0}) + "\n")
PY
pack --vectors v.npy p.jsonl >pool.wnw 2>/dev/null
pack --vectors q.npy >q.wnw 2>/dev/null
knn-build -q q.wnw -k 5 <pool.wnw >u.wnw 2>/dev/null
kde-dedup --sigma 0.75 -k 5 <u.wnw >kde.wnw 2>/dev/null
pack --vectors grad=v.npy --field f0:f64 --field source:text g.jsonl >gp.wnw 2>/dev/null
pack --vectors grad=q.npy --field f0:f64 gt.jsonl >gt.wnw 2>/dev/null

# --- 1. two-pass programs read a named pipe, /dev/stdin or <(...) once and replay a copy -------------
# run_fifo FILE CMD...: CMD with a named pipe "fifo" that FILE is written into.
run_fifo() {
	local src=$1 feeder rc; shift
	rm -f fifo && mkfifo fifo || return 1
	cat "$src" >fifo &
	feeder=$!
	timeout 20 "$@"
	rc=$?
	kill $feeder 2>/dev/null # still waiting for a reader when the program failed before opening it
	wait $feeder 2>/dev/null
	return $rc
}
# records FILE: the records of a stream as text (the provenance names the input, which differs).
records() { unpack --tsv "$2" "$1" 2>&1; }
ot-weight --alpha 0.5 -C 1 kde.wnw >ot.file.wnw 2>/dev/null
ok "ot-weight on <(...)" bash -c 'ot-weight --alpha 0.5 -C 1 -o ot.sub.wnw <(cat kde.wnw)'
same "ot-weight on <(...) gives the file's records" "$(records ot.sub.wnw id,prob)" "$(records ot.file.wnw id,prob)"
ok "ot-weight on /dev/stdin of a pipe" bash -c 'cat kde.wnw | ot-weight --alpha 0.5 -C 1 -o ot.dev.wnw /dev/stdin'
same "ot-weight on /dev/stdin gives the file's records" "$(records ot.dev.wnw id,prob)" "$(records ot.file.wnw id,prob)"
ok "ot-weight on a named pipe ends" run_fifo kde.wnw ot-weight --alpha 0.5 -C 1 -o ot.fifo.wnw fifo
same "ot-weight on a named pipe gives the file's records" "$(records ot.fifo.wnw id,prob)" \
	"$(records ot.file.wnw id,prob)"
pursuit --field vec -t q.wnw -k 5 pool.wnw >pu.file.wnw 2>/dev/null
ok "pursuit on a named pipe ends" run_fifo pool.wnw pursuit --field vec -t q.wnw -k 5 -o pu.fifo.wnw fifo
same "pursuit on a named pipe gives the file's records" "$(records pu.fifo.wnw id,weight)" \
	"$(records pu.file.wnw id,weight)"
gzfit --fast -t pool.wnw pool.wnw >gz.file.wnw 2>/dev/null
ok "gzfit --fast on a named pipe ends" run_fifo pool.wnw gzfit --fast -t pool.wnw -o gz.fifo.wnw fifo
same "gzfit --fast on a named pipe gives the file's records" "$(records gz.fifo.wnw id,score)" \
	"$(records gz.file.wnw id,score)"
inspect --hist vec pool.wnw | tail -n +2 >hist.file
ok "inspect --hist on a named pipe ends" run_fifo pool.wnw inspect --hist vec -o hist.fifo fifo
same "inspect --hist on a named pipe gives the file's histogram" "$(tail -n +2 hist.fifo)" "$(cat hist.file)"

# --- 2. no leftover files: errors, a full disk, signals ------------------------------------------------
leftovers() { ls -A "$@" 2>/dev/null | tr '\n' ' '; }
mkdir out
fails 1 "no field 'nosuch'" "inspect --hist on a missing field fails" inspect --hist nosuch -o out/h.txt pool.wnw
same "... and leaves no output and no temporary file" "$(leftovers out)" ""
ok "gradex writes --losses and a table" gradex -t gt.wnw -M 20 --losses out/l.tsv --table -o out/t.tsv gp.wnw
same "--losses escapes the tab of a group name" "$(sed -n 2p out/l.tsv | cut -f3-)" 's0\tx'
rm -f out/*
fails 2 "takes no group" "a usage error of gradex after --losses was opened" \
	gradex -t gt.wnw -M 20 --size 0.01 --losses out/l.tsv gp.wnw
same "... leaves no --losses file" "$(leftovers out)" ""
# A link to /dev/full, never /dev/full itself: a program that renames a temporary file over its
# output (as gradex --table once did) would replace the device, for every user of the machine.
ln -s /dev/full full
fails 3 "full: write: No space left" "--losses on a full disk names the file and the cause" \
	gradex -t gt.wnw -M 20 --losses full -o /dev/null gp.wnw
fails 3 "full: write: No space left" "gradex --table on a full disk names the file and the cause" \
	gradex -t gt.wnw -M 20 --table -o full gp.wnw
truthy "... and writes the device in place, not over the link" '[ -L full ]'
# interrupt SIGNAL DIR FILE CMD...: starts CMD on a pipe that stalls after 1,500 bytes of FILE, then
# sends SIGNAL.
interrupt() {
	local sig=$1 dir=$2 src=$3; shift 3
	{ head -c 1500 "$src"; sleep 3; } | TMPDIR=$dir "$@" >/dev/null 2>&1 &
	sleep 1
	kill "-$sig" $!
	wait
}
mkdir tmpd
interrupt INT tmpd kde.wnw ot-weight --alpha 0.5 -C 1
same "SIGINT in the first pass of a two-pass program leaves no copy in TMPDIR" "$(leftovers tmpd)" ""
mkdir parts
interrupt INT tmpd pool.wnw shard -n 100 parts/p%d.wnw
same "SIGINT leaves none of shard's 100 temporary parts" "$(leftovers parts)" ""

# --- 6. a zero-field schema is legal: no program reads or copies past it (UBSan caught memcpy(NULL)) ----
/usr/bin/python3 - <<'PY'
import struct, zlib
body = struct.pack("<II", 0, 0)          # no fields, no provenance
recs = struct.pack("<I", 0) * 3          # three empty records
with open("zf.wnw", "wb") as f:
    f.write(b"\x89WNW\r\n\x1a\n" + struct.pack("<HHI", 1, 0, len(body)) + body)
    f.write(struct.pack("<I", zlib.crc32(body)) + recs + struct.pack("<IQI", 0xFFFFFFFF, 3, zlib.crc32(recs)))
PY
ok "a zero-field stream is valid" inspect --check zf.wnw
same "unpack writes three empty objects" "$(unpack zf.wnw | tr '\n' ' ')" "{} {} {} "
same "sample copies its records" "$(sample --random 2 zf.wnw | inspect | grep '^records')" "records: 2"
fails 1 "zf.wnw: no field 'grad'" "gradex names the field it lacks" gradex -t zf.wnw gp.wnw

# --- 8. consistent errors ---------------------------------------------------------------------------------
WINNOW_ZSTD_LEVEL=junk ok "a bad WINNOW_ZSTD_LEVEL fails no program that does not compress" inspect --check pool.wnw
WINNOW_ZSTD_LEVEL=junk ok "... nor one that writes plain output" inspect -o /dev/null pool.wnw
WINNOW_ZSTD_LEVEL=junk fails 2 "WINNOW_ZSTD_LEVEL: 'junk' is not a whole number from 1 to 22" \
	"... but -z with no level checks it" inspect -z -o /dev/null pool.wnw
same "kde-dedup --sigma 1e-200 (sigma^2 underflows): every record is its own only neighbour, kde 1" \
	"$(kde-dedup --sigma 1e-200 -k 5 u.wnw 2>/dev/null | unpack --tsv kde | tail -n +2 | sort | uniq -c | tr -s ' ')" " 16 1"
ok "kde-dedup takes a subnormal --sigma (1e-320)" kde-dedup --sigma 1e-320 -k 5 -o /dev/null u.wnw
ok "ot-weight takes a subnormal -C (1e-320)" ot-weight --alpha 0.5 -C 1e-320 -o tinyc.wnw kde.wnw
same "... and its probabilities sum to 1" "$(unpack --tsv prob tinyc.wnw | awk 'NR > 1 { s += $1 } END { print s }')" 1
fails 2 "'1e-400' is not a number" "a value that underflows to 0 is refused" ot-weight --alpha 0.5 -C 1e-400 kde.wnw
fails 2 "from 1e-300 to 1e\+300" "gradex -C states its true range" gradex -t gt.wnw -C 1e-320 gp.wnw
printf '1\0junk\n' >ids.nul
fails 1 "line 1: '1\\\\x00junk' is not an id" "pick --ids refuses a line with a NUL in it, shown escaped" \
	pick --ids ids.nul pool.wnw
printf '3\n\033]0;x\a\n' >ids.esc
fails 1 "line 2: '\\\\x1b\]0;x\\\\x07' is not an id" "control bytes quoted in a message are escaped" \
	pick --ids ids.esc pool.wnw
fails 2 "-C: '\\\\x1b\[31m' is not" "... in every message, an option's value as well" \
	ot-weight --alpha 0.5 -C "$(printf '\033[31m')" kde.wnw
printf 'alpha: "%s"\n' "$(printf "%0100000d" 0)" >big.yaml
ot-weight --config big.yaml kde.wnw 2>big.err >/dev/null
truthy "a 100 kB configuration value is cut in the message (got $(wc -c <big.err) bytes)" '[ $(wc -c <big.err) -lt 4096 ]'

# --- 7. vectors whose squared norm overflows a float are refused the same way everywhere --------------
pack --vectors big.npy p.jsonl >big.wnw 2>/dev/null
for p in "pursuit --field vec -t q.wnw -k 5" "knn-build -q q.wnw -k 5" "kde-dedup --sigma 1 -k 5"; do
	fails 1 "big.wnw: record 4: the squared norm of vec overflows a float" "${p%% *} refuses an overflowing vector" \
		$p big.wnw
done

# --- 3. shard writes all parts or none ------------------------------------------------------------------
mkdir sh
ln -s /dev/full sh/x1.wnw
fails 3 "sh/x1.wnw: write: No space left" "shard with a part on a full disk fails naming it" shard -n 3 sh/x%d.wnw pool.wnw
same "... and leaves no other part, complete or not" "$(leftovers sh)" "x1.wnw "
rm sh/x1.wnw
ok "shard -n 1024 under a soft limit of 1,024 open files" bash -c 'ulimit -Sn 1024 && shard -n 1024 sh/p%d.wnw pool.wnw'
same "... writes 1,024 parts" "$(ls sh | wc -l)" 1024
same "... which merge back into the pool" "$(shard --merge sh/p*.wnw | unpack --ids | tr '\n' ' ')" \
	"$(unpack --ids pool.wnw | tr '\n' ' ')"
rm -f sh/*
fails 3 "1024 parts need 1040 open files; the limit is 500" "beyond the hard limit shard says what it needs" \
	bash -c 'ulimit -n 500 && shard -n 1024 sh/p%d.wnw pool.wnw'
same "... and begins nothing" "$(leftovers sh)" ""

# --- 5. knn-build re-reads kept records from a plain pool file: a file changed meanwhile is detected ---
# Two pools of one layout (same ids, lengths and vectors; other text). knn-build writes its union only
# after the search, in chunks of 1 MiB that it reads again from the pool; with stdout a pipe nobody
# drains, it stops inside the writing, and the pool is changed there.
/usr/bin/python3 - <<'PY'
import numpy as np
r = np.random.default_rng(4)
np.save("cv.npy", r.standard_normal((30000, 8)).astype(np.float32))
np.save("cq.npy", r.standard_normal((100, 8)).astype(np.float32))
for name, ch in (("c1.jsonl", "a"), ("c2.jsonl", "b")):
    with open(name, "w") as f:
        for i in range(30000):
            f.write('{"text": "%s"}\n' % (ch * (300 + i % 7)))
PY
pack --vectors cv.npy c1.jsonl >c1.wnw 2>/dev/null
pack --vectors cv.npy c2.jsonl >c2.wnw 2>/dev/null
pack --vectors cq.npy >cq.wnw 2>/dev/null
# change_midway WITH [keep-time]: knn-build on cpool.wnw (a copy of c1), the pool overwritten in place
# by WITH once the first bytes of output came; keep-time then restores its modification time.
change_midway() {
	cp c1.wnw cpool.wnw && touch -d @1000000000 cpool.wnw
	rm -f out.fifo && mkfifo out.fifo
	knn-build -q cq.wnw -k 100 cpool.wnw >out.fifo 2>mid.err &
	local pid=$!
	exec 3<out.fifo
	head -c 1000 <&3 >/dev/null
	dd if="$1" of=cpool.wnw bs=1M conv=notrunc status=none
	[ "${2:-}" = keep-time ] && touch -d @1000000000 cpool.wnw
	cat <&3 >/dev/null
	exec 3<&-
	wait $pid
	echo "status $?: $(cat mid.err)"
}
ok "knn-build on an unchanged pool file" knn-build -q cq.wnw -k 100 -o /dev/null c1.wnw
same "the union is larger than two chunks of output (else the test cannot stop inside it)" \
	"$(knn-build -q cq.wnw -k 100 c1.wnw 2>/dev/null | wc -c | awk '{ print ($1 > 3000000) }')" 1
got=$(change_midway c2.wnw)
truthy "a pool overwritten in place during the run is detected ($got)" \
	'[[ "$got" == "status 1: knn-build: cpool.wnw: "* && "$got" == *changed* ]]'
got=$(change_midway c1.wnw)
truthy "a pool written again with the same bytes is refused by its modification time ($got)" \
	'[[ "$got" == "status 1: knn-build: cpool.wnw: the file changed during the run"* ]]'
got=$(change_midway c2.wnw keep-time)
truthy "one whose modification time was put back is caught by the bytes read again ($got)" \
	'[[ "$got" == "status 1: knn-build: cpool.wnw: record "*"differ from those first read"* ]]'

# --- 4. memory follows the records, not what a header declares ---------------------------------------
/usr/bin/python3 - <<'PY'
import struct, zlib
import numpy as np
np.save("q20.npy", np.ones((1, 1 << 20), np.float32))
body = struct.pack("<I", 2) + bytes([1, 2]) + b"id" + struct.pack("<I", 0) + bytes([5, 3]) + b"vec"
body += struct.pack("<II", 1 << 20, 0)   # vec[2^20], no provenance; no records follow
with open("h20.wnw", "wb") as f:
    f.write(b"\x89WNW\r\n\x1a\n" + struct.pack("<HHI", 1, 0, len(body)) + body + struct.pack("<I", zlib.crc32(body)))
    f.write(struct.pack("<IQI", 0xFFFFFFFF, 0, 0))
PY
pack --vectors q20.npy >q20.wnw 2>/dev/null
fails 1 "h20.wnw: no records to take the mean of" "pursuit --in-domain on a pool of no records says so, as for a target" \
	pursuit -k 5 --field vec --in-domain h20.wnw
# ASan reserves terabytes of address space: the limit applies to the plain build only.
if [[ $B != *san* ]]; then
	ok "knn-build on a header-only pool of dimension 2^20 runs in 1.5 GB of address space" \
		bash -c 'ulimit -v 1500000 && knn-build -k 5 -q q20.wnw -o /dev/null h20.wnw'
fi
# A legal record of 80 MB in a stream of a few kB (zstd): refused beyond the default 64M, named, not
# held; --max-record raises the bound.
/usr/bin/python3 - <<'PY'
import struct, zlib
body = struct.pack("<I", 1) + bytes([4, 4]) + b"text" + struct.pack("<II", 0, 0)
text = b"a" * (80 << 20)
rec = struct.pack("<II", 4 + len(text), len(text)) + text
with open("huge.wnw", "wb") as f:
    f.write(b"\x89WNW\r\n\x1a\n" + struct.pack("<HHI", 1, 0, len(body)) + body + struct.pack("<I", zlib.crc32(body)))
    f.write(rec + struct.pack("<IQI", 0xFFFFFFFF, 1, zlib.crc32(rec)))
PY
zstd -q --rm huge.wnw
for p in "inspect --check" "embed-hash -o /dev/null" "inspect --hist text"; do
	fails 3 "huge.wnw.zst: record 1: 83886084 bytes, more than the 67108864 this program holds at once \(raise it with --max-record\)" \
		"$p refuses a record over the default bound" $p huge.wnw.zst
done
ok "--max-record 100M takes it" inspect --check --max-record 100M huge.wnw.zst
fails 2 "more than the format's 1G" "--max-record beyond the format's limit is a usage error" \
	inspect --check --max-record 2G huge.wnw.zst
