#!/usr/bin/python3
"""dsir_peer.py: an independent DSIR in numpy, the peer of dsir(1) in bench/quality.sh.

Usage: dsir_peer.py POOL.jsonl.zst QUERY.jsonl.zst PREFIX K [K ...]
Writes PREFIX.K.jsonl ({"id": ...} per line) for each K. Its own choices, not winnow's: lower-cased
tokens \\w+ or one punctuation character, word 1- and 2-grams hashed by CRC-32 into 10,000 buckets,
add-one smoothing, the log weight a sum over occurrences, Gumbel top-K with numpy's generator (seed 1).
"""
import json, re, subprocess, sys, zlib

import numpy as np

B = 10000


def load(path):
    out = subprocess.run(["zstd", "-dc", path], capture_output=True, check=True).stdout
    return [json.loads(l) for l in out.decode("utf-8").splitlines() if l.strip()]


def counts(text):
    w = re.findall(r"\w+|[^\w\s]", text.lower())
    f = np.zeros(B)
    for g in w + [a + " " + b for a, b in zip(w, w[1:])]:
        f[zlib.crc32(g.encode()) % B] += 1
    return f


def main():
    pool, query, prefix = load(sys.argv[1]), load(sys.argv[2]), sys.argv[3]
    P = np.array([counts(r["text"]) for r in pool])
    Q = np.array([counts(r["text"]) for r in query])
    lp_t = np.log((Q.sum(0) + 1) / (Q.sum() + B))
    lp_r = np.log((P.sum(0) + 1) / (P.sum() + B))
    logw = P @ (lp_t - lp_r)
    for k in map(int, sys.argv[4:]):
        g = logw + np.random.default_rng(1).gumbel(size=len(logw))
        with open("%s.%d.jsonl" % (prefix, k), "w") as f:
            for i in np.argsort(-g, kind="stable")[:k]:
                f.write(json.dumps({"id": int(pool[i]["id"])}) + "\n")


if __name__ == "__main__":
    main()
