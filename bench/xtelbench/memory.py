# SPDX-License-Identifier: MIT
"""Memory per plain client by component (issue 16; docs/CAPACITY.md,
"Memory per client"): bench/bench_memory feeds N clients through the real
registries and builds views with the real model (health off, as with
--no-health), then reports bytes per client of the record, the latency
histogram, the metric key slots, the registry's tables, the arena's slack,
one view's copy, and the heap growth malloc saw (headers included); the
health rows run it again with health on (the collector's default: the
real engine and feed) and a view every second while the clients send,
and add health's parts (engine state, the feed's previous latency copy,
the rest of its table, its block of engine inputs, one view's results). Beside those levels, two peaks
(bench/heap_peak.c counts every allocation): the last view build's
high-water mark above the heap before it (the new view and the build's
transient arrays while the previous view still lives) and the whole
run's, the figure VmHWM sees. It is
deterministic (byte counts, not timings), needs no root and no testbed,
and takes seconds: `bench/run.sh --no-micro --no-e2e --memory` runs only
it, every other level includes it unless --no-memory.
"""
import json
import os
import subprocess

from .util import log

# (clients, datagrams per client, latency sigma): a short-lived client (20
# datagrams) and a long one (1,000) at a moderate spread around 50 us, and
# one wide spread (sigma 1: the histogram's worst realistic case); 100,000
# clients is issue 16's scale (<= 2 KiB each), a few seconds.
ROWS = {
    "smoke": [(10000, 20, 0.5)],
    "quick": [(10000, 20, 0.5), (10000, 1000, 0.5), (10000, 1000, 1.0),
              (100000, 20, 0.5)],
    "full": [(10000, 20, 0.5), (10000, 1000, 0.5), (10000, 1000, 1.0),
             (50000, 20, 0.5), (50000, 1000, 0.5), (100000, 20, 0.5)],
}

PARTS = ["record", "histogram", "metrics", "registry", "arena_slack", "view_copy"]

# health on, a view per round (1 s, the default interval, one datagram per
# client per second): the rows whose health costs are shown; 1,000 views of
# 10,000 clients take about a minute
HEALTH_ROWS = {
    "smoke": [(10000, 20, 0.5)],
    "quick": [(10000, 20, 0.5), (10000, 1000, 1.0)],
    "full": [(10000, 20, 0.5), (10000, 1000, 0.5), (10000, 1000, 1.0),
             (50000, 20, 0.5)],
}

HEALTH_PARTS = ["health_engine", "health_lat_copy", "health_feed_table",
                "health_inputs", "health_result_view"]


def _one(exe, clients, datagrams, sigma, extra):
    cmd = [exe, "--clients", str(clients), "--datagrams", str(datagrams),
           "--lat-sigma", str(sigma), "--json"] + extra
    out = subprocess.run(cmd, check=True, capture_output=True, text=True,
                         timeout=900).stdout
    r = json.loads(out)
    r["lat_sigma"] = sigma
    return r


def run_memory(env):
    exe = os.path.join(env.build, "bench", "bench_memory")
    if not os.access(exe, os.X_OK):
        log("  memory: %s missing, skipped" % exe)
        return {"error": "bench_memory not built"}
    rows = []
    for clients, datagrams, sigma in ROWS.get(env.level, ROWS["quick"]):
        r = _one(exe, clients, datagrams, sigma, [])
        rows.append(r)
        b = r["bytes_per_client"]
        log("  memory %d clients x %d datagrams (sigma %.1f): %.0f B per client "
            "(accounting %.0f, model and view %.0f)" % (
                clients, datagrams, sigma, b["total_heap"], b["accounting_heap"],
                b["model_and_view_heap"]))
    health = []
    for clients, datagrams, sigma in HEALTH_ROWS.get(env.level, HEALTH_ROWS["quick"]):
        r = _one(exe, clients, datagrams, sigma, ["--health", "--view-every", "1"])
        health.append(r)
        b = r["bytes_per_client"]
        log("  memory, health on, %d clients x %d datagrams (sigma %.1f): %.0f B per "
            "client (health %.0f: engine %.0f, latency copy %.0f)" % (
                clients, datagrams, sigma, b["total_heap"],
                sum(b[p] for p in HEALTH_PARTS), b["health_engine"],
                b["health_lat_copy"]))
    return {"rows": rows, "health_rows": health}


# the peaks; absent from a run whose allocator was not counted (a
# sanitizer build), shown as "-"
PEAKS = ["build_peak", "peak_heap"]


def _table_rows(rows, parts, extra):
    """One markdown row per bench_memory result: the row's parameters, its
    parts, extra(bytes), the model + view and total heap and the peaks."""
    out = []
    for r in rows:
        b = r["bytes_per_client"]
        out.append("| %d | %d | %.1f | %s |" % (
            r["clients"], r["datagrams"], r["lat_sigma"],
            " | ".join(["%.0f" % x for x in [b[p] for p in parts] + extra(b) +
                        [b["model_and_view_heap"], b["total_heap"]]] +
                       ["%.0f" % b[p] if p in b else "-" for p in PEAKS])))
    return out


def memory_markdown(res):
    if "error" in res:
        return "\n## Memory per client by component\n\nNot run: %s\n" % res["error"]
    md = ["", "## Memory per client by component", "",
          "bench/bench_memory (deterministic byte counts, no timing): N plain clients fed "
          "through the real registries (INIT, then DATA with the load generator's two default "
          "metrics, one datagram per second per client, latencies log-normal around 50 us with "
          "the sigma shown), then two views built by the real model with health off "
          "(--no-health). Bytes per client; *heap* columns are malloc's own growth "
          "(mallinfo2, its headers included), the others the components' sizes. *build "
          "peak* is the last view build's high-water mark above the heap before it (the "
          "new view and the build's transient arrays, the previous view still alive); "
          "*peak heap* the whole run's high-water mark, what VmHWM sees (both counted "
          "per allocation, usable sizes).", "",
          "| clients | datagrams each | sigma | record | histogram | metrics | registry "
          "| arena slack | view copy | accounting heap | model + view heap | total heap "
          "| build peak | peak heap |",
          "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    md += _table_rows(res["rows"], PARTS, lambda b: [b["accounting_heap"]])
    if res.get("health_rows"):
        md += ["", "With health on (the default): the same clients, a view every second "
               "while they send (the default 1 s interval, one datagram per client per "
               "second), the real engine and feed. *health* is the sum of its parts: the "
               "engine's state, the feed's previous latency copy (8-bit counts per page for "
               "a client with at most 3 samples an interval), the rest of the feed's table, "
               "its block of engine inputs (1,024 clients at a time) and one view's results "
               "(two views are alive while the next is built).", "",
               "| clients | datagrams each | sigma | engine | latency copy | feed table "
               "| inputs | results per view | health | model + view heap | total heap "
               "| build peak | peak heap |",
               "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        md += _table_rows(res["health_rows"], HEALTH_PARTS,
                          lambda b: [sum(b[p] for p in HEALTH_PARTS)])
    return "\n".join(md) + "\n"
