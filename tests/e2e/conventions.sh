# Conventions every program shares: --help, --version, usage errors, man pages; and, through pack and
# inspect, --config, -o through a temporary file, -z, a closed downstream pipe, provenance.
. "$(dirname "$0")/../lib.sh"

# The usage lines of --help, and the SYNOPSIS as mandoc renders it, as one line of words each.
usage_words() {
	"$1" --help | awk '/^usage: /{f = 1; sub(/^usage: /, ""); print; next} f && /^ /{print; next} {f = 0}' |
		tr -s ' \n' '  ' | sed 's/ *$//'
}
synopsis_words() {
	[ -f "$1" ] || return 0
	mandoc -T ascii -O width=1000 "$1" | sed 's/.\x08//g' | awk '/^SYNOPSIS/{f = 1; next} /^[A-Z]/{f = 0} f' |
		tr -s ' \n' '  ' | sed 's/^ *//; s/ *$//'
}

for p in "$B"/bin/*; do
	n=$(basename "$p")
	truthy "$n --help prints its usage on stdout and exits 0" "$n --help 2>/dev/null | grep -q '^usage: $n '"
	truthy "$n --version names the program and winnow's version" \
		"$n --version | grep -Eq '^$n \\(winnow\\) [0-9]+\\.[0-9]+\\.[0-9]+$'"
	fails 2 "unknown option" "$n: an unknown option is a usage error" "$n" --no-such-option
	m=$TOP/man/man1/$n.1
	truthy "$n has a man page with EXIT STATUS and EXAMPLES" \
		"[ -f '$m' ] && grep -q '^\\.Sh EXIT STATUS' '$m' && grep -q '^\\.Sh EXAMPLES' '$m'"
	truthy "$n(1) is mandoc -T lint clean above style level" "[ -f '$m' ] && mandoc -T lint -W warning '$m'"
	same "$n's usage is its man page's SYNOPSIS, word for word" "$(usage_words "$n")" "$(synopsis_words "$m")"
done
truthy "winnow(5) is mandoc -T lint clean" "mandoc -T lint -W warning '$TOP/man/man5/winnow.5'"

printf '{"id": 0, "text": "a"}\n{"id": 1, "text": "b"}\n' >two.jsonl
seq 1 200000 | awk '{ printf "{\"text\": \"line %d\"}\n", $1 }' >many.jsonl

# -o writes through a temporary file and renames it only at the end
ok "pack -o writes the file" pack -o out.wnw two.jsonl
truthy "and leaves no temporary file" '[ -f out.wnw ] && ! ls out.wnw.tmp.* 2>/dev/null'
printf '{"text": "a"}\n{"text": \n' >bad.jsonl
fails 1 "bad.jsonl: line 2" "a bad line names file and line" pack -o failed.wnw bad.jsonl
truthy "a failed run leaves neither the output nor a temporary file" '! ls failed.wnw* 2>/dev/null'
mkfifo slow
(sleep 0.3; cat many.jsonl; sleep 5) >slow &
feeder=$!
pack -o killed.wnw slow &
victim=$!
sleep 1
kill -TERM $victim; wait $victim 2>/dev/null; kill $feeder 2>/dev/null; wait $feeder 2>/dev/null
truthy "a stage killed by SIGTERM leaves neither output nor temporary file" '! ls killed.wnw* 2>/dev/null'

# zstd out, zstd in
ok "-z compresses" pack -z -o out.wnw.zst many.jsonl
truthy "with zstd's magic" '[ "$(head -c 4 out.wnw.zst | od -A n -t x1 | tr -d " ")" = 28b52ffd ]'
same "a compressed stream reads as the plain one" "$(unpack out.wnw.zst | md5sum)" "$(pack many.jsonl | unpack | md5sum)"
ok "-z 19 sets the level" pack -z 19 -o out19.wnw many.jsonl
truthy "and compresses more than level 1" \
	'pack -z 1 -o out1.wnw many.jsonl && [ $(stat -c %s out19.wnw) -lt $(stat -c %s out1.wnw) ]'
WINNOW_ZSTD_LEVEL=1 pack -z -o env1.wnw many.jsonl
same "WINNOW_ZSTD_LEVEL sets the default level" "$(cmp -s env1.wnw out1.wnw && echo same)" same
fails 2 "WINNOW_ZSTD_LEVEL" "a bad WINNOW_ZSTD_LEVEL is a usage error where -z uses it" env WINNOW_ZSTD_LEVEL=99 pack -z two.jsonl
fails 2 "-z: '0'" "-z is range-checked" pack -z0 two.jsonl

# a closed pipe downstream ends quietly
set -o pipefail
pack many.jsonl 2>pack.err | head -c 100 >/dev/null
same "pack | head exits 0" "$?" 0
same "and says nothing" "$(cat pack.err)" ""
pack many.jsonl | unpack 2>unpack.err | head -1 >/dev/null
same "unpack | head -1 exits 0" "$?" 0
same "quietly" "$(cat unpack.err)" ""
set +o pipefail

# --config: keys are long option names, the command line wins
printf 'text: body\nid: key\n' >cfg.yaml
printf '{"key": 7, "body": "x", "other": "y"}\n' >cfg.jsonl
same "--config supplies options" "$(pack --config cfg.yaml cfg.jsonl | unpack --tsv id,text | tail -1)" "$(printf '7\tx')"
same "the command line wins over --config" \
	"$(pack --config cfg.yaml --text other cfg.jsonl | unpack --tsv id,text | tail -1)" "$(printf '7\ty')"
printf 'no-such-option: 1\n' >bad.yaml
fails 2 "bad.yaml: line 1: unknown option 'no-such-option'" "an unknown key names file and line" \
	pack --config bad.yaml two.jsonl
printf 'text: [unclosed\n' >broken.yaml
fails 2 "broken.yaml: line" "a YAML syntax error names file and line" pack --config broken.yaml two.jsonl
fails 2 "missing.yaml: cannot open" "a missing config file is a usage error" pack --config missing.yaml two.jsonl

# provenance: the header says how a stream was made, without options that cannot change the records
pack --text text -o prov.wnw two.jsonl
truthy "provenance records the program and its arguments" \
	"inspect prov.wnw | grep -A4 'program: \"pack\"' | grep -q -- '--text'"
truthy "but not -o" "! inspect prov.wnw | sed -n '/^provenance:/,/^records:/p' | grep -q prov.wnw"
pack --text text two.jsonl >a.wnw
pack -o b.wnw --text text two.jsonl
same "so the same work gives the same bytes whatever the output option" "$(md5sum <a.wnw)" "$(md5sum <b.wnw)"

# -o to a device writes it in place: renaming a temporary file over /dev/null would replace it
ok "-o /dev/null is accepted" pack -o /dev/null two.jsonl
truthy "and /dev/null is still the null device" '[ -c /dev/null ]'
