#!/usr/bin/env bash
# pick: keeping the pool records of the best groups of a table, or of listed ids.
source "$(dirname "$0")/../lib.sh"

# A pool of 12 records in groups a, b, c, d (and one group with a tab in its name).
for i in $(seq 0 11); do
	printf '{"text":"r%d","source":"%s","k":%d}\n' "$i" "$(echo a b c d | cut -d' ' -f$((i % 4 + 1)))" $((i % 4))
done > pool.jsonl
pack --field source:text --field k:u64 pool.jsonl > pool.wnw
ids() { unpack --tsv id "$@" | tail -n +2 | tr '\n' ' '; }

# A group table, best first: c, a, z (no examples), b.
printf '%s\n' '{"text":"","group":"c","score":-2}' '{"text":"","group":"a","score":-1}' \
	'{"text":"","group":"z","score":0}' '{"text":"","group":"b","score":1}' > table.jsonl
pack --field group:text --field score:f64 table.jsonl > table.wnw

ok "--from --top 2" pick --from table.wnw --top 2 pool.wnw
pick --from table.wnw --top 2 pool.wnw > top2.wnw
same "keeps the records of the two best groups, in pool order" "$(ids top2.wnw)" "0 2 4 6 8 10 "
same "keeps every field as it was" "$(unpack top2.wnw | head -1)" "$(head -1 pool.jsonl)"
same "the schema is the pool's" "$(inspect top2.wnw | sed -n '/^schema:/,/^provenance:/p')" \
	"$(inspect pool.wnw | sed -n '/^schema:/,/^provenance:/p')"
same "the pool can come on standard input" "$(pick --from table.wnw --top 2 < pool.wnw | ids)" "0 2 4 6 8 10 "
fails 0 "group 'z' has no examples" "a chosen group with no examples is reported" pick --from table.wnw --top 3 pool.wnw
same "without --top, every group of the table" "$(pick --from table.wnw pool.wnw 2>/dev/null | ids)" \
	"0 1 2 4 5 6 8 9 10 "
fails 0 "fewer than --top 9" "a --top beyond the table takes it all, with a warning" pick --from table.wnw --top 9 pool.wnw

# Groups matched as text whatever their types: u64 groups in the pool (k) against text in a table.
printf '%s\n' '{"text":"","group":"3"}' > ktable.jsonl
pack --field group:text ktable.jsonl > ktable.wnw
same "--by a u64 pool field" "$(pick --from ktable.wnw --by k pool.wnw | ids)" "3 7 11 "
printf '%s\n' '{"text":"","name":"d"}' > ntable.jsonl
pack --field name:text ntable.jsonl > ntable.wnw
same "--key names the table's field" "$(pick --from ntable.wnw --key name pool.wnw | ids)" "3 7 11 "

# gradex's table goes straight in.
printf '%s\n' '{"text":"","group":"b"}' '{"text":"","group":"b"}' > dup.jsonl
pack --field group:text dup.jsonl > dup.wnw
fails 1 "group 'b' is listed twice" "a group listed twice is refused" pick --from dup.wnw pool.wnw
fails 1 "no field 'nosuch'" "a missing pool field is named" pick --from table.wnw --by nosuch pool.wnw
fails 1 "no field 'group'" "a table without its group field is refused" pick --from pool.wnw pool.wnw

# --ids: text lists.
printf '5\n\n1\n99\n5\n' > ids.txt
same "--ids from a text list, in pool order" "$(pick --ids ids.txt pool.wnw 2>/dev/null | ids)" "1 5 "
fails 0 "1 of 3 listed ids are not in the pool" "listed ids missing from the pool are counted" pick --ids ids.txt pool.wnw
same "a text list through a pipe" "$(printf '7\n2\n' | pick --ids /dev/stdin pool.wnw | ids)" "2 7 "
: > empty.txt
same "an empty list keeps nothing" "$(pick --ids empty.txt pool.wnw 2>/dev/null | ids)" ""
printf '4\nx5\n' > bad.txt
fails 1 "bad.txt: line 2: 'x5' is not an id" "a bad line is refused with its number" pick --ids bad.txt pool.wnw
same "a text list adds no count field" "$(pick --ids ids.txt pool.wnw 2>/dev/null | inspect - | grep -c 'name: count')" 0

# --ids: a sample stream carries its counts across.
sample -n 20 --by k --seed 3 pool.wnw > drawn.wnw
pick --ids drawn.wnw pool.wnw > back.wnw
same "a sample's records come back with their counts" "$(unpack --tsv id,count,source back.wnw)" \
	"$(unpack --tsv id,count,source drawn.wnw)"
same "a sample through a pipe" "$(cat drawn.wnw | pick --ids /dev/stdin pool.wnw | unpack --tsv id,count)" \
	"$(unpack --tsv id,count drawn.wnw)"
cat drawn.wnw drawn.wnw > twice.wnw
same "an id listed twice gets the sum of its counts" \
	"$(pick --ids twice.wnw pool.wnw | unpack --tsv id,count | awk 'NR > 1 { s += $2 } END { print s }')" 40
zstd -q -c drawn.wnw > drawn.wnw.zst
same "a zstd-compressed list" "$(pick --ids drawn.wnw.zst pool.wnw | unpack --tsv id,count)" \
	"$(unpack --tsv id,count drawn.wnw)"
same "a list without count keeps the pool's fields only" \
	"$(pick --ids top2.wnw pool.wnw | inspect - | sed -n '/^schema:/,/^provenance:/p')" \
	"$(inspect pool.wnw | sed -n '/^schema:/,/^provenance:/p')"

# Usage errors.
fails 2 "one of --from TABLE or --ids LIST" "neither --from nor --ids" pick pool.wnw
fails 2 "one of --from TABLE or --ids LIST" "both --from and --ids" pick --from table.wnw --ids ids.txt pool.wnw
fails 2 "--top goes with --from" "--top without --from" pick --ids ids.txt --top 2 pool.wnw
fails 2 "cannot open" "a missing list" pick --ids nosuch.txt pool.wnw
fails 2 "--top" "--top 0" pick --from table.wnw --top 0 pool.wnw
ok "--help" pick --help
