# SPDX-License-Identifier: MIT
"""The web dashboard's cost (bench/run.sh --dashboard; the figures of
docs/DASHBOARD.md, "Measured"): a collector on the testbed with 1,000 and
then 10,000 plain clients each sending once a second (so every client's
row changes in every interval: the stream's worst case), and headless
Chromium (bench/dashboard_load.cjs) opening its dashboard in the collector
namespace: page load time until the table shows every client, browser CPU
while the table and the overview update live, the longest task, scrolling
the virtualized table, a sort, the JS heap; and the collector's side: the
stream's bytes per event and its ticker thread's CPU.
"""
import json
import os
import subprocess
import time

from .config import PORT
from .env import nsexec
from .procs import start_ready, stop_proc
from .util import log

HTTP = "127.0.0.1:9478"
URL = "http://" + HTTP
SECONDS = 10    # of live updates per view


def _thread_cpu_ns(pid, prefix):
    """On-CPU ns of the collector's threads whose name starts with prefix."""
    total = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            comm = open("/proc/%d/task/%s/comm" % (pid, tid)).read().strip()
            if comm.startswith(prefix):
                total += int(open("/proc/%d/task/%s/schedstat" % (pid, tid)).read().split()[0])
        except (OSError, ValueError):
            pass
    return total


def _browser_env(env):
    d = os.path.join(env.build, "browser")
    r = subprocess.run(["bash", "-c", '. "$1/tests/lib/browser.sh" && browser_setup "$1" "$2"',
                        "-", env.src, d], capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError("browser: " + (r.stdout + r.stderr).strip())
    e = dict(os.environ)
    e["NODE_PATH"] = os.path.join(d, "node_modules")
    return e


def run_one(env, benv, clients):
    d = os.path.join(env.raw, "dashboard")
    os.makedirs(d, exist_ok=True)
    tag = "dash-%d" % clients
    log_path = os.path.join(d, tag + ".err")
    cmd = [env.collector, "--mode", "plain", "--port", PORT, "--workers", env.workers,
           "--iface", env.col_if, "--pin-dir", os.path.join(env.bpffs, tag),
           "--quiet", "--duration", 300, "--interval", 1, "--stale-after", 60,
           "--http", HTTP, "--http-rate", 0, "--max-clients", clients + 1024]
    proc = start_ready(env, cmd, log_path)
    lg = None
    try:
        secs = 2 * SECONDS + 25
        # one datagram per client per second; clients <= 19,000 (one
        # socket each, open files are capped at 20,000 here)
        lg = subprocess.Popen(nsexec(env.ns_gen, [str(c) for c in [
            env.loadgen, "--target", "%s:%d" % (env.col_ip, PORT), "--mode", "plain",
            "--clients", clients, "--threads", 1, "--rate", clients, "--duration", secs,
            "--payload", "temp={client};cpu_pct=20;mem_mb=512", "--quiet"]]),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(3)   # every client has sent: the table is full
        t0 = _thread_cpu_ns(proc.pid, "xtel-stream")
        w0 = time.monotonic()
        r = subprocess.run(nsexec(env.ns_col, ["node", os.path.join(
            env.src, "bench", "dashboard_load.cjs"), URL, str(clients), str(SECONDS)]),
            capture_output=True, text=True, env=benv, timeout=240)
        wall = time.monotonic() - w0
        if r.returncode:
            raise RuntimeError("dashboard_load.cjs: " + r.stderr.strip()[-300:])
        row = json.loads(r.stdout.strip().splitlines()[-1])
        row["ticker_cpu"] = (_thread_cpu_ns(proc.pid, "xtel-stream") - t0) / 1e9 / wall
        st = subprocess.run(nsexec(env.ns_col, ["curl", "-s", URL + "/api/v1/stats"]),
                            capture_output=True, text=True, timeout=30).stdout
        s = json.loads(st)["streams"]
        row["stream"] = s
        row["bytes_per_event"] = s["bytes"] / max(1, s["events"])
    finally:
        if lg and lg.poll() is None:
            lg.terminate()
            try:
                lg.wait(timeout=10)
            except subprocess.TimeoutExpired:
                lg.kill()
        stop_proc(proc, 10)
    log("  dashboard %d clients: load %d ms, table CPU %.0f%% main thread / %.0f%% chromium, "
        "overview %.0f%% / %.0f%%, longest task %.0f ms, %d rows in the DOM, sort %d ms, "
        "%.0f kB per event" % (
            clients, row["load_ms"], 100 * row["cpu"]["table"]["main_thread"],
            100 * row["cpu"]["table"]["chromium"], 100 * row["cpu"]["overview"]["main_thread"],
            100 * row["cpu"]["overview"]["chromium"], row["cpu"]["table"]["longest_task_ms"],
            row["scroll"]["rows_in_dom_max"], row["sort_ms"], row["bytes_per_event"] / 1024))
    return row


def run_dashboard(env):
    log("== dashboard measurements")
    benv = _browser_env(env)
    return {"rows": [run_one(env, benv, n) for n in (1000, 10000)]}


def dashboard_markdown(res):
    out = ["", "## Dashboard (bench/run.sh --dashboard)", "",
           "Headless Chromium on the dashboard of a collector whose clients each send once a "
           "second (every row changes every interval), %d s of live updates per view; CPU as "
           "a fraction of one core." % SECONDS, "",
           "| clients | load ms | table: main thread / all chromium CPU | longest task ms (> 50 ms) "
           "| overview: main / chromium CPU | rows in DOM | scroll frame median / max ms "
           "| sort ms | heap MB | kB per event | ticker CPU |",
           "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in res["rows"]:
        t, o = r["cpu"]["table"], r["cpu"]["overview"]
        out.append("| %d | %d | %.1f%% / %.1f%% | %.0f (%d) | %.1f%% / %.1f%% | %d | %.1f / %.1f "
                   "| %d | %.1f | %.0f | %.2f%% |" % (
                       r["clients"], r["load_ms"], 100 * t["main_thread"], 100 * t["chromium"],
                       t["longest_task_ms"], t["tasks_over_50ms"], 100 * o["main_thread"],
                       100 * o["chromium"], r["scroll"]["rows_in_dom_max"],
                       r["scroll"]["median_frame_ms"], r["scroll"]["longest_frame_ms"],
                       r["sort_ms"], r["heap_mb"], r["bytes_per_event"] / 1024,
                       100 * r["ticker_cpu"]))
    return "\n".join(out) + "\n"
