#!/usr/bin/env python3
"""heap_count.py PID TEXT: how many times TEXT is in the writable memory of
process PID (root, or its owner); test_token_tool.sh counts the live copies
of a secret in the token tool while it waits."""
import sys, re
pid, needle = int(sys.argv[1]), sys.argv[2].encode()
n = 0
with open(f"/proc/{pid}/maps") as m, open(f"/proc/{pid}/mem", "rb", 0) as mem:
    for line in m:
        f = line.split()
        if "rw" not in f[1][:2]:
            continue
        a, b = (int(x, 16) for x in f[0].split("-"))
        if len(f) > 5 and f[5].startswith("[v"):
            continue
        try:
            mem.seek(a); data = mem.read(b - a)
        except OSError:
            continue
        n += data.count(needle)
print(n)
