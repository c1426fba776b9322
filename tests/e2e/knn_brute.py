# knn_brute.py K UNION.tsv: checks knn-build's lists (unpack --tsv id,nbr) against a brute force over
# pool.npy and q.npy in the current directory: every distance in float64, rounded to float32, lists
# ordered by (distance, id); prints "same" or the queries that differ.
import sys, numpy as np
p = np.load('pool.npy').astype(np.float64); q = np.load('q.npy').astype(np.float64); K = int(sys.argv[1])
got = {}
for line in list(open(sys.argv[2]))[1:]:
    cid, nbr = line.rstrip('\n').split('\t')
    for pair in filter(None, nbr.split(',')):
        qid, d = pair.split(':'); got.setdefault(int(qid), []).append((float(d), int(cid)))
bad = []
for j in range(len(q)):
    d = np.sqrt(((p - q[j]) ** 2).sum(1)).astype(np.float32)
    want = sorted((float(d[i]), i) for i in range(len(p)))[:K]
    g = sorted(got.get(j, []))
    if [c for _, c in g] != [c for _, c in want]:
        bad.append('query %d: ids differ' % j)
    elif any(abs(a - b) > 1e-5 * max(b, 1e-30) for (a, _), (b, _) in zip(g, want)):
        bad.append('query %d: distances differ' % j)
print('\n'.join(bad) if bad else 'same')
