# SPDX-License-Identifier: MIT
"""Scale-out on the testbed (bench/run.sh --scaleout; the figures of
docs/SCALE-OUT.md, "Measured"). In the collector namespace: a 3-node
NATS JetStream cluster (tests/lib/nats_cluster.sh, R3 stream) and one
aggregator (collector --aggregate); then

1. fleet rows: bench/bench_scaleout (the edge exporter code, synthetic
   views in which every client changes every interval) with 10,000 clients
   on 1 edge and 100,000 clients over 4 edges: client rollups/s from push
   to JetStream acks, push to visible in the aggregator's /api/v1/totals,
   bytes per client rollup on the wire, encode cost per client, and the
   aggregator's CPU per 10,000 client rollups (/proc/PID/stat);
2. edge overhead: the same load (1,000 plain clients, 200k datagrams/s,
   5 s) into an edge collector without and with --export, one run each,
   side by side: loss and the receive threads' CPU per datagram.
"""
import json
import os
import subprocess
import tempfile
import time

from .api import _loadgen, _rx_cpu_ns, _veth_drops
from .config import PORT
from .env import nsexec
from .procs import start_ready, stop_proc
from .util import log

NATS_BASE = 19500
AGG_HTTP = "127.0.0.1:19540"
URLS = ",".join("nats://127.0.0.1:%d" % (NATS_BASE + i) for i in range(3))


def _ticks(pid):
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return int(f[11]) + int(f[12])      # utime + stime


class Cluster:
    """The NATS cluster of tests/lib/nats_cluster.sh, alive while a bash
    holding it waits on its stdin."""

    def __init__(self, env, workdir):
        lib = os.path.join(env.src, "tests", "lib", "nats_cluster.sh")
        script = ('. "%s"; trap nats_down EXIT; nats_up "%s" %d ip netns exec %s || exit 1; '
                  'echo ready; read _' % (lib, workdir, NATS_BASE, env.ns_col))
        self.proc = subprocess.Popen(["bash", "-c", script], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if line.strip() != "ready":
            self.close()
            raise RuntimeError("NATS cluster did not start: " + line)

    def close(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("\n")
                self.proc.stdin.flush()
            except OSError:
                pass
            self.proc.wait(timeout=30)


def _aggregator(env, workdir):
    log_path = os.path.join(env.raw, "scaleout", "agg.err")
    cmd = [env.collector, "--aggregate", URLS, "--agg-db", os.path.join(workdir, "agg.db"),
           "--agg-replicas", 3, "--agg-batch", 256, "--http", AGG_HTTP, "--http-rate", 0,
           "--interval", 0.1, "--stale-after", 60]
    return start_ready(env, cmd, log_path, "aggregator", ready="aggregate: consumer",
                       timeout=30.0)


def _agg_stats(env):
    out = subprocess.run(nsexec(env.ns_col, ["curl", "-sf", "http://%s/api/v1/stats" % AGG_HTTP]),
                         capture_output=True, text=True, timeout=30).stdout
    return json.loads(out)["aggregate"]


def fleet_row(env, agg, edges, clients, intervals, site):
    bench = os.path.join(env.build, "bench", "bench_scaleout")
    st0, t0 = _agg_stats(env), _ticks(agg.pid)
    r = subprocess.run(nsexec(env.ns_col, [
        bench, "--nats", URLS, "--edges", edges, "--clients", clients,
        "--intervals", intervals, "--site", site, "--agg-url", "http://" + AGG_HTTP]),
        capture_output=True, text=True, timeout=600)
    time.sleep(0.5)
    st1, t1 = _agg_stats(env), _ticks(agg.pid)
    lines = [json.loads(x) for x in r.stdout.splitlines() if x.startswith("{")]
    if r.returncode or not lines or not lines[-1].get("summary"):
        raise RuntimeError("bench_scaleout failed: " + r.stderr[-300:])
    rollups = st1["client_rollups"] - st0["client_rollups"]
    hz = os.sysconf("SC_CLK_TCK")
    row = dict(lines[-1])
    row["per_interval"] = lines[:-1]
    row["agg_rollups"] = rollups
    row["agg_cpu_ms_per_10k"] = (t1 - t0) / hz * 1e3 / max(1, rollups) * 1e4
    row["agg_checkpoint_ms_per_10k"] = ((st1["checkpoint_ns"] - st0["checkpoint_ns"]) /
                                        1e6 / max(1, rollups) * 1e4)
    log("  scale-out %d clients over %d edge(s): %.0f rollups/s, visible in %.2f s, "
        "%.0f B/client, encode %.0f ns/client, aggregator %.0f ms CPU per 10k" % (
            clients, edges, row["rollups_per_s"], row["visible_s"], row["bytes_per_client"],
            row["encode_ns_per_client"], row["agg_cpu_ms_per_10k"]))
    return row


def overhead_row(env, export):
    tag = "edge-%s" % ("export" if export else "plain")
    d = os.path.join(env.raw, "scaleout")
    summary = os.path.join(d, tag + ".json")
    log_path = os.path.join(d, tag + ".err")
    cmd = [env.collector, "--mode", "plain", "--port", PORT, "--workers", env.workers,
           "--iface", env.col_if, "--pin-dir", os.path.join(env.bpffs, "so-" + tag),
           "--quiet", "--duration", 300, "--summary-json", summary, "--max-clients", 4096]
    if export:
        cmd += ["--export", URLS, "--site", "overhead", "--edge", "edge1"]
    proc = start_ready(env, cmd, log_path)
    try:
        drops0 = _veth_drops(env)
        cpu0 = _rx_cpu_ns(proc.pid)
        lg = _loadgen(env, tag, 1000, 200000, 5, threads=1)
        time.sleep(0.3)
        cpu1 = _rx_cpu_ns(proc.pid)
    finally:
        stop_proc(proc, 30)
    s = json.load(open(summary))
    row = {"export": export, "sent": lg["totals"]["sent"],
           "received": s["totals"]["received"], "nic_drops": _veth_drops(env) - drops0,
           "rx_cpu_ns_per_dgram": (cpu1 - cpu0) / max(1, s["totals"]["received"]),
           "process_cpu_ns_per_dgram": s["rusage"].get("cpu_ns_per_datagram"),
           "export_counters": s.get("export")}
    row["loss"] = row["sent"] - row["received"]
    log("  edge %s: %d sent, %d received, %.0f ns rx CPU/datagram" % (
        "with --export" if export else "without export", row["sent"], row["received"],
        row["rx_cpu_ns_per_dgram"]))
    return row


def run_scaleout(env):
    log("== scale-out (NATS JetStream) measurements")
    os.makedirs(os.path.join(env.raw, "scaleout"), exist_ok=True)
    os.makedirs(os.path.join(env.raw, "api"), exist_ok=True)    # _loadgen's reports
    res = {"fleet": [], "overhead": []}
    with tempfile.TemporaryDirectory(prefix="xtel-scaleout-") as w:
        cluster = Cluster(env, os.path.join(w, "nats"))
        agg = None
        try:
            agg = _aggregator(env, w)
            res["fleet"].append(fleet_row(env, agg, 1, 10000, 6, "fleet10k"))
            res["fleet"].append(fleet_row(env, agg, 4, 100000, 4, "fleet100k"))
            for export in (False, True):
                res["overhead"].append(overhead_row(env, export))
        finally:
            if agg:
                stop_proc(agg, 30)
            cluster.close()
    return res


def scaleout_markdown(res):
    out = ["", "## Scale-out (bench/run.sh --scaleout)", "",
           "Edge exporters (bench/bench_scaleout: the edge code, synthetic views, every "
           "client changing every interval) -> 3-node NATS JetStream, R3 -> one aggregator "
           "(checkpoint in SQLite before each ack). Means over the intervals after the first:",
           "", "| clients (edges) | client rollups/s, push to JetStream acks | push to "
           "visible in the aggregator's API, s | end to end, rollups/s | bytes/client "
           "rollup | encode ns/client | aggregator CPU ms per 10k rollups | SQLite commit "
           "wall ms per 10k |",
           "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in res["fleet"]:
        out.append("| %d (%d) | %.0f | %.2f | %.0f | %.0f | %.0f | %.0f | %.0f |" % (
            r["clients"], r["edges"], r["rollups_per_s"], r["visible_s"],
            r["clients"] / r["visible_s"] if r["visible_s"] else 0,
            r["bytes_per_client"], r["encode_ns_per_client"], r["agg_cpu_ms_per_10k"],
            r["agg_checkpoint_ms_per_10k"]))
    out += ["", "Edge receive path, same load (1,000 plain clients, 200k datagrams/s, 5 s), "
            "one run each:", "",
            "| edge | sent | received | lost (of which at the veth) | rx CPU ns/datagram | "
            "process CPU ns/datagram |", "|---|---:|---:|---:|---:|---:|"]
    for r in res["overhead"]:
        out.append("| %s | %d | %d | %d (%d) | %.0f | %s |" % (
            "--export" if r["export"] else "no export", r["sent"], r["received"],
            r["loss"], r["nic_drops"], r["rx_cpu_ns_per_dgram"],
            "%.0f" % r["process_cpu_ns_per_dgram"] if r["process_cpu_ns_per_dgram"] else "-"))
    return "\n".join(out) + "\n"
