# SPDX-License-Identifier: MIT
"""Memory per plain client by component (issue 16; docs/CAPACITY.md,
"Memory per client"): bench/bench_memory feeds N clients through the real
registries and builds views with the real model (health off, as with
--no-health), then reports bytes per client of the record, the latency
histogram, the metric key slots, the registry's tables, the arena's slack,
one view's copy, and the heap growth malloc saw (headers included). It is
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
# one wide spread (sigma 1: the histogram's worst realistic case).
ROWS = {
    "smoke": [(10000, 20, 0.5)],
    "quick": [(10000, 20, 0.5), (10000, 1000, 0.5), (10000, 1000, 1.0)],
    "full": [(10000, 20, 0.5), (10000, 1000, 0.5), (10000, 1000, 1.0),
             (50000, 20, 0.5), (50000, 1000, 0.5)],
}

PARTS = ["record", "histogram", "metrics", "registry", "arena_slack", "view_copy"]


def run_memory(env):
    exe = os.path.join(env.build, "bench", "bench_memory")
    if not os.access(exe, os.X_OK):
        log("  memory: %s missing, skipped" % exe)
        return {"error": "bench_memory not built"}
    rows = []
    for clients, datagrams, sigma in ROWS.get(env.level, ROWS["quick"]):
        cmd = [exe, "--clients", str(clients), "--datagrams", str(datagrams),
               "--lat-sigma", str(sigma), "--json"]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True,
                             timeout=600).stdout
        r = json.loads(out)
        r["lat_sigma"] = sigma
        rows.append(r)
        b = r["bytes_per_client"]
        log("  memory %d clients x %d datagrams (sigma %.1f): %.0f B per client "
            "(accounting %.0f, model and view %.0f)" % (
                clients, datagrams, sigma, b["total_heap"], b["accounting_heap"],
                b["model_and_view_heap"]))
    return {"rows": rows}


def memory_markdown(res):
    if "error" in res:
        return "\n## Memory per client by component\n\nNot run: %s\n" % res["error"]
    md = ["", "## Memory per client by component", "",
          "bench/bench_memory (deterministic byte counts, no timing): N plain clients fed "
          "through the real registries (INIT, then DATA with the load generator's two default "
          "metrics, one datagram per second per client, latencies log-normal around 50 us with "
          "the sigma shown), then two views built by the real model with health off "
          "(--no-health). Bytes per client; *heap* columns are malloc's own growth "
          "(mallinfo2, its headers included), the others the components' sizes.", "",
          "| clients | datagrams each | sigma | record | histogram | metrics | registry "
          "| arena slack | view copy | accounting heap | model + view heap | total heap |",
          "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in res["rows"]:
        b = r["bytes_per_client"]
        md.append("| %d | %d | %.1f | %s | %.0f | %.0f | %.0f |" % (
            r["clients"], r["datagrams"], r["lat_sigma"],
            " | ".join("%.0f" % b[p] for p in PARTS),
            b["accounting_heap"], b["model_and_view_heap"], b["total_heap"]))
    return "\n".join(md) + "\n"
