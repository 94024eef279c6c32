#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Two builds' bench_plain_fleet side by side, in memory (no kernel): for
each fleet (clients x datagrams, order) the old and the new binary run
alternated, the order swapped every round (old-new, new-old, ...), and the
medians and minimums of CPU ns per datagram, their ratio new / old, and the
registry's RSS growth per client and AnonHugePages are printed as a
Markdown table. Written for docs/CAPACITY.md "Huge pages for the
accounting at 100,000 clients"; any two builds compare the same way, and
one build with itself under two sets of options (--old-args, --new-args,
OLD and NEW the same binary; "Prefetching in fleet order" used them).

usage: ab_plain_fleet.py OLD NEW [--rounds R] [--fleet CLIENTS:DGRAMS:ORDER]...
                         [--old-args ARGS] [--new-args ARGS]
(default fleets 10:20000 and 10000:20 and 100000:20, both orders)
"""
import argparse
import json
import shlex
import statistics
import subprocess


def run(binary, clients, dgrams, order, extra):
    out = subprocess.run([binary, "--clients", str(clients), "--datagrams",
                          str(dgrams), "--order", order] + extra, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--fleet", action="append")
    ap.add_argument("--old-args", default="")
    ap.add_argument("--new-args", default="")
    a = ap.parse_args()
    fleets = a.fleet or ["%s:%s" % (c, o) for c in ("10:20000", "10000:20", "100000:20")
                         for o in ("interleaved", "bursts")]
    print("| clients x datagrams | order | old ns (median / min) | new ns (median / min) "
          "| new / old (median) | registry RSS B/client old / new | AnonHugePages kB old / new |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for fl in fleets:
        c, d, o = fl.split(":")
        res = {"old": [], "new": []}
        for r in range(a.rounds):
            for b in (("old", "new") if r % 2 == 0 else ("new", "old")):
                res[b].append(run(getattr(a, b), int(c), int(d), o,
                                  shlex.split(getattr(a, b + "_args"))))
        ns = {b: [x["cpu_ns_per_datagram"] for x in res[b]] for b in res}
        rss = {b: statistics.median(x.get("registry_rss_kb", 0) for x in res[b]) * 1024 / int(c)
               for b in res}
        huge = {b: statistics.median(x.get("anon_huge_kb", 0) for x in res[b]) for b in res}
        med = {b: statistics.median(ns[b]) for b in ns}
        print("| %s x %s | %s | %.1f / %.1f | %.1f / %.1f | %.2fx | %.0f / %.0f | %.0f / %.0f |" % (
            c, d, o, med["old"], min(ns["old"]), med["new"], min(ns["new"]),
            med["new"] / med["old"], rss["old"], rss["new"], huge["old"], huge["new"]), flush=True)


if __name__ == "__main__":
    main()
