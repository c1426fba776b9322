#!/usr/bin/python3
"""pursuit_peer.py -- numpy peers of pursuit(1) for bench/pursuit.sh, written independently of the C.

  pursuit_peer.py omp  POOL.npy TARGET.npy K OUT.ids   non-negative OMP as pursuit(1) defines it
  pursuit_peer.py topk POOL.npy TARGET.npy K OUT.ids   top-K by cosine with the target mean

OMP: pick the unused row of largest positive cosine with the residual, re-fit the chosen rows by
non-negative least squares (Lawson-Hanson on the Gram matrix, warm-started, least-squares solves by
numpy.linalg.lstsq), drop zero weights; stop at K rows, ||r|| <= 1e-6 ||K b||, no positive
cosine, no decrease of ||r||, or 2K + 10 steps. Writes the row indices in order of selection.
"""
import sys

import numpy as np


def inner(G, h, x, P, entered):
    """Moves from the feasible x towards the least-squares solution on P until it is positive there."""
    while True:
        idx = np.flatnonzero(P)
        if len(idx) == 0:
            return x, P, True
        z = np.zeros(len(h))
        z[idx] = np.linalg.lstsq(G[np.ix_(idx, idx)], h[idx], rcond=None)[0]
        if entered >= 0 and not z[entered] > 0:
            P[entered] = False
            return x, P, False
        entered = -1
        if (z[idx] > 0).all():
            return z, P, True
        neg = idx[z[idx] <= 0]
        ratios = x[neg] / (x[neg] - z[neg])
        x = x + ratios.min() * (z - x)
        x[neg[np.argmin(ratios)]] = 0
        x[x <= 0] = 0
        P = x > 0


def nnls(G, h, x, yy):
    """Lawson-Hanson from the feasible x (x > 0 exactly on the passive set)."""
    tol = 1e-12 * np.sqrt(np.maximum(np.diag(G), 0) * yy)
    blocked = np.zeros(len(h), bool)
    x, P, _ = inner(G, h, x, x > 0, -1)
    while True:
        w = h - G @ x
        cand = ~P & ~blocked & (w > tol)
        if not cand.any():
            return x
        t = int(np.argmax(np.where(cand, w, -np.inf)))
        P[t] = True
        x, P, ok = inner(G, h, x, P, t)
        if not ok:
            blocked[t] = True


def omp(A, b, K):
    n, d = A.shape
    norms = np.linalg.norm(A.astype(np.float64), axis=1)
    inv = np.where(norms > 0, 1 / np.maximum(norms, 1e-300), 0).astype(np.float32)
    y = K * b.astype(np.float64)
    yy = float(y @ y)
    ynorm = np.sqrt(yy)
    unused = np.ones(n, bool)
    S, x = [], np.zeros(0)
    r, rho, steps = y.copy(), ynorm, 0
    while len(S) < K and rho > 1e-6 * ynorm and steps < 2 * K + 10:
        c = (A @ r.astype(np.float32)) * inv
        c[~unused] = -np.inf
        i = int(np.argmax(c))
        if not c[i] > 0:
            break
        steps += 1
        S.append(i)
        unused[i] = False
        As = A[S].astype(np.float64)
        x = nnls(As @ As.T, As @ y, np.append(x, 0.0), yy)
        keep = x > 0  # a new row left at zero stays out for good
        for j, k in zip(S, keep):
            if not k and j != i:
                unused[j] = True
        S = [j for j, k in zip(S, keep) if k]
        x = x[keep]
        r = y - x @ A[S].astype(np.float64) if S else y.copy()
        new = np.sqrt(r @ r)
        stalled = not new < rho * (1 - 1e-12)
        rho = new
        if stalled:
            break
    return S, rho, steps


def main():
    mode, pool, target, K, out = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
    A = np.load(pool).astype(np.float32, copy=False)
    b = np.load(target).astype(np.float64).mean(0).astype(np.float32)
    if mode == "topk":
        c = A @ b / np.maximum(np.linalg.norm(A, axis=1), 1e-30)
        ids = np.argsort(-c, kind="stable")[:K]
        msg = "%d ids" % len(ids)
    else:
        ids, rho, steps = omp(A, b, K)
        msg = "%d chosen after %d steps, residual %.9g" % (len(ids), steps, rho)
    with open(out, "w") as f:
        f.writelines("%d\n" % i for i in ids)
    print(msg, file=sys.stderr)


if __name__ == "__main__":
    main()
