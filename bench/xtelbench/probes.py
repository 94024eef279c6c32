# SPDX-License-Identifier: MIT
"""The download probes' figures (bench/run.sh --probes; docs/PROBES.md,
"Measured"):

1. throughput: probe-server on the collector namespace's loopback, no
   throttle, 1, 8 and 64 concurrent downloads (the probe client on the
   same two cores): aggregate Gbit/s and CPU seconds per GB of the server
   and of the client;
2. accuracy: one device downloading under server throttles of 5, 20, 100
   and 500 Mbit/s: measured / throttled speed (median and worst) for the
   whole-body speed and the speed after the warm-up;
3. overhead: a DTLS collector (--no-xdp) receiving telemetry from 100
   loadgen clients at a fixed rate, once alone and once while 1,000
   probing devices download from a probe-server on the collector's host
   and send their results to the same collector: loss of the telemetry
   (its clients only) and the receive threads' CPU per datagram, side by
   side.
"""
import json
import os
import statistics
import subprocess
import time

from .api import _rx_cpu_ns
from .config import PORT
from .env import nsexec
from .procs import start_ready, stop_proc
from .util import log

SRV_PORT = 19630
PROBE_DEVICES = 1000
TELEMETRY_CLIENTS = 100
CERTS_NEEDED = TELEMETRY_CLIENTS + PROBE_DEVICES


def _exe(env, *path):
    return os.path.join(env.build, *path)


def _cpu_s(pid):
    """utime + stime of a process, seconds."""
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def _certs(env):
    d = env.certs
    if not d or not os.path.exists(os.path.join(d, "client-%d.crt" % CERTS_NEEDED)):
        d = os.path.join(env.out, "probe-certs")
        if not os.path.exists(os.path.join(d, "client-%d.crt" % CERTS_NEEDED)):
            log("  certificates for %d devices (certs/gen.sh)" % CERTS_NEEDED)
            subprocess.run([os.path.join(env.src, "certs", "gen.sh"), d, str(CERTS_NEEDED)],
                           check=True, stdout=subprocess.DEVNULL)
    return d


class _Server:
    """probe-server in a namespace, with its CPU time read at the end."""

    def __init__(self, env, certs, tag, listen, *extra):
        self.err = os.path.join(env.raw, "probes", tag + ".err")
        self.summary = os.path.join(env.raw, "probes", tag + ".json")
        cmd = [_exe(env, "userspace", "probe_server", "probe-server"), "--listen", listen,
               "--cert", certs + "/server.crt", "--key", certs + "/server.key",
               "--ca", certs + "/ca.crt", "--summary-json", self.summary,
               "--duration", 600] + list(extra)
        self.proc = start_ready(env, cmd, self.err, "probe-server", ready="listening on",
                                timeout=5.0)

    def cpu_s(self):
        # ip netns exec execs the server: the pid is the server's.
        return _cpu_s(self.proc.pid)

    def stop(self):
        stop_proc(self.proc, 10)


def _probe(env, certs, tag, server, *args, ns=None):
    log_path = os.path.join(env.raw, "probes", tag + ".jsonl")
    rep = os.path.join(env.raw, "probes", tag + ".report.json")
    cmd = [_exe(env, "loadgen", "probe"), "--server", server, "--certs", certs,
           "--quiet", "--log", log_path, "--report-json", rep] + [str(a) for a in args]
    t0 = os.times()
    subprocess.run(nsexec(ns or env.ns_col, cmd), stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=600, check=True)
    t1 = os.times()
    rows = [json.loads(l) for l in open(log_path)]
    return rows, json.load(open(rep)), (t1.children_user + t1.children_system) - (
        t0.children_user + t0.children_system)


def throughput_row(env, certs, conc, size):
    srv = _Server(env, certs, "tput-%d" % conc, "127.0.0.1:%d" % SRV_PORT)
    try:
        cpu0 = srv.cpu_s()
        rows, _, client_cpu = _probe(env, certs, "tput-%d" % conc,
                                     "https://127.0.0.1:%d" % SRV_PORT, "--devices", conc,
                                     "--count", 1, "--interval", 0.01, "--size", size,
                                     "--parallel", conc, "--timeout", 120)
        cpu1 = srv.cpu_s()
    finally:
        srv.stop()
    ok = [r for r in rows if r["ok"]]
    t0 = min(r["timesecs"] for r in ok)
    t1 = max(r["timesecs"] + r["seconds"] for r in ok)
    gb = sum(r["bytes"] for r in ok) / 1e9
    row = {"concurrent": conc, "size": size, "ok": len(ok), "gbit_s": gb * 8 / (t1 - t0),
           "server_cpu_s_per_gb": (cpu1 - cpu0) / gb, "client_cpu_s_per_gb": client_cpu / gb}
    log("  probe throughput, %d concurrent: %.2f Gbit/s (server %.2f, client %.2f CPU s/GB)" % (
        conc, row["gbit_s"], row["server_cpu_s_per_gb"], row["client_cpu_s_per_gb"]))
    return row


def accuracy_row(env, certs, mbps):
    size = max(262144, int(mbps * 1e6 / 8))		# about 1 s a download
    srv = _Server(env, certs, "acc-%g" % mbps, "127.0.0.1:%d" % SRV_PORT, "--throttle", mbps)
    try:
        rows, _, _ = _probe(env, certs, "acc-%g" % mbps, "https://127.0.0.1:%d" % SRV_PORT,
                            "--count", 3, "--interval", 1.5, "--size", size, "--timeout", 10)
    finally:
        srv.stop()
    r = [x["bits_per_second"] / 1e6 / mbps for x in rows if x["ok"]]
    w = [x["bits_per_second_warm"] / 1e6 / mbps for x in rows if x.get("bits_per_second_warm")]
    row = {"throttle_mbps": mbps, "n": len(r),
           "median_ratio": statistics.median(r) if r else None,
           "worst_err_pct": max(abs(x - 1) for x in r) * 100 if r else None,
           "warm_median_ratio": statistics.median(w) if w else None}
    log("  probe accuracy at %g Mbit/s: median %.4f, worst %.2f %%" % (
        mbps, row["median_ratio"] or 0, row["worst_err_pct"] or 0))
    return row


def _collector(env, certs, tag):
    d = os.path.join(env.raw, "probes")
    summary = os.path.join(d, tag + ".collector.json")
    err = os.path.join(d, tag + ".collector.err")
    cmd = [env.collector, "--mode", "dtls", "--port", PORT, "--workers", env.workers,
           "--no-xdp", "--cert", certs + "/server.crt", "--key", certs + "/server.key",
           "--ca", certs + "/ca.crt", "--quiet", "--duration", 600,
           "--summary-json", summary, "--max-clients", 8192]
    return start_ready(env, cmd, err), summary


def overhead_row(env, certs, probing, rate, secs):
    tag = "overhead-%s" % ("probes" if probing else "alone")
    col, summary = _collector(env, certs, tag)
    srv = pr = None
    try:
        if probing:
            srv = _Server(env, certs, tag, "%s:%d" % (env.col_ip, SRV_PORT))
            plog = os.path.join(env.raw, "probes", tag + ".jsonl")
            prep = os.path.join(env.raw, "probes", tag + ".report.json")
            pr = subprocess.Popen(nsexec(env.ns_gen, [
                _exe(env, "loadgen", "probe"), "--server",
                "https://%s:%d" % (env.col_ip, SRV_PORT), "--certs", certs,
                "--first-id", TELEMETRY_CLIENTS + 1, "--devices", PROBE_DEVICES,
                "--interval", 5, "--duration", secs + 10, "--size", 65536,
                "--collector", "%s:%d" % (env.col_ip, PORT), "--log", plog,
                "--report-json", prep]), stdout=subprocess.DEVNULL,
                stderr=open(os.path.join(env.raw, "probes", tag + ".probe.err"), "w"))
            # Its 1,000 DTLS handshakes first; the probes start after them.
            for _ in range(600):
                if "started" in open(os.path.join(env.raw, "probes", tag + ".probe.err")).read():
                    break
                time.sleep(0.1)
            time.sleep(2)
        cpu0 = _rx_cpu_ns(col.pid)
        lgrep = os.path.join(env.raw, "probes", tag + ".lg.json")
        subprocess.run(nsexec(env.ns_gen, [
            env.loadgen, "--target", "%s:%d" % (env.col_ip, PORT), "--mode", "dtls",
            "--certs", certs, "--clients", TELEMETRY_CLIENTS, "--threads", 2,
            "--rate", int(rate), "--duration", secs, "--quiet", "--report-json", lgrep]),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=secs + 120,
            check=True)
        time.sleep(0.3)
        cpu1 = _rx_cpu_ns(col.pid)
        if pr:
            pr.wait(timeout=secs + 120)
    finally:
        if pr and pr.poll() is None:
            pr.kill()
        if srv:
            srv.stop()
        stop_proc(col, 10)
    lg = json.load(open(lgrep))
    s = json.load(open(summary))
    tele = [c for c in s["clients"] if c["client_id"] <= TELEMETRY_CLIENTS]
    received = sum(c["received"] for c in tele)
    row = {"probing": probing, "offered_pps": rate, "sent": lg["totals"]["sent"],
           "received": received, "loss": lg["totals"]["sent"] - received,
           "rx_cpu_ns_per_dgram": (cpu1 - cpu0) / max(1, s["totals"]["received"])}
    if probing:
        p = json.load(open(prep))
        row["probe_downloads"] = p["counters"]["started"]
        row["probe_ok"] = p["kinds"]["ok"]
        row["probe_results_sent"] = p["counters"]["results_sent"]
        probe_clients = [c for c in s["clients"] if c["client_id"] > TELEMETRY_CLIENTS]
        row["probe_results_received"] = sum(c["by_type"]["DATA"] for c in probe_clients)
    row["loss_pct"] = 100.0 * row["loss"] / max(1, row["sent"])
    log("  probe overhead, telemetry %dk/s %s: %d sent, %d lost (%.3f %%), %.0f ns rx CPU/datagram" % (
        rate // 1000, "with 1,000 probing devices" if probing else "alone", row["sent"],
        row["loss"], row["loss_pct"], row["rx_cpu_ns_per_dgram"]))
    return row


def run_probes(env):
    os.makedirs(os.path.join(env.raw, "probes"), exist_ok=True)
    quick = env.level != "full"
    certs = _certs(env)
    res = {"throughput": [], "accuracy": [], "overhead": []}
    log("== probes")
    for conc, size in ((1, 1 << 30), (8, 128 << 20), (64, 16 << 20)):
        if quick:
            size //= 4
        res["throughput"].append(throughput_row(env, certs, conc, size))
    for mbps in (5, 20, 100, 500):
        res["accuracy"].append(accuracy_row(env, certs, mbps))
    rate = int(os.environ.get("XTEL_BENCH_PROBE_RATE", "50000" if quick else "100000"))
    secs = 5 if quick else 10
    for probing in (False, True):
        res["overhead"].append(overhead_row(env, certs, probing, rate, secs))
    return res


def probes_markdown(res):
    md = ["", "## Download probes", "",
          "probe-server throughput on loopback (the client on the same cores):", "",
          "| concurrent downloads | object | Gbit/s | server CPU s/GB | client CPU s/GB |",
          "|---|---|---|---|---|"]
    for r in res["throughput"]:
        md.append("| %d | %d MiB | %.2f | %.2f | %.2f |" % (
            r["concurrent"], r["size"] >> 20, r["gbit_s"], r["server_cpu_s_per_gb"],
            r["client_cpu_s_per_gb"]))
    md += ["", "Speed against the server's throttle (one device, ~1 s downloads):", "",
           "| throttle Mbit/s | downloads | measured / throttle (median) | worst error | after warm-up (median) |",
           "|---|---|---|---|---|"]
    for r in res["accuracy"]:
        md.append("| %g | %d | %.4f | %.2f %% | %s |" % (
            r["throttle_mbps"], r["n"], r["median_ratio"] or 0, r["worst_err_pct"] or 0,
            "%.4f" % r["warm_median_ratio"] if r["warm_median_ratio"] else "-"))
    md += ["", "Telemetry beside 1,000 probing devices (DTLS collector, --no-xdp):", "",
           "| probing | telemetry offered/s | sent | lost | loss % | rx CPU ns/datagram | downloads (ok) | results sent / accounted |",
           "|---|---|---|---|---|---|---|---|"]
    for r in res["overhead"]:
        md.append("| %s | %d | %d | %d | %.3f | %.0f | %s | %s |" % (
            "yes" if r["probing"] else "no", r["offered_pps"], r["sent"], r["loss"],
            r["loss_pct"], r["rx_cpu_ns_per_dgram"],
            "%d (%d)" % (r["probe_downloads"], r["probe_ok"]) if r["probing"] else "-",
            "%d / %d" % (r["probe_results_sent"], r["probe_results_received"])
            if r["probing"] else "-"))
    return "\n".join(md) + "\n"
