#!/usr/bin/python3
"""Compares per-candidate probabilities from `unpack --tsv id,prob` with a reference .npy.
Exact duplicate candidates (identical rows of the candidates .npy) may split their mass differently,
so they are compared by group totals. Prints one line of figures; exits 1 when they disagree.

    tsds_agree.py GOT.tsv EXPECTED.npy CANDIDATES.npy TOLERANCE
"""
import sys

import numpy as np


def main():
    got_tsv, want_npy, cand_npy, tol = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    want = np.load(want_npy).astype(np.float64)
    got = np.zeros_like(want)
    with open(got_tsv) as f:
        head = f.readline().rstrip("\n").split("\t")
        ci, pi = head.index("id"), head.index("prob")
        for line in f:
            cols = line.rstrip("\n").split("\t")
            got[int(cols[ci])] += float(cols[pi])
    x = np.load(cand_npy)
    _, group = np.unique(x.reshape(len(x), -1), axis=0, return_inverse=True)
    group = group.reshape(-1)
    g_got = np.bincount(group, weights=got)
    g_want = np.bincount(group, weights=want)
    diff = np.abs(g_got - g_want).max()
    nz_got, nz_want = int((g_got > 0).sum()), int((g_want > 0).sum())
    same_set = bool(((g_got > 0) == (g_want > 0)).all())
    print(f"max abs diff {diff:.3g}, non-zero {nz_got} (want {nz_want}), same set {same_set}, "
          f"sum {got.sum():.15f}, duplicate groups {len(x) - len(g_got)}")
    sys.exit(0 if diff <= tol and same_set else 1)


if __name__ == "__main__":
    main()
