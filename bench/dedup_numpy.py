#!/usr/bin/python3
"""bench/dedup_numpy.py: the peer of dedup --minhash in bench/dedup.sh, a plain numpy MinHash-LSH written
for this comparison: the same shingles (token 5-grams, tokens as runs of word characters or of
punctuation, case folded, hashed with crc32), 128 permutations ((a x + b) mod 2^64 mod (2^61 - 1))
mod 2^32 (datasketch's family) applied with numpy per document, 16 bands of 8 rows in Python dicts,
candidates verified by estimated Jaccard >= 0.8 against the first and the previous member of each
bucket, union-find; prints the number of records kept. Usage: dedup_numpy.py < pool.jsonl"""
import json, re, sys, zlib
import numpy as np

P, B, N, T = 128, 16, 5, 0.8
R = P // B
PRIME = (1 << 61) - 1
TOKEN = re.compile(r'\w+|[^\w\s]+')

def main():
    rng = np.random.RandomState(1)
    a = rng.randint(1, PRIME, P, dtype=np.uint64)
    b = rng.randint(0, PRIME, P, dtype=np.uint64)
    sigs = []
    for line in sys.stdin:
        toks = TOKEN.findall(json.loads(line)['text'].lower())
        grams = {' '.join(toks[i:i + N]) for i in range(max(1, len(toks) - N + 1))}
        h = np.fromiter((zlib.crc32(g.encode()) for g in grams), dtype=np.uint64, count=len(grams))
        if len(h) == 0:
            sigs.append(np.full(P, 0xFFFFFFFF, dtype=np.uint64))
            continue
        # datasketch's family: the products wrap modulo 2^64 before the reduction (which mixes them)
        sigs.append((((np.outer(h, a) + b) % PRIME) & 0xFFFFFFFF).min(axis=0))
    sig = np.vstack(sigs)
    n = len(sigs)
    parent = list(range(n))
    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i
    def join(i, j):
        i, j = find(i), find(j)
        if i != j:
            parent[max(i, j)] = min(i, j)
    for band in range(B):
        buckets = {}
        rows = sig[:, band * R:(band + 1) * R]
        for i in range(n):
            buckets.setdefault(rows[i].tobytes(), []).append(i)
        for members in buckets.values():
            first = prev = members[0]
            for m in members[1:]:
                if (sig[first] == sig[m]).mean() >= T:
                    join(first, m)
                elif prev != first and (sig[prev] == sig[m]).mean() >= T:
                    join(prev, m)
                prev = m
    print(sum(find(i) == i for i in range(n)))

main()
