# SPDX-License-Identifier: MIT
"""The suite's command line (bench/run.sh gives it) and its output files:
results.json, PERFORMANCE.md and img/*.png in --out, and with --publish
docs/PERFORMANCE.md and docs/img/*.png."""
import argparse
import json
import os
import shutil
import signal
import subprocess
import time

from .api import api_markdown, run_api
from .capacity import run_capacity
from .config import LEVELS
from .dashboard import dashboard_markdown, run_dashboard
from .env import Env, git_commit, loadavg, machine
from .markdown import markdown
from .health import health_markdown, run_health
from .memory import memory_markdown, run_memory
from .interval import interval_markdown, run_interval
from .aggonce import agg_once_markdown, run_agg_once
from .micro import run_micro
from .plots import plots
from .probes import probes_markdown, run_probes
from .rows import run_all
from .scale import run_scale
from .rxopts import run_rxopts, rxopts_markdown
from .abcol import ab_markdown, run_ab_dtls, run_ab_plain
from .scaleout import run_scaleout, scaleout_markdown
from .storm import run_storm, storm_markdown
from .util import log


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description="XTel benchmark suite runner (use bench/run.sh)")
    ap.add_argument("--src", required=True)
    ap.add_argument("--build", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--certs")
    ap.add_argument("--level", choices=sorted(LEVELS), default="full")
    ap.add_argument("--command", help="the command line to record in the report")
    ap.add_argument("--publish", action="store_true",
                    help="also write docs/PERFORMANCE.md and docs/img/*.png")
    ap.add_argument("--no-micro", action="store_true")
    ap.add_argument("--no-e2e", action="store_true")
    ap.add_argument("--capacity", action="store_true",
                    help="run the capacity section even with --no-e2e")
    ap.add_argument("--no-capacity", action="store_true",
                    help="leave the capacity section out")
    ap.add_argument("--many-clients", action="store_true",
                    help="the many-clients rows (scale.py; part of --capacity; "
                         "--no-micro --no-e2e --no-capacity --many-clients: only those)")
    ap.add_argument("--no-many-clients", action="store_true",
                    help="leave the many-clients rows out")
    ap.add_argument("--many-clients-dtls", action="store_true",
                    help="of the many-clients rows only the DTLS ones (up to 100,000 "
                         "DTLS clients at full level)")
    ap.add_argument("--many-clients-order", choices=("bursts", "interleaved", "both"),
                    default="bursts",
                    help="the many-clients rows' fill (plain, DTLS, the C baseline): each client's records back to "
                         "back (bursts, the default), every record from another client "
                         "(interleaved, as a fleet sends; loadgen --batch 1) or both")
    ap.add_argument("--api", action="store_true",
                    help="also measure the HTTP API (ingest under API load, latency, memory)")
    ap.add_argument("--probes", action="store_true",
                    help="also measure the download probes (throughput, accuracy, overhead)")
    ap.add_argument("--dashboard", action="store_true",
                    help="also measure the web dashboard in Chromium (1,000 and 10,000 clients)")
    ap.add_argument("--scaleout", action="store_true",
                    help="also measure edges -> NATS JetStream -> aggregator (docs/SCALE-OUT.md)")
    ap.add_argument("--storm", action="store_true",
                    help="the device restart storm, full vs resumed handshakes (part of the "
                         "default and --quick runs; --no-micro --no-e2e --storm: only that)")
    ap.add_argument("--no-storm", action="store_true", help="leave the restart storm out")
    ap.add_argument("--memory", action="store_true",
                    help="memory per plain client by component (part of every level; "
                         "--no-micro --no-e2e --memory: only that)")
    ap.add_argument("--no-memory", action="store_true", help="leave the memory rows out")
    ap.add_argument("--health-rows", action="store_true",
                    help="health inference accuracy and cost (part of every level; "
                         "--no-micro --no-e2e --health-rows: only that)")
    ap.add_argument("--no-health-rows", action="store_true",
                    help="leave the health inference rows out")
    ap.add_argument("--rxopts", action="store_true",
                    help="also the receive-path options against the default (docs/CAPACITY.md)")
    ap.add_argument("--interval", action="store_true",
                    help="the main thread's per-interval cost per client (bench_interval, "
                         "callgrind; only when asked: --no-micro --no-e2e --interval)")
    ap.add_argument("--agg-once", action="store_true",
                    help="the aggregator's exactly-once memory, ranges against the per-id "
                         "table (bench_agg_once; only when asked: --no-micro --no-e2e "
                         "--agg-once)")
    ap.add_argument("--ab-dtls", action="store_true",
                    help="the build's collector and XTEL_COLLECTOR_B's alternated on the "
                         "DTLS capacity rows (docs/CAPACITY.md; --no-micro --no-e2e --ab-dtls: "
                         "only that)")
    ap.add_argument("--ab-plain", action="store_true",
                    help="the same for the many-clients plain rows at 10 and XTEL_AB_CLIENTS "
                         "(default 100000) clients, in --many-clients-order's orders "
                         "(docs/CAPACITY.md \"The accounting record in fleet order\")")
    return ap.parse_args(argv)



def optional(wanted, what, run, env):
    """run(env) when wanted, else None; a failure is logged and kept as
    {"error": ...} so the other rows still run and the report says why."""
    if not wanted:
        return None
    try:
        return run(env)
    except (RuntimeError, OSError, subprocess.SubprocessError, KeyError, ValueError) as e:
        log("  %s failed: %s" % (what, e))
        return {"error": str(e)}

def main(argv=None):
    """Runs the suite; returns the exit status (1 when a row failed)."""
    args = parse_args(argv)
    # run.sh starts this program as a background job, which a shell starts
    # with SIGINT ignored; restore it, and make SIGTERM end the run the same
    # way, so the finally blocks stop the receiver and the generator.
    def interrupted(signum, frame):
        raise KeyboardInterrupt()

    signal.signal(signal.SIGINT, interrupted)
    signal.signal(signal.SIGTERM, interrupted)
    env = Env(args)
    env.scale_modes = ("dtls",) if args.many_clients_dtls else ("plain", "dtls")
    env.scale_orders = ("bursts", "interleaved") if args.many_clients_order == "both" \
        else (args.many_clients_order,)
    # --publish: also the fleet's order for the --no-health DTLS rows at 10
    # and the largest count (~4 min more at full level; scale.run_scale).
    env.scale_fleet_rows = args.publish and args.many_clients_order == "bursts"
    t0 = time.monotonic()
    meta = {"command": env.command, "level": env.level, "commit": git_commit(env.src),
            "machine": machine(), "workers": env.workers,
            "namespaces": [env.ns_col, env.ns_gen]}
    meta["loadavg_before"] = loadavg()
    log("== XTel bench (%s) -> %s" % (env.level, env.out))
    micro = [] if args.no_micro else run_micro(env)
    rows = [] if args.no_e2e else run_all(env)
    if (args.capacity or not args.no_e2e) and not args.no_capacity:
        rows += run_capacity(env)
    if (args.many_clients or ((args.capacity or not args.no_e2e) and not args.no_capacity)) \
            and not args.no_many_clients:
        rows += run_scale(env)
    api = run_api(env) if args.api else None
    probes = run_probes(env) if args.probes else None
    dash = run_dashboard(env) if args.dashboard else None
    scaleout = run_scaleout(env) if args.scaleout else None
    storm = optional((args.storm or not args.no_e2e) and not args.no_storm,
                     "restart storm", run_storm, env)
    memory = optional((args.memory or not args.no_e2e) and not args.no_memory,
                      "memory rows", run_memory, env)
    health = optional((args.health_rows or not args.no_e2e) and not args.no_health_rows,
                      "health rows", run_health, env)
    rxopts = run_rxopts(env) if args.rxopts else None
    ab = run_ab_dtls(env) if args.ab_dtls else None
    ab_plain = run_ab_plain(env) if args.ab_plain else None
    interval = optional(args.interval, "interval rows", run_interval, env)
    agg_once = optional(args.agg_once, "agg-once rows", run_agg_once, env)
    made = plots(env, rows)
    meta["elapsed_s"] = round(time.monotonic() - t0, 1)
    meta["loadavg_after"] = loadavg()
    result = {"meta": meta, "micro": micro, "rows": rows,
              "plots": [n for n, _ in made]}
    if api:
        result["api"] = api
    if probes:
        result["probes"] = probes
    if dash:
        result["dashboard"] = dash
    if scaleout:
        result["scaleout"] = scaleout
    if storm:
        result["storm"] = storm
    if memory:
        result["memory"] = memory
    if health:
        result["health"] = health
    if rxopts:
        result["rxopts"] = rxopts
    if ab:
        result["ab_dtls"] = ab
    if ab_plain:
        result["ab_plain"] = ab_plain
    if interval:
        result["interval"] = interval
    if agg_once:
        result["agg_once"] = agg_once
    with open(os.path.join(env.out, "results.json"), "w") as f:
        json.dump(result, f, indent=1)
    md = markdown(env, meta, micro, rows, made)
    if api:
        md += api_markdown(api)
    if probes:
        md += probes_markdown(probes)
    if dash:
        md += dashboard_markdown(dash)
    if scaleout:
        md += scaleout_markdown(scaleout)
    if storm:
        md += storm_markdown(storm)
    if memory:
        md += memory_markdown(memory)
    if health:
        md += health_markdown(health)
    if rxopts:
        md += rxopts_markdown(rxopts)
    if ab:
        md += ab_markdown(ab)
    if ab_plain:
        md += ab_markdown(ab_plain)
    if interval:
        md += interval_markdown(interval)
    if agg_once:
        md += agg_once_markdown(agg_once)
    with open(os.path.join(env.out, "PERFORMANCE.md"), "w") as f:
        f.write(md)
    if env.publish:
        _publish(env, md, made)
    bad = [r for r in rows if r.get("status") == "error"]
    # A micro-benchmark that ran and failed (not one that skipped itself).
    bad_micro = sorted({m["name"] for m in micro if "error" in m and not m.get("skipped")})
    log("== done in %.0f s: %d rows (%d errors), %d micro-benchmarks%s; results in %s" % (
        meta["elapsed_s"], len(rows), len(bad), len(micro),
        " (failed: %s)" % ", ".join(bad_micro) if bad_micro else "", env.out))
    return 1 if bad or bad_micro or (storm and "error" in storm) \
        or (memory and "error" in memory) or (health and "error" in health) else 0


def _publish(env, md, made):
    docs = os.path.join(env.src, "docs")
    os.makedirs(os.path.join(docs, "img"), exist_ok=True)
    with open(os.path.join(docs, "PERFORMANCE.md"), "w") as f:
        f.write(md)
    for name, _ in made:
        shutil.copyfile(os.path.join(env.out, "img", name), os.path.join(docs, "img", name))
    log("published docs/PERFORMANCE.md and %d plot(s) in docs/img/" % len(made))
