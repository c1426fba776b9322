#!/usr/bin/env bash
# sample: draws with replacement, weighted without replacement, top N, uniform; determinism across runs
# and machines (checked-in outputs), the distributions, and every error.
source "$(dirname "$0")/../lib.sh"
D=$DATA/sample

# A pool of 10 records with weights 1..10 (not normalised: sample divides by the total).
{ printf 'id\ttext\tprob\tscore\n'; for i in $(seq 0 9); do printf '%d\tt%d\t%d\t%s\n' "$i" "$i" $((i + 1)) \
	"$(echo "0.5 0.9 0.9 0.1 0.9 -1 0.2 0.3 0.4 0.9" | cut -d' ' -f$((i + 1)))"; done; } >pool.tsv
pack --tsv --field prob:f64 --field score:f64 pool.tsv >pool.wnw 2>/dev/null

# --- with replacement --------------------------------------------------------------------------------
sample -n 100000 --seed 3 pool.wnw | unpack --tsv id,count >big.tsv
same "-n: the counts add up to N" "$(awk 'NR > 1 { s += $2 } END { print s }' big.tsv)" 100000
# Pearson's chi-square against N w / sum(w) with 9 degrees of freedom; its 99.9% point is 27.9.
chi=$(awk 'NR > 1 { e = 100000 * ($1 + 1) / 55; c += ($2 - e) ^ 2 / e } END { printf "%.2f", c }' big.tsv)
truthy "-n: counts follow the weights (chi-square $chi, 9 df, 99.9% point 27.9)" "awk 'BEGIN { exit !($chi < 27.9) }'"
sample -n 50 --seed 7 pool.wnw | unpack --tsv id,count >draw.tsv
same_file "-n 50 --seed 7: the same draws on every machine (checked-in output)" draw.tsv "$D/draw-n50-seed7.tsv"
sample -n 50 --seed 7 -o a.wnw pool.wnw
sample -n 50 --seed 7 -o b.wnw pool.wnw
same_file "the same seed gives the same bytes" a.wnw b.wnw
sample -n 50 --seed 8 pool.wnw | unpack --tsv id,count >draw8.tsv
truthy "another seed gives other draws" "! cmp -s draw8.tsv draw.tsv"
cat pool.wnw | sample -n 50 --seed 7 | unpack --tsv id,count >pipe.tsv
same_file "a pipe gives the same draws as a file" pipe.tsv draw.tsv
sample -n 50 --seed 7 --expand pool.wnw | unpack --ids >exp.ids
same "--expand writes N records" "$(wc -l <exp.ids)" 50
same "--expand repeats each record count times" \
	"$(sort -n exp.ids | uniq -c | awk '{ print $2 "\t" $1 }' | tr '\n' ' ')" \
	"$(awk 'NR > 1' draw.tsv | tr '\n' ' ')"
same "--expand drops the count field" "$(sample -n 5 --expand pool.wnw | inspect | grep -c 'name: count')" 0
same "a count field already there is replaced" \
	"$(sample -n 50 pool.wnw | sample -n 5 --by count | inspect | grep -c 'name: count')" 1

# --- without replacement -----------------------------------------------------------------------------
sample -n 4 --without-replacement --seed 7 pool.wnw | unpack --tsv id,count >wor.tsv
same_file "--without-replacement --seed 7: checked-in output" wor.tsv "$D/wor-n4-seed7.tsv"
# 2,000 records, the odd ones nine times heavier: 100 draws take about 90% odd ones (sd about 3).
{ printf 'id\ttext\tprob\n'; for i in $(seq 0 1999); do printf '%d\tt\t%d\n' "$i" $((i % 2 ? 9 : 1)); done; } >heavy.tsv
pack --tsv --field prob:f64 heavy.tsv >heavy.wnw 2>/dev/null
sample -n 100 --without-replacement --seed 1 heavy.wnw | unpack --tsv id,count >h.tsv
same "--without-replacement: N distinct records, each once" \
	"$(awk 'NR > 1 { n++; c += $2 } END { print n, c }' h.tsv) $(awk 'NR > 1' h.tsv | sort -u | wc -l)" "100 100 100"
odd=$(awk 'NR > 1 && $1 % 2' h.tsv | wc -l)
truthy "--without-replacement: heavy records in proportion ($odd of 100, expected about 90)" "[ $odd -ge 80 ] && [ $odd -le 97 ]"
{ printf 'id\ttext\tprob\n0\ta\t0\n1\tb\t2\n2\tc\t0\n3\td\t1\n'; } >zero.tsv
pack --tsv --field prob:f64 zero.tsv >zero.wnw 2>/dev/null
fails 0 "asked for 3 records, with a positive weight there are only 2: all taken" \
	"--without-replacement: N above the positive weights warns and takes them all" \
	sample -n 3 --without-replacement -o z.wnw zero.wnw
same "--without-replacement: zero weights are never chosen" "$(unpack --ids z.wnw | tr '\n' ' ')" "1 3 "

# --- log weights ---------------------------------------------------------------------------------------
# Four records of log weight 500 + log(w), w = 1..4: exp(logw) overflows no double, but summing such
# weights naively would at 710 nats; --log never exponentiates them.
{ printf 'id\ttext\tlogw\n'; for w in 1 2 3 4; do awk -v w=$w 'BEGIN { printf "%d\tt\t%.17g\n", w - 1, 500 + log(w) }'; done; } >log4.tsv
pack --tsv --field logw:f64 log4.tsv >log4.wnw 2>/dev/null
# Without replacement, k = 2: the exact inclusion probability of i is p_i + sum over j != i of
# p_j p_i / (1 - p_j), p = w / 10. 1,000 runs (seeds 1..1000): each frequency within 0.05 (3 sd).
for s in $(seq 1 1000); do sample -n 2 --without-replacement --log --by logw --seed $s log4.wnw | unpack --ids; done >g.ids
dev=$(sort -n g.ids | uniq -c | awk '{ f[$2] = $1 / 1000 } END { for (i = 0; i < 4; i++) { p = (i + 1) / 10; q = p
	for (j = 0; j < 4; j++) if (j != i) q += (j + 1) / 10 * p / (1 - (j + 1) / 10)
	d = f[i] - q; if (d < 0) d = -d; if (d > m) m = d } printf "%.3f", m }')
truthy "--log --without-replacement: Gumbel top-2 frequencies match the exact inclusion probabilities (max deviation $dev)" \
	"awk 'BEGIN { exit !($dev < 0.05) }'"
{ printf 'id\ttext\tlogw\n'; for i in $(seq 0 9); do awk -v i=$i 'BEGIN { printf "%d\tt\t%.17g\n", i, 800 + log(i + 1) }'; done; } >log10.tsv
pack --tsv --field logw:f64 log10.tsv >log10.wnw 2>/dev/null
sample -n 100000 --log --by logw --seed 3 log10.wnw | unpack --tsv id,count >logbig.tsv
chi=$(awk 'NR > 1 { e = 100000 * ($1 + 1) / 55; c += ($2 - e) ^ 2 / e } END { printf "%.2f", c }' logbig.tsv)
truthy "--log with replacement: counts follow exp(logw) at 800 nats (chi-square $chi, 9 df, 99.9% point 27.9)" \
	"awk 'BEGIN { exit !($chi < 27.9) }'"
printf 'id\ttext\tlogw\n0\ta\t-inf\n1\tb\t-1000\n2\tc\t-inf\n' >linf.tsv
pack --tsv --field logw:f64 linf.tsv >linf.wnw 2>/dev/null
same "--log: -inf is weight 0, never chosen; a weight of e^-1000 is" \
	"$(sample -n 5 --log --by logw linf.wnw | unpack --ids) $(sample -n 3 --without-replacement --log --by logw linf.wnw 2>/dev/null | unpack --ids)" "1 1"
printf 'id\ttext\tlogw\n0\ta\t1\n4\tb\tinf\n' >lpinf.tsv
pack --tsv --id id --field logw:f64 lpinf.tsv >lpinf.wnw 2>/dev/null
fails 1 "record 2 \(id 4\): logw inf is infinite" "--log: +inf names the record" sample -n 1 --log --by logw lpinf.wnw
fails 1 "nothing to draw" "--log: all -inf is nothing to draw" sample -n 1 --log --by logw -o /dev/null \
	<(printf 'id\ttext\tlogw\n0\ta\t-inf\n' | pack --tsv --field logw:f64 2>/dev/null)
{ printf 'id\ttext\tlw\n'; for i in $(seq 0 9); do awk -v i=$i 'BEGIN { printf "%d\tt%d\t%.17g\n", i, i, log(i + 1) }'; done; } >lw.tsv
pack --tsv --field lw:f64 lw.tsv >lw.wnw 2>/dev/null
same "--log on log(prob) keys records by log(E/w): the same choice as on prob (checked-in output)" \
	"$(sample -n 4 --without-replacement --log --by lw --seed 7 lw.wnw | unpack --tsv id,count)" "$(cat "$D/wor-n4-seed7.tsv")"
same "--top --log ranks as --top" "$(sample --top 2 --log --by logw log4.wnw | unpack --ids | tr '\n' ' ')" "2 3 "

# --- budgets -------------------------------------------------------------------------------------------
# Texts of 1, 2, ..., 6 bytes; scores make the order by score 5, 4, 3, 2, 1, 0 (ids), sizes 6, 5, 4, 3, 2, 1.
{ printf 'id\ttext\tscore\ttokens\n'; for i in 0 1 2 3 4 5; do printf '%d\t%s\t%d\t%d\n' $i "$(head -c $((i + 1)) /dev/zero | tr '\0' x)" $i $((10 * i)); done; } >bud.tsv
pack --tsv --field score:f64 --field tokens:u64 bud.tsv >bud.wnw 2>/dev/null
same "--top --budget 11: 6 + 5 bytes fill it exactly" "$(sample --top 6 --budget 11 bud.wnw | unpack --ids | tr '\n' ' ')" "4 5 "
same "--top --budget 14: stops at the record that would pass it (4 bytes), though a later one fits" \
	"$(sample --top 6 --budget 14 bud.wnw | unpack --ids | tr '\n' ' ')" "4 5 "
same "--top --budget 15" "$(sample --top 6 --budget 15 bud.wnw | unpack --ids | tr '\n' ' ')" "3 4 5 "
same "--top N still caps the count" "$(sample --top 1 --budget 1k bud.wnw 2>/dev/null | unpack --ids)" 5
fails 0 "N = 1 was reached before the budget of 1024" "and says the budget is unspent" sample --top 1 --budget 1k -o /dev/null bud.wnw
fails 0 "budget of 1024 was not reached: all 6 records taken" "a stream inside the budget is taken whole, and that is said" \
	sample --top 9 --budget 1k -o /dev/null bud.wnw
fails 0 "first choice is larger than the budget of 5: nothing taken" "a first record above the budget: nothing, said" \
	sample --top 9 --budget 5 -o b0.wnw bud.wnw
same "an empty selection is an empty stream" "$(unpack --ids b0.wnw | wc -l)" 0
same "--size tokens: a numeric field's value" "$(sample --top 9 --budget 95 --size tokens bud.wnw | unpack --ids | tr '\n' ' ')" "4 5 "
# 2,000 records of 1 byte: a budget of 50 bytes must choose what N = 50 chooses (the same keys), though
# the heap is trimmed as the stream goes.
same "--random --budget 50 on 1-byte records = --random 50" \
	"$(sample --random 2000 --budget 50 --seed 2 heavy.wnw | unpack --ids | md5sum)" \
	"$(sample --random 50 --seed 2 heavy.wnw | unpack --ids | md5sum)"
same "--without-replacement --budget 50 on 1-byte records = -n 50 --without-replacement" \
	"$(sample -n 2000 --without-replacement --budget 50 --seed 2 heavy.wnw | unpack --ids | md5sum)" \
	"$(sample -n 50 --without-replacement --seed 2 heavy.wnw | unpack --ids | md5sum)"
sample -n 1000 --budget 500 --seed 1 heavy.wnw 2>/dev/null | unpack --tsv id,count >bd.tsv
same "-n --budget: each draw of a repeated record counts (1-byte texts: 500 draws)" \
	"$(awk 'NR > 1 { s += $2 } END { print s }' bd.tsv)" 500
same "--without-replacement --budget: distinct records up to the budget" \
	"$(sample -n 1000 --without-replacement --budget 300 --seed 1 heavy.wnw | unpack --ids | sort -u | wc -l)" 300
printf 'id\ttext\tscore\tsz\n0\ta\t1\t2\n7\tb\t2\t-1\n' >negsz.tsv
pack --tsv --id id --field score:f64 --field sz:f64 negsz.tsv >negsz.wnw 2>/dev/null
fails 1 "record 2 \(id 7\): sz -1 is negative" "--size: a negative size names the record" \
	sample --top 3 --budget 9 --size sz negsz.wnw
fails 2 "--size goes with --budget" "--size without --budget" sample --top 3 --size tokens bud.wnw
fails 2 "--budget: '0'" "--budget 0" sample --top 3 --budget 0 bud.wnw
fails 2 "--budget: 'x'" "a bad budget" sample --top 3 --budget x bud.wnw
fails 1 "field 'json' is bytes|no field" "--size of a missing field" sample --top 3 --budget 9 --size nope bud.wnw

# --- top N and uniform -------------------------------------------------------------------------------
same "--top 3 --by score: ties go to the smaller id, output in stream order" \
	"$(sample --top 3 pool.wnw | unpack --tsv id,count | tr '\t\n' ' ;')" \
	"id count;1 1;2 1;4 1;"
same "--top takes negative scores" "$(sample --top 10 pool.wnw | unpack --ids | wc -l)" 10
fails 0 "asked for 20 records, there are only 10: all taken" "--top N above the stream warns" \
	sample --top 20 -o t.wnw pool.wnw
sample --random 4 --seed 7 pool.wnw | unpack --tsv id,count >rnd.tsv
same_file "--random 4 --seed 7: checked-in output" rnd.tsv "$D/random-n4-seed7.tsv"
fails 0 "there are only 10: all taken" "--random N above the stream warns and takes all" \
	sample --random 11 -o r.wnw pool.wnw
same "--random: all records once" "$(unpack --ids r.wnw | tr '\n' ' ')" "0 1 2 3 4 5 6 7 8 9 "
# Uniformity: over 2,000 records, 500 uniform picks take about 250 from the first half (sd 11).
first=$(sample --random 500 --seed 5 heavy.wnw | unpack --ids | awk '$1 < 1000' | wc -l)
truthy "--random is uniform ($first of 500 in the first half, expected 250)" "[ $first -ge 200 ] && [ $first -le 300 ]"
ok "an empty stream gives an empty sample" bash -c 'sample --top 0 pool.wnw | sample --random 3 -o e.wnw'

# --- errors ------------------------------------------------------------------------------------------
fails 1 "no field 'weight'" "a missing field" sample -n 3 --by weight pool.wnw
printf 'id\ttext\tprob\n0\ta\t0.5\n7\tb\t-1\n' >neg.tsv
pack --tsv --id id --field prob:f64 neg.tsv >neg.wnw 2>/dev/null
fails 1 "record 2 \(id 7\): prob -1 is negative" "a negative weight names the record" sample -n 3 neg.wnw
printf 'id\ttext\tprob\n0\ta\t0.5\n1\tb\tnan\n' >nan.tsv
pack --tsv --field prob:f64 nan.tsv >nan.wnw 2>/dev/null
fails 1 "record 2 \(id 1\): prob nan is not a number" "a NaN weight names the record" sample -n 3 nan.wnw
fails 1 "record 2 \(id 1\): prob nan is not a number" "a NaN score names the record" \
	sample --top 1 --by prob nan.wnw
fails 1 "nothing to draw" "all weights zero" sample -n 3 --by prob -o /dev/null \
	<(printf 'id\ttext\tprob\n0\ta\t0\n' | pack --tsv --field prob:f64)
fails 1 "field 'text' is bytes, not a number" "a text field is not a weight" sample -n 3 --by text pool.wnw
fails 2 "exactly one of" "-n with --top" sample -n 3 --top 3 pool.wnw
fails 2 "exactly one of" "no mode" sample pool.wnw
fails 2 "goes with -n" "--without-replacement with --top" sample --top 3 --without-replacement pool.wnw
fails 2 "takes no --by" "--random with --by" sample --random 3 --by prob pool.wnw
fails 2 "-n: '0'" "-n 0" sample -n 0 pool.wnw
fails 2 "--seed: 'x'" "a bad seed" sample -n 3 --seed x pool.wnw
# 4,096 fields leave no room for count: bad data, naming the file (issue 19.8)
{ printf 'id\ttext'; for i in $(seq 0 4092); do printf '\tf%d' $i; done; printf '\n0\ta'
  for i in $(seq 0 4092); do printf '\t1'; done; printf '\n'; } >wide.tsv
pack --tsv $(for i in $(seq 0 4092); do printf -- '--field f%d:u64 ' $i; done) wide.tsv >wide.wnw 2>/dev/null
fails 1 "wide.wnw: too many fields to add 'count'" "4,096 fields: bad data naming the file" sample --top 1 --by id wide.wnw
ok "with --expand no count is added" sample --top 1 --by id --expand -o /dev/null wide.wnw
head -c 200 pool.wnw >cut.wnw
fails 1 "trunc" "a truncated input" sample -n 3 cut.wnw
