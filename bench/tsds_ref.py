#!/usr/bin/python3
"""The TSDS selection procedure in Python, as the reference implementation runs it (numpy + FAISS IVF),
written for winnow's benchmark and agreement checks from the procedure in ot-weight(1).

Stages: kNN of each query among the candidates (FAISS IndexIVFFlat with nlist = sqrt(n)/2 and nprobe 10,
as the reference builds it, or exact IndexFlatL2 with --exact), the KDE of every candidate some query
reaches (its kde_K nearest among those candidates, kernel max(0, 1 - d^2/sigma^2)), the greedy
probability assignment, and a multinomial sample. Prints the wall time of each stage on stderr.

    tsds_ref.py --candidates X.npy --queries Q.npy -K 1000 --kde-K 100 --sigma 0.75 --alpha 0.5 -C 5 \
        [--exact] [--probs out.npy] [--sample N --seed S --out indices.npy]
"""
import argparse
import heapq
import sys
import time

import numpy as np


def _index(data, exact):
    import faiss
    d = data.shape[1]
    if exact:
        index = faiss.IndexFlatL2(d)
    else:
        nlist = max(1, int(np.sqrt(data.shape[0])) // 2)
        index = faiss.IndexIVFFlat(faiss.IndexFlatL2(d), d, nlist)
        index.train(data)
        index.nprobe = 10
    index.add(data)
    return index


def knn(xb, xq, k, exact):
    """Each query's k nearest candidates, ascending: (L2 distances float32, candidate rows)."""
    try:
        d2, ids = _index(xb, exact).search(xq, k)
    except ImportError:
        if not exact:
            raise
        # Without faiss (the tests need only Debian's numpy), exact search by brute force in float32.
        d2 = ((xq * xq).sum(1)[:, None] - 2 * xq @ xb.T + (xb * xb).sum(1)[None, :]).astype(np.float32)
        ids = np.argsort(d2, axis=1, kind="stable")[:, :k]
        d2 = np.take_along_axis(d2, ids, axis=1)
    order = np.argsort(d2, axis=1, kind="stable")
    d2 = np.take_along_axis(d2, order, axis=1)
    ids = np.take_along_axis(ids, order, axis=1)
    return np.sqrt(np.maximum(d2, 0)), ids


def kde(xb, rows, sigma, kde_k, exact):
    """kde of each candidate in rows among the candidates in rows (itself included): dict row -> kde."""
    if sigma == 0:
        return {int(r): 1.0 for r in rows}
    feats = np.ascontiguousarray(xb[rows])
    d2, _ = _index(feats, exact).search(feats, min(kde_k, len(rows)))
    kern = 1 - d2 / np.float32(sigma * sigma)
    kern = np.where(kern > 0, kern, 0)
    vals = kern.sum(axis=1)
    return {int(r): float(v) for r, v in zip(rows, vals)}


def greedy_probs(dist, ids, w, alpha, c, n):
    """The greedy assignment (ot-weight(1)): dist, ids, w are M x K arrays, rows ascending by distance.
    Returns (probs over n candidates, number of queries scaled back to 1/M)."""
    m, k = dist.shape
    dist = dist.astype(np.float64)
    w = w.astype(np.float64)
    last = [0] * m
    dsum = [dist[j, 0] / w[j, 0] for j in range(m)]
    e = [0.0] * m
    queue = [(1.0 / w[j, 0], 0, j) for j in range(m)]
    heapq.heapify(queue)
    total = 0.0
    s = 0.0
    while queue:
        s, t, j = heapq.heappop(queue)
        total -= e[j]
        e[j] = dist[j, t + 1] * s - dsum[j]
        total += e[j]
        if alpha / c * total >= (1 - alpha) * m:
            break
        last[j] = t
        if t < k - 2:
            dsum[j] += dist[j, t + 1] / w[j, t + 1]
            heapq.heappush(queue, (s + 1.0 / w[j, t + 1], t + 1, j))
    probs = np.zeros(n)
    over = 0
    for j in range(m):
        shares = [1.0 / m / s / w[j, t] for t in range(last[j] + 1)]
        kept = sum(shares)
        if kept > 1.0 / m:
            over += kept * m > 1 + 1e-9
            shares = [x * (1.0 / m / kept) for x in shares]
            kept = 1.0 / m
        for t, x in enumerate(shares):
            probs[ids[j, t]] += x
        probs[ids[j, last[j] + 1]] += max(1.0 / m - kept, 0.0)
    return probs, over


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--candidates", required=True)
    ap.add_argument("--queries", required=True)
    ap.add_argument("-K", type=int, required=True)
    ap.add_argument("--kde-K", type=int, required=True)
    ap.add_argument("--sigma", type=float, required=True)
    ap.add_argument("--alpha", type=float, required=True)
    ap.add_argument("-C", type=float, required=True)
    ap.add_argument("--exact", action="store_true", help="exact flat search instead of IVF")
    ap.add_argument("--clamp", action="store_true", help="clamp K and kde-K to a tenth of the pool")
    ap.add_argument("--probs", help="write the probabilities here (.npy)")
    ap.add_argument("--sample", type=int, default=0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", help="write the sampled candidate rows here (.npy)")
    a = ap.parse_args()

    def stage(name, t0):
        print(f"ref {name}: {time.time() - t0:.3f} s", file=sys.stderr)
        return time.time()

    t = time.time()
    xb = np.ascontiguousarray(np.load(a.candidates).astype(np.float32))
    xq = np.ascontiguousarray(np.load(a.queries).astype(np.float32))
    k, kde_k = a.K, a.kde_K
    if a.clamp:
        k, kde_k = min(k, xb.shape[0] // 10), min(kde_k, xb.shape[0] // 10)
    t = stage("load", t)
    dist, ids = knn(xb, xq, k, a.exact)
    t = stage("knn", t)
    rows = np.unique(ids[ids >= 0])
    kmap = kde(xb, rows, a.sigma, kde_k, a.exact)
    w = np.vectorize(lambda r: kmap.get(int(r), 1.0))(ids)
    t = stage("kde", t)
    probs, over = greedy_probs(dist, ids, w, a.alpha, a.C, xb.shape[0])
    if over:
        print(f"ref: {over} queries scaled back to 1/M", file=sys.stderr)
    t = stage("ot", t)
    if a.probs:
        np.save(a.probs, probs)
    if a.sample:
        rng = np.random.default_rng(a.seed)
        counts = rng.multinomial(a.sample, probs / probs.sum())
        picked = np.repeat(np.arange(len(probs)), counts)
        if a.out:
            np.save(a.out, picked)
        stage("sample", t)


if __name__ == "__main__":
    main()
