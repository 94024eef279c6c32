# SPDX-License-Identifier: MIT
"""The device restart storm (issue 16; docs/CAPACITY.md, "Restart storm"):
N DTLS devices are connected to one collector (--no-xdp), then all close
their sessions and reconnect at once (loadgen --reconnect 1), once with
full handshakes and once resuming their session tickets (--resume), side
by side in one run against the same collector. Per storm: the time until
every device was back (the loadgen's slowest thread) and the collector's
receive-thread CPU per reconnect handshake: from the loadgen's "reconnect
round 1" line to its "reconnects done", divided by N (it includes the
close_notify of each old session and the cookie exchange). One loadgen thread: its 64 handshakes in flight fit
the collector's per-source half-open cap (a quarter of 256 per worker; all
devices share the generator's one address). N: 1,000 in --quick (the certificates made for the
DTLS rows), 10,000 in the default level.

The full storm runs four times, in the order A B B A: against a collector
with the verification cache off (--verify-cache 0, "full-nocache") and
against the default one (the devices' first handshakes filled the cache,
so each full reconnect's chain check is a hit: "full"), so the two are
side by side in one run; the ratios are of their means.

Beside it, when valgrind is installed, the DTLS server's own instructions per
handshake (bench/resume_prof under callgrind, in memory, no kernel: repeatable on a
busy machine, unlike the CPU figures): 200 resumed and 20 full handshakes,
and 20 full ones each with the verification cache cold and warm.
"""
import json
import os
import re
import shutil
import subprocess
import time

from .api import _rx_cpu_ns
from .config import PORT
from .env import nsexec
from .procs import stop_proc, wait_ready
from .util import log

DEVICES = {"quick": 1000, "full": 10000}


def _loadgen(env, n, tag, pid):
    """One run with a storm; the receive threads' CPU from the loadgen's
    "reconnect round 1" line to its "reconnects done" (polled every ms)."""
    rep = os.path.join(env.raw, "storm", tag + ".json")
    err = rep[:-5] + ".err"
    extra = ["--resume"] if tag == "resumed" else []
    lg = subprocess.Popen(nsexec(env.ns_gen, [
        env.loadgen, "--target", "%s:%d" % (env.col_ip, PORT), "--mode", "dtls",
        "--certs", env.certs, "--clients", n, "--threads", 1, "--count", 1,
        "--rate", 100000, "--handshake-timeout", 60, "--quiet", "--reconnect", 1,
        "--report-json", rep] + extra),
        stdout=subprocess.DEVNULL, stderr=open(err, "w"))
    marks, deadline = [], time.monotonic() + 600
    try:
        for want in ("reconnect round 1", "reconnects done"):
            while want not in open(err).read():
                if lg.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("loadgen (%s): %s" % (tag, open(err).read()[-300:]))
                time.sleep(0.001)
            marks.append(_rx_cpu_ns(pid))
        if lg.wait(timeout=120) != 0:
            raise RuntimeError("loadgen (%s) exit %d" % (tag, lg.returncode))
    finally:
        if lg.poll() is None:
            lg.kill()
    return json.load(open(rep)), marks[1] - marks[0]


CALLGRIND_N = {"resumed": 200, "full": 20, "full-cold": 20, "full-warm": 20}
# resume_prof's arguments per kind: "full" without the verification cache,
# "full-cold" with one whose every look-up misses (2 certificates in turn, 1
# entry), "full-warm" every look-up a hit (1 certificate).
CALLGRIND_ARGS = {"resumed": [], "full": ["--full"],
                  "full-cold": ["--full", "--verify-cache", "1", "--clients", "2"],
                  "full-warm": ["--full", "--verify-cache", "64"]}


def _revocation_args(env):
    """resume_prof's arguments of the revocation kinds (docs/COLLECTOR.md
    --crl): "full-crl" a device of the CA with --crl (certs/gen.sh crl),
    "full-chain" one behind an intermediate CA (certs/gen.sh chain) without,
    "full-chain-crl" with both CAs' CRLs; {} when gen.sh cannot make them."""
    gen = os.path.join(env.src, "certs", "gen.sh")
    ch = os.path.join(env.certs, "chain")
    if any(subprocess.run([gen] + a, capture_output=True).returncode != 0
           for a in (["crl", env.certs], ["chain", env.certs, "1"])):
        return {}
    chain = ["--full", "--client-ca", os.path.join(ch, "root.crt"), "--client-dir", ch]
    return {"full-crl": ["--full", "--crl", os.path.join(env.certs, "crl.pem")],
            "full-chain": chain,
            "full-chain-crl": chain + ["--crl", os.path.join(ch, "crl.pem")]}


def _server_ir(env):
    """Callgrind Ir of the DTLS server per resumed and per full handshake
    (bench/resume_prof), or None without valgrind or the program."""
    prog = os.path.join(env.build, "bench", "resume_prof")
    if not shutil.which("valgrind") or not os.access(prog, os.X_OK):
        return None
    out = {}
    args = dict(CALLGRIND_ARGS, **_revocation_args(env))
    for kind in args:
        n = CALLGRIND_N.get(kind, 20)
        cg = os.path.join(env.raw, "storm", "callgrind-%s.out" % kind)
        r = subprocess.run(["valgrind", "--tool=callgrind", "--collect-atstart=no",
                            "--toggle-collect=server_feed", "--callgrind-out-file=" + cg,
                            prog, env.certs, str(n)] + args[kind],
                           capture_output=True, text=True, timeout=600)
        m = re.search(r"Collected : (\d+)", r.stderr)
        if r.returncode != 0 or not m:
            raise RuntimeError("resume_prof (%s): %s" % (kind, (r.stdout + r.stderr)[-300:]))
        out[kind] = int(m.group(1)) / n
        log("  server instructions per %s handshake (callgrind): %.0f" % (kind, out[kind]))
    return out


def run_storm(env):
    n = DEVICES.get(env.level)
    if not n or not env.certs or not os.path.exists(
            os.path.join(env.certs, "client-%d.crt" % n)):
        return None
    d = os.path.join(env.raw, "storm")
    os.makedirs(d, exist_ok=True)
    log("== restart storm: %d devices reconnecting at once, full vs resumed" % n)
    runs, s = [], None
    # The full storm with the cache off and on in the order A B B A, so a
    # drift of the machine's load weighs on both alike.
    nocache = ["--verify-cache", 0]
    for cname, extra, tags in (("nocache-1", nocache, ("full-nocache",)),
                               ("cache-1", [], ("full", "resumed")),
                               ("cache-2", [], ("full",)),
                               ("nocache-2", nocache, ("full-nocache",))):
        summary, err = os.path.join(d, cname + ".json"), os.path.join(d, cname + ".err")
        cmd = [env.collector, "--mode", "dtls", "--port", PORT, "--workers", env.workers,
               "--no-xdp", "--cert", env.certs + "/server.crt", "--key", env.certs + "/server.key",
               "--ca", env.certs + "/ca.crt", "--quiet", "--duration", 900,
               "--summary-json", summary, "--max-clients", 2 * n + 1024,
               "--max-sessions", 2 * n + 1024] + extra
        col = subprocess.Popen(nsexec(env.ns_col, cmd), stdout=subprocess.DEVNULL,
                               stderr=open(err, "w"))
        try:
            if not wait_ready(env, "io_uring", col, err):
                raise RuntimeError("collector did not start: " + open(err).read()[-300:])
            for tag in tags:
                runs.append((tag,) + _loadgen(env, n, tag, col.pid))
        finally:
            stop_proc(col, 20)
        if "resumed" in tags:
            s = json.load(open(summary))["dtls"]
    rows = []
    for tag, lg, cpu in runs:
        rc = lg["reconnect"]
        t = rc["time_s"]
        rows.append({"kind": tag, "devices": n, "reconnected": rc["ok"],
                     "resumed": rc["resumed"], "failed": lg["handshakes"]["failed"],
                     "time_s": t, "per_s": rc["ok"] / t if t else 0,
                     "cpu_us_per_handshake": cpu / 1e3 / max(1, rc["ok"])})
        log("  %-12s %d/%d back in %.3f s (%d resumed), %.0f us collector CPU per handshake" % (
            tag, rc["ok"], n, t, rc["resumed"], rows[-1]["cpu_us_per_handshake"]))

    def mean(kind, key):
        v = [r[key] for r in rows if r["kind"] == kind]
        return sum(v) / len(v)
    full_cpu, res_cpu = mean("full", "cpu_us_per_handshake"), mean("resumed", "cpu_us_per_handshake")
    full_t, res_t = mean("full", "time_s"), mean("resumed", "time_s")
    ir = _server_ir(env)
    return {"devices": n, "workers": env.workers, "rows": rows, "server_ir": ir,
            "handshakes_resumed": s["handshakes_resumed"],
            "verify_cache_hits": s["verify_cache_hits"],
            "verify_cache_misses": s["verify_cache_misses"],
            "cache_cpu_ratio": mean("full-nocache", "cpu_us_per_handshake") / full_cpu
            if full_cpu else None,
            "ticket_refused": s["ticket_refused"], "ticket_unknown": s["ticket_unknown"],
            "time_ratio": full_t / res_t if res_t else None,
            "cpu_ratio": full_cpu / res_cpu if res_cpu else None}


def storm_markdown(res):
    if "error" in res:
        return "\n## Device restart storm\n\nFailed: %s\n" % res["error"]
    md = ["", "## Device restart storm", "",
          "%d DTLS devices connected to one collector (%s worker(s), --no-xdp) close their "
          "sessions and reconnect at once (loadgen --reconnect 1, one thread with 64 handshakes "
          "in flight: the per-source half-open cap), with full handshakes and resuming their session tickets, side by side. "
          "*Back in* = until the last device was back (the slowest loadgen thread); *CPU per "
          "handshake* = the collector's receive threads from the storm's first to its last "
          "handshake, per reconnect (the old session's close_notify and the cookie exchange "
          "included)." % (res["devices"], res["workers"]), "",
          "| reconnect | devices back | resumed | failed | back in s | handshakes/s | collector CPU us/handshake |",
          "|---|---:|---:|---:|---:|---:|---:|"]
    for r in res["rows"]:
        md.append("| %s | %d / %d | %d | %d | %.3f | %.0f | %.0f |" % (
            r["kind"], r["reconnected"], r["devices"], r["resumed"], r["failed"],
            r["time_s"], r["per_s"], r["cpu_us_per_handshake"]))
    md += ["", "Full / resumed (means): %s x the time, %s x the CPU per handshake; the collector "
           "counted %d resumed handshakes (ticket_refused %d, ticket_unknown %d)." % (
               "%.1f" % res["time_ratio"] if res["time_ratio"] else "-",
               "%.1f" % res["cpu_ratio"] if res["cpu_ratio"] else "-",
               res["handshakes_resumed"], res["ticket_refused"], res["ticket_unknown"])]
    if res.get("cache_cpu_ratio"):
        md += ["", "Full reconnects without / with the verification cache (full-nocache: "
               "--verify-cache 0; full: the default, each chain check a hit; A B B A, means): "
               "%.2f x the CPU per handshake; the collector of the resumed storm counted %d "
               "hits and %d misses (the devices' first handshakes)." % (
                   res["cache_cpu_ratio"], res["verify_cache_hits"], res["verify_cache_misses"])]
    ir = res.get("server_ir")
    if ir:
        md += ["", "The DTLS server's own work per handshake, counted by callgrind in memory "
               "(bench/resume_prof: cookie exchange, handshake, ticket, take-over by the "
               "built-in record layer; no kernel): {:,.0f} instructions resumed, {:,.0f} full "
               "({:.1f} x).".format(ir["resumed"], ir["full"], ir["full"] / ir["resumed"])]
        if "full-warm" in ir:
            md += ["", "Full handshakes with the verification cache: {:,.0f} instructions "
                   "cold (every look-up a miss), {:,.0f} warm (a hit: no chain check), "
                   "{:,.0f} without the cache ({:.3f} x and {:.3f} x of that).".format(
                       ir["full-cold"], ir["full-warm"], ir["full"],
                       ir["full-cold"] / ir["full"], ir["full-warm"] / ir["full"])]
        if "full-chain-crl" in ir:
            md += ["", "Full handshakes and revocation (no cache): {:,.0f} instructions with "
                   "--crl ({:.3f} x of none: the leaf's CRL), {:,.0f} through an intermediate "
                   "CA ({:.3f} x), {:,.0f} through it with --crl (every CA's CRL, "
                   "CRL_CHECK_ALL: {:.3f} x).".format(
                       ir["full-crl"], ir["full-crl"] / ir["full"], ir["full-chain"],
                       ir["full-chain"] / ir["full"], ir["full-chain-crl"],
                       ir["full-chain-crl"] / ir["full"])]
    return "\n".join(md) + "\n"
