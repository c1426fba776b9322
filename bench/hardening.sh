#!/usr/bin/env bash
# bench/hardening.sh: the memory bounds of issue 19, each beside its peer in the same run: peak
# resident size of inspect --check and embed-hash on one legal 80 MB record (in a stream of a few kB
# with zstd) under the default --max-record (refused) and with --max-record 100M (held, as every
# record was before the bound); shard -n 1024 (all parts open at once) beside shard -n 2.
# Usage: B=build/rel bench/hardening.sh
set -u
cd "$(dirname "$0")/.."
B=${B:-build/rel}
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
/usr/bin/python3 - "$T/huge.wnw" <<'PY'
import struct, sys, zlib
body = struct.pack("<I", 1) + bytes([4, 4]) + b"text" + struct.pack("<II", 0, 0)
text = b"a" * (80 << 20)
rec = struct.pack("<II", 4 + len(text), len(text)) + text
with open(sys.argv[1], "wb") as f:
    f.write(b"\x89WNW\r\n\x1a\n" + struct.pack("<HHI", 1, 0, len(body)) + body + struct.pack("<I", zlib.crc32(body)))
    f.write(rec + struct.pack("<IQI", 0xFFFFFFFF, 1, zlib.crc32(rec)))
PY
zstd -q --rm "$T/huge.wnw"
# rss LABEL CMD...: peak resident size and exit status of CMD
rss() {
	local label=$1; shift
	/usr/bin/time -f "%M %x %e" -o "$T/t" "$@" >/dev/null 2>&1
	read -r kb st sec < <(tail -1 "$T/t")
	printf '%-52s %8.1f MB  exit %s  %5.2f s\n' "$label" "$(echo "$kb / 1024" | bc -l)" "$st" "$sec"
}
echo "one 80 MB record, $(stat -c %s "$T/huge.wnw.zst") bytes of zstd stream:"
rss "inspect --check (default bound, refused)" "$B/bin/inspect" --check "$T/huge.wnw.zst"
rss "inspect --check --max-record 100M (held)" "$B/bin/inspect" --check --max-record 100M "$T/huge.wnw.zst"
rss "embed-hash (default bound, refused)" "$B/bin/embed-hash" -o /dev/null "$T/huge.wnw.zst"
rss "embed-hash --max-record 100M (held)" "$B/bin/embed-hash" --max-record 100M -o /dev/null "$T/huge.wnw.zst"
seq 0 99999 | awk '{ printf "{\"text\": \"record %d\"}\n", $1 }' >"$T/p.jsonl"
"$B/bin/pack" "$T/p.jsonl" >"$T/p.wnw" 2>/dev/null
mkdir "$T/parts"
echo "100,000 small records:"
rss "shard -n 2" "$B/bin/shard" -n 2 "$T/parts/a%d.wnw" "$T/p.wnw"
rss "shard -n 1024 (all parts open, soft limit 1024)" bash -c "ulimit -Sn 1024; $B/bin/shard -n 1024 $T/parts/b%d.wnw $T/p.wnw"
