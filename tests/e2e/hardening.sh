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
	local src=$1; shift
	rm -f fifo && mkfifo fifo && { cat "$src" >fifo & } && timeout 20 "$@"
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
