#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Where a capacity drain's time goes, the kernel's part included.

perf's hardware counters are not there on these VMs, but its software
event cpu-clock is: a timer samples whatever runs, kernel or user, so a
profile of the drain shows what callgrind cannot (the receive call, the
copy out of a cold socket buffer, syscalls the collector makes).

  watch PREFIX COUNT   while bench/run.sh runs capacity or many-clients
                       rows, attach `perf record -e cpu-clock` to each of
                       the next COUNT collectors the bench freezes (SIGSTOP,
                       before the fill), until it exits: PREFIX-0.data, ...
                       A frozen process runs nothing, so the samples start
                       with the drain (and end with the collector's exit).
  compare A NA B NB    the receive threads' (xtel-rx*) CPU in ns per
                       datagram of two such profiles (NA, NB: the rows'
                       drained datagrams), by DSO and by symbol, largest
                       growth first

Sampling costs the profiled row ~10-20% of its CPU; compare profiles with
profiles, not with the rows' own figures. docs/CAPACITY.md "Where a
drain's time goes, kernel included" has the method's first results.
"""
import argparse
import collections
import os
import subprocess
import sys
import time

HZ = 10000


def _collectors():
    out = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open("/proc/%s/comm" % p) as f:
                if f.read().strip() == "collector":
                    out.append(int(p))
        except OSError:
            pass
    return out


def _state(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def watch(prefix, count, timeout_s):
    deadline = time.monotonic() + timeout_s
    for i in range(count):
        pid = None
        while pid is None:
            if time.monotonic() > deadline:
                sys.exit("drain_profile: no frozen collector within %d s" % timeout_s)
            pid = next((p for p in _collectors() if _state(p) == "T"), None)
            if pid is None:
                time.sleep(0.005)
        out = "%s-%d.data" % (prefix, i)
        subprocess.run(["perf", "record", "-q", "-e", "cpu-clock", "-F", str(HZ),
                        "-p", str(pid), "-o", out],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        print("drain_profile: %s (collector %d)" % (out, pid), flush=True)


def parse_script(text, per_sample_ns, comm_prefix="xtel-rx"):
    """`perf script -F comm,ip,sym,dso` lines -> {(dso, symbol): ns}."""
    d = collections.Counter()
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 3 or not parts[0].startswith(comm_prefix):
            continue
        sym = parts[2] if len(parts) > 3 else "[unknown]"
        dso = os.path.basename(parts[-1].strip("()"))
        d[(dso, sym)] += per_sample_ns
    return d


def load(path, dgrams):
    text = subprocess.run(["perf", "script", "-i", path, "-F", "comm,ip,sym,dso"],
                          capture_output=True, text=True, check=True).stdout
    return parse_script(text, 1e9 / HZ / dgrams)


def compare(a, b, top=25):
    lines = ["receive threads, ns per datagram: %.0f -> %.0f" % (sum(a.values()),
                                                                 sum(b.values()))]
    for dso in sorted({k[0] for k in a} | {k[0] for k in b}):
        x = sum(v for k, v in a.items() if k[0] == dso)
        y = sum(v for k, v in b.items() if k[0] == dso)
        if x + y >= 2:
            lines.append("  %-28s %7.0f -> %7.0f" % (dso, x, y))
    for k in sorted(set(a) | set(b), key=lambda k: -(b[k] - a[k]))[:top]:
        lines.append("  %-40s %-18s %7.1f %7.1f %+7.1f" % (k[1][:40], k[0][:18], a[k], b[k],
                                                          b[k] - a[k]))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    sub = ap.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("watch")
    w.add_argument("prefix")
    w.add_argument("count", type=int)
    w.add_argument("--timeout", type=int, default=3600,
                   help="give up when no collector freezes this long (s)")
    c = sub.add_parser("compare")
    c.add_argument("a")
    c.add_argument("na", type=int)
    c.add_argument("b")
    c.add_argument("nb", type=int)
    args = ap.parse_args()
    if args.cmd == "watch":
        watch(args.prefix, args.count, args.timeout)
    else:
        if args.na <= 0 or args.nb <= 0:
            ap.error("datagram counts must be positive")
        print(compare(load(args.a, args.na), load(args.b, args.nb)))


if __name__ == "__main__":
    main()
