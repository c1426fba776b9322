#!/usr/bin/python3
"""bench/dedup_quality.py: the quality of dedup --mark on pool_dup against its dup_groups (eval/README).
Reads JSONL with id, text and dup_of (unpack --add dup_of) on stdin; prints the share of exact and near
copies dropped (of each group of a source and its copies, all but one should go) and, over a sample of dropped records, the share whose true Jaccard similarity (token
5-gram sets, the tokens of embed-hash(1) approximated by \\w+ runs and punctuation runs) with the record
kept for them is at least 0.5. Usage: dedup_quality.py DUP_GROUPS.jsonl.zst < marked.jsonl"""
import json, random, re, subprocess, sys

def shingles(t, n=5):
    toks = re.findall(r'\w+|[^\w\s]+', t.lower())
    if len(toks) < n:
        return {tuple(toks)}
    return {tuple(toks[i:i + n]) for i in range(len(toks) - n + 1)}

def main():
    text, dup = {}, {}
    for o in map(json.loads, sys.stdin):
        text[o['id']], dup[o['id']] = o['text'], o['dup_of']
    groups = subprocess.run(['zstdcat', sys.argv[1]], capture_output=True, text=True, check=True).stdout
    got = {'exact': [0, 0], 'near': [0, 0]}
    for g in map(json.loads, groups.splitlines()):
        members = [g['src']] + g['copies']  # all but one of them should go, whichever came first
        got[g['kind']][0] += sum(dup[c] != c for c in members)
        got[g['kind']][1] += len(members) - 1
    dropped = sorted(i for i in dup if dup[i] != i)
    sample = random.Random(1).sample(dropped, min(1000, len(dropped)))
    good = 0
    for i in sample:
        a, b = shingles(text[i]), shingles(text[dup[i]])
        good += len(a & b) / len(a | b) >= 0.5
    for k in ('exact', 'near'):
        print(f'{k} copies dropped: {got[k][0]} of {got[k][1]} ({100 * got[k][0] / got[k][1]:.1f}%)')
    print(f'dropped records: {len(dropped)}; of a sample of {len(sample)}, true Jaccard with the kept '
          f'record >= 0.5: {good} ({100 * good / len(sample):.1f}%)')

main()
