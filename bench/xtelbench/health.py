# SPDX-License-Identifier: MIT
"""Health inference rows (issue 13; docs/HEALTH.md): bench/bench_health runs
the real engine (userspace/health/) over a synthetic fleet whose faults are
known exactly (5% of the clients per fault kind and magnitude, from a given
interval on) and prints the accuracy table per fault kind: recall, recall
within 3 intervals, precision, median and max detection delay, false
verdicts per 1,000 client-hours on the steady clients. The cost rows run it
again at rising client counts for the inference CPU per client per interval
and the per-client state. Deterministic apart from the timings, no root, no
testbed, seconds: part of every level with the end-to-end rows, left out
with --no-health-rows.
"""
import os
import re
import subprocess

from .util import log

# (clients, intervals, fault at, fault length): the accuracy run is the
# bench's default fleet (2,000 clients, 30 minutes, faults for 5 minutes);
# the cost rows are shorter runs at more clients.
ACCURACY = {"smoke": (2000, 600, 300, 150), "quick": (2000, 1800, 900, 300),
            "full": (2000, 1800, 900, 300)}
SEEDS = {"smoke": [1], "quick": [1], "full": [1, 2, 3]}
COST = {"smoke": [2000], "quick": [1000, 4000, 10000],
        "full": [1000, 2000, 4000, 10000]}

_NUM = r"([0-9][0-9,.]*)"


def _grab(pattern, text):
    m = re.search(pattern, text)
    return float(m.group(1).replace(",", "")) if m else None


def _run(exe, clients, intervals, fault_at, fault_len, seed):
    cmd = [exe, "--clients", str(clients), "--intervals", str(intervals),
           "--fault-at", str(fault_at), "--fault-len", str(fault_len),
           "--seed", str(seed)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True,
                         timeout=900).stdout
    return {"clients": clients, "intervals": intervals, "seed": seed, "text": out,
            "false_per_1k_h": _grab(r"= " + _NUM + r" per 1,000 client-hours", out),
            "client_hours": _grab(r"in " + _NUM + r" client-hours", out),
            "inference_ns": _grab(r"inference cost: " + _NUM + r" ns", out),
            "slowest_ns": _grab(r"slowest interval " + _NUM + r" ns", out),
            "state_bytes": _grab(r"per-client state: " + _NUM + r" bytes", out),
            "feed_ns": _grab(r"histograms " + _NUM + r" ns", out)}


def run_health(env):
    exe = os.path.join(env.build, "bench", "bench_health")
    if not os.access(exe, os.X_OK):
        log("  health: %s missing, skipped" % exe)
        return {"error": "bench_health not built"}
    lvl = env.level if env.level in ACCURACY else "quick"
    n, t, at, ln = ACCURACY[lvl]
    acc = []
    for seed in SEEDS[lvl]:
        r = _run(exe, n, t, at, ln, seed)
        acc.append(r)
        log("  health accuracy, seed %d: %s false verdicts per 1,000 client-hours" % (
            seed, r["false_per_1k_h"]))
    cost = []
    for clients in COST[lvl]:
        r = _run(exe, clients, 300, 150, 100, 1)
        cost.append(r)
        log("  health cost, %d clients: %s ns inference, %s ns feed per client per "
            "interval" % (clients, r["inference_ns"], r["feed_ns"]))
    return {"accuracy": acc, "cost": cost}


def health_markdown(res):
    if "error" in res:
        return "\n## Health inference\n\nNot run: %s\n" % res["error"]
    md = ["", "## Health inference (bench/bench_health)", "",
          "The real engine over a synthetic fleet whose faults are known exactly "
          "(docs/HEALTH.md, \"Measured\"): 5% of the clients per fault kind and magnitude "
          "(times the signal's own noise), steady clients all along. Recall within 3 intervals "
          "is the issue's target (>= 0.95 at 5x); false verdicts are counted on the steady "
          "clients over the whole run.", ""]
    first = res["accuracy"][0]
    table = [l for l in first["text"].splitlines() if l.startswith("|")]
    md.append("Seed %d, %d clients, %d intervals of 1 s:" % (
        first["seed"], first["clients"], first["intervals"]))
    md.append("")
    md.extend(table)
    if len(res["accuracy"]) > 1:
        md += ["", "False verdicts on the steady clients by seed:", "",
               "| seed | steady client-hours | false verdicts per 1,000 client-hours |",
               "|---:|---:|---:|"]
        for r in res["accuracy"]:
            md.append("| %d | %s | %s |" % (r["seed"], _fmt(r["client_hours"]),
                                             _fmt(r["false_per_1k_h"], 2)))
    md += ["", "Cost (300 intervals each; CPU time of the engine and of the collector's feed, "
           "which takes each client's interval quantiles from its cumulative histogram):", "",
           "| clients | inference ns per client per interval | slowest interval | "
           "feed ns per client per interval | state bytes per client |",
           "|---:|---:|---:|---:|---:|"]
    for r in res["cost"]:
        md.append("| %d | %s | %s | %s | %s |" % (
            r["clients"], _fmt(r["inference_ns"]), _fmt(r["slowest_ns"]),
            _fmt(r["feed_ns"]), _fmt(r["state_bytes"])))
    return "\n".join(md) + "\n"


def _fmt(v, nd=0):
    if v is None:
        return "-"
    return ("{:,.%df}" % nd).format(v)
