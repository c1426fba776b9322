#!/usr/bin/env bash
# bench/quality.sh: selection quality on the labelled corpus of ../shared/eval (public pool, query,
# heldout, pool_dup) at K = 1000 and 2000, scored by its quality.py (target precision, held-out bits per
# byte under a byte 5-gram LM trained on the selection, share of copies on pool_dup), for: dsir (with
# sample --log, without replacement), TSDS (the tsds.mk chain at its defaults), gzfit --fast top K,
# pursuit on embed-hash vectors of dimension 256 and 4096 beside top K by cosine to the query mean on
# the same vectors, and dsir on pool_dup alone and after dedup --exact or --minhash (as the recipes'
# DEDUP does); beside dsir, an independent numpy DSIR (bench/dsir_peer.py).
# quality.py adds random, domain-oracle and whole-pool rows.
# Run as `B=build/rel bench/quality.sh` (a few minutes on two cores); KS="1000 2000" sets the sizes.
# SWEEP=1 also scores dsir over buckets and n-gram orders (how its defaults were chosen).
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
B=${B:-build/rel}
case $B in /*) ;; *) B=$TOP/$B ;; esac
PATH=$B/bin:/usr/bin:/bin
PY=/usr/bin/python3
EVAL=${EVAL:-$TOP/../shared/eval}
P=$EVAL/public
KS=${KS:-1000 2000}
W=$(mktemp -d "${TMPDIR:-/tmp}/winnow-quality.XXXXXX")
trap 'rm -rf "$W"' EXIT
export SOURCE_DATE_EPOCH=0
cd "$W"

zstd -dc "$P/pool.jsonl.zst" | pack -o pool.wnw
zstd -dc "$P/query.jsonl.zst" | pack -o q.wnw
zstd -dc "$P/pool_dup.jsonl.zst" | pack -o dup.wnw
dsir -t q.wnw -o pool.dsir.wnw pool.wnw
dsir -t q.wnw -o dup.dsir.wnw dup.wnw
for m in exact minhash; do dedup --$m dup.wnw | dsir -t q.wnw -o dup.$m.dsir.wnw; done
embed-hash -j 2 -o pool.e256.wnw pool.wnw
embed-hash -j 2 -o q.e256.wnw q.wnw
embed-hash -j 2 --dim 4096 -o pool.e4096.wnw pool.wnw
embed-hash -j 2 --dim 4096 -o q.e4096.wnw q.wnw
knn-build -q q.e256.wnw -k 100 -j 2 pool.e256.wnw | kde-dedup --sigma 0.5 -k 100 -j 2 |
	ot-weight --alpha 0.5 -C 1 -o pool.prob.wnw
gzfit --fast -t q.wnw -j 2 -o pool.gz.wnw pool.wnw
# shellcheck disable=SC2086
$PY "$TOP/bench/dsir_peer.py" "$P/pool.jsonl.zst" "$P/query.jsonl.zst" peer $KS

# cosine_top STREAM QUERY K: ids of the K pool vectors of largest cosine with the query vectors' mean
cosine_top() {
	unpack --npy vec "$1" >a.npy && unpack --npy vec "$2" >t.npy &&
		$PY -c 'import sys, numpy as np
A = np.load("a.npy"); t = np.load("t.npy").mean(0)
c = A @ t / np.maximum(np.linalg.norm(A, axis=1), 1e-30)
for i in np.argsort(-c, kind="stable")[:int(sys.argv[1])]: print("{\"id\": %d}" % i)' "$3"
}

for K in $KS; do
	sample -n "$K" --without-replacement --log --by logw --seed 1 pool.dsir.wnw | unpack >dsir.$K.jsonl
	sample -n "$K" --by prob --seed 1 --expand pool.prob.wnw | unpack >tsds.$K.jsonl
	sample --top "$K" --by score pool.gz.wnw | unpack >gzfit.$K.jsonl
	for d in 256 4096; do
		pursuit -t q.e$d.wnw -k "$K" --field vec -j 2 pool.e$d.wnw | unpack >pursuit$d.$K.jsonl
		cosine_top pool.e$d.wnw q.e$d.wnw "$K" >cosine$d.$K.jsonl
	done
	sample -n "$K" --without-replacement --log --by logw --seed 1 dup.dsir.wnw | unpack >dupdsir.$K.jsonl
	for m in exact minhash; do
		sample -n "$K" --without-replacement --log --by logw --seed 1 dup.$m.dsir.wnw | unpack >dup$m.$K.jsonl
	done
	echo "== K = $K: public pool"
	$PY "$EVAL/quality.py" --pool "$P/pool.jsonl.zst" --heldout "$P/heldout.jsonl.zst" \
		dsir=dsir.$K.jsonl dsir-numpy-peer=peer.$K.jsonl tsds=tsds.$K.jsonl gzfit-fast=gzfit.$K.jsonl \
		pursuit-256=pursuit256.$K.jsonl cosine-256=cosine256.$K.jsonl \
		pursuit-4096=pursuit4096.$K.jsonl cosine-4096=cosine4096.$K.jsonl
	echo "== K = $K: pool_dup"
	$PY "$EVAL/quality.py" --pool "$P/pool_dup.jsonl.zst" --heldout "$P/heldout.jsonl.zst" dsir=dupdsir.$K.jsonl \
		dedup-exact-dsir=dupexact.$K.jsonl dedup-minhash-dsir=dupminhash.$K.jsonl
done

[ "${SWEEP:-0}" = 1 ] || exit 0
for K in $KS; do
	sels=
	for b in 1000 2000 5000 10000 20000 50000 100000; do
		for n in 1 1-2 1-3; do
			dsir -t q.wnw --buckets $b --ngram $n pool.wnw |
				sample -n "$K" --without-replacement --log --by logw --seed 1 | unpack >sw.$b.$n.jsonl
			sels="$sels dsir-b$b-n$n=sw.$b.$n.jsonl"
		done
	done
	echo "== K = $K: dsir by buckets and n-gram orders"
	# shellcheck disable=SC2086
	$PY "$EVAL/quality.py" --pool "$P/pool.jsonl.zst" --heldout "$P/heldout.jsonl.zst" $sels
done
