# The recipes in pipelines/: caching by input identity and parameters (never a stale selection),
# parameters as data, YAML parameters, the pool's cleaning (dedup, decontam), budgets, the three methods
# and their overlaps on any JSONL, members of the pool's own kept, plots, one set of TSDS defaults, and
# the sharded run equal to a single run.
. "$(dirname "$0")/../lib.sh"

P=$TOP/pipelines
zstd -dc "$TOP/demo/pool.jsonl.zst" | head -300 >pool.jsonl
zstd -dc "$TOP/demo/target.jsonl.zst" | head -10 >target.jsonl
M="make --no-print-directory -s W=$B/bin/"
# the records of a stream, whatever its header: count and CRC of the trailer
records() { tail -c 12 "$1" | od -A n -t x1 | tr -d ' \n'; }
# the programs a make -n would run, in order (not ln and echo)
would_run() { $M -n "$@" | sed -e :a -e '/\\$/N; s/\\\n//; ta' | awk '{ print $1 }' | grep -Ev '^(ln|echo|@?mkdir|cat|:)$' | xargs -rn1 basename | tr '\n' ' '; }
# the draws of a tsds.mk selection
draws() { grep -o '"tsds_count": *[0-9]*' "$1" | awk -F: '{ s += $2 } END { print s }'; }
TS="-f $P/tsds.mk QUERY=target.jsonl N=40 K=20 KDE_K=20"

ok "tsds.mk selects from JSONL" $M $TS POOL=pool.jsonl
truthy "selected.jsonl holds the drawn records with tsds_count and tsds_prob" \
	'[ "$(grep -c "\"tsds_count\"" tsds/selected.jsonl)" -ge 20 ] && grep -q "\"tsds_prob\"" tsds/selected.jsonl'
same "the draws add up to N" "$(draws tsds/selected.jsonl)" 40
same "a new ALPHA re-runs only ot-weight, sample and unpack" "$(would_run $TS POOL=pool.jsonl ALPHA=0.8)" \
	"ot-weight sample unpack "
$M $TS POOL=pool.jsonl ALPHA=0.8 >/dev/null 2>&1
same "going back to the first ALPHA re-runs nothing" "$(would_run $TS POOL=pool.jsonl)" ""
same "EXPAND=1 re-runs only sample and unpack" "$(would_run $TS POOL=pool.jsonl EXPAND=1)" "sample unpack "
ok "EXPAND=1 writes each record as often as drawn" $M $TS POOL=pool.jsonl EXPAND=1 OUT=expand
same "so N lines, without count" "$(wc -l <expand/selected.jsonl) $(grep -c '"tsds_count"' expand/selected.jsonl)" "40 0"

# --- no stale selection: the issue's case, another pool older than the cache --------------------------
sed 's/"text": "/"text": "B: /' pool.jsonl >b.jsonl
touch -d '2 days ago' b.jsonl
same "another POOL older than the cache re-runs every stage" "$(would_run $TS POOL=b.jsonl)" \
	"pack dedup embed-hash knn-build kde-dedup ot-weight sample unpack "
ok "and runs" $M $TS POOL=b.jsonl
same "whose selection comes from the new pool only" "$(grep -vc '"text": "B: ' tsds/selected.jsonl)" 0
same "the new pool again re-runs nothing" "$(would_run $TS POOL=b.jsonl)" ""
cp pool.jsonl a.jsonl
$M $TS POOL=a.jsonl >/dev/null 2>&1
cat b.jsonl >a.jsonl
touch -r pool.jsonl a.jsonl
same "the same file rewritten in place with an old time re-runs every stage" "$(would_run $TS POOL=a.jsonl)" \
	"pack dedup embed-hash knn-build kde-dedup ot-weight sample unpack "
same "a new QUERY re-runs what reads it" "$(would_run $TS POOL=b.jsonl QUERY=pool.jsonl)" \
	"pack embed-hash knn-build kde-dedup ot-weight sample unpack "
same "a new TEXT re-runs the pool's packing and all after it" \
	"$(would_run $TS POOL=b.jsonl TEXT='{text} {domain}' QUERY_TEXT=text)" "pack dedup embed-hash knn-build kde-dedup ot-weight sample unpack "

# --- parameters are data -----------------------------------------------------------------------------
ok "TEXT as a template with \\n and spaces" $M $TS POOL=pool.jsonl 'TEXT={domain}\n{text}' QUERY_TEXT=text OUT=tmpl
truthy "reaches pack whole: the newline is kept" "unpack --tsv text tmpl/selected.wnw | grep -Eq '^(python|c|perl|config|prose)\\\\n'"
# On make's command line a $ is written $$ (make's own syntax); the shell never sees the value unquoted.
ok "a template with spaces, quotes and a dollar" $M $TS POOL=pool.jsonl "TEXT=Domain: {domain} 'it''s' \$\$HOME {text}" \
	QUERY_TEXT=text OUT=spaces
truthy "arrives unchanged" "unpack --tsv text spaces/selected.wnw | sed -n 2p | grep -q \"^Domain: [a-z]* 'it''s' \\\$HOME \""
$M $TS POOL=pool.jsonl 'TEXT=x`touch PWNED1`$$(touch PWNED2);touch PWNED3' OUT=h1 >/dev/null 2>&1
$M $TS POOL=pool.jsonl 'K=5 a[$$(touch PWNED4)]' OUT=h2 >/dev/null 2>&1
$M $TS POOL=pool.jsonl "ALPHA=0.5' ; touch PWNED5 '" OUT=h3 >/dev/null 2>&1
fails 2 "POOL=.*a file name for a recipe holds only" "a file name make cannot quote is refused" \
	$M $TS 'POOL=p;touch PWNED5.jsonl' OUT=h4
$M $TS 'POOL=$$(touch PWNED6).jsonl' OUT=h5 >/dev/null 2>&1
$M $TS POOL=pool.jsonl 'OUT=o`touch PWNED7`' >/dev/null 2>&1
truthy "hostile command-line values run nothing" '! ls PWNED* 2>/dev/null'
sed 's/"text": "/"body": "/' target.jsonl >body.jsonl
ok "QUERY_TEXT packs the queries with their own member" $M $TS POOL=pool.jsonl QUERY=body.jsonl QUERY_TEXT=body OUT=qt
same "to the same selection" "$(cat qt/selected.jsonl | md5sum)" "$(cat tsds/selected.jsonl >/dev/null; $M $TS POOL=pool.jsonl >/dev/null 2>&1; md5sum <tsds/selected.jsonl)"

# --- YAML parameters ---------------------------------------------------------------------------------
printf 'sample_size: 30\nalpha: 0.6\nC: 1.0\nsigma: 0.5\nmax_K: 20\nkde_K: 20\n' >params.yaml
ok "tsds.mk takes its parameters from YAML" $M -f $P/tsds.mk QUERY=target.jsonl POOL=pool.jsonl CONFIG=params.yaml OUT=yaml
same "30 draws as the YAML says" "$(draws yaml/selected.jsonl)" 30
ok "the command line wins over the YAML" $M -f $P/tsds.mk QUERY=target.jsonl POOL=pool.jsonl CONFIG=params.yaml OUT=yaml N=31
same "so N=31 made its own sample" "$(draws yaml/selected.jsonl)" 31
printf 'sample_size: 25\nmax_K: 20\nkde_K: 20\n' >older.yaml
touch -d '2 days ago' older.yaml
ok "another CONFIG older than the cache" $M -f $P/tsds.mk QUERY=target.jsonl POOL=pool.jsonl CONFIG=older.yaml OUT=yaml
same "is read afresh" "$(draws yaml/selected.jsonl)" 25
printf 'text: "text`touch PWNED9`"\nmax_K: 20\nkde_K: 20\n' >evil.yaml
$M -f $P/tsds.mk QUERY=target.jsonl POOL=pool.jsonl CONFIG=evil.yaml OUT=evil >/dev/null 2>&1
printf 'output_folder: "o;touch PWNED8"\nmax_K: 20\n' >out.yaml
fails 2 "out.yaml: line 1: output_folder: 'o;touch PWNED8' is not a file name" "a YAML file name with shell syntax is refused" \
	$M -f $P/tsds.mk QUERY=target.jsonl POOL=pool.jsonl CONFIG=out.yaml OUT=out
truthy "YAML values with a backtick or a semicolon run nothing" '! ls PWNED* 2>/dev/null'
printf 'max_K: 20\nw: /tmp/evil/\n' >w.yaml
fails 2 "w.yaml: line 2: unknown key 'w'" "a YAML key the recipes do not document (W) is refused, naming file and line" \
	$M -f $P/tsds.mk QUERY=target.jsonl POOL=pool.jsonl CONFIG=w.yaml OUT=w
printf 'alpha: 1.5\n' >alpha.yaml
fails 2 "alpha.yaml: line 1: alpha: '1.5' is not strictly between 0 and 1" "a value of the wrong kind is refused" \
	$M -f $P/tsds.mk QUERY=target.jsonl POOL=pool.jsonl CONFIG=alpha.yaml OUT=alpha

# --- one set of TSDS defaults: tsds.mk, pipelines/tsds, tsds-config and the README --------------------
printf 'query_embedding_path: q.npy\ncandidate_embedding_path: c.npy\noutput_folder: o\n' >paths.yaml
cfg=$(tsds-config paths.yaml | awk -F '\t' 'NR > 3 { printf "%s=%s ", $1, $2 }')
same "tsds-config's defaults are the reference's" "$cfg" "sample_size=1000 alpha=0.5 C=5 sigma=0.75 max_K=5000 kde_K=1000 seed=0 "
mk=$(grep -E '^(N|ALPHA|C|SIGMA|K|KDE_K|SEED) \?= ' $P/tsds.mk |
	sed 's/ ?= /=/' | sort | tr '\n' ' ')
same "tsds.mk's are the same" "$mk" "ALPHA=0.5 C=5 K=5000 KDE_K=1000 N=1000 SEED=0 SIGMA=0.75 "
same "pipelines/tsds's are the same" "$("$P/tsds" --help | grep -Eo '^  (-n|--alpha|-C|--sigma|-K|--kde-K|--seed) .*default [0-9.]*' |
	sed -E 's/^  ([^ ]*) .*default ([0-9.]*)$/\1=\2/' | tr '\n' ' ')" "-n=1000 --alpha=0.5 -C=5 --sigma=0.75 -K=5000 --kde-K=1000 --seed=0 "
truthy "the README's one-liner uses them, and shows the count" \
	"grep -q 'knn-build -q q.wnw -k 5000 | kde-dedup --sigma 0.75 -k 1000' '$TOP/README.md' &&
	 grep -q 'ot-weight --alpha 0.5 -C 5 | sample -n 1000 | unpack --add count' '$TOP/README.md'"

# --- ZIP-FIT and the comparison ----------------------------------------------------------------------
ok "zipfit.mk selects the top K" $M -f $P/zipfit.mk TARGET=target.jsonl POOL=pool.jsonl TOP=25
same "of 25 records" "$(wc -l <zipfit/selected.jsonl)" 25
truthy "all from the target's domain (python)" '[ "$(grep -c "\"domain\": \"python\"" zipfit/selected.jsonl)" -ge 23 ]'
same "another TARGET older than the cache re-runs what reads it" \
	"$(touch -d '2 days ago' body.jsonl; would_run -f $P/zipfit.mk TARGET=body.jsonl POOL=pool.jsonl TOP=25)" "pack gzfit sample unpack "

ok "compare.mk runs both and reports the overlap" $M -f $P/compare.mk TARGET=target.jsonl POOL=pool.jsonl N=25 K=20 KDE_K=20 LABEL=domain
truthy "with the Jaccard index and per-domain counts" "grep -q 'Jaccard' .out && grep -q '^zipfit by domain: python 25' .out"
printf 'max_K: 20\nkde_K: 20\nsample_size: 25\n' >cmp.yaml
ok "compare.mk takes CONFIG" $M -f $P/compare.mk TARGET=target.jsonl POOL=pool.jsonl CONFIG=cmp.yaml OUT=cmpc
same "whose N sets both methods" "$(grep -c . cmpc/zipfit/selected.jsonl) $(draws cmpc/tsds/selected.jsonl) $(grep -c . cmpc/dsir/selected.jsonl)" \
	"25 25 25"
sed 's/^{"id": [0-9]*, /{/' pool.jsonl >noid.jsonl
ok "compare.mk on JSONL without id members" $M -f $P/compare.mk TARGET=target.jsonl POOL=noid.jsonl N=25 K=20 KDE_K=20 OUT=noid
same "gives the same overlap" "$(grep '^in both' .out)" \
	"$($M -f $P/compare.mk TARGET=target.jsonl POOL=pool.jsonl N=25 K=20 KDE_K=20 | grep '^in both')"

if command -v gnuplot >/dev/null; then
	ok "the plots target draws PNG files" $M -f $P/zipfit.mk TARGET=target.jsonl POOL=pool.jsonl TOP=25 LABEL=domain OUT=zp plots
	truthy "a score plot and a composition plot" \
		'[ "$(head -c 4 zp/zipfit-score.png | od -A n -c | tr -d " ")" = "211PNG" ] && [ -s zp/zipfit-composition.png ]'
	# scores with three far outliers below: the axis leaves them out, so the rest do not collapse
	{ for i in $(seq 1 200); do echo "{\"text\": \"t$i\", \"s\": 0.$((i % 97 + 100))}"; done
	  printf '{"text": "o%d", "s": -%d}\n' 1 28 2 15 3 12; } >scores.jsonl
	pack --field s:f64 scores.jsonl 2>/dev/null | sample --top 5 --by s >top.wnw
	ok "a score plot with outliers" "$P/plot-selection" <(pack --field s:f64 scores.jsonl 2>/dev/null) s top.wnw outl
	same "clips its axis to the robust range and says so" "$(sed 's|^.*/||' .out)" "outl-s.png (the s axis clipped: 3 records beyond it)"
else
	_fail "gnuplot is installed (make deps)"
fi

# --- the pool's cleaning: dedup and decontam before any method ---------------------------------------
# the pool with four copies: line 5 exactly, line 6 in capitals with tabs (equal once normalised), lines
# 7 and 8 with one word added or changed (near copies)
python3 -c 'import json, sys
lines = open("pool.jsonl").read().splitlines()
def copy(i, f):
	o = json.loads(lines[i]); o["text"] = f(o["text"]); return json.dumps(o)
print("\n".join(lines + [copy(5, str), copy(6, lambda t: "  " + t.upper().replace(" ", "\t")),
	copy(7, lambda t: "extra " + t), copy(8, lambda t: t.rsplit(" ", 1)[0] + " changed")]))' >dups.jsonl
ZF="-f $P/zipfit.mk TARGET=target.jsonl POOL=dups.jsonl TOP=25"
nrec() { inspect "$1" | awk '/^records:/ { print $2 }'; }
ok "zipfit.mk with DEDUP=none" $M $ZF DEDUP=none OUT=dd
same "keeps all 304 records" "$(nrec dd/pool.wnw)" 304
ok "with the default DEDUP=exact" $M $ZF OUT=dd
same "drops the two exact copies" "$(nrec dd/pool.wnw)" 302
truthy "and says so" "grep -q 'dedup: 304 records, 2 dropped' .out"
ok "with DEDUP=minhash" $M $ZF DEDUP=minhash OUT=dd
same "drops the near copies too" "$(nrec dd/pool.wnw) $(unpack --ids dd/pool.wnw | awk '$1 >= 300' | wc -l)" "300 0"
same "a new DEDUP re-runs dedup and what follows it, not pack" "$(would_run $ZF OUT=dd DEDUP=exact JOBS=1)" ""
same "(going back to exact re-runs nothing, JOBS is not a parameter of the result)" "$(would_run $ZF OUT=dd)" ""
same "but a new DEDUP does" "$(rm -f dd/dedup.*; would_run $ZF OUT=dd DEDUP=minhash)" "dedup gzfit sample unpack "
fails 2 "DEDUP='fuzzy': none, exact or minhash" "an unknown DEDUP is refused" $M $ZF DEDUP=fuzzy OUT=dd
same "the selection holds no removed record" "$(unpack --ids dd/selected.wnw | awk '$1 >= 300' | wc -l)" 0

# a benchmark whose second item quotes 20 words of pool line 43 (id 42), inside words of its own
python3 -c 'import json
words = json.loads(open("pool.jsonl").read().splitlines()[42])["text"].split()[10:30]
print(json.dumps({"question": "What is a binary heap?"}))
print(json.dumps({"question": "Complete this: " + " ".join(words) + " and so on"}))' >bench.jsonl
ok "zipfit.mk with DECONTAM" $M $ZF OUT=dc DECONTAM=bench.jsonl DECONTAM_TEXT=question
same "drops the planted record only" "$(nrec dc/pool.wnw) $(unpack --ids dc/pool.wnw | grep -cx 42)" "301 0"
truthy "and says so" "grep -q 'decontam: .*: 1 of 302 records dropped' .out"
same "DECONTAM_NGRAM=25, longer than the span, re-runs decontam and what follows it" \
	"$(would_run $ZF OUT=dc DECONTAM=bench.jsonl DECONTAM_TEXT=question DECONTAM_NGRAM=25)" "decontam gzfit sample unpack "
printf '{"question": "nothing shared here"}\n' >bench2.jsonl
touch -d '2 days ago' bench2.jsonl
same "another DECONTAM file older than the cache re-runs what reads it" \
	"$(would_run $ZF OUT=dc DECONTAM=bench2.jsonl DECONTAM_TEXT=question)" "pack decontam gzfit sample unpack "
cp bench.jsonl bench3.jsonl
$M $ZF OUT=dc DECONTAM=bench3.jsonl DECONTAM_TEXT=question >/dev/null 2>&1
cat bench2.jsonl >bench3.jsonl
touch -r bench.jsonl bench3.jsonl
same "as does the same file rewritten in place with an old time" \
	"$(would_run $ZF OUT=dc DECONTAM=bench3.jsonl DECONTAM_TEXT=question)" "pack decontam gzfit sample unpack "
ok "and runs" $M $ZF OUT=dc DECONTAM=bench3.jsonl DECONTAM_TEXT=question
same "keeping the record the new reference does not quote" "$(nrec dc/pool.wnw)" 302
same "the same stages come before TSDS" "$(would_run $TS POOL=dups.jsonl OUT=dt DECONTAM=bench.jsonl DECONTAM_TEXT=question)" \
	"pack dedup pack decontam embed-hash pack embed-hash knn-build kde-dedup ot-weight sample unpack "
same "a new DECONTAM_TEXT re-packs the reference, and runs decontam and what follows it" \
	"$(would_run $ZF OUT=dc DECONTAM=bench.jsonl DECONTAM_TEXT='{question}!')" "pack decontam gzfit sample unpack "
fails 2 "" "a missing DECONTAM file is an error" $M $ZF OUT=dc DECONTAM=missing.jsonl
printf 'dedup: minhash\ndecontam: bench.jsonl\ndecontam_text: question\ntop: 25\n' >clean.yaml
ok "DEDUP and DECONTAM from YAML" $M -f $P/zipfit.mk TARGET=target.jsonl POOL=dups.jsonl CONFIG=clean.yaml OUT=dy
same "clean as on the command line" "$(nrec dy/pool.wnw)" 299

# --- dsir.mk, the comparison of three methods, budgets ------------------------------------------------
DS="-f $P/dsir.mk TARGET=target.jsonl POOL=dups.jsonl N=25"
ok "dsir.mk selects N records" $M $DS
same "25 distinct, each with its log weight dsir_logw" \
	"$(unpack --ids dsir/selected.wnw | sort -u | wc -l) $(grep -c '"dsir_logw":-\?[0-9][^,]*}$' dsir/selected.jsonl)" "25 25"
truthy "most of them Python, as the target" '[ "$(grep -c "\"domain\": \"python\"" dsir/selected.jsonl)" -ge 15 ]'
same "a new SEED re-runs the draw only" "$(would_run $DS SEED=3)" "sample unpack "
same "new BUCKETS or NGRAM re-run the weights" "$(would_run $DS BUCKETS=500 NGRAM=1)" "dsir sample unpack "
ok "dsir.mk runs dsir -t | sample --without-replacement --log" $M $DS SEED=3 OUT=dsir3
pack dups.jsonl | dedup --exact | dsir -t <(pack target.jsonl) | sample -n 25 --without-replacement --log --by logw --seed 3 |
	unpack --add logw=dsir_logw >dchain.jsonl 2>/dev/null
same "as dsir(1) shows it" "$(md5sum <dchain.jsonl)" "$(md5sum <dsir3/selected.jsonl)"

ok "compare.mk runs three methods" $M -f $P/compare.mk TARGET=target.jsonl POOL=dups.jsonl N=25 K=20 KDE_K=20 OUT=c3 LABEL=domain
same "and reports the three pairs' overlaps" "$(grep -o '^[a-z]* and [a-z]*: in both' .out | tr '\n' ';')" \
	"tsds and zipfit: in both;tsds and dsir: in both;zipfit and dsir: in both;"
truthy "and what each picked" "grep -q '^dsir by domain: python' .out"

# text bytes of the records of a selected JSONL, each as often as drawn
bytes() { python3 -c 'import json, sys
print(sum(len(o["text"].encode()) * o.get("tsds_count", 1) for o in map(json.loads, open(sys.argv[1]))))' "$1"; }
ok "BUDGET=8k with zipfit.mk" $M $ZF BUDGET=8k OUT=bz
truthy "keeps the best records within 8192 bytes of text" '[ "$(bytes bz/selected.jsonl)" -le 8192 ] && [ "$(bytes bz/selected.jsonl)" -gt 6000 ]'
same "the top ones: a prefix of the ranking by score" "$(unpack --ids bz/selected.wnw | sort -n)" \
	"$(sample --top "$(wc -l <bz/selected.jsonl)" --by score bz/score.*.wnw | unpack --ids | sort -n)"
ok "BUDGET=8k with dsir.mk" $M $DS BUDGET=8k OUT=bd
truthy "within the budget" '[ "$(bytes bd/selected.jsonl)" -le 8192 ] && [ "$(bytes bd/selected.jsonl)" -gt 6000 ]'
ok "BUDGET=8k with tsds.mk" $M $TS POOL=dups.jsonl BUDGET=8k OUT=bt
truthy "counts each draw of a record" '[ "$(bytes bt/selected.jsonl)" -le 8192 ] && [ "$(bytes bt/selected.jsonl)" -gt 6000 ]'
same "a new BUDGET re-runs only the selection" "$(would_run $TS POOL=dups.jsonl BUDGET=9k OUT=bt)" "sample unpack "
awk '{ sub(/^\{/, "{\"tokens\": " (NR % 7 + 1) * 10 ", "); print }' dups.jsonl >tok.jsonl
ok "BUDGET=300 SIZE_FIELD=tokens" $M -f $P/zipfit.mk TARGET=target.jsonl POOL=tok.jsonl TOP=25 BUDGET=300 SIZE_FIELD=tokens OUT=bk
truthy "counts the tokens member instead of bytes" \
	'[ "$(grep -o "\"tokens\": [0-9]*" bk/selected.jsonl | awk "{ s += \$2 } END { print s }")" -le 300 ] && [ "$(wc -l <bk/selected.jsonl)" -ge 5 ]'

# --- members of the pool's own are kept ---------------------------------------------------------------
awk '{ sub(/^\{/, "{\"score\": \"mine\", \"count\": -1, \"prob\": \"p\", \"logw\": 7, "); print }' dups.jsonl >own.jsonl
ok "zipfit.mk on a pool with its own score member" $M -f $P/zipfit.mk TARGET=target.jsonl POOL=own.jsonl TOP=25 OUT=own
same "keeps it, beside zipfit_score" "$(grep -c '^{"score": "mine", .*"zipfit_score":[-0-9.e]*}$' own/selected.jsonl)" 25
ok "tsds.mk on a pool with its own count and prob" $M $TS POOL=own.jsonl OUT=own
same "keeps them, beside tsds_count and tsds_prob" \
	"$(grep -c '"count": -1, "prob": "p", .*"tsds_count":[0-9]*,"tsds_prob":[-0-9.e]*}$' own/selected.jsonl)" "$(wc -l <own/selected.jsonl)"
ok "dsir.mk on a pool with its own logw" $M $DS POOL=own.jsonl OUT=own
same "keeps it, beside dsir_logw" "$(grep -c '"logw": 7, .*"dsir_logw":[-0-9.e]*}$' own/selected.jsonl)" 25
fails 2 "POOL_NPY: embeddings alone have no texts" "POOL_NPY with DECONTAM is refused" \
	$M -f $P/tsds.mk POOL_NPY=q.npy QUERY_NPY=q.npy DECONTAM=bench.jsonl OUT=npy

# --- sharded: every parameter, FAST, and the chains from its outputs to a selection ---------------------
SH="-f $P/sharded.mk QUERY=target.jsonl POOL=pool.jsonl SHARDS=3 K=20"
ok "sharded.mk runs the stages in 3 parts with GNU parallel" $M $SH
pack pool.jsonl >single.wnw
embed-hash single.wnw >single.vec.wnw
same "embedding in parts gives the single run's records" "$(records sharded/pool.vec.wnw)" "$(records single.vec.wnw)"
pack target.jsonl | embed-hash >query.vec.wnw
knn-build -q query.vec.wnw -k 20 single.vec.wnw >single.knn.wnw
same "so does the neighbour search" "$(records sharded/knn.wnw)" "$(records single.knn.wnw)"
gzfit -t target.jsonl single.wnw >single.score.wnw
same "and ZIP-FIT scoring" "$(records sharded/score.wnw)" "$(records single.score.wnw)"
ok "FAST=1 and DIM=64" $M $SH FAST=1 DIM=64
gzfit -t target.jsonl --fast single.wnw >fast.score.wnw
same "FAST=1 scores as a single gzfit --fast (the background from the whole pool)" \
	"$(records sharded/score.wnw)" "$(records fast.score.wnw)"
embed-hash --dim 64 single.wnw >d64.vec.wnw
same "DIM=64 embeds as embed-hash --dim 64" "$(records sharded/pool.vec.wnw)" "$(records d64.vec.wnw)"
ok "sharded.mk on the pool with copies, DEDUP=minhash" $M $SH POOL=dups.jsonl DEDUP=minhash OUT=shd
pack dups.jsonl | dedup --minhash | embed-hash >dd.vec.wnw
same "dedups the whole pool before splitting it, as a single run" "$(records shd/pool.vec.wnw)" "$(records dd.vec.wnw)"
$M $SH >/dev/null 2>&1
kde-dedup --sigma 0.75 -k 20 sharded/knn.wnw 2>/dev/null | ot-weight --alpha 0.5 -C 5 | sample -n 40 | unpack --add count=tsds_count,prob=tsds_prob >chain.jsonl
same "the README's TSDS chain from sharded/knn.wnw gives tsds.mk's selection" "$(md5sum <chain.jsonl)" "$(md5sum <tsds/selected.jsonl)"
sample --top 25 --by score sharded/score.wnw | unpack --add score=zipfit_score >zchain.jsonl
same "and its ZIP-FIT chain from sharded/score.wnw zipfit.mk's" "$(md5sum <zchain.jsonl)" "$(md5sum <zipfit/selected.jsonl)"

fails 2 "" "a missing pool is an error" $M -f $P/zipfit.mk TARGET=target.jsonl POOL=missing.jsonl OUT=missing
truthy "that leaves no stage file behind" '! ls missing/*.wnw 2>/dev/null'
