#!/usr/bin/python3
"""FAISS IndexFlatL2 on the data of bench/knn.sh: exact K nearest neighbours of the queries in the pool.

Usage: knn_faiss.py POOL.npy QUERIES.npy K THREADS [R]
Prints one line: the search's wall time in seconds (the best of R searches, 1 by default, as knn-build's
is the best of R runs), its GFLOP/s (2 m n d per second) and CPU seconds (all threads), the time to load
and add the pool apart. THREADS 0 leaves FAISS's OpenMP threads as
installed; environment variables
(OPENBLAS_CORETYPE, OMP_WAIT_POLICY, OPENBLAS_NUM_THREADS) are set by the caller before Python starts.
"""
import resource
import sys
import time

import numpy as np
import faiss


def main():
    pool_path, query_path, k, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    repeat = int(sys.argv[5]) if len(sys.argv) > 5 else 1
    t0 = time.perf_counter()
    xb = np.ascontiguousarray(np.load(pool_path), dtype=np.float32)
    xq = np.ascontiguousarray(np.load(query_path), dtype=np.float32)
    if threads > 0:
        faiss.omp_set_num_threads(threads)
    index = faiss.IndexFlatL2(xb.shape[1])
    index.add(xb)
    load = time.perf_counter() - t0
    best = None
    for _ in range(repeat):
        t1 = time.perf_counter()
        r1 = resource.getrusage(resource.RUSAGE_SELF)
        _, ids = index.search(xq, k)
        r2 = resource.getrusage(resource.RUSAGE_SELF)
        t2 = time.perf_counter()
        if best is None or t2 - t1 < best[0]:
            best = (t2 - t1, (r2.ru_utime - r1.ru_utime) + (r2.ru_stime - r1.ru_stime))
    secs, cpu = best
    m, n, d = xq.shape[0], xb.shape[0], xb.shape[1]
    assert ids.shape == (m, k)
    print("%6.2f s, %6.1f GFLOP/s, cpu %6.2f s (load and add %.1f s, %d OpenMP threads)"
          % (secs, 2.0 * m * n * d / secs / 1e9, cpu, load, faiss.omp_get_max_threads()))


if __name__ == "__main__":
    main()
