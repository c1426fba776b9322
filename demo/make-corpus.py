#!/usr/bin/env python3
"""Builds the demo corpus from text that Debian 12 installs (see demo/LICENSE for the sources and their
licences): chunks of 12-40 lines of Python, C headers, Perl, configuration files and licence prose.
Deterministic: the same machine files give the same corpus. Run from the project root; writes
demo/pool.jsonl and demo/target.jsonl (then compressed with zstd by the caller)."""
import glob, json, os, random

SOURCES = {
    "python": sorted(glob.glob("/usr/lib/python3.11/*.py")),
    "c": sorted(glob.glob("/usr/include/*.h")),
    "perl": sorted(glob.glob("/usr/share/perl/5.36/*.pm")),
    "config": sorted(glob.glob("/etc/**/*.conf", recursive=True)) + sorted(glob.glob("/etc/ssh/*config")),
    "prose": [f"/usr/share/common-licenses/{n}" for n in
              ("GPL-3", "GPL-2", "Apache-2.0", "GFDL-1.3", "GFDL-1.2", "MPL-2.0", "MPL-1.1",
               "LGPL-2.1", "LGPL-3", "Artistic")],
}
PER_DOMAIN = {"python": 400, "c": 300, "perl": 250, "config": 150, "prose": 200}

def chunks(path, rng):
    try:
        lines = open(path, encoding="utf-8").read().splitlines()
    except (UnicodeDecodeError, OSError):
        return
    i = 0
    while i < len(lines):
        n = rng.randint(12, 40)
        text = "\n".join(lines[i:i + n]).strip("\n")
        i += n
        if 200 <= len(text.encode()) <= 2000 and len(set(text.split())) > 15:
            yield text

def main():
    rng = random.Random(2026)
    pool, target = [], []
    for domain, files in SOURCES.items():
        files = [f for f in files if os.path.isfile(f)]
        rng.shuffle(files)
        # python: the target's files are disjoint from the pool's
        held = files[:12] if domain == "python" else []
        for f in held:
            for t in chunks(f, rng):
                if len(target) < 40:
                    target.append({"text": t, "domain": domain, "source": f})
        got = []
        for f in files[len(held):]:
            got.extend({"text": t, "domain": domain, "source": f} for t in chunks(f, rng))
        # licence texts repeat each other; keep one copy of any chunk
        seen = set()
        got = [g for g in got if not (g["text"] in seen or seen.add(g["text"]))]
        rng.shuffle(got)
        pool.extend(got[:PER_DOMAIN[domain]])
    rng.shuffle(pool)
    with open("demo/pool.jsonl", "w") as out:
        for i, r in enumerate(pool):
            out.write(json.dumps({"id": i, **r}, ensure_ascii=False) + "\n")
    with open("demo/target.jsonl", "w") as out:
        for i, r in enumerate(target):
            out.write(json.dumps({"id": i, **r}, ensure_ascii=False) + "\n")

main()
