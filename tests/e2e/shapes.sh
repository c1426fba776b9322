#!/usr/bin/env bash
# The data shapes people fine-tune on, through pack and back through unpack: member paths, templates
# with optional members, chat (messages, ShareGPT), string ids, JSON arrays, CSV, each plain, .gz and
# .zst; and a chat pool with string ids selected through the TSDS chain exactly as its plain twin is.
source "$(dirname "$0")/../lib.sh"
D=$DATA/pack
PY=/usr/bin/python3
texts() { unpack --tsv text | tail -n +2; }

# --- member paths ---------------------------------------------------------------------------------
same "a[-1].b: the last element (pack(1)'s first example)" \
	"$(pack --text 'messages[-1].content' --id uid "$D/chat.jsonl" | unpack --tsv id,text | tail -n +2)" \
	"$(printf 'conv-7f3a\tParis.\nconv-0b12\t6\\nsix\n17\tA cat.')"
same "a[k=v].b: every assistant turn, joined by newlines" \
	"$(pack --text 'messages[role=assistant].content' "$D/chat.jsonl" | texts)" \
	"$(printf 'Paris.\n4\\n6\\nsix\nA cat.')"
same "a[*].b: every element (ShareGPT)" "$(pack --text 'conversations[*].value' "$D/sharegpt.jsonl" | texts)" \
	"$(printf 'Hi\\nHello!\nName a colour\\nRed\\nAnother\\nBlue')"
same "a.b.c, a[0], a.1 and a leading dot" \
	"$(head -2 "$D/chat.jsonl" | pack --text '.messages[0].content' | texts | tr '\n' '|')$(pack --text 'messages.1.role' "$D/chat.jsonl" | texts | head -1)" \
	"Be brief.|2+2?|user"
printf '{"a.b": {"c]": "dotted"}, "a": {"b": "plain"}}\n' >dots.jsonl
same "a name with '.' or ']' is reached quoted in brackets" "$(pack --text '["a.b"]["c]"]' dots.jsonl | texts)" dotted
same "while a.b is the path" "$(pack --text 'a.b' dots.jsonl | texts)" plain
same "paths work in --field too (NAME=PATH)" \
	"$(pack --chat --field 'turns=messages[-1].role' "$D/chat.jsonl" | unpack --tsv turns | tail -1)" \
	assistant
fails 1 "line 1: member \"messages\\[9\\].content\" is missing or null" "an index past the end is missing" \
	pack --text 'messages[9].content' "$D/chat.jsonl"
fails 1 "member \"messages\" is not a string" "a path to an array is not a text" pack --text messages "$D/chat.jsonl"
for bad in 'a..b' 'a[' 'a[]' 'a.' 'a[0]b'; do
	fails 2 "bad member path" "a malformed path is a usage error: $bad" pack --text "$bad" "$D/chat.jsonl"
done

# --- templates --------------------------------------------------------------------------------------
same "{path?}: a missing or null member drops the separator after it" \
	"$(pack --text '{instruction}\n{input?}\n{output}' "$D/alpaca_opt.jsonl" | texts)" \
	"$(printf 'Add 2 and 3.\\n5\nTranslate.\\nchat\\ncat\nSay hi.\\nhi')"
same "{path?} last: the separator before it goes" \
	"$(pack --text '{output} ({input?})' "$D/alpaca_opt.jsonl" | texts)" "$(printf '5\ncat (chat)\nhi')"
fails 1 "alpaca_opt.jsonl: line 1: member \"input\" is missing or null" "{path} without ? is still required" \
	pack --text '{instruction}\n{input}' "$D/alpaca_opt.jsonl"
printf '{"id": 5, "text": "x"}\n' >num.jsonl
same "a template that is one member is a template: a number becomes its text" "$(pack --text '{id}' num.jsonl | texts)" 5
same "templates take paths" "$(pack --text 'Q: {messages[1].content} A: {messages[-1].content}' "$D/chat.jsonl" | texts | head -1)" \
	"Q: Capital of France? A: Paris."

# --- --chat -----------------------------------------------------------------------------------------
same "--chat: one 'role: content' line per turn; text parts of a list content" \
	"$(pack --chat "$D/chat.jsonl" | texts)" \
	"$(printf 'system: Be brief.\\nuser: Capital of France?\\nassistant: Paris.\nuser: 2+2?\\nassistant: 4\\nuser: and 3+3?\\nassistant: 6\\nsix\nuser: Describe\\nassistant: A cat.')"
same "--chat reads ShareGPT conversations (from, value)" "$(pack --chat "$D/sharegpt.jsonl" | texts | head -1)" \
	'human: Hi\ngpt: Hello!'
fails 1 "line 1: neither \"messages\" nor \"conversations\" is an array" "--chat on a record without turns" \
	pack --chat num.jsonl
fails 2 "exclude each other" "--chat and --text exclude each other" pack --chat --text x "$D/chat.jsonl"

# --- string ids ---------------------------------------------------------------------------------------
pack --chat --id uid "$D/chat.jsonl" >chat.wnw
same "a string id is kept verbatim: unpack --ids" "$(unpack --ids chat.wnw | tr '\n' ' ')" "conv-7f3a conv-0b12 17 "
same "and unpack --tsv id" "$(unpack --tsv id chat.wnw | tail -n +2 | tr '\n' ' ')" "conv-7f3a conv-0b12 17 "
same "the stream holds it in field sid beside the u64 id" \
	"$(inspect chat.wnw | grep -o 'name: [a-z]*, type: [a-z0-9]*' | head -3 | tr '\n' ';')" \
	"name: id, type: u64;name: sid, type: bytes;name: text, type: bytes;"
same "lines come back byte for byte" "$(unpack chat.wnw | md5sum)" "$(md5sum <"$D/chat.jsonl")"
printf '17\nconv-7f3a\nnope\n' >want.txt
same "pick --ids takes string ids" "$(pick --ids want.txt chat.wnw 2>/dev/null | unpack --ids | tr '\n' ' ')" "conv-7f3a 17 "
printf '{"text":"x","id":"a"}\n{"text":"y","id":"b"}\n{"text":"z","id":"a"}\n' >rep.jsonl
fails 1 "^pack: rep.jsonl: line 3: id \"a\" repeats that of rep.jsonl: line 1\$" "a repeated string id names both lines" \
	pack --id id rep.jsonl
printf '{"text":"x","id":"b"}\n' >rep2.jsonl
fails 1 "^pack: stdin: line 3: id \"a\" repeats that of an earlier record \(not a regular file: cannot be read again" \
	"on standard input the earlier line cannot be found again, and the message says so" sh -c 'pack --id id <rep.jsonl'
printf '[{"text":"x","id":"a"},\n{"text":"y","id":"b"}, {"text":"z","id":"b"}]' >rep.json
fails 1 "^pack: rep.json: element 3: id \"b\" repeats that of rep.json: element 2\$" "in a JSON array, elements" \
	pack --id id rep.json
head -2 rep.jsonl >rep1.jsonl
fails 1 "rep2.jsonl: line 1: id \"b\" repeats that of rep1.jsonl: line 2" "and both files" pack --id id rep1.jsonl rep2.jsonl
# "a88574" hashes to slot 0 of the id set once it has doubled (after 57,344 ids); the doubling lost it
{ echo '{"id":"a88574","text":"x"}'; seq 60000 | awk '{ printf "{\"id\":\"b%d\",\"text\":\"x\"}\n", $1 }'
  echo '{"id":"a88574","text":"y"}'; } >grown.jsonl
fails 1 "^pack: grown.jsonl: line 60002: id \"a88574\" repeats that of grown.jsonl: line 1\$" \
	"a repeated id is caught after the id set has grown" pack --id id grown.jsonl
printf '{"text":"x","id":1}\n{"text":"y","id":"b"}\n' >mixed.jsonl
fails 1 "line 2: id \"b\" is not a number, as the first record's was" "numeric then string ids" pack --id id mixed.jsonl
printf '{"text":"x","id":"q"}\n{"text":"y","id":7}\n' >mixed2.jsonl
same "string then number: the number is a string id too" "$(pack --id id mixed2.jsonl | unpack --ids | tr '\n' ' ')" "q 7 "
fails 1 "line 1: the id \"id\" is empty" "an empty string id" pack --id id <(printf '{"text":"x","id":""}\n')
same "numeric ids are as before: no sid field" "$(pack --id id "$D/tricky.jsonl" | inspect | grep -c 'name: sid')" 0
awk '{ printf "{\"id\": \"doc-%05d\", \"text\": \"record %d\"}\n", $1 * 7, $1 }' <(seq 0 299) >spool.jsonl
pack --id id spool.jsonl >spool.wnw
pack --id id --text text spool.jsonl | embed-hash >spv.wnw
head -20 spool.jsonl | pack --id id | embed-hash >spq.wnw
knn-build -q spq.wnw -k 10 spv.wnw 2>/dev/null | unpack --tsv id,nbr >one.tsv
shard -n 3 spv%d.wnw spv.wnw
for i in 0 1 2; do knn-build -q spq.wnw -k 10 spv$i.wnw >spk$i.wnw 2>/dev/null; done
same_file "knn-build --merge of string-id shards equals the single run" \
	<(cat spk1.wnw spk2.wnw spk0.wnw | knn-build --merge -k 10 2>/dev/null | unpack --tsv id,nbr) one.tsv
knn-build -q spq.wnw -k 10 spv.wnw 2>/dev/null >one.wnw
shard -n 3 ok%d.wnw one.wnw
same "shard --merge of string-id parts (in ascending u64 id, as knn-build writes) restores the stream" \
	"$(shard --merge ok2.wnw ok0.wnw ok1.wnw | unpack --tsv id,nbr | md5sum)" "$(md5sum <one.tsv)"
fails 1 "ok1.wnw and ok1.wnw: both hold id \"doc-[0-9]+\"" "a string id in two parts is named as the string" \
	shard --merge ok1.wnw ok1.wnw

# --- JSON arrays ----------------------------------------------------------------------------------------
same "a .json array: one record per element, white space and brackets in strings handled" \
	"$(pack "$D/array.json" | texts)" "$(printf 'first\nsecond, with "quotes" and a \\\\ backslash\nthird')"
same "an element over several lines gets compact JSON; one on a line stays as written" \
	"$(pack "$D/array.json" | unpack)" \
	"$(printf '%s\n' '{"text": "first", "meta": {"tags": ["a", "]", "{"]}}' \
		'{"text":"second, with \"quotes\" and a \\ backslash","n":2}' '{"text": "third"}')"
printf '\xef\xbb\xbf [{"text": "bom"}]' >bom.json
same "a byte order mark before the array is skipped" "$(pack bom.json | texts)" bom
printf '[]\n' >empty.json
same "an empty array is no records" "$(pack empty.json | unpack | wc -l)" 0
printf '[{"text":"a"}] x\n' >trail.json
fails 1 "trail.json: text after the closing" "text after the array" pack trail.json
printf '[{"text":"a"}, {"text":' >trunc.json
fails 1 "trunc.json: truncated: the array is not closed" "an unclosed array" pack trunc.json
printf '[{"text":"a"},,{"text":"b"}]' >hole.json
fails 1 "hole.json: element 2: empty" "an empty element" pack hole.json
printf '[{"text":"a"}, 5]' >num.json
fails 1 "num.json: element 2: '\\[' or '\\{' expected near '5'" "an element that is not an object, named by number" pack num.json
printf '[{"text":"%s"}]' "$(head -c 3000 /dev/zero | tr '\0' x)" >long.json
fails 1 "long.json: element 1: element longer than 1024 bytes" "--max-line bounds an element" pack --max-line 1K long.json

# --- CSV --------------------------------------------------------------------------------------------------
same "CSV: quoted fields with commas, doubled quotes, CRLF and newlines inside" \
	"$(pack --csv --id id --field score:f64 "$D/rows.csv" | unpack --tsv id,text,score | tail -n +2)" \
	"$(printf 'r1\thello, "quoted" world\t0.5\nr2\ttwo\\r\\nlines\t1\nr3\tplain\t2')"
same "CSV rows become JSON objects of strings" "$(pack --csv "$D/rows.csv" | unpack | head -1)" \
	'{"id":"r1","text":"hello, \"quoted\" world","score":"0.5"}'
same "messages name the line a record starts on" \
	"$(printf 'text,n\n"a\nb",1\n"c",x\n' | pack --csv --field n:u64 2>&1 >/dev/null)" \
	'pack: stdin: line 4: column "n" is not an unsigned integer'
printf 'text\n"open\n' >open.csv
fails 1 "open.csv: line 2: a quoted field is not closed" "an unclosed quote" pack --csv open.csv
printf 'text,n\na"b,1\n' >q.csv
fails 1 "q.csv: line 2: a quoted field is not closed" "a stray quote opens a quoted field" pack --csv q.csv
printf 'text,n\na"b"c,1\n' >q2.csv
fails 1 "q2.csv: line 2: field 1: a quote inside an unquoted field" "quotes inside an unquoted field" pack --csv q2.csv
fails 2 "columns have no members inside" "a path into a CSV column is a usage error" pack --csv --text a.b "$D/rows.csv"

# --- compressed inputs of every shape ----------------------------------------------------------------------
for f in chat.jsonl array.json rows.csv; do
	opt=; [ $f = rows.csv ] && opt=--csv; [ $f = chat.jsonl ] && opt=--chat
	gzip -c "$D/$f" >$f.gz
	zstd -q -c "$D/$f" >$f.zst
	want=$(pack $opt "$D/$f" | unpack --tsv text | md5sum)
	same "$f.gz reads as $f" "$(pack $opt $f.gz | unpack --tsv text | md5sum)" "$want"
	same "$f.zst reads as $f" "$(pack $opt $f.zst | unpack --tsv text | md5sum)" "$want"
done

# --- the same bytes for any thread count -------------------------------------------------------------------
for args in "--chat --id uid $D/chat.jsonl" "$D/array.json" "--csv --id id $D/rows.csv"; do
	# shellcheck disable=SC2086
	same "-j 3 writes the bytes -j 1 writes: pack $args" "$(pack -j 3 $args | md5sum)" "$(pack $args | md5sum)"
done

# --- the chat pool with string ids selects what its plain-text twin selects ----------------------------------
# 300 two-turn conversations with string ids; the twin holds the same texts as --chat renders them, as
# plain {"id": N, "text": ...} lines whose numeric ids are the u64 ids the string ids became (the ids
# decide the order of the chain's records and so the draws).
awk 'BEGIN { srand(3); split("alpha beta gamma delta eps zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau", w, " ");
	for (i = 0; i < 300; i++) { q = ""; a = ""
		for (k = 0; k < 6; k++) q = q " " w[int(rand() * 19) + 1]
		for (k = 0; k < 8; k++) a = a " " w[int(rand() * 19) + 1]
		printf "{\"uid\":\"rec-%04d-%c\",\"messages\":[{\"role\":\"user\",\"content\":\"q%d%s\"},{\"role\":\"assistant\",\"content\":\"a%d%s\"}]}\n", i, 97 + i % 26, i, q, i, a
		printf "{\"text\":\"user: q%d%s\\nassistant: a%d%s\"}\n", i, q, i, a > "twin_text.jsonl" } }' >pool_chat.jsonl
pack --chat --id uid pool_chat.jsonl | unpack --npy id -o ids.npy
$PY -c "import numpy as np; print('\n'.join(str(int(x)) for x in np.load('ids.npy')))" >ids.txt
paste -d '\t' ids.txt twin_text.jsonl | awk -F'\t' '{ sub(/^\{/, "{\"id\":" $1 ",", $2); print $2 }' >pool_twin.jsonl
same "the twin's texts are what --chat renders" "$(pack --chat pool_chat.jsonl | texts | md5sum)" \
	"$(pack --id id pool_twin.jsonl | texts | md5sum)"
chain() { # QUERY.wnw: a pool stream on stdin to the selected lines
	embed-hash | knn-build -q "$1" -k 20 | kde-dedup --sigma 0.5 -k 20 2>/dev/null | ot-weight --alpha 0.5 -C 5 |
		sample -n 60 --seed 3 | unpack
}
head -40 pool_chat.jsonl | pack --chat --id uid | embed-hash >qc.wnw
head -40 pool_twin.jsonl | pack --id id | embed-hash >qt.wnw
pack --chat --id uid pool_chat.jsonl | chain qc.wnw >sel_chat.jsonl
pack --id id pool_twin.jsonl | chain qt.wnw >sel_twin.jsonl
truthy "the chain selects 60 chat lines" '[ $(wc -l <sel_chat.jsonl) = 60 ]'
same "exactly the records the twin selects, in the same order" \
	"$(grep -nxFf sel_chat.jsonl pool_chat.jsonl | cut -d: -f1 | tr '\n' ' ')" \
	"$(grep -nxFf sel_twin.jsonl pool_twin.jsonl | cut -d: -f1 | tr '\n' ' ')"
same "and unpack gives back the original chat lines byte for byte" "$(grep -cvxFf pool_chat.jsonl sel_chat.jsonl)" 0
