#!/usr/bin/python3
"""gzfit_ref.py -- a plain Python ZIP-FIT scorer, the peer of gzfit's exact mode in bench/gzfit.sh.

    gzfit_ref.py --pool POOL.jsonl --targets TARGETS.jsonl [--level L] [-j N] > scores.tsv

Writes "id<TAB>score" per pool line (17 significant digits), where, as in ZIP-FIT,
    C(b)      = len(gzip.compress(b, compresslevel=L))
    NCD(x, t) = (C(x + t) - min(C(x), C(t))) / max(C(x), C(t))
    score(x)  = 1 - mean over targets t of NCD(x, t)
C(t) is computed once per target; the pool is spread over N worker processes (multiprocessing),
as the ZIP-FIT authors run it. Prints the elapsed seconds of the scoring on stderr.
"""
import argparse
import gzip
import json
import multiprocessing
import sys
import time

TARGETS = []
LEVEL = 9


def size(b):
    return len(gzip.compress(b, compresslevel=LEVEL, mtime=0))


def init(targets, level):
    global TARGETS, LEVEL
    LEVEL = level
    TARGETS = [(t, size(t)) for t in targets]


def score(x):
    cx = size(x)
    s = 0.0
    for t, ct in TARGETS:
        s += (size(x + t) - min(cx, ct)) / max(cx, ct)
    return 1.0 - s / len(TARGETS)


def texts(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pool", required=True)
    ap.add_argument("--targets", required=True)
    ap.add_argument("--level", type=int, default=9)
    ap.add_argument("-j", type=int, default=2)
    a = ap.parse_args()
    pool = texts(a.pool)
    targets = [o["text"].encode("utf-8") for o in texts(a.targets)]
    xs = [o["text"].encode("utf-8") for o in pool]
    t0 = time.perf_counter()
    with multiprocessing.Pool(a.j, initializer=init, initargs=(targets, a.level)) as p:
        scores = p.map(score, xs, chunksize=64)
    dt = time.perf_counter() - t0
    out = sys.stdout
    out.write("id\tscore\n")
    for o, s in zip(pool, scores):
        out.write("%d\t%.17g\n" % (o["id"], s))
    print("%.3f" % dt, file=sys.stderr)


if __name__ == "__main__":
    main()
