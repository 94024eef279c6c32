# SPDX-License-Identifier: MIT
"""The DTLS batch prefetch of issue 16 (common/prefetch.h), on and off in one
run (docs/CAPACITY.md, "Prefetching at 100,000 clients"; bench/run.sh
--prefetch).

Each row is the many-clients DTLS drain (scale.py: a pre-filled frozen
collector, --no-health, drained with no sender) at 10, 10,000 and 100,000
clients (quick: 10 and 1,000), once with the default (prefetch on) and once
with --no-rx-prefetch, the two in alternating order from round to round so
a slow phase of the shared machine does not land on one side only. What
counts is CPU per datagram of the whole process and of the receive threads,
on / off per round, and each side's ratio to its own 10-client row.
XTEL_PREFETCH_CLIENTS=10,100000 and XTEL_PREFETCH_ROUNDS=N override the
sizes and the rounds (default 2; a 100,000-client row costs ~4 minutes of
handshakes, so those get one round unless asked).
"""
import os
import statistics

from .capacity import run_capacity_row
from .scale import dtls_extra
from .util import log

SIDES = {"on": [], "off": ["--no-rx-prefetch"]}


def plan(env):
    env_clients = os.environ.get("XTEL_PREFETCH_CLIENTS")
    if env_clients:
        clients = [int(x) for x in env_clients.split(",") if x]
    else:
        clients = [10, 1000] if env.level == "quick" else [10, 10000, 100000]
    rounds = int(os.environ.get("XTEL_PREFETCH_ROUNDS", "0"))
    s = env.cfg["capacity"]["scale"]
    extra = dtls_extra(env, max(clients), ["--max-clients", s["max_clients"]])
    todo = []
    for n in clients:
        for r in range(rounds or (1 if n > 20000 else 2)):
            order = ("off", "on") if r % 2 == 0 else ("on", "off")
            for side in order:
                todo.append((n, r, side, extra + SIDES[side]))
    return todo


def run_prefetch(env, seq0=900):
    if not env.have_dtls():
        log("== prefetch: no DTLS certificates, skipped")
        return None
    c = env.cfg["capacity"]
    per = c["scale"]["per_client"]
    todo = plan(env)
    log("== DTLS batch prefetch on / off, %d rows" % len(todo))
    rows = []
    for i, (n, r, side, extra) in enumerate(todo, 1):
        fill = max(c["n"], n * per) if n > 10 else c["n"]
        row = run_capacity_row(env, seq0 + i, "noh", "dtls", fill, n, section="prefetch",
                               extra=extra)
        row["prefetch"], row["round"] = side, r
        rows.append(row)
        log("[%2d/%d] prefetch %-3s dtls clients=%-6d status=%s cpu=%s rx=%s ns/dgram" % (
            i, len(todo), side, n, row.get("status"), fmt(row.get("cpu_ns_per_dgram")),
            fmt(row.get("rx_cpu_ns_per_dgram"))))
    return {"rows": [dict(x) for x in rows]}


def fmt(v):
    return "%.0f" % v if v else "-"


def med(rows, n, side, key):
    v = [x.get(key) for x in rows if x["clients"] == n and x["prefetch"] == side
         and x.get("status") == "ok" and x.get(key)]
    return statistics.median(v) if v else None


def prefetch_markdown(res):
    rows = res["rows"]
    sizes = sorted({x["clients"] for x in rows})
    out = ["## DTLS batch prefetch on / off (bench/run.sh --prefetch)", "",
           "| clients | off ns/dgram (rx) | on ns/dgram (rx) | on/off | off vs 10 | on vs 10 |",
           "|---:|---:|---:|---:|---:|---:|"]
    base = {s: med(rows, sizes[0], s, "cpu_ns_per_dgram") for s in SIDES}
    for n in sizes:
        f = {s: med(rows, n, s, "cpu_ns_per_dgram") for s in SIDES}
        rx = {s: med(rows, n, s, "rx_cpu_ns_per_dgram") for s in SIDES}
        ratio = lambda a, b: "%.2fx" % (a / b) if a and b else "-"
        out.append("| {:,} | {} ({}) | {} ({}) | {} | {} | {} |".format(
            n, fmt(f["off"]), fmt(rx["off"]), fmt(f["on"]), fmt(rx["on"]),
            ratio(f["on"], f["off"]), ratio(f["off"], base["off"]), ratio(f["on"], base["on"])))
    return "\n".join(out) + "\n\n"
