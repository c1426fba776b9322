# The recipes in pipelines/: caching by parameters, YAML parameters, both methods and their overlap,
# plots, and the sharded run equal to a single run.
. "$(dirname "$0")/../lib.sh"

P=$TOP/pipelines
zstd -dc "$TOP/demo/pool.jsonl.zst" | head -300 >pool.jsonl
zstd -dc "$TOP/demo/target.jsonl.zst" | head -10 >target.jsonl
M="make --no-print-directory -s W=$B/bin/"
# the records of a stream, whatever its header: count and CRC of the trailer
records() { tail -c 12 "$1" | od -A n -t x1 | tr -d ' \n'; }

ok "tsds.mk selects from JSONL" $M -f $P/tsds.mk QUERY=target.jsonl POOL=pool.jsonl N=40 K=20 KDE_K=20
truthy "selected.jsonl holds the drawn records with count and prob" \
	'[ "$(grep -c "\"count\"" tsds/selected.jsonl)" -ge 20 ] && grep -q "\"prob\"" tsds/selected.jsonl'
same "the draws add up to N" "$(grep -o '"count": *[0-9]*' tsds/selected.jsonl | awk -F: '{ s += $2 } END { print s }')" 40
rerun=$($M -n -f $P/tsds.mk QUERY=target.jsonl POOL=pool.jsonl N=40 K=20 KDE_K=20 ALPHA=0.8 | awk '{ print $1 }' | grep -Ev '^(ln|echo)$' | xargs -n1 basename | tr '\n' ' ')
same "a new ALPHA re-runs only ot-weight, sample and unpack" "$rerun" "ot-weight sample unpack "
$M -f $P/tsds.mk QUERY=target.jsonl POOL=pool.jsonl N=40 K=20 KDE_K=20 ALPHA=0.8 >/dev/null 2>&1
same "and going back to the first ALPHA re-runs nothing" \
	"$($M -n -f $P/tsds.mk QUERY=target.jsonl POOL=pool.jsonl N=40 K=20 KDE_K=20 | grep -Ev '^(ln|echo) ' | grep -c .)" 0
printf 'sample_size: 30\nalpha: 0.6\nC: 1.0\nsigma: 0.5\nmax_K: 20\nkde_K: 20\n' >params.yaml
ok "tsds.mk takes its parameters from YAML" $M -f $P/tsds.mk QUERY=target.jsonl POOL=pool.jsonl CONFIG=params.yaml OUT=yaml
truthy "named as the YAML says" '[ -f yaml/sample.e256c0.k20.s0.5.kk20.a0.6.c1.0.n30.seed1.wnw ]'
ok "the command line wins over the YAML" $M -f $P/tsds.mk QUERY=target.jsonl POOL=pool.jsonl CONFIG=params.yaml OUT=yaml N=31
truthy "so N=31 made its own sample" '[ -f yaml/sample.e256c0.k20.s0.5.kk20.a0.6.c1.0.n31.seed1.wnw ]'

ok "zipfit.mk selects the top K" $M -f $P/zipfit.mk TARGET=target.jsonl POOL=pool.jsonl TOP=25
same "of 25 records" "$(wc -l <zipfit/selected.jsonl)" 25
truthy "all from the target's domain (python)" '[ "$(grep -c "\"domain\": \"python\"" zipfit/selected.jsonl)" -ge 23 ]'

ok "compare.mk runs both and reports the overlap" $M -f $P/compare.mk TARGET=target.jsonl POOL=pool.jsonl N=25 K=20 KDE_K=20 LABEL=domain
truthy "with the Jaccard index and per-domain counts" "grep -q 'Jaccard' .out && grep -q '^zipfit by domain: python' .out"

if command -v gnuplot >/dev/null; then
	ok "the plots target draws PNG files" $M -f $P/zipfit.mk TARGET=target.jsonl POOL=pool.jsonl TOP=25 LABEL=domain OUT=zp plots
	truthy "a score plot and a composition plot" \
		'[ "$(head -c 4 zp/zipfit-score.png | od -A n -c | tr -d " ")" = "211PNG" ] && [ -s zp/zipfit-composition.png ]'
else
	_fail "gnuplot is installed (make deps)"
fi

ok "sharded.mk runs the stages in 3 parts with GNU parallel" $M -f $P/sharded.mk QUERY=target.jsonl POOL=pool.jsonl SHARDS=3 K=20
embed-hash sharded/pool.wnw >single.vec.wnw
same "embedding in parts gives the single run's records" "$(records sharded/pool.vec.wnw)" "$(records single.vec.wnw)"
knn-build -q sharded/query.vec.wnw -k 20 single.vec.wnw >single.knn.wnw
same "so does the neighbour search" "$(records sharded/knn.wnw)" "$(records single.knn.wnw)"
gzfit -t sharded/target.wnw sharded/pool.wnw >single.score.wnw
same "and ZIP-FIT scoring" "$(records sharded/score.wnw)" "$(records single.score.wnw)"
fails 2 "" "a missing pool is an error" $M -f $P/zipfit.mk TARGET=target.jsonl POOL=missing.jsonl OUT=missing
truthy "that leaves no stage file behind" '! ls missing/*.wnw 2>/dev/null'
