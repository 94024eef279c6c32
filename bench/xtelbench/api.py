# SPDX-License-Identifier: MIT
"""The HTTP API's cost on the testbed (bench/run.sh --api; the figures of
docs/API.md, "Measured"):

1. ingest: the same load (1,000 plain clients, 200k datagrams/s from one
   sender thread and 300k from two, 5 s) into the collector with --http,
   once quiet and once while
   bench/api_client.py hammers the API at 1,000 requests/s over a mix of
   endpoints: loss and the receive threads' CPU per datagram side by side;
2. latency: with 10,000 and 100,000 clients in the registry, each
   endpoint's client-side p50/p99 (and the server's own figure from
   /api/v1/stats), the /metrics reply's size and time with the default
   1,000 per-client series, and the memory the API adds: the collector's
   RSS after the same load with and without --http, and its peak after the
   queries.
"""
import json
import os
import subprocess
import time

from .config import PORT
from .env import nsexec
from .procs import start_ready, stop_proc
from .util import log

HTTP = "127.0.0.1:9477"
URL = "http://" + HTTP


def _status(pid, field):
    try:
        for line in open("/proc/%d/status" % pid):
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def _rx_cpu_ns(pid):
    """On-CPU ns of the receive threads (xtel-rx*) only."""
    total = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            comm = open("/proc/%d/task/%s/comm" % (pid, tid)).read().strip()
            if comm.startswith("xtel-rx"):
                total += int(open("/proc/%d/task/%s/schedstat" % (pid, tid)).read().split()[0])
        except (OSError, ValueError):
            pass
    return total


def _veth_drops(env):
    def rd(ns, dev, what):
        r = subprocess.run(nsexec(ns, ["cat", "/sys/class/net/%s/statistics/%s" % (dev, what)]),
                           capture_output=True, text=True)
        return int(r.stdout.strip() or 0)
    return rd(env.ns_gen, env.gen_if, "tx_dropped") + rd(env.ns_col, env.col_if, "rx_dropped")


def _collector(env, tag, http, max_clients):
    d = os.path.join(env.raw, "api")
    os.makedirs(d, exist_ok=True)
    summary = os.path.join(d, tag + ".json")
    log_path = os.path.join(d, tag + ".err")
    cmd = [env.collector, "--mode", "plain", "--port", PORT, "--workers", env.workers,
           "--iface", env.col_if, "--pin-dir", os.path.join(env.bpffs, "api-" + tag),
           "--quiet", "--duration", 300, "--summary-json", summary,
           "--max-clients", max_clients]
    if http:
        cmd += ["--http", HTTP, "--http-rate", 0]
    return start_ready(env, cmd, log_path), summary


def _loadgen(env, tag, clients, rate, secs, first_id=1, threads=2):
    report = os.path.join(env.raw, "api", tag + ".lg.json")
    cmd = [env.loadgen, "--target", "%s:%d" % (env.col_ip, PORT), "--mode", "plain",
           "--clients", clients, "--threads", threads, "--first-id", first_id,
           "--rate", int(rate), "--duration", "%g" % secs,
           "--count", max(1, int(rate * secs / clients)), "--quiet",
           "--report-json", report]
    subprocess.run(nsexec(env.ns_gen, cmd), stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=secs + 120, check=True)
    return json.load(open(report))


def ingest_row(env, hammer, rate, threads):
    tag = "ingest-%d-%s" % (rate, "hammer" if hammer else "quiet")
    proc, summary = _collector(env, tag, True, 4096)
    hj = os.path.join(env.raw, "api", tag + ".hammer.json")
    hp = None
    try:
        drops0 = _veth_drops(env)
        if hammer:
            hp = subprocess.Popen(nsexec(env.ns_col, ["python3", os.path.join(
                env.src, "bench", "api_client.py"), "hammer", URL, 1000, 7, hj]))
            time.sleep(0.5)
        cpu0 = _rx_cpu_ns(proc.pid)
        lg = _loadgen(env, tag, 1000, rate, 5, threads=threads)
        time.sleep(0.3)
        cpu1 = _rx_cpu_ns(proc.pid)
        if hp:
            hp.wait(timeout=30)
    finally:
        if hp and hp.poll() is None:
            hp.kill()
        stop_proc(proc, 10)
    s = json.load(open(summary))
    row = {"hammer": hammer, "sent": lg["totals"]["sent"], "threads": threads,
           "offered_pps": rate, "achieved_pps": lg["rate"]["achieved_wire_pps"],
           "received": s["totals"]["received"], "lost": s["totals"]["lost"],
           "nic_drops": _veth_drops(env) - drops0,
           "rx_cpu_ns_per_dgram": (cpu1 - cpu0) / max(1, s["totals"]["received"])}
    row["loss"] = row["sent"] - row["received"]
    if hammer:
        row["api"] = json.load(open(hj))
    log("  api ingest %dk/s %s: %d sent, %d received, %.0f ns rx CPU/datagram%s" % (
        rate // 1000, "hammered" if hammer else "quiet", row["sent"], row["received"],
        row["rx_cpu_ns_per_dgram"],
        ", API %.0f req/s p99 %.2f ms" % (row["api"]["achieved_rps"], row["api"]["p99_ms"])
        if hammer else ""))
    return row


# Clients per loadgen run: a client is a socket, and the hard limit on open
# files here is 20,000 (and cannot be raised in this container).
FILL_CHUNK = 19000


def _fill(env, tag, clients):
    """clients clients, each sending INIT, 3 DATA (temp, load) and BYE."""
    done, first = 0, 1
    while done < clients:
        n = min(FILL_CHUNK, clients - done)
        _loadgen(env, "%s-%d" % (tag, first), n, 60000, max(1.0, n * 3 / 60000),
                 first_id=first)
        done += n
        first += n


def latency_row(env, clients):
    row = {"clients": clients}
    for http in (False, True):
        tag = "lat-%d-%s" % (clients, "http" if http else "nohttp")
        proc, _ = _collector(env, tag, http, clients + 1024)
        try:
            _fill(env, tag, clients)
            time.sleep(2.5)     # two views: every client in the snapshot
            key = "http" if http else "nohttp"
            row["rss_kb_" + key] = _status(proc.pid, "VmRSS")
            if http:
                out = os.path.join(env.raw, "api", tag + ".lat.json")
                subprocess.run(nsexec(env.ns_col, ["python3", os.path.join(
                    env.src, "bench", "api_client.py"), "latency", URL, clients, 1, out]),
                    check=True, timeout=300)
                row["endpoints"] = json.load(open(out))
                st = subprocess.run(nsexec(env.ns_col, ["curl", "-s", URL + "/api/v1/stats"]),
                                    capture_output=True, text=True, timeout=60).stdout
                row["stats"] = json.loads(st)
                row["hwm_kb_http"] = _status(proc.pid, "VmHWM")
                row["rss_kb_after_queries"] = _status(proc.pid, "VmRSS")
        finally:
            stop_proc(proc, 30)
    log("  api latency %d clients: RSS %s kB without the API, %s kB with, peak %s kB "
        "after the queries" % (clients, row["rss_kb_nohttp"], row["rss_kb_http"],
                               row["hwm_kb_http"]))
    return row


def run_api(env):
    log("== HTTP API measurements")
    res = {"ingest": [], "latency": []}
    # 300k/s needs both sender threads, which leaves the API client no
    # core of its own on 2 cores; 200k/s from one thread leaves one.
    for rate, threads in ((200000, 1), (300000, 2)):
        for hammer in (False, True):
            res["ingest"].append(ingest_row(env, hammer, rate, threads))
    for n in (10000, 100000):
        res["latency"].append(latency_row(env, n))
    return res


def api_markdown(res):
    out = ["", "## HTTP API (bench/run.sh --api)", "",
           "Ingest with and without a client hammering the API (1,000 plain clients for "
           "5 s; bench/api_client.py at 1,000 requests/s over get, clients, client, "
           "totals, aggregate and /metrics once a second):",
           "", "| offered/s (sender threads) | API load | sent | achieved/s | received | lost (of which at the veth) | rx CPU ns/datagram | API req/s | API p50 / p99 ms |",
           "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in res["ingest"]:
        a = r.get("api")
        out.append("| %dk (%d) | %s | %d | %.0f | %d | %d (%d) | %.0f | %s | %s |" % (
            r["offered_pps"] // 1000, r["threads"],
            "hammered" if r["hammer"] else "none", r["sent"], r["achieved_pps"],
            r["received"], r["loss"], r["nic_drops"], r["rx_cpu_ns_per_dgram"],
            "%.0f" % a["achieved_rps"] if a else "-",
            "%.2f / %.2f" % (a["p50_ms"], a["p99_ms"]) if a else "-"))
    for r in res["latency"]:
        server = {k: v for k, v in r["stats"]["endpoints"].items()}
        out += ["", "Latency with %d clients (client side, one keep-alive connection; "
                "server: arrival to reply queued, p99 of every request of that endpoint). "
                "Collector RSS after the load: %.1f MB without --http, %.1f MB with; "
                "peak after the queries %.1f MB." % (
                    r["clients"], r["rss_kb_nohttp"] / 1024, r["rss_kb_http"] / 1024,
                    r["hwm_kb_http"] / 1024), "",
                "| endpoint | n | reply bytes | p50 ms | p99 ms | max ms |",
                "|---|---:|---:|---:|---:|---:|"]
        for e in r["endpoints"]:
            out.append("| %s | %d | %d | %.2f | %.2f | %.2f |" % (
                e["endpoint"], e["n"], e["bytes"], e["p50_ms"], e["p99_ms"], e["max_ms"]))
        m = server.get("metrics", {}).get("latency_us", {})
        if m:
            out.append("")
            out.append("Server side, /metrics: p50 %.2f ms, p99 %.2f ms (%d scrapes)." % (
                m["p50"] / 1e3, m["p99"] / 1e3, m["count"]))
    return "\n".join(out) + "\n"
