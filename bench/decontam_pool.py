#!/usr/bin/python3
"""bench/decontam_pool.py: a contaminated pool for decontam(1). Copies POOL (JSONL) to stdout with a
60-word span of a random HELDOUT record (JSONL) inserted at a word boundary of 300 random records, each
marked "planted": 1 (0 for the others); seed 1. Usage: decontam_pool.py POOL.jsonl.zst HELDOUT.jsonl.zst > pool.jsonl"""
import json, random, subprocess, sys

def read(path):
    out = subprocess.run(['zstdcat', '-f', path], capture_output=True, text=True, check=True).stdout
    return [json.loads(l) for l in out.splitlines() if l.strip()]

rnd = random.Random(1)
pool, held = read(sys.argv[1]), read(sys.argv[2])
held = [h for h in held if len(h['text'].split()) >= 60]
for i in rnd.sample(range(len(pool)), 300):
    words = rnd.choice(held)['text'].split()
    at = rnd.randrange(len(words) - 59)
    span = ' '.join(words[at:at + 60])
    host = pool[i]['text'].split(' ')
    cut = rnd.randrange(len(host) + 1)
    pool[i]['text'] = ' '.join(host[:cut] + [span] + host[cut:])
    pool[i]['planted'] = 1
for p in pool:
    p.setdefault('planted', 0)
    print(json.dumps(p))
