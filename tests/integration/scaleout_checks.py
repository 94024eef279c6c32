#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks of the scale-out test (test_scaleout.sh): an aggregator's merged
view against what the edges and the load generators reported, exactly.

  wait URL SITE RECEIVED TIMEOUT   poll /api/v1/totals?site= until received
                                   reaches RECEIVED (exit 1 on timeout)
  exact URL SITE EDGES LOADGENS    EDGES and LOADGENS: comma-separated
                                   summary-JSON / report files; per-client
                                   and site totals must equal their sums

Prints one "ok ..." or "FAIL ..." line per check (the shell counts them).
"""
import json
import sys
import time
import urllib.request

COUNTS = ("received", "bytes", "lost", "duplicates", "reordered", "too_late")
TYPES = ("INIT", "HEARTBEAT", "DATA", "BYE")


def get(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.load(r)


def check(what, exp, got):
    if exp == got:
        print(f"ok   {what} ({got})")
    else:
        print(f"FAIL {what}: expected {exp}, got {got}")


def add(acc, c):
    for k in COUNTS:
        acc[k] = acc.get(k, 0) + c[k]
    for t in TYPES:
        acc["t_" + t] = acc.get("t_" + t, 0) + c["by_type"][t]
    acc["lat_count"] = acc.get("lat_count", 0) + c["latency_us"]["count"]
    for m, mv in c.get("metrics", {}).items():
        acc["m_" + m] = acc.get("m_" + m, 0) + mv["count"]
    acc["runs"] = acc.get("runs", 0) + 1
    acc["last"] = c


def flat(c):
    out = {k: c[k] for k in COUNTS}
    for t in TYPES:
        out["t_" + t] = c["by_type"][t]
    out["lat_count"] = c["latency_us"]["count"]
    for m, mv in c.get("metrics", {}).items():
        out["m_" + m] = mv["count"]
    return out


def phase_wait(url, site, want, timeout):
    deadline = time.time() + float(timeout)
    got = None
    while time.time() < deadline:
        try:
            got = get(f"{url}/api/v1/totals?site={site}")["totals"]["received"]
            if got >= int(want):
                return 0
        except Exception:
            pass
        time.sleep(0.25)
    print(f"FAIL {site}: the aggregator reached {got} of {want} received "
          f"in {timeout} s")
    return 1


def phase_exact(url, site, edges, loadgens):
    per = {}
    tot = {}
    for path in edges.split(","):
        d = json.load(open(path))
        add(tot, d["totals"])
        for c in d["clients"]:
            add(per.setdefault(c["client_id"], {}), c)
    lg_tot = {"received": 0, "bytes": 0, "lost": 0, "duplicates": 0}
    lg_per = {}
    for path in loadgens.split(","):
        r = json.load(open(path))
        for c in r["clients"]:
            e = lg_per.setdefault(c["client_id"], dict.fromkeys(lg_tot, 0))
            for k, v in (("received", c["sent"]), ("bytes", c["bytes"]),
                         ("lost", c["injected_loss"]),
                         ("duplicates", c["injected_dup"])):
                e[k] += v
                lg_tot[k] += v

    t = get(f"{url}/api/v1/totals?site={site}")
    got = flat(t["totals"])
    for k in sorted(k for k in tot if k not in ("runs", "last")):
        check(f"{site} totals.{k} = sum of the edges", tot[k], got.get(k, 0))
    for k in lg_tot:
        check(f"{site} totals.{k} = sum of the load generators", lg_tot[k], got[k])
    check(f"{site} totals.clients", len(per), t["clients"])
    check(f"{site} totals.bye: every client said BYE", len(per), t["bye"])

    cl = get(f"{url}/api/v1/clients?site={site}&limit=10000")["clients"]
    check(f"{site} clients: ids", sorted(per), [c["client_id"] for c in cl])
    check(f"{site} clients: all of site {site}", [site] * len(cl),
          [c.get("site") for c in cl])
    bad = []
    for c in cl:
        exp = per.get(c["client_id"], {})
        g = flat(c)
        for k in g:
            if exp.get(k, 0) != g[k]:
                bad.append((c["client_id"], k, exp.get(k, 0), g[k]))
        lg = lg_per.get(c["client_id"], {})
        for k in lg:
            if lg[k] != g[k]:
                bad.append((c["client_id"], "loadgen " + k, lg[k], g[k]))
        # one edge run: the merged histogram is that edge's, bucket for bucket
        if exp.get("runs") == 1:
            for q in ("min", "p50", "p90", "p99", "p999", "max"):
                e, v = exp["last"]["latency_us"][q], c["latency_us"][q]
                if e != v:
                    bad.append((c["client_id"], "latency " + q, e, v))
            for m, mv in exp["last"].get("metrics", {}).items():
                for q in ("last", "min", "max"):
                    if mv[q] != c["metrics"][m][q]:
                        bad.append((c["client_id"], f"{m}.{q}", mv[q],
                                    c["metrics"][m][q]))
    check(f"{site} clients: every counter, latency and metric = the edges' "
          f"(mismatches)", [], bad[:10])
    return 0


def main():
    phase, args = sys.argv[1], sys.argv[2:]
    if phase == "wait":
        return phase_wait(*args)
    if phase == "exact":
        return phase_exact(*args)
    print(f"FAIL unknown phase {phase}")
    return 2


if __name__ == "__main__":
    sys.exit(main())
