#!/usr/bin/python3
"""tests/e2e/dedup_brute.py: checks dedup --minhash --mark output (JSONL with text and dup_of, on stdin)
against brute-force Jaccard similarities of every pair's token 5-gram sets (ASCII texts: a token is a run
of [A-Za-z0-9_] or of other non-blank characters, case folded). Pairs of true J >= HI must share a cluster;
records sharing a cluster must have J >= LO with the kept record. Prints one line per violation, then
"pairs N joined M"."""
import itertools, json, re, sys

HI, LO = float(sys.argv[1]), float(sys.argv[2])

def shingles(t, n=5):
    toks = re.findall(r'[A-Za-z0-9_]+|[^A-Za-z0-9_\s]+', t.lower())
    if len(toks) < n:
        return {tuple(toks)}
    return {tuple(toks[i:i + n]) for i in range(len(toks) - n + 1)}

recs = [json.loads(l) for l in sys.stdin]
sh = {r['id']: shingles(r['text']) for r in recs}
dup = {r['id']: r['dup_of'] for r in recs}
def jac(a, b):
    return len(sh[a] & sh[b]) / len(sh[a] | sh[b])
joined = 0
for a, b in itertools.combinations(sh, 2):
    if jac(a, b) >= HI and dup[a] != dup[b]:
        print(f'{a} {b}: J {jac(a, b):.3f} but apart')
for r in recs:
    if dup[r['id']] != r['id']:
        joined += 1
        if jac(r['id'], dup[r['id']]) < LO:
            print(f"{r['id']} joined to {dup[r['id']]} at J {jac(r['id'], dup[r['id']]):.3f}")
print(f'pairs {len(recs) * (len(recs) - 1) // 2} joined {joined}')
