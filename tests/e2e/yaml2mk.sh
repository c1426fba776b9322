# yaml2mk: YAML parameters as make variables
. "$(dirname "$0")/../lib.sh"

same "the TSDS reference's keys get the recipes' names" "$(yaml2mk "$TSDS_TOY/params.yaml" | tr '\n' ';')" \
	"N = 100;ALPHA = 0.5;C = 5.0;SIGMA = 0.75;K = 5000;KDE_K = 1000;"
cat >t.mk <<'MK'
include x.mk
q = '$(subst ','\'',$(1))'
all: ; @printf '[%s]\n' $(call q,$(TEXT))
MK
# Each value comes back from make as written, whatever it holds.
for v in 'a$b#c' 'trail  ' '{instruction}\n{output}' 'x`touch PWNED`$(touch PWNED)' "it's \\" ' lead' 'a\#b' '\\\\#' '$$'; do
	printf 'text: %s\n' "'${v//\'/\'\'}'" >esc.yaml
	yaml2mk esc.yaml >x.mk
	same "reaches make unchanged: $v" "$(make -s -f t.mk)" "[$v]"
done
truthy "and runs nothing" '[ ! -e PWNED ]'
printf 'list: [1, 2]\n' >seq.yaml
fails 1 "seq.yaml: line 1: expected a scalar" "a sequence is refused, naming file and line" yaml2mk seq.yaml
printf 'alpha: [0.5, 0.6]\n' >list.yaml
fails 1 "list.yaml: line 1: expected a scalar" "a list for a single value is refused" yaml2mk list.yaml
printf 'alpha: 0.5\n---\nalpha: 0.6\n' >docs.yaml
fails 1 "docs.yaml: line 2: a second YAML document" "a second document is refused as such" yaml2mk docs.yaml
printf 'alpha: 0.5\n...\n' >end.yaml
same "one document with its end marker is fine" "$(yaml2mk end.yaml)" "ALPHA = 0.5"
{ printf 'alpha: '; head -c 50000000 /dev/zero | tr '\0' 7; echo; } >big.yaml
fails 1 "big.yaml: line 1: alpha: '7{60}\\.\\.\\. \\(50000000 bytes\\)' is not a number" "a 50 MB value is cut in the message" \
	yaml2mk big.yaml
truthy "whose message stays short" '[ "$(wc -c <.err)" -lt 300 ]'
printf 'text: "a\\x01b"\n' >ctl.yaml
fails 1 "'a\\\\x01b' holds a control character" "a control byte is refused and escaped in the message" yaml2mk ctl.yaml
{ printf 'text: '; head -c 300000 /dev/zero | tr '\0' x; echo; } >long.yaml
same "a closed pipe downstream ends yaml2mk quietly with 0" \
	"$(yaml2mk long.yaml 2>&1 | head -c 10 >/dev/null; echo "${PIPESTATUS[0]}")" 0
fails 3 "stdout: write error" "a full disk is a system error" bash -c 'yaml2mk long.yaml >/dev/full'
printf 'a:\n  b: 1\n' >nest.yaml
fails 1 "nest.yaml: line 2: nested mappings" "a nested mapping is refused" yaml2mk nest.yaml
printf 'bad key: 1\n' >key.yaml
fails 1 "key.yaml: line 1: unknown key 'bad key'" "a key make cannot take is refused" yaml2mk key.yaml
printf 'k: 3\nw: /tmp/evil/\n' >w.yaml
fails 1 "w.yaml: line 2: unknown key 'w'" "a key no recipe documents (W, the programs' directory) is refused" yaml2mk w.yaml
printf 'K: 3\nk: 4\n' >twice.yaml
fails 1 "twice.yaml: line 2: K given twice" "a key given twice is refused" yaml2mk twice.yaml
for kv in 'k: 0' 'k: -3' 'k: 3.5' 'alpha: 1' 'alpha: nan' 'C: 0' 'sigma: -1' 'seed: x' 'level: 10' 'fast: maybe' \
	'char: 5-3' 'pool: "a b.jsonl"' 'output_folder: "o;touch PWNED"' 'pool: "$(touch PWNED)"' "text: \"a\\tb\""; do
	printf '%s\n' "$kv" >kind.yaml
	fails 1 "kind.yaml: line 1: .*(is not|is negative|control)" "a value of the wrong kind is refused: $kv" yaml2mk kind.yaml
done
same "every documented kind is taken" "$(printf 'k: 3\nseed: 0\nalpha: 0.25\nC: 1e-3\nsigma: 0\nchar: 3-5\nlevel: 9\nfast: yes\nexpand: no\nout: o/x\n' |
	yaml2mk | tr '\n' ';')" "K = 3;SEED = 0;ALPHA = 0.25;C = 1e-3;SIGMA = 0;CHAR = 3-5;LEVEL = 9;FAST = 1;EXPAND = ;OUT = o/x;"
same "the keys of the cleaning stages, budgets and dsir.mk" \
	"$(printf 'dedup: minhash\ndecontam: tests.jsonl\ndecontam_text: "{q} {a}"\ndecontam_ngram: 8\nbudget: 50M\nsize_field: meta.tokens\nbuckets: 5000\nngram: 1-3\n' |
	yaml2mk | tr '\n' ';')" \
	"DEDUP = minhash;DECONTAM = tests.jsonl;DECONTAM_TEXT = {q} {a};DECONTAM_NGRAM = 8;BUDGET = 50M;SIZE_FIELD = meta.tokens;BUCKETS = 5000;NGRAM = 1-3;"
for kv in 'decontam_ngram: 0' 'buckets: -5' 'ngram: 2-1' 'decontam: "a b.jsonl"' 'budget: "5 M"'; do
	printf '%s\n' "$kv" >kind.yaml
	fails 1 "kind.yaml: line 1: .*(is not|is negative)" "a value of the wrong kind is refused: $kv" yaml2mk kind.yaml
done
printf 'a: [1\n' >broken.yaml
fails 1 "broken.yaml: line" "a syntax error names file and line" yaml2mk broken.yaml
fails 2 "cannot open" "a missing file is a usage error" yaml2mk missing.yaml
same "standard input is read without FILE" "$(printf 'k: 3\n' | yaml2mk)" "K = 3"

# --- the same reader under every program's --config ----------------------------------------------------
printf 'alpha: [0.5, 0.6]\n' >alist.yaml
fails 2 "alist.yaml: line 1: option 'alpha' takes one value, not a list" \
	"--config: a list for a single-valued option is refused, not cut to its last element" \
	ot-weight --config alist.yaml -C 1 /dev/null
printf '%s\n' '{"text": "a", "domain": "x", "lang": "en"}' >one.jsonl
printf 'field: [domain, lang]\n' >flist.yaml
same "--config: a list for a repeatable option gives it each time" \
	"$(pack --config flist.yaml one.jsonl 2>/dev/null | unpack --tsv domain,lang | tail -1)" "$(printf 'x\ten')"
printf 'text: [a, b]\n' >tlist.yaml
fails 2 "tlist.yaml: line 1: option 'text' takes one value" "--config: but not for pack's single-valued ones" \
	pack --config tlist.yaml one.jsonl
{ printf 'verbose: '; head -c 50000000 /dev/zero | tr '\0' y; echo; } >bigflag.yaml
fails 2 "option 'verbose' takes true or false, not 'y{60}\\.\\.\\. \\(50000000 bytes\\)'" \
	"--config: a 50 MB value is cut in the message" ot-weight --config bigflag.yaml --alpha 0.5 -C 1 /dev/null
truthy "which stays short" '[ "$(wc -c <.err)" -lt 400 ]'
{ printf 'alpha: '; head -c 5000000 /dev/zero | tr '\0' 7; echo; } >bignum.yaml
fails 2 "--alpha: '7{60}\\.\\.\\. \\(5000000 bytes\\)' is not a number" \
	"--config: a 5 MB number is cut in the option's message too" ot-weight --config bignum.yaml -C 1 /dev/null
truthy "which stays short" '[ "$(wc -c <.err)" -lt 400 ]'
