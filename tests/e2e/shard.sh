# shard: split by id hash, join with cat or --merge
. "$(dirname "$0")/../lib.sh"

seq 0 999 | awk '{ printf "{\"id\": %d, \"text\": \"record %d\"}\n", $1 * 7, $1 }' >pool.jsonl
pack --id id pool.jsonl >pool.wnw
ok "split into 4 parts" shard -n 4 part-%d.wnw pool.wnw
truthy "four part files and no temporary file" '[ "$(ls part-*.wnw | wc -l)" = 4 ] && ! ls *.tmp.* 2>/dev/null'
same "the parts hold every record once" "$(cat part-*.wnw | unpack --ids | sort -n | md5sum)" \
	"$(unpack --ids pool.wnw | sort -n | md5sum)"
same "a record goes to the same part whatever else is in the stream" \
	"$(head -100 pool.jsonl | pack --id id | shard -n 4 small-%d.wnw && unpack --ids small-2.wnw | md5sum)" \
	"$(unpack --ids part-2.wnw | awk '$1 < 700' | md5sum)"
truthy "parts are balanced within 20%" \
	'for f in part-*.wnw; do n=$(unpack --ids $f | wc -l); [ $n -gt 200 ] && [ $n -lt 300 ] || exit 1; done'
shard --merge part-*.wnw >merged.wnw
same "merge restores the original records in order" "$(unpack merged.wnw | md5sum)" "$(unpack pool.wnw | md5sum)"
same "merge takes parts in any order" "$(shard --merge part-3.wnw part-1.wnw part-0.wnw part-2.wnw | unpack | md5sum)" \
	"$(unpack pool.wnw | md5sum)"
fails 1 "both hold id" "merge refuses an id present in two parts" shard --merge part-1.wnw part-1.wnw
cat part-1.wnw part-0.wnw >unordered.wnw
fails 1 "does not ascend" "merge refuses a part whose ids do not ascend" shard --merge unordered.wnw
fails 2 "exactly one %d" "a pattern without %d is refused" shard -n 2 part.wnw pool.wnw
fails 2 "-n N is required" "-n is required" shard out-%d.wnw pool.wnw
fails 2 "1 to 1024" "-n is range-checked" shard -n 0 out-%d.wnw pool.wnw
printf 'x' >bad.wnw
fails 1 "bad.wnw" "bad input names the file" shard -n 2 out-%d.wnw bad.wnw
truthy "a failed split leaves no output and no temporary file" '! ls out-* 2>/dev/null'
ok "percent signs are written %%" shard -n 2 'p%%-%d.wnw' pool.wnw
truthy "and give names with a percent sign" '[ -f p%-0.wnw ] && [ -f p%-1.wnw ]'
