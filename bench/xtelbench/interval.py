# SPDX-License-Identifier: MIT
"""The main thread's per-interval cost per client (issues 16 and 13;
docs/CAPACITY.md, "Per-interval cost"): bench/bench_interval feeds N plain
clients one DATA each per interval through the real registries and builds
each interval's view with the real model, health on and off. Under
callgrind (valgrind, when installed) the instructions of xtel_model_update
per client per interval are the difference between a run of 6 and one of
3 measured intervals (both after 2 warm-up ones) over 3 x N: repeatable,
unlike the CPU time beside them. Needs no root and no testbed: `bench/run.sh
--no-micro --no-e2e --interval` runs only it (~1 minute); no level runs it
unless asked.
"""
import json
import os
import shutil
import tempfile

from .util import callgrind_ir, log, run_out

CLIENTS = {"smoke": 2000, "quick": 20000, "full": 20000}


def _ir(exe, clients, intervals, extra, tmp):
    return callgrind_ir([exe, "--clients", str(clients), "--intervals", str(intervals)] + extra,
                        ["xtel_model_update"], os.path.join(tmp, "cg.out"))


def run_interval(env):
    exe = os.path.join(env.build, "bench", "bench_interval")
    if not os.access(exe, os.X_OK):
        log("  interval: %s missing, skipped" % exe)
        return {"error": "bench_interval not built"}
    clients = CLIENTS.get(env.level, CLIENTS["quick"])
    rows = []
    for health in (True, False):
        extra = [] if health else ["--no-health"]
        r = json.loads(run_out([exe, "--clients", str(clients), "--intervals", "6",
                             "--json"] + extra).stdout)
        if shutil.which("valgrind"):
            with tempfile.TemporaryDirectory() as tmp:
                a = _ir(exe, clients, 3, extra, tmp)
                b = _ir(exe, clients, 6, extra, tmp)
            if a and b:
                r["ir_per_client_ivl"] = (b - a) / (3.0 * clients)
        rows.append(r)
        log("  interval %d clients, health %s: %s Ir, %.0f ns per client per interval" % (
            clients, "on" if health else "off",
            "%.0f" % r["ir_per_client_ivl"] if "ir_per_client_ivl" in r else "-",
            r["ns_per_client_ivl"]))
    return {"rows": rows}


def interval_markdown(res):
    if "error" in res:
        return "\n## Per-interval cost per client\n\nNot run: %s\n" % res["error"]
    md = ["", "## Per-interval cost per client", "",
          "bench/bench_interval: N plain clients, one DATA each per interval (two metrics, "
          "log-normal latency around 50 us), the real registries and model; instructions of "
          "the view build per client per interval (callgrind, 6 minus 3 measured intervals) "
          "and its CPU time (noisy).", "",
          "| clients | health | Ir per client per interval | ns per client per interval |",
          "|---:|---|---:|---:|"]
    for r in res["rows"]:
        ir = r.get("ir_per_client_ivl")
        md.append("| %d | %s | %s | %.0f |" % (
            r["clients"], "on" if r["health"] else "off",
            "%.0f" % ir if ir else "-", r["ns_per_client_ivl"]))
    return "\n".join(md) + "\n"
