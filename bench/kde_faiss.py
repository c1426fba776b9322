#!/usr/bin/python3
"""kde as the TSDS reference computes it with FAISS, for bench/kde.sh: an IndexIVFFlat with
nlist = int(sqrt(n)) // 2 cells and nprobe 10, every record searched for its KDE_K nearest, and
kde = sum of max(0, 1 - D / sigma^2) over them (FAISS returns squared distances).

Usage: kde_faiss.py X.npy SIGMA KDE_K OUT.npy [THREADS]
Prints the wall time (train, add and search) and writes the kde of every row to OUT.npy.
"""
import math
import sys
import time

import numpy as np
import faiss


def main():
    x = np.ascontiguousarray(np.load(sys.argv[1]), dtype=np.float32)
    sigma, k, out = float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    if len(sys.argv) > 5 and int(sys.argv[5]) > 0:
        faiss.omp_set_num_threads(int(sys.argv[5]))
    n, d = x.shape
    t0 = time.perf_counter()
    nlist = max(1, int(math.sqrt(n)) // 2)
    quantizer = faiss.IndexFlatL2(d)
    index = faiss.IndexIVFFlat(quantizer, d, nlist)
    index.train(x)
    index.add(x)
    index.nprobe = 10
    dist, _ = index.search(x, k)
    kde = np.maximum(0.0, 1.0 - dist / sigma ** 2).sum(axis=1) if sigma > 0 else np.ones(n)
    t1 = time.perf_counter()
    np.save(out, kde.astype(np.float64))
    print("%.2f s (nlist %d, nprobe 10, %d OpenMP threads)" % (t1 - t0, nlist, faiss.omp_get_max_threads()))


if __name__ == "__main__":
    main()
