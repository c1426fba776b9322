#!/usr/bin/env bash
# gradex: estimates against real fine-tuning on a synthetic world with known helpful and harmful
# sources (tests/data/gradex/synth.py says how the world is built), determinism, errors.
source "$(dirname "$0")/../lib.sh"
SYNTH=$DATA/gradex/synth.py

# Twelve sources of 200 examples in D = 2000 (4 helpful, 4 harmful, 4 unrelated), gradients projected
# to d = 200, entered the way a training framework's outputs enter winnow.
/usr/bin/python3 "$SYNTH" gen w || echo "not ok - the synthetic world could not be generated"
pack --vectors grad=w/pool_grad.npy --field f0:f64 --field source:text w/pool.jsonl > pool.wnw
pack --vectors grad=w/target_grad.npy --field f0:f64 w/target.jsonl > target.wnw
step=$(cat w/step.txt)

# Estimated against true target losses: real gradient descent from the multitask solution in all
# 2000 dimensions, on each of the 50 subsets that gradex drew.
ok "estimates 50 random subsets" gradex -t target.wnw --subsets 50 --step "$step" --losses est.tsv -o g50.wnw pool.wnw
read -r rho nsub < <(/usr/bin/python3 "$SYNTH" check w est.tsv)
same "the true losses cover the 50 subsets" "$nsub" 50
truthy "Spearman correlation of estimated and true target loss >= 0.9 (got $rho)" \
	"awk -v r='$rho' 'BEGIN { exit !(r >= 0.9) }'"

# The ensemble ranks every helpful source above every harmful one.
ok "scores the sources with 300 random subsets" gradex -t target.wnw --step "$step" -M 300 --table -o table.tsv pool.wnw
same "the table lists the 12 sources" "$(tail -n +2 table.tsv | wc -l)" 12
worst_helpful=$(awk -F'\t' '$1 ~ /^helpful/ { if (m == "" || $3 > m) m = $3 } END { print m }' table.tsv)
best_harmful=$(awk -F'\t' '$1 ~ /^harmful/ { if (m == "" || $3 < m) m = $3 } END { print m }' table.tsv)
truthy "every helpful source scores below every harmful one ($worst_helpful < $best_harmful)" \
	"awk -v a='$worst_helpful' -v b='$best_harmful' 'BEGIN { exit !(a < 0 && a < b) }'"
same "helpful sources come first" "$(tail -n +2 table.tsv | head -4 | cut -f1 | sed 's/-.*//' | sort -u)" helpful
same "harmful sources come last" "$(tail -4 table.tsv | cut -f1 | sed 's/-.*//' | sort -u)" harmful
same "counts are the examples per source" "$(tail -n +2 table.tsv | cut -f2 | sort -u)" 200

# The stream output holds the same table, sorted by score.
gradex -t target.wnw --step "$step" -M 300 pool.wnw > g.wnw
same "the stream has fields group, count, score" \
	"$(inspect g.wnw | grep -A3 '^schema:' | tail -3 | tr -d ' -' | tr '\n' ' ')" \
	"{name:group,type:bytes} {name:count,type:u64} {name:score,type:f64} "
same "stream and --table agree" "$(unpack --tsv group,count,score g.wnw)" "$(cat table.tsv)"
same "scores ascend" "$(tail -n +2 table.tsv | cut -f3 | sort -g)" "$(tail -n +2 table.tsv | cut -f3)"

# Same seed, same bytes, whatever the thread count; another seed draws other subsets.
gradex -t target.wnw --step "$step" -M 100 -j 1 pool.wnw > j1.wnw
gradex -t target.wnw --step "$step" -M 100 -j 2 pool.wnw > j2.wnw
gradex -t target.wnw --step "$step" -M 100 -j 2 --batch 7 pool.wnw > j2b.wnw
same_file "-j 1 and -j 2 write the same bytes" j1.wnw j2.wnw
same "--batch changes scores by rounding only" \
	"$(unpack --tsv group,score j2b.wnw | awk 'NR > 1 { printf "%s %.9f\n", $1, $2 }')" \
	"$(unpack --tsv group,score j1.wnw | awk 'NR > 1 { printf "%s %.9f\n", $1, $2 }')"
gradex -t target.wnw --step "$step" -M 100 --seed 5 pool.wnw > s5.wnw
truthy "another seed gives other scores" "! cmp -s j1.wnw s5.wnw"
same "each subset holds floor(0.5 * 12) = 6 groups" \
	"$(awk -F'\t' 'NR > 1 { n[$1]++ } END { for (k in n) print n[k] }' est.tsv | sort -u)" 6
gradex -t target.wnw --step "$step" -M 40 --size 0.25 --losses q.tsv pool.wnw > /dev/null
same "--size 0.25 takes 3 groups a subset" \
	"$(awk -F'\t' 'NR > 1 { n[$1]++ } END { for (k in n) print n[k] }' q.tsv | sort -u)" 3

# Forward selection takes helpful sources first.
ok "forward selection of 3" gradex -t target.wnw --step "$step" --forward 3 --table -o fwd.tsv pool.wnw
same "the 3 chosen sources are helpful" "$(sed -n 2,4p fwd.tsv | cut -f1 | sed 's/-.*//' | sort -u)" helpful
same "forward lists every source" "$(tail -n +2 fwd.tsv | wc -l)" 12

# A u64 group field works and is written in decimal.
/usr/bin/python3 - <<'EOF'
import json
with open("w/pool.jsonl") as f, open("num.jsonl", "w") as g:
    for line in f:
        o = json.loads(line)
        o["src"] = int(o["source"].split("-")[1]) + (0 if o["source"].startswith("helpful") else 10)
        g.write(json.dumps(o) + "\n")
EOF
pack --vectors grad=w/pool_grad.npy --field src:u64 num.jsonl > num.wnw
ok "a u64 group field" gradex -t target.wnw --group src -M 50 --table -o num.tsv num.wnw
same "u64 groups are written in decimal" "$(tail -n +2 num.tsv | cut -f1 | sort -n | tr '\n' ' ')" \
	"1 2 3 4 11 12 13 14 "
# A group name with a carriage return, a tab and a backslash: escaped as unpack --tsv escapes them.
/usr/bin/python3 - w/pool.jsonl >odd.jsonl <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    o = json.loads(line)
    o["source"] = o["source"].replace("helpful-1", "odd\r1\t2\\3")
    print(json.dumps(o))
EOF
pack --vectors grad=w/pool_grad.npy --field source:text odd.jsonl > odd.wnw
ok "a group name with control characters" gradex -t target.wnw -M 50 --table -o odd.tsv odd.wnw
same "its carriage return, tab and backslash are escaped as \\r, \\t and \\\\" \
	"$(cut -f1 odd.tsv | grep '^odd')" 'odd\r1\t2\\3'

# Errors.
pack --field f0:f64 --field source:text w/pool.jsonl > nograd.wnw
fails 1 "no field 'grad'" "a pool without grad is refused" gradex -t target.wnw nograd.wnw
pack --vectors grad=w/target_grad.npy w/target.jsonl > nof0.wnw
fails 1 "no field 'f0'" "a target without f0 is refused" gradex -t nof0.wnw pool.wnw
fails 1 "no field 'source'" "a pool without the group field is refused" gradex -t target.wnw --group source nof0.wnw
fails 1 "no field 'nosuch'" "a missing --group field is named" gradex -t target.wnw --group nosuch pool.wnw
/usr/bin/python3 -c "import numpy; numpy.save('t100.npy', numpy.ones((5, 100), numpy.float32))"
head -5 w/target.jsonl > t5.jsonl
pack --vectors grad=t100.npy --field f0:f64 t5.jsonl > t100.wnw
fails 1 "dimension mismatch" "a target of another dimension is refused" gradex -t t100.wnw pool.wnw
/usr/bin/python3 - <<'EOF'
import json
with open("w/pool.jsonl") as f, open("empty.jsonl", "w") as g:
    for i, line in enumerate(f):
        o = json.loads(line)
        if i == 7:
            o["source"] = ""
        g.write(json.dumps(o) + "\n")
EOF
pack --vectors grad=w/pool_grad.npy --field f0:f64 --field source:text empty.jsonl > empty.wnw
fails 1 "record 8: empty group name" "an example with an empty group name is refused" gradex -t target.wnw empty.wnw
/usr/bin/python3 -c "import numpy; numpy.save('zero.npy', numpy.ones((0, 200), numpy.float32))"
: > zero.jsonl
pack --vectors grad=zero.npy --field f0:f64 --field source:text zero.jsonl > zero.wnw
fails 1 "the pool has no examples" "a pool with no examples is refused" gradex -t target.wnw zero.wnw
fails 2 "--subsets" "--subsets 0 is a usage error" gradex -t target.wnw -M 0 pool.wnw
fails 2 "no group" "a --size giving no group is a usage error" gradex -t target.wnw --size 0.05 pool.wnw
fails 2 "all 12 groups" "--size 1 is a usage error" gradex -t target.wnw --size 1 pool.wnw
fails 2 "-t TARGET is required" "the target is required" gradex pool.wnw
grep helpful-1 w/pool.jsonl > one.jsonl
/usr/bin/python3 -c "import numpy; numpy.save('one.npy', numpy.load('w/pool_grad.npy')[:200])"
pack --vectors grad=one.npy --field f0:f64 --field source:text one.jsonl > one.wnw
fails 1 "one group \('helpful-1'\) only" "a single group cannot be ranked" gradex -t target.wnw one.wnw
ok "--help" gradex --help
