#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""XTel benchmark suite: runs the rows, collects the JSON, writes the table.

bench/run.sh prepares everything (packages, build, certificates, testbed,
teardown trap) and then runs this program, which:

  1. runs the Google Benchmark micro-benchmarks registered in suite 'perf'
     and keeps their ns/op;
  2. runs the end-to-end rows on the testbed: for each row one receiver (the
     collector on its io_uring or AF_XDP path, or a baseline) in the
     collector namespace and the load generator in the generator namespace,
     both bounded in count and time; the loss is split by where it happened
     (XDP program, socket buffer, io_uring/AF_XDP ring, remainder) from the
     collector's summary and the namespace's kernel counters;
  3. runs the load generator section: loadgen's highest rate (plain and DTLS,
     1 and 2 threads) next to a bare sendmmsg loop (bench/bare_sendmmsg.c)
     with as many threads, and loadgen's pacing accuracy at fixed rates;
  4. writes results.json (everything, raw reports included), PERFORMANCE.md
     (the tables) and PNG plots made with gnuplot into the output directory,
     and with --publish also docs/PERFORMANCE.md and docs/img/*.png.

Only the Python standard library is used. Progress: one line per row.
"""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

PORT = 7700
# After the load generator exits, the receiver gets this long to empty its
# queues before it is told to stop.
DRAIN_S = 0.3
# The flood row with XDP's allowlist: the generator's own subnet.
ALLOW_CIDR = "198.18.0.0/24"
# A row whose loss reaches this ends the rising-rate series of its line:
# higher rates would only measure the same saturation again. A sender that
# falls short of the offered rate does not end it (that says nothing about
# the receiver, and the next rate may well go through).
SATURATION_LOSS_PCT = 10.0
PLAIN_PATHS = ("io_uring", "af_xdp")
# The load generator section: 10 clients; the payload every sender of the
# ceiling rows sends (loadgen --payload-size, bare_sendmmsg --payload-size),
# so that both put the same 92-byte datagrams on the wire; the fixed rates
# whose pacing is checked.
SENDER_CLIENTS = 10
SENDER_PAYLOAD = 64
SENDER_THREADS = (1, 2)
PACING_RATES = (20000, 100000)
SENDER_LABEL = {"loadgen": "loadgen", "bare": "bare sendmmsg loop"}

# What each level runs: seconds of DATA per row, Google Benchmark min time,
# the rising-rate series (10 clients; 0 = as fast as the generator can),
# the client-count series (at 50k/s plain, 20k/s DTLS), the seed table's
# (clients, rate) rows and what runs them, and the flood row (clients, rate,
# ClientHellos/s). Sized so that full < 10 min and quick < 2 min on 2 cores.
LEVELS = {
    "smoke": dict(secs=1.0, micro=0.01, plain_rates=[], dtls_rates=[],
                  plain_clients=[], dtls_clients=[], seeds=[(1, 1000)],
                  seed_modes=("plain",), seed_paths=("io_uring",),
                  seed_baselines=("c",), flood=None, sender=None),
    "quick": dict(secs=1.0, micro=0.05, plain_rates=[100000, 300000, 0],
                  dtls_rates=[50000], plain_clients=[100, 1000],
                  dtls_clients=[100, 1000], seeds=[(1, 1000), (5, 5000), (10, 20000)],
                  seed_modes=("plain", "dtls"), seed_paths=PLAIN_PATHS,
                  seed_baselines=("c", "py"), flood=(10, 5000, 20000),
                  sender=dict(secs=1.0, repeat=1, pacing_secs=2.0)),
    "full": dict(secs=2.0, micro=0.2,
                 plain_rates=[50000, 100000, 200000, 300000, 400000, 500000, 0],
                 dtls_rates=[25000, 50000, 100000, 200000, 0],
                 plain_clients=[100, 1000, 10000], dtls_clients=[100, 1000, 10000],
                 seeds=[(1, 1000), (5, 5000), (10, 20000)],
                 seed_modes=("plain", "dtls"), seed_paths=PLAIN_PATHS,
                 seed_baselines=("c", "py"), flood=(10, 5000, 50000),
                 noxdp_rates=[100000, 300000, 0],
                 sender=dict(secs=3.0, repeat=3, pacing_secs=5.0)),
}

RECEIVER_LABEL = {
    "io_uring": "collector io_uring",
    "noxdp": "collector io_uring, --no-xdp",
    "xdp_allow": "collector io_uring, XDP --allow 198.18.0.0/24",
    "af_xdp": "collector AF_XDP",
    "c": "baseline C recvmmsg",
    "py": "baseline Python recvfrom",
}


def log(msg):
    print(msg, flush=True)


def warn(msg):
    print("suite: " + msg, file=sys.stderr, flush=True)


def nsexec(ns, argv):
    return ["ip", "netns", "exec", ns] + [str(a) for a in argv]


def first(d, *paths, default=None):
    """The value at the first dotted path present in nested dict d."""
    for p in paths:
        cur = d
        ok = True
        for part in p.split("."):
            if isinstance(cur, dict) and part in cur:
                cur = cur[part]
            else:
                ok = False
                break
        if ok and cur is not None:
            return cur
    return default


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


class Env:
    """Paths, namespace names and what the built tree can do."""

    def __init__(self, args):
        self.src = os.path.abspath(args.src)
        self.build = os.path.abspath(args.build)
        self.out = os.path.abspath(args.out)
        self.raw = os.path.join(self.out, "raw")
        self.certs = os.path.abspath(args.certs) if args.certs else None
        self.level = args.level
        self.cfg = LEVELS[args.level]
        self.command = args.command or "bench/run.sh"
        self.publish = args.publish
        self.workers = int(os.environ.get("XTEL_BENCH_WORKERS", "1"))
        self.ns_col = os.environ.get("XTEL_NS_COL", "xtel-col")
        self.ns_gen = os.environ.get("XTEL_NS_GEN", "xtel-gen")
        self.col_ip = os.environ.get("XTEL_COL_IP4", "198.18.0.1")
        self.col_if = os.environ.get("XTEL_COL_IF", "veth-col")
        self.gen_if = os.environ.get("XTEL_GEN_IF", "veth-gen")
        self.bpffs = os.environ.get("XTEL_BPFFS", "/run/xtel/bpffs")
        self.collector = os.environ.get(
            "XTEL_COLLECTOR", os.path.join(self.build, "userspace", "collector", "collector"))
        self.loadgen = os.environ.get(
            "XTEL_LOADGEN", os.path.join(self.build, "loadgen", "loadgen"))
        self.base_c = os.path.join(self.build, "bench", "baseline_recvmmsg")
        self.base_py = os.path.join(self.src, "bench", "baseline_recvfrom.py")
        self.bare = os.path.join(self.build, "bench", "bare_sendmmsg")
        os.makedirs(self.raw, exist_ok=True)
        self.col_help = self._help(self.collector)
        self.lg_help = self._help(self.loadgen)

    @staticmethod
    def _help(exe):
        if not os.access(exe, os.X_OK):
            return None
        try:
            r = subprocess.run([exe, "--help"], capture_output=True, text=True,
                               timeout=10)
            return r.stdout + r.stderr
        except (OSError, subprocess.TimeoutExpired):
            return None

    def have_collector(self):
        return self.col_help is not None

    def have_loadgen(self):
        return self.lg_help is not None

    def have_dtls(self):
        return (self.col_help is not None and "dtls" in self.col_help and
                self.lg_help is not None and "dtls" in self.lg_help and
                self.certs is not None and
                os.path.exists(os.path.join(self.certs, "server.crt")))

    def have_afxdp(self):
        return self.col_help is not None and "--afxdp" in self.col_help


# ---------------------------------------------------------------- counters

COUNTER_SCRIPT = (
    "cat /proc/net/snmp; echo '#snmp6'; cat /proc/net/snmp6; "
    "echo '#softnet'; cat /proc/net/softnet_stat; "
    "echo '#veth'; cat /sys/class/net/{if}/statistics/rx_dropped "
    "/sys/class/net/{if}/statistics/rx_packets")


def read_counters(env):
    """Kernel drop counters seen from the collector namespace."""
    out = {}
    try:
        text = subprocess.run(
            nsexec(env.ns_col, ["sh", "-c", COUNTER_SCRIPT.format(**{"if": env.col_if})]),
            capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return out
    section = "snmp"
    udp_hdr = None
    softnet_drop = 0
    veth = []
    for line in text.splitlines():
        if line.startswith("#"):
            section = line[1:]
            continue
        f = line.split()
        if section == "snmp" and f and f[0] == "Udp:":
            if udp_hdr is None:
                udp_hdr = f[1:]
            else:
                for k, v in zip(udp_hdr, f[1:]):
                    out["udp_" + k] = int(v)
        elif section == "snmp6" and len(f) == 2 and f[0].startswith("Udp6"):
            out["udp6_" + f[0][4:]] = int(f[1])
        elif section == "softnet" and len(f) >= 2:
            softnet_drop += int(f[1], 16)
        elif section == "veth" and f:
            veth.append(int(f[0]))
    out["softnet_dropped"] = softnet_drop
    if len(veth) == 2:
        out["veth_rx_dropped"], out["veth_rx_packets"] = veth
    try:
        txt = subprocess.run(
            nsexec(env.ns_gen, ["cat", "/sys/class/net/%s/statistics/tx_dropped" % env.gen_if]),
            capture_output=True, text=True, timeout=10).stdout.split()
        if txt:
            out["gen_veth_tx_dropped"] = int(txt[0])
    except (OSError, ValueError, subprocess.TimeoutExpired):
        pass
    return out


def counter_delta(before, after):
    return {k: after[k] - before.get(k, 0) for k in after
            if isinstance(after[k], int)}


# --------------------------------------------------------------- receivers

def port_bound(env):
    port_hex = ":%04X" % PORT
    try:
        text = subprocess.run(nsexec(env.ns_col, ["sh", "-c",
                                                  "cat /proc/net/udp /proc/net/udp6 2>/dev/null"]),
                              capture_output=True, text=True, timeout=5).stdout
    except subprocess.TimeoutExpired:
        return False
    return any(len(l.split()) > 1 and l.split()[1].endswith(port_hex)
               for l in text.splitlines()[1:])


def wait_ready(env, kind, proc, log_path, timeout=8.0):
    """Until the receiver listens on the port (and, for the collector, has
    finished its XDP/AF_XDP set-up, which it reports with its "collector:
    <mode> mode, N worker(s) on ..." line; if that wording changes, 2 s after
    the port is bound)."""
    deadline = time.monotonic() + timeout
    bound_at = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        if bound_at is None and port_bound(env):
            bound_at = time.monotonic()
        if bound_at is not None:
            if kind in ("c", "py"):
                return True
            try:
                text = open(log_path).read()
            except OSError:
                text = ""
            if re.search(r"^collector: (plain|dtls) mode, ", text, re.M):
                return True
            if time.monotonic() - bound_at > 2.0:
                return True
        time.sleep(0.05)
    return proc.poll() is None and bound_at is not None


def receiver_cmd(env, kind, mode, cap_s, summary, clients=1, pin_dir=None):
    if kind == "c":
        return [env.base_c, "--port", PORT, "--duration", cap_s, "--quiet", 0,
                "--json", summary]
    if kind == "py":
        return [sys.executable, env.base_py, "--port", PORT, "--duration", cap_s,
                "--quiet", 0, "--json", summary]
    cmd = [env.collector, "--port", PORT, "--workers", env.workers, "--mode", mode,
           "--duration", "%g" % cap_s, "--summary-json", summary, "--quiet",
           "--iface", env.col_if]
    # The program's counters are pinned and add up across runs that share
    # the pins: each row gets its own directory on the testbed's bpffs (the
    # default under /sys/fs/bpf does not survive `ip netns exec`).
    if pin_dir and kind != "noxdp":
        cmd += ["--pin-dir", pin_dir]
    if mode == "dtls":
        cmd += ["--cert", os.path.join(env.certs, "server.crt"),
                "--key", os.path.join(env.certs, "server.key"),
                "--ca", os.path.join(env.certs, "ca.crt")]
        # The default session table (4096 per worker) is smaller than the
        # largest client counts measured here.
        if clients > 3000:
            cmd += ["--max-sessions", int(clients * 1.25) // env.workers + 1]
    if kind == "af_xdp":
        cmd.append("--afxdp")
    if kind == "noxdp":
        cmd[cmd.index("--iface"):cmd.index("--iface") + 2] = ["--no-xdp"]
    if kind == "xdp_allow":
        # Only the clients' subnet may talk to the port: the flood range
        # (198.18.1.0/24) is dropped by XDP before the socket. Rate limits do
        # not fit this flood: spread over many source addresses, each stays
        # under a per-source limit, and a global limit (5,000/s against
        # 20,000/s) made 3 of 10 real clients' handshakes time out.
        cmd += ["--allow", ALLOW_CIDR]
    return cmd


def loadgen_cmd(env, mode, clients, rate, secs, report, flood=0, threads=1,
                payload_size=None):
    # --count bounds the datagrams, --duration the time: whichever ends first.
    per_client = max(1, int(round(rate * secs / clients))) if rate else 10 ** 9
    cmd = [env.loadgen, "--target", "%s:%d" % (env.col_ip, PORT),
           "--clients", clients, "--threads", min(threads, clients),
           "--rate", int(rate), "--duration", "%g" % secs,
           "--count", per_client, "--mode", mode,
           "--report-json", report, "--quiet"]
    if mode == "dtls":
        cmd += ["--certs", env.certs]
    if flood:
        cmd += ["--flood-handshakes", int(flood)]
    if payload_size:
        cmd += ["--payload-size", int(payload_size)]
    return cmd


def bare_cmd(env, threads, secs):
    """The bare sendmmsg loop: as fast as it can, bounded by time and count
    (the count is far above what 2 cores send in that time)."""
    return [env.bare, "--target", "%s:%d" % (env.col_ip, PORT), "--threads", threads,
            "--duration", "%g" % secs, "--count", 10 ** 9,
            "--payload-size", SENDER_PAYLOAD]


def bare_as_report(bare):
    """bare_sendmmsg's JSON in the shape of a loadgen report, for derive()."""
    if not isinstance(bare, dict) or "sent" not in bare:
        return None
    return {"totals": {"sent": bare.get("sent_all", bare["sent"]),
                       "sent_data": bare["sent"]},
            "rate": {"requested_pps": 0, "achieved_pps": bare.get("pps"),
                     "achieved_wire_pps": bare.get("pps"),
                     "data_elapsed_s": bare.get("elapsed_s")},
            "bare_sendmmsg": bare}


# --------------------------------------------------------------------- rows

class Row(dict):
    pass


def na_row(section, kind, mode, clients, rate, why):
    return Row(section=section, receiver=kind, path=RECEIVER_LABEL[kind], mode=mode,
               clients=clients, offered_pps=rate, status="n/a", note=why)


def read_hwm_kb(pid):
    """Peak RSS of the process's current memory map (VmHWM).

    Not ru_maxrss: that survives execve, so a receiver started from this
    Python process would report Python's own peak instead of its own.
    """
    try:
        for line in open("/proc/%d/status" % pid):
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def task_cpu_ns(pid):
    """On-CPU time (user + system) of all threads of pid, in ns."""
    total = 0
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            try:
                with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                    total += int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                pass
    except OSError:
        return None
    return total


class CpuSampler(threading.Thread):
    """Samples a process's CPU time every 20 ms while a load runs.

    The load generator reports how long its DATA phase took and exits right
    after it; the samples then give the receiver's CPU during the DATA phase
    alone, apart from the DTLS handshakes that come before it.
    """

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid = pid
        self.samples = []
        self.done = threading.Event()

    def run(self):
        while True:
            c = task_cpu_ns(self.pid)
            if c is not None:
                self.samples.append((time.monotonic(), c))
            if self.done.wait(0.02):
                break

    def stop(self):
        self.done.set()
        self.join()
        c = task_cpu_ns(self.pid)
        if c is not None:
            self.samples.append((time.monotonic(), c))

    def at(self, t):
        """CPU ns at time t, interpolated between samples."""
        sm = self.samples
        if not sm:
            return None
        if t <= sm[0][0]:
            return sm[0][1]
        for (t0, c0), (t1, c1) in zip(sm, sm[1:]):
            if t0 <= t <= t1:
                return c0 + (c1 - c0) * ((t - t0) / (t1 - t0) if t1 > t0 else 1.0)
        return sm[-1][1]


def stop_proc(proc, timeout):
    """SIGINT (the receivers' 'finish and write the summary'), then kill."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def run_row(env, seq, section, kind, mode, clients, rate, secs, flood=0, attempt=1,
            opts=None):
    """One receiver, one loadgen run; returns the row dict.

    opts (the load generator section): sender ("loadgen" or "bare"),
    threads, payload_size.
    """
    row = _run_row(env, seq, section, kind, mode, clients, rate, secs, flood, attempt,
                   opts or {})
    row.pop("_sampler", None)
    row.pop("_cpu_marks", None)
    return row


def _run_row(env, seq, section, kind, mode, clients, rate, secs, flood, attempt, opts):
    sender = opts.get("sender", "loadgen")
    tag = "%03d-%s-%s-%s-c%d-r%d%s%s" % (
        seq, section, kind, mode, clients, rate,
        "-%s-t%d" % (sender, opts["threads"]) if "threads" in opts else "",
        "-try%d" % attempt if attempt > 1 else "")
    rx_json = os.path.join(env.raw, tag + "-receiver.json")
    lg_json = os.path.join(env.raw, tag + "-loadgen.json")
    rx_log = os.path.join(env.raw, tag + "-receiver.log")
    lg_log = os.path.join(env.raw, tag + "-loadgen.log")
    for p in (rx_json, lg_json):
        if os.path.exists(p):
            os.unlink(p)
    row = Row(section=section, receiver=kind, path=RECEIVER_LABEL[kind], mode=mode,
              clients=clients, offered_pps=rate, duration_s=secs, flood_pps=flood,
              tag=tag)
    if opts:
        row.update(sender=sender, sender_label=SENDER_LABEL[sender])
    # Handshakes come before the DATA phase: give them time in both bounds.
    hs_allow = (clients / 300.0 + 3.0) if mode == "dtls" else 0.0
    lg_cap = secs + hs_allow + 2.0
    rx_cap = lg_cap + 8.0
    # One sender thread reaches ~300-400k/s here; beyond that two, which then
    # share the 2 cores with the receiver.
    threads = 2 if (rate == 0 or rate > 300000) and clients >= 2 else 1
    threads = opts.get("threads", threads)
    row["threads"] = threads
    if sender == "bare":
        sender_cmd = bare_cmd(env, threads, secs)
    else:
        sender_cmd = loadgen_cmd(env, mode, clients, rate, secs, lg_json, flood, threads,
                                 opts.get("payload_size"))
    pin_dir = os.path.join(env.bpffs, "bench-" + tag)
    shutil.rmtree(pin_dir, ignore_errors=True)
    t_start = time.monotonic()
    before = read_counters(env)
    with open(rx_log, "w") as rxl:
        rx = subprocess.Popen(nsexec(env.ns_col, receiver_cmd(env, kind, mode, rx_cap, rx_json, clients,
                                                           pin_dir)),
                              stdout=rxl, stderr=subprocess.STDOUT)
    try:
        if not wait_ready(env, kind, rx, rx_log):
            tail = ""
            try:
                tail = open(rx_log).read().strip().splitlines()[-1]
            except (OSError, IndexError):
                pass
            row.update(status="error", note="receiver did not start (exit %s): %s" % (
                rx.poll(), tail[:200]))
            return row
        # CPU is measured over the load window only: process start-up (BPF
        # verification, certificate loading, the Python interpreter) would
        # otherwise dominate the per-datagram figure of the slow rows.
        sampler = CpuSampler(rx.pid)
        sampler.start()
        w0 = time.monotonic()
        try:
            # loadgen writes its report itself; the bare loop prints its
            # JSON on stdout.
            with open(lg_log, "w") as lgl, \
                    open(lg_json if sender == "bare" else os.devnull, "w") as lgo:
                lg = subprocess.run(nsexec(env.ns_gen, sender_cmd),
                                    stdout=lgo if sender == "bare" else lgl,
                                    stderr=lgl if sender == "bare" else subprocess.STDOUT,
                                    timeout=lg_cap + 30)
            t_exit = time.monotonic()
            row["loadgen_exit"] = lg.returncode
            # Let the receiver drain what is still queued before it stops.
            time.sleep(DRAIN_S)
        finally:
            sampler.stop()
        w1 = time.monotonic()
        c0, c1 = sampler.at(w0), sampler.at(w1)
        if c0 is not None and c1 is not None:
            row["window_cpu_s"] = (c1 - c0) / 1e9
            row["window_s"] = w1 - w0
            row["_cpu_marks"] = (w0, t_exit, w1)
            row["_sampler"] = sampler
    except subprocess.TimeoutExpired:
        row.update(status="error", note="loadgen exceeded its time bound")
    finally:
        row["vmhwm_kb"] = read_hwm_kb(rx.pid)
        row["receiver_exited_early"] = rx.poll() is not None
        stop_proc(rx, 15)
    row["receiver_exit"] = rx.returncode
    shutil.rmtree(pin_dir, ignore_errors=True)
    after = read_counters(env)
    row["counters"] = counter_delta(before, after)
    row["wall_s"] = round(time.monotonic() - t_start, 3)
    lgr = load_json(lg_json)
    if sender == "bare":
        lgr = bare_as_report(lgr)
    rxr = load_json(rx_json)
    # Per-client arrays stay in the raw files: with 10,000 clients they
    # would make results.json tens of megabytes.
    row["raw"] = {"loadgen": strip_clients(lgr), "receiver": strip_clients(rxr)}
    if row.get("status") == "error":
        return row
    if lgr is None or rxr is None:
        row.update(status="error", note="missing %s report (exit codes loadgen %s, receiver %s)"
                   % ("loadgen" if lgr is None else "receiver", row.get("loadgen_exit"),
                      rx.returncode))
        return row
    derive(row, lgr, rxr)
    if row.get("loadgen_exit"):
        row.update(status="error", note="loadgen exit %s: %s; receiver stopped by %s" % (
            row["loadgen_exit"], lgr.get("error"), rxr.get("stop_reason", "?")))
    elif lgr.get("interrupted") or row["receiver_exited_early"]:
        # Nothing in the suite signals the generator, or the receiver before
        # the load ended: something outside did (e.g. another testbed.sh up
        # with the same XTEL_NS_SUFFIX, which kills what runs in them).
        row.update(status="error", note="stopped by a signal from outside the suite "
                   "(loadgen interrupted: %s, receiver: %s)" % (
                       lgr.get("interrupted"), rxr.get("stop_reason", "exited early")))
    return row


FLOOD_DROPS = ("drop_ratelimit", "drop_hs_global", "drop_not_allowed")


def xdp_losses(rx):
    """Datagrams the XDP program dropped, and those the AF_XDP rings dropped.

    xdp.stats maps every outcome of the program to {packets, bytes}; the
    drop_* outcomes are datagrams it refused. afxdp has the sockets' own
    statistics (XDP_STATISTICS).
    """
    drops = 0
    xdp = rx.get("xdp")
    if isinstance(xdp, dict):
        for name, v in (xdp.get("stats") or {}).items():
            # The handshake limiters and the allowlist drop the flood's
            # ClientHellos, never the clients' data (all clients are inside
            # the allowlist): not loss of what the generator sent.
            if name in FLOOD_DROPS:
                continue
            if name.startswith("drop") and isinstance(v, dict):
                drops += v.get("packets", 0)
    ring = 0
    ax = rx.get("afxdp")
    if isinstance(ax, dict):
        ring = ax.get("rx_ring_full", 0) + ax.get("rx_dropped", 0)
    return drops, ring


def strip_clients(report):
    if not isinstance(report, dict):
        return report
    return {k: v for k, v in report.items() if k not in ("clients", "xdp_clients")}


def derive(row, lg, rx):
    """Fills the table figures of a row from the two reports and the counters."""
    ctr = row["counters"]
    sent = first(lg, "totals.sent", "sent", "datagrams.sent", default=0)
    data_sent = first(lg, "totals.data_sent", "data_sent", default=None)
    elapsed = first(lg, "rate.data_elapsed_s", default=row["duration_s"])
    achieved = first(lg, "rate.achieved_pps", default=None)
    if achieved is None:
        achieved = (data_sent if data_sent is not None else sent) / elapsed if elapsed else 0
    received = first(rx, "totals.received", default=0)
    dups = first(rx, "totals.duplicates", default=0)
    rx_bytes = first(rx, "totals.bytes", default=None)
    lost_rx = first(rx, "totals.lost", default=0)
    missing = max(0, sent - (received - dups))
    row.update(status="ok", sent=sent, received=received, duplicates=dups,
               lost_receiver=lost_rx, lost=missing,
               loss_pct=(100.0 * missing / sent) if sent else 0.0,
               achieved_pps=achieved, load_s=elapsed)
    # What the sender's report says about its own rate: DATA seqs per
    # second against what was asked for, and DATA datagrams per second.
    row["requested_pps"] = first(lg, "rate.requested_pps", default=None)
    row["wire_pps"] = first(lg, "rate.achieved_wire_pps", default=achieved)
    row["data_seqs"] = first(lg, "totals.data_seqs", default=None)
    row["sent_data"] = first(lg, "totals.sent_data", default=None)
    # Where the loss happened. The kernel counters cover every receiver;
    # XDP and ring counters exist only in the collector's summary.
    xdp_drop, ring_xsk = xdp_losses(rx)
    # io_uring: -ENOBUFS completions (the provided buffer ring ran dry).
    ring = first(rx, "counters.enobufs", default=0)
    drops = first(rx, "drops", default={}) or {}
    for k, v in (drops.items() if isinstance(drops, dict) else []):
        if isinstance(v, int) and ("enobufs" in k or "ring" in k):
            ring += v
    ring += ring_xsk
    rcvbuf = ctr.get("udp_RcvbufErrors", 0) + ctr.get("udp6_RcvbufErrors", 0)
    rcvbuf = max(rcvbuf, first(rx, "drops.rxq_ovfl", "rxq_ovfl", default=0))
    # Before the host: the sender veth's TX drops (generator namespace), the
    # receiving veth's RX drops and the softnet backlog.
    nic = (ctr.get("veth_rx_dropped", 0) + ctr.get("softnet_dropped", 0) +
           ctr.get("gen_veth_tx_dropped", 0))
    attributed = xdp_drop + rcvbuf + ring + nic
    row["loss_where"] = {"xdp": xdp_drop, "rcvbuf": rcvbuf, "ring": ring, "nic": nic,
                         "other": max(0, missing - attributed)}
    # Loss inside the receiving host (program, socket, rings, userspace) as
    # opposed to before it (the veth pair and the sender's queue).
    row["host_loss_pct"] = (100.0 * max(0, missing - min(nic, missing)) / sent) if sent else 0.0
    # Throughput, latency, CPU and memory of the receiver.
    if rx_bytes is None:
        rx_bytes = first(lg, "totals.bytes", "bytes", default=0) * (received / sent if sent else 0)
    row["mb_per_s"] = rx_bytes / elapsed / 1e6 if elapsed else 0.0
    row["latency_us"] = latency_of(rx)
    # The collector and the C baseline measure to the kernel's arrival
    # stamp; the Python baseline to the moment recvfrom returned.
    row["latency_basis"] = first(rx, "latency_basis", default="kernel_rx_timestamp")
    ru_cpu = first(rx, "rusage.cpu_s", default=None)
    if ru_cpu is None:
        ru_cpu = (first(rx, "rusage.utime_s", "rusage.user_s", "rusage.utime", default=0) +
                  first(rx, "rusage.stime_s", "rusage.sys_s", "rusage.system_s",
                        "rusage.stime", default=0))
    row["rusage_cpu_s"] = ru_cpu
    row["rusage_cpu_ns_per_dgram"] = ru_cpu * 1e9 / received if received else None
    cpu_s = row.get("window_cpu_s", ru_cpu)
    # CPU % relates the CPU the DATA phase cost (drain included) to the
    # DATA phase's length: the share of a core this load needs.
    busy_s = elapsed
    sampler = row.get("_sampler")
    if sampler is not None and elapsed:
        # DATA phase: from its start (the generator exits right after it)
        # until the receiver drained. Before it: start-up and handshakes.
        w0, t_exit, w1 = row["_cpu_marks"]
        t_data = max(w0, t_exit - elapsed)
        cpu_s = (sampler.at(w1) - sampler.at(t_data)) / 1e9
        row["setup_cpu_s"] = (sampler.at(t_data) - sampler.at(w0)) / 1e9
    row["cpu_s"] = cpu_s
    row["cpu_pct"] = 100.0 * cpu_s / busy_s if busy_s else 0.0
    row["cpu_ns_per_dgram"] = cpu_s * 1e9 / received if received else None
    row["rss_kb"] = row.get("vmhwm_kb") or first(rx, "vmhwm_kb", "rusage.maxrss_kb",
                                                 "rusage.max_rss_kb", default=0)
    xdp = first(rx, "xdp", default=None)
    row["xdp"] = ({k: xdp.get(k) for k in ("attach_mode", "afxdp")}
                  if isinstance(xdp, dict) else xdp)
    if isinstance(rx.get("afxdp"), dict):
        row["afxdp_bind_mode"] = rx["afxdp"].get("bind_mode")
    row["rejected"] = first(rx, "dropped_total", "rejected_total", default=0)
    hs = first(lg, "handshakes", default=None)
    if isinstance(hs, dict) and hs.get("attempted"):
        hs = dict(hs)
        phase = hs.get("phase_s") or 0
        hs["rate_per_s"] = hs.get("ok", 0) / phase if phase else None
        if hs.get("ok") and row.get("setup_cpu_s") is not None:
            hs["collector_cpu_us_per_handshake"] = row["setup_cpu_s"] * 1e6 / hs["ok"]
        row["handshakes"] = hs
    flood = first(lg, "flood", default=None)
    if isinstance(flood, dict):
        row["flood"] = flood


def latency_of(rx):
    lat = first(rx, "totals.latency_us", "latency_us", default=None)
    if isinstance(lat, dict) and lat.get("p50") is not None:
        return {"p50": lat.get("p50"), "p99": lat.get("p99"),
                "p999": first(lat, "p999", "p99_9", "p99.9")}
    clients = rx.get("clients") if isinstance(rx, dict) else None
    if isinstance(clients, list) and clients:
        # Per-client figures only: the median client's p50, the worst p99.
        p50s = sorted(c["latency_us"]["p50"] for c in clients
                      if isinstance(c.get("latency_us"), dict) and c["latency_us"].get("p50") is not None)
        p99s = [c["latency_us"]["p99"] for c in clients
                if isinstance(c.get("latency_us"), dict) and c["latency_us"].get("p99") is not None]
        p999s = [first(c["latency_us"], "p999", "p99_9") for c in clients
                 if isinstance(c.get("latency_us"), dict)]
        p999s = [v for v in p999s if v is not None]
        if p50s:
            return {"p50": p50s[len(p50s) // 2], "p99": max(p99s) if p99s else None,
                    "p999": max(p999s) if p999s else None}
    return {"p50": None, "p99": None, "p999": None}


# ------------------------------------------------------------------- plan

def plan(env):
    """The list of rows to run: (section, kind, mode, clients, rate, flood)."""
    c = env.cfg
    rows = []
    for clients, rate in c["seeds"]:
        for mode in c["seed_modes"]:
            for path in c["seed_paths"]:
                rows.append(("seeds", path, mode, clients, rate, 0))
        for b in c["seed_baselines"]:
            rows.append(("seeds", b, "plain", clients, rate, 0))
    # Rising rates with 10 clients: one series per path and baseline.
    for kind in ("io_uring", "af_xdp", "c", "py"):
        for rate in c["plain_rates"]:
            rows.append(("rate", kind, "plain", 10, rate, 0))
    for kind in PLAIN_PATHS:
        for rate in c["dtls_rates"]:
            rows.append(("rate", kind, "dtls", 10, rate, 0))
    # Rising client counts at a fixed total rate.
    for n in c["plain_clients"]:
        for kind in ("io_uring", "af_xdp", "c", "py"):
            rows.append(("clients", kind, "plain", n, 50000, 0))
    for n in c["dtls_clients"]:
        for kind in PLAIN_PATHS:
            rows.append(("clients", kind, "dtls", n, 20000, 0))
    # The same collector without its XDP front end: what XDP costs or saves.
    for rate in c.get("noxdp_rates", []):
        rows.append(("rate", "noxdp", "plain", 10, rate, 0))
    if c["flood"]:
        clients, rate, flood = c["flood"]
        rows.append(("flood", "io_uring", "dtls", clients, rate, 0))
        rows.append(("flood", "io_uring", "dtls", clients, rate, flood))
        rows.append(("flood", "xdp_allow", "dtls", clients, rate, flood))
        if c.get("noxdp_rates"):
            rows.append(("flood", "noxdp", "dtls", clients, rate, flood))
    snd = c.get("sender")
    if snd:
        # Sender ceilings: towards the C baseline for plain (it keeps up with
        # what two sender threads send), towards the collector without XDP
        # for DTLS (a DTLS sender needs someone to complete its handshakes).
        # Three senders and a receiver share 2 cores, so one run can be
        # disturbed (a full run once gave the 2-thread bare loop 366k/s,
        # 20% below its repeats): the table takes the median of the repeats,
        # run round by round so that a disturbance hits different senders.
        for rnd in range(snd.get("repeat", 1)):
            for threads in SENDER_THREADS:
                base = dict(threads=threads, payload_size=SENDER_PAYLOAD,
                            secs=snd["secs"], repeat=rnd + 1)
                rows.append(("sender", "c", "plain", threads, 0, 0, dict(base, sender="bare")))
                rows.append(("sender", "c", "plain", SENDER_CLIENTS, 0, 0,
                             dict(base, sender="loadgen")))
                rows.append(("sender", "noxdp", "dtls", SENDER_CLIENTS, 0, 0,
                             dict(base, sender="loadgen")))
        # Pacing: loadgen's default payload, 1 thread (the suite's choice
        # below 300k/s), its report against the rate asked for.
        for rate in PACING_RATES:
            rows.append(("pacing", "c", "plain", SENDER_CLIENTS, rate, 0,
                         dict(sender="loadgen", threads=1, secs=snd["pacing_secs"])))
    return rows


def testbed_id(env):
    """Inodes of the two namespaces: they change if someone recreates them."""
    ids = []
    for ns in (env.ns_col, env.ns_gen):
        try:
            ids.append(os.stat("/run/netns/" + ns).st_ino)
        except OSError:
            ids.append(None)
    return tuple(ids)


def run_all(env):
    rows = []
    tb = testbed_id(env)
    todo = plan(env)
    saturated = set()   # (section, kind, mode) lines that reached saturation
    failed = {}         # (kind, mode) -> consecutive errors
    na_seen = set()
    dtls_ok, afxdp_ok = env.have_dtls(), env.have_afxdp()
    t0 = time.monotonic()
    for i, item in enumerate(todo, 1):
        section, kind, mode, clients, rate, flood = item[:6]
        opts = dict(item[6]) if len(item) > 6 else {}
        line = (section, kind, mode, clients if section == "rate" else 0)
        secs = opts.pop("secs", env.cfg["secs"])
        repeat = opts.pop("repeat", None)
        fkey = (kind, mode, opts.get("sender"))
        why = None
        if kind in PLAIN_PATHS + ("noxdp", "xdp_allow") and not env.have_collector():
            why = "collector not built"
        elif opts.get("sender") == "bare" and not os.access(env.bare, os.X_OK):
            why = "bench/bare_sendmmsg not built"
        elif opts.get("sender", "loadgen") == "loadgen" and not env.have_loadgen():
            why = "loadgen not built"
        elif mode == "dtls" and not dtls_ok:
            why = "DTLS not available in this build"
        elif kind == "af_xdp" and not afxdp_ok:
            why = "collector has no --afxdp"
        elif section == "rate" and line in saturated:
            why = "skipped: saturated at a lower rate"
        elif failed.get(fkey, 0) >= 2:
            why = "skipped: two earlier rows of this path failed"
        if why:
            row = na_row(section, kind, mode, clients, rate, why)
            if opts:
                row.update(sender=opts.get("sender"), threads=opts.get("threads"),
                           sender_label=SENDER_LABEL[opts.get("sender", "loadgen")])
            # Rows skipped for saturation are left out of the table, and a
            # missing feature is reported once per section, not per row.
            key = (section, kind, mode, why)
            if not why.startswith("skipped: saturated") and key not in na_seen:
                na_seen.add(key)
                rows.append(row)
                progress(i, len(todo), row, t0)
            continue
        row = run_row(env, i, section, kind, mode, clients, rate, secs, flood, opts=opts)
        if repeat:
            row["repeat"] = repeat
        now_tb = testbed_id(env)
        if now_tb != tb:
            warn("the testbed namespaces %s/%s were recreated during row %d by something "
                 "outside this suite (same XTEL_NS_SUFFIX?): that row is run again"
                 % (env.ns_col, env.ns_gen, i))
            tb = now_tb
            row.update(status="error", note="testbed recreated from outside during the row")
        if row.get("status") != "ok":
            # Other work on a shared machine can disturb one row (a stray
            # signal, a port still held): say so and run it once more.
            log("    row %d failed (%s), running it again" % (i, row.get("note", "")))
            first_try = row
            row = run_row(env, i, section, kind, mode, clients, rate, secs, flood, attempt=2,
                          opts=opts)
            row["first_attempt"] = {k: first_try.get(k) for k in ("status", "note", "tag")}
            if repeat:
                row["repeat"] = repeat
        rows.append(row)
        progress(i, len(todo), row, t0)
        if row.get("status") == "ok":
            failed[fkey] = 0
            if section == "rate" and row["loss_pct"] >= SATURATION_LOSS_PCT:
                saturated.add(line)
        else:
            failed[fkey] = failed.get(fkey, 0) + 1
    return rows


def fmt_rate(r):
    if r is None:
        return "-"
    if r == 0:
        return "max"
    if r >= 1000 and r % 1000 == 0:
        return "%dk" % (r // 1000)
    return "%d" % r


def progress(i, n, row, t0):
    path = row["path"]
    if row.get("sender"):
        path = "%s x%s -> %s" % (row.get("sender_label"), row.get("threads"), path)
    head = "[%3d/%d %5.0fs] %-10s %-26s %-5s clients=%-5d offered=%-5s" % (
        i, n, time.monotonic() - t0, row["section"], path, row["mode"],
        row["clients"], fmt_rate(row["offered_pps"]))
    if row.get("status") != "ok":
        log(head + "  %s: %s" % (row.get("status"), row.get("note", "")))
        return
    ns = row.get("cpu_ns_per_dgram")
    log(head + "  achieved=%.0f/s sent=%d recv=%d loss=%.3f%% cpu=%s ns/dgram rss=%.1fMB" % (
        row["achieved_pps"], row["sent"], row["received"], row["loss_pct"],
        "%.0f" % ns if ns is not None else "-", row["rss_kb"] / 1024.0))


# ------------------------------------------------------------------ micro

def is_google_benchmark(cmd, cwd):
    try:
        # With its registered arguments: some take a positional one first.
        r = subprocess.run(list(cmd) + ["--help"], capture_output=True, text=True, timeout=20,
                           cwd=cwd)
        return "benchmark_min_time" in (r.stdout + r.stderr)
    except (OSError, subprocess.TimeoutExpired):
        return False


GB_STANDARD_KEYS = {"family_index", "per_family_instance_index", "repetitions",
                    "repetition_index", "threads", "iterations", "real_time", "cpu_time",
                    "items_per_second", "bytes_per_second"}


def parse_google(b, data):
    res = []
    for bm in data.get("benchmarks", []):
        if bm.get("run_type", "iteration") != "iteration":
            continue
        scale = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}.get(bm.get("time_unit", "ns"), 1.0)
        counters = {k: v for k, v in bm.items()
                    if isinstance(v, (int, float)) and k not in GB_STANDARD_KEYS}
        res.append({"executable": b["name"], "name": bm["name"], "counters": counters,
                    "ns_per_op": bm["cpu_time"] * scale,
                    "real_ns_per_op": bm["real_time"] * scale,
                    "iterations": bm.get("iterations"),
                    "items_per_second": bm.get("items_per_second"),
                    "bytes_per_second": bm.get("bytes_per_second")})
    return res


def parse_own_json(b, data):
    """Benchmarks with their own --json: every '*ns_per*' map of numbers."""
    res = []
    for key, val in data.items():
        if "ns_per" not in key or not isinstance(val, dict):
            continue
        for case, ns in val.items():
            if isinstance(ns, (int, float)):
                res.append({"executable": b["name"], "name": "%s/%s" % (key, case),
                            "ns_per_op": float(ns)})
    return res


def run_micro(env):
    """Benchmarks registered in meson suite 'perf', ns/op each.

    Google Benchmark executables run with --benchmark_min_time (a plain
    number: Google Benchmark 1.7) and JSON output; any other registered
    benchmark runs with its registered arguments plus --json.
    """
    try:
        intro = subprocess.run(["meson", "introspect", "--benchmarks", env.build],
                               capture_output=True, text=True, timeout=60)
        benches = json.loads(intro.stdout)
    except (OSError, ValueError, subprocess.TimeoutExpired) as e:
        warn("cannot list benchmarks: %s" % e)
        return []
    results = []
    for b in benches:
        suites = [s.split(":")[-1] for s in b.get("suite", [])]
        if "perf" not in suites:
            continue
        cwd = b.get("workdir") or env.build
        out = os.path.join(env.raw, "micro-%s.json" % b["name"])
        if os.path.exists(out):
            os.unlink(out)
        google = is_google_benchmark(b["cmd"], cwd)
        if google:
            cmd = list(b["cmd"]) + ["--benchmark_min_time=%g" % env.cfg["micro"],
                                    "--benchmark_format=json", "--benchmark_out=" + out,
                                    "--benchmark_out_format=json"]
        else:
            cmd = list(b["cmd"]) + ["--json"]
        t = time.monotonic()
        r = None
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=cwd,
                               env=dict(os.environ, **(b.get("env") or {})))
            ok = r.returncode == 0
            if not google and ok:
                with open(out, "w") as f:
                    f.write(r.stdout)
        except (OSError, subprocess.TimeoutExpired) as e:
            ok = False
            warn("%s: %s" % (b["name"], e))
        if r is not None and r.returncode == 77:
            # The benchmark probed that it cannot run here (e.g. BPF refused).
            log("[micro %5.1fs] %-14s skipped (exit 77)" % (time.monotonic() - t, b["name"]))
            results.append({"executable": b["name"], "name": b["name"], "ns_per_op": None,
                            "skipped": True, "error": (r.stdout + r.stderr)[-300:]})
            continue
        data = load_json(out) or {}
        got = parse_google(b, data) if google else parse_own_json(b, data)
        results.extend(got)
        log("[micro %5.1fs] %-14s %s, %d results" % (
            time.monotonic() - t, b["name"], "ok" if ok and got else "FAILED (exit %s)" %
            (r.returncode if r else "-"), len(got)))
        if not ok or not got:
            results.append({"executable": b["name"], "name": b["name"], "ns_per_op": None,
                            "error": ((r.stderr or r.stdout)[-500:] if r else "did not run")})
    return results


# ------------------------------------------------------------------ report

def machine():
    info = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "uname": " ".join(platform.uname()[i] for i in (0, 2, 4)),
            "cpus": os.cpu_count()}
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                info["mem_gib"] = round(int(line.split()[1]) / 1048576, 1)
        for line in open("/etc/os-release"):
            if line.startswith("PRETTY_NAME="):
                info["os"] = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return info


def loadavg():
    try:
        return open("/proc/loadavg").read().split()[0]
    except OSError:
        return "?"


def git_commit(src):
    try:
        c = subprocess.run(["git", "-C", src, "rev-parse", "--short=12", "HEAD"],
                           capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", src, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return c + ("-dirty" if dirty else "")
    except OSError:
        return "unknown"


def num(v, fmt="%.0f"):
    return "-" if v is None else fmt % v


def baseline_for(rows, row, kind):
    for r in rows:
        if (r.get("receiver") == kind and r.get("status") == "ok" and r["mode"] == "plain" and
                r["section"] == row["section"] and r["clients"] == row["clients"] and
                r["offered_pps"] == row["offered_pps"]):
            return r
    return None


def where_text(row):
    if not row.get("lost"):
        return "-"
    w = row.get("loss_where") or {}
    parts = ["%s %d" % (k, v) for k, v in w.items() if v]
    return ", ".join(parts) if parts else "-"


def ratio_text(row, base):
    """CPU per datagram of the baseline over the row's: 'x times cheaper'."""
    if not base or row is base or not row.get("cpu_ns_per_dgram") or not base.get("cpu_ns_per_dgram"):
        return "-"
    return "%.1fx" % (base["cpu_ns_per_dgram"] / row["cpu_ns_per_dgram"])


E2E_HEAD = ("| Path | Mode | Clients | Offered/s | Achieved/s | Loss % | Loss where (datagrams) "
            "| MB/s | p50 / p99 / p99.9 latency (us) | CPU % | CPU ns/dgram | vs C | vs Python | RSS MB |\n"
            "|---|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|\n")


def e2e_line(rows, r):
    if r.get("status") != "ok":
        return "| %s | %s | %d | %s | %s | | | | | | | | | |\n" % (
            r["path"], r["mode"], r["clients"], fmt_rate(r["offered_pps"]),
            "%s: %s" % (r.get("status"), r.get("note", "")))
    lat = r.get("latency_us") or {}
    latt = " / ".join(num(lat.get(k), "%.0f") for k in ("p50", "p99", "p999"))
    if r.get("latency_basis") == "userspace_read":
        latt += " (read)"
    vs_c = vs_py = "-"
    if r["mode"] == "plain":
        vs_c = ratio_text(r, baseline_for(rows, r, "c"))
        vs_py = ratio_text(r, baseline_for(rows, r, "py"))
    return "| %s | %s | %d | %s | %.0f | %.3f | %s | %.2f | %s | %.0f | %s | %s | %s | %.1f |\n" % (
        r["path"], r["mode"], r["clients"], fmt_rate(r["offered_pps"]), r["achieved_pps"],
        r["loss_pct"], where_text(r), r["mb_per_s"], latt, r["cpu_pct"],
        num(r.get("cpu_ns_per_dgram")), vs_c, vs_py, r["rss_kb"] / 1024.0)


LOSSLESS_PCT = 0.1


def headline(rows):
    """Per (receiver, mode): best loss-free achieved rate and the top row."""
    out = []
    for kind, mode in PLOT_LINES:
        sel = [r for r in rows if r["section"] == "rate" and r.get("status") == "ok"
               and r["receiver"] == kind and r["mode"] == mode]
        if not sel:
            continue
        good = [r for r in sel if r["loss_pct"] < LOSSLESS_PCT]
        best = max(good, key=lambda r: r["achieved_pps"]) if good else None
        hgood = [r for r in sel if r.get("host_loss_pct", r["loss_pct"]) < LOSSLESS_PCT]
        hbest = max(hgood, key=lambda r: r["achieved_pps"]) if hgood else None
        top = max(sel, key=lambda r: (r["offered_pps"] == 0, r["offered_pps"]))
        out.append({"receiver": kind, "mode": mode, "path": sel[0]["path"],
                    "best_pps": best["achieved_pps"] if best else None,
                    "best_ns": best.get("cpu_ns_per_dgram") if best else None,
                    "host_best_pps": hbest["achieved_pps"] if hbest else None,
                    "top": top})
    return out


def find_row(rows, section, kind, mode, clients=None, rate=None, flood=None):
    for r in rows:
        if (r.get("status") == "ok" and r["section"] == section and r["receiver"] == kind and
                r["mode"] == mode and (clients is None or r["clients"] == clients) and
                (rate is None or r["offered_pps"] == rate) and
                (flood is None or bool(r.get("flood_pps")) == flood)):
            return r
    return None


def key_figures(rows):
    """A few sentences computed from the rows, for the top of the report."""
    keys = []
    seeds = [r for r in rows if r["section"] == "seeds" and r.get("status") == "ok"]
    if seeds:
        lossless = all(r["lost"] == 0 for r in seeds)
        keys.append("Seed table (1 client at 1,000/s, 5 at 5,000/s, 10 at 20,000/s): %s." % (
            "every receiver, plain and DTLS, received every datagram" if lossless else
            "loss in %s" % ", ".join("%s %s %d clients" % (r["path"], r["mode"], r["clients"])
                                     for r in seeds if r["lost"])))
    for rate in (100000, 200000):
        col = find_row(rows, "rate", "io_uring", "plain", 10, rate)
        c = find_row(rows, "rate", "c", "plain", 10, rate)
        py = find_row(rows, "rate", "py", "plain", 10, rate)
        if col and c and py and col.get("cpu_ns_per_dgram"):
            keys.append(
                "At %s datagrams/s (10 clients, plain) the collector (XDP + io_uring) used "
                "%.0f ns of CPU per datagram against %.0f for the C recvmmsg baseline (%.1fx) "
                "and %.0f for the Python recvfrom one (%.1fx), which lost %.2f%% (collector: "
                "%.2f%%)." % (fmt_rate(rate), col["cpu_ns_per_dgram"], c["cpu_ns_per_dgram"],
                              c["cpu_ns_per_dgram"] / col["cpu_ns_per_dgram"],
                              py["cpu_ns_per_dgram"],
                              py["cpu_ns_per_dgram"] / col["cpu_ns_per_dgram"],
                              py["loss_pct"], col["loss_pct"]))
            break
    plain = find_row(rows, "rate", "io_uring", "plain", 10, 100000)
    dtls = find_row(rows, "rate", "io_uring", "dtls", 10, 100000)
    if plain and dtls and plain.get("cpu_ns_per_dgram") and dtls.get("cpu_ns_per_dgram"):
        keys.append("DTLS at 100k datagrams/s: %.0f ns per datagram with decryption, %.0f ns "
                    "plain (difference %+.0f ns), loss %.2f%%." % (
                        dtls["cpu_ns_per_dgram"], plain["cpu_ns_per_dgram"],
                        dtls["cpu_ns_per_dgram"] - plain["cpu_ns_per_dgram"], dtls["loss_pct"]))
    best = [h for h in headline(rows) if h["best_pps"] and h["receiver"] != "py"]
    if best:
        keys.append("Highest rate taken with < %g%% loss, 10 clients: %s. On this 2-core "
                    "testbed the load generator shares the CPUs, so most paths stop at the "
                    "sender's ceiling, not their own." % (LOSSLESS_PCT, "; ".join(
                        "%s %s %.0f/s" % (h["path"], h["mode"], h["best_pps"]) for h in best)))
    lossy = [r for r in rows if r.get("status") == "ok" and r["receiver"] in
             ("io_uring", "af_xdp", "noxdp") and r.get("host_loss_pct", 0) >= LOSSLESS_PCT]
    if lossy:
        keys.append("Where the collector itself lost datagrams: %s." % "; ".join(
            "%s %s at %.0f/s: %.2f%% (%s)" % (r["path"], r["mode"], r["achieved_pps"],
                                              r["host_loss_pct"], where_text(r))
            for r in lossy))
    big = [r for r in rows if r.get("status") == "ok" and r["section"] == "clients" and
           r["mode"] == "dtls" and r.get("handshakes") and r["receiver"] == "io_uring"]
    if big:
        r = max(big, key=lambda x: x["clients"])
        h = r["handshakes"]
        keys.append("%d DTLS clients connecting at once: %s handshakes completed (%s failed) at "
                    "%s/s, %s us of collector CPU each; then %.2f%% loss at %s datagrams/s." % (
                        r["clients"], h.get("ok"), h.get("failed"), num(h.get("rate_per_s")),
                        num(h.get("collector_cpu_us_per_handshake")), r["loss_pct"],
                        fmt_rate(r["offered_pps"])))
    mem = [(r, ref) for r, ref in memory_rows(rows) if r["receiver"] == "io_uring"]
    if mem:
        keys.append("Collector memory per client: %s." % "; ".join(
            "%s %d clients %.1f KiB" % (r["mode"], r["clients"],
                                        (r["rss_kb"] - ref["rss_kb"]) / float(r["clients"] - ref["clients"]))
            for r, ref in mem))
    fig = sender_figures(rows)
    ceil = [g for g in fig if g["sender"] == "loadgen" and g["ratio"] is not None]
    bare = [g for g in fig if g["sender"] == "bare" and g["median"] is not None]
    if ceil and bare:
        keys.append("Load generator ceiling (--rate 0, %d clients, median of runs): %s; the "
                    "bare sendmmsg loop: %s." % (SENDER_CLIENTS, "; ".join(
                        "%s %d thread%s %.0f/s = %.0f%% of the bare loop" % (
                            g["mode"], g["threads"], "" if g["threads"] == 1 else "s",
                            g["median"], 100.0 * g["ratio"]) for g in ceil), ", ".join(
                        "%d thread%s %.0f/s" % (g["threads"], "" if g["threads"] == 1 else "s",
                                                g["median"]) for g in bare)))
    pace = [r for r in rows if r["section"] == "pacing" and r.get("status") == "ok"]
    if pace:
        keys.append("Load generator pacing: %s." % "; ".join(
            "--rate %s achieved %.1f/s (%+.3f%%)" % (fmt_rate(r["offered_pps"]),
                                                    r["achieved_pps"], pacing_error_pct(r))
            for r in pace))
    calm = find_row(rows, "flood", "io_uring", "dtls", flood=False)
    fl = find_row(rows, "flood", "io_uring", "dtls", flood=True)
    allow = find_row(rows, "flood", "xdp_allow", "dtls", flood=True)
    if calm and fl:
        txt = ("Handshake flood of %s ClientHellos/s: established clients lost %.3f%%; "
               "collector CPU %.0f%% (%.0f%% without the flood)" % (
                   fmt_rate(fl["flood_pps"]), fl["loss_pct"], fl["cpu_pct"], calm["cpu_pct"]))
        if allow:
            txt += ", %.0f%% when XDP's allowlist drops the flood before the socket" % (
                allow["cpu_pct"])
        keys.append(txt + ".")
    return keys


def median(vals):
    v = sorted(vals)
    n = len(v)
    return (v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2.0) if n else None


def sender_figures(rows):
    """One entry per (sender, mode, threads) of the ceiling rows, in plan
    order: the repeats' median, min and max achieved rate, and the median's
    ratio to the bare loop's median with the same threads."""
    groups = []
    by_key = {}
    for r in rows:
        if r["section"] != "sender":
            continue
        key = (r.get("sender"), r["mode"], r.get("threads"))
        if key not in by_key:
            by_key[key] = {"sender": key[0], "label": r.get("sender_label"), "mode": key[1],
                           "threads": key[2], "clients": r["clients"], "path": r["path"],
                           "rows": []}
            groups.append(by_key[key])
        by_key[key]["rows"].append(r)
    for g in groups:
        ok = [r for r in g["rows"] if r.get("status") == "ok"]
        g["ok"] = ok
        rates = [r["wire_pps"] for r in ok if r.get("wire_pps")]
        g["median"], g["min"], g["max"] = (median(rates), min(rates), max(rates)) if rates \
            else (None, None, None)
        g["sent"] = sum(r["sent"] for r in ok)
        g["got"] = sum(r["received"] - r["duplicates"] for r in ok)
        g["lost"] = sum(r["lost"] for r in ok)
    for g in groups:
        base = by_key.get(("bare", "plain", g["threads"]))
        g["ratio"] = (g["median"] / base["median"]
                      if base and base["median"] and g["median"] is not None else None)
    return groups


def pacing_error_pct(r):
    req = r.get("requested_pps") or r["offered_pps"]
    return 100.0 * (r["achieved_pps"] - req) / req if req else None


def sender_text(rows):
    """The load generator section: its ceiling against the bare loop, and
    its pacing accuracy."""
    fig = sender_figures(rows)
    pace = [r for r in rows if r["section"] == "pacing"]
    if not fig and not pace:
        return ""
    out = ["## Load generator\n\n"]
    if fig:
        r0 = next((g["rows"][0] for g in fig), {})
        out.append(
            "How fast the load generator itself can send, as the rates above are bounded "
            "by it: `loadgen --rate 0` (as fast as it can) with %d clients and 1 or 2 sender "
            "threads for %g s, next to the bare sendmmsg loop (bench/bare_sendmmsg.c: one "
            "connected socket per thread, pre-built datagrams, sendmmsg batches of 64, "
            "nothing else) with as many threads. Every plain sender sends the same 92-byte "
            "datagrams (28-byte header + `--payload-size %d`) to the C recvmmsg baseline in "
            "the collector namespace; DTLS goes to the collector with `--no-xdp` (the "
            "handshakes need a DTLS server) and seals each of them into one DTLS record. *Achieved* = DATA "
            "datagrams that left the sender's sockets per second (loadgen's "
            "`rate.achieved_wire_pps`, the bare loop's `pps`), the median of the runs (each "
            "row is run that many times, round by round; results.json keeps every run); "
            "*vs bare loop* = achieved / the "
            "bare loop's with the same number of threads. For DTLS the ratio includes encryption, "
            "which the bare loop does not do, and a different receiver: on veth the "
            "receiving side's kernel work up to the socket queue, the receiver's wake-up "
            "included, runs on the sending CPU, so the receiver moves a sender's rate too. "
            "*Receiver got* = datagrams the "
            "receiver counted / datagrams sent (INIT and BYE included).\n\n" % (
                SENDER_CLIENTS, r0.get("duration_s", 0), SENDER_PAYLOAD))
        out.append("| Sender | Mode | Threads | Clients | Receiver | Achieved pps | Runs (min - max) "
                   "| vs bare loop | Receiver got |\n"
                   "|---|---|---:|---:|---|---:|---|---:|---:|\n")
        for g in fig:
            if g["median"] is None:
                r = g["rows"][-1]
                out.append("| %s | %s | %s | %d | %s | %s: %s | | | |\n" % (
                    g["label"], g["mode"], g["threads"], g["clients"], g["path"],
                    r.get("status"), r.get("note", "")))
                continue
            out.append("| %s | %s | %d | %d | %s | %.0f | %d of %d (%.0f - %.0f) | %s | "
                       "%d / %d (%.2f%% lost) |\n" % (
                           g["label"], g["mode"], g["threads"], g["clients"], g["path"],
                           g["median"], len(g["ok"]), len(g["rows"]), g["min"], g["max"],
                           "%.2f" % g["ratio"] if g["ratio"] is not None else "-",
                           g["got"], g["sent"],
                           100.0 * g["lost"] / g["sent"] if g["sent"] else 0.0))
        out.append("\n")
    if pace:
        out.append(
            "Pacing accuracy: `loadgen --rate R`, plain, %d clients, 1 thread, its default "
            "payload template, to the C baseline. *Achieved* = the report's "
            "`rate.achieved_pps` (DATA sequence numbers / the DATA phase); *error* = "
            "(achieved - requested) / requested; *DATA seqs* = what was sent against "
            "floor(R x duration); *receiver got* = datagrams the receiver counted / "
            "datagrams sent (INIT and BYE included).\n\n" % SENDER_CLIENTS)
        out.append("| Requested pps | Duration s | Achieved pps | Error % | DATA seqs (expected) | "
                   "Receiver got |\n|---:|---:|---:|---:|---:|---:|\n")
        for r in pace:
            if r.get("status") != "ok":
                out.append("| %d | %g | %s: %s | | | |\n" % (
                    r["offered_pps"], r.get("duration_s") or 0, r.get("status"),
                    r.get("note", "")))
                continue
            err = pacing_error_pct(r)
            seqs = r.get("data_seqs")
            out.append("| %d | %g | %.1f | %s | %s (%d) | %d / %d (%.2f%% lost) |\n" % (
                r["requested_pps"] or r["offered_pps"], r["duration_s"], r["achieved_pps"],
                "%+.3f" % err if err is not None else "-", "-" if seqs is None else seqs,
                int(r["offered_pps"] * r["duration_s"]), r["received"] - r["duplicates"],
                r["sent"], r["loss_pct"]))
        out.append("\n")
    return "".join(out)


def paths_text(rows):
    """What each collector path was in this run, from the summaries."""
    def seen(kind, key):
        vals = sorted({str(r.get(key)) for r in rows if r.get("status") == "ok" and
                       r["receiver"] == kind and r.get(key) is not None})
        return "/".join(vals) if vals else None

    parts = []
    attach = seen("io_uring", "xdp")
    xdp_modes = sorted({(r.get("xdp") or {}).get("attach_mode") for r in rows
                        if r.get("status") == "ok" and isinstance(r.get("xdp"), dict)} - {None})
    if xdp_modes:
        parts.append("*collector io_uring* = the XDP front end (attached in %s mode) in front of "
                     "io_uring sockets" % "/".join(xdp_modes))
    elif attach is not None:
        parts.append("*collector io_uring* = io_uring sockets (this build attached no XDP)")
    bind = seen("af_xdp", "afxdp_bind_mode")
    if bind:
        parts.append("*collector AF_XDP* = the XDP program redirects the port's datagrams to "
                     "AF_XDP sockets (%s mode on veth)" % bind)
    if any(r["receiver"] == "noxdp" for r in rows):
        parts.append("*collector io_uring, --no-xdp* = the same without XDP")
    if not parts:
        return ""
    return "Paths: " + "; ".join(parts) + ".\n\n"


def xdp_flood_drops(rx):
    """Datagrams the XDP program refused by rate limit or allowlist."""
    xdp = rx.get("xdp")
    if not isinstance(xdp, dict):
        return "no XDP"
    st = xdp.get("stats") or {}
    return sum((st.get(k) or {}).get("packets", 0) for k in FLOOD_DROPS)


def memory_rows(rows):
    """(row, reference) pairs for the client-count series of each receiver.

    The reference is the series' smallest client count at the same total
    rate, so both have touched the same receive buffers and only the
    per-client state differs.
    """
    out = []
    for r in rows:
        if r.get("status") != "ok" or r["section"] != "clients":
            continue
        same = [x for x in rows if x.get("status") == "ok" and x["section"] == "clients" and
                x["receiver"] == r["receiver"] and x["mode"] == r["mode"] and
                x["offered_pps"] == r["offered_pps"] and x["clients"] < r["clients"]]
        if same:
            out.append((r, min(same, key=lambda x: x["clients"])))
    return out


def markdown(env, meta, micro, rows, plots):
    m = meta["machine"]
    out = []
    out.append("# XTel performance\n\n")
    out.append("Measured by `%s` on %s, commit `%s` (level `%s`). Regenerate with "
               "`bench/run.sh --publish` (as root); raw results: `results.json` in the output "
               "directory (default `build/bench-results`).\n\n" % (
                   meta["command"], m["date"], meta["commit"], meta["level"]))
    out.append("Machine: %s, %s CPUs, %s GiB RAM; %s; %s. Collector and load generator run "
               "in two network namespaces joined by a veth pair (scripts/testbed.sh) on the "
               "same CPUs, collector with %d worker(s).\n\n" % (
                   m.get("cpu", "?"), m.get("cpus"), m.get("mem_gib", "?"), m.get("os", "?"),
                   m["uname"], env.workers))
    out.append("Load average (1 min) before / after the run: %s / %s: other work on the "
               "machine shares the same cores and moves the sender's ceiling.\n\n" % (
                   meta.get("loadavg_before", "?"), meta.get("loadavg_after", "?")))
    out.append("How to read the tables: *Loss %* is (sent - (received - duplicates)) / sent, "
               "from the load generator's report and the receiver's summary. *Loss where* "
               "splits it: `xdp` = dropped by the XDP program (collector summary), `rcvbuf` = "
               "socket receive buffer overflow (UDP RcvbufErrors of the collector namespace), "
               "`ring` = io_uring buffer ring ENOBUFS completions / AF_XDP ring drops "
               "(rx_ring_full + rx_dropped), `nic` = before the host: the sender veth's TX "
               "drops, the receiving veth's RX drops and softnet backlog drops, `other` = the "
               "remainder. *CPU* is the receiver's on-CPU "
               "time (user + system, all threads, from /proc/PID/task/*/schedstat) from the "
               "moment it is ready until the load has drained, so start-up work (BPF "
               "verification, certificate loading, interpreter start) is left out; *CPU %* "
               "relates it to the load's duration (100 = one core), *CPU ns/dgram* to the "
               "datagrams received. Each receiver's whole-run rusage, as its summary reports "
               "it, is kept in results.json (`rusage_cpu_s`). *RSS* is the receiver's peak "
               "resident memory (VmHWM). *Latency* is from the sender's timestamp in the datagram to "
               "the kernel's arrival stamp (SO_TIMESTAMPNS) for the collector and the C "
               "baseline; rows marked *(read)* (the Python baseline) measure to the moment "
               "recvfrom returned, so socket queueing and the wake-up are included. "
               "*vs C* / *vs Python* = the baseline's CPU ns per "
               "datagram divided by this row's at the same load (higher is better). The "
               "baselines (bench/baseline_recvmmsg.c, bench/baseline_recvfrom.py) decode the "
               "same header and keep per-client sequence accounting; they have no DTLS.\n\n")
    out.append(paths_text(rows))
    keys = key_figures(rows)
    if keys:
        out.append("## Key figures\n\n" + "".join("- %s\n" % k for k in keys) + "\n")
    head = headline(rows)
    if head:
        out.append("## Summary\n\n")
        out.append("Per receiver, from the rising-rate series (10 clients): the highest rate "
                   "it took with under %g%% loss (all loss, and loss inside the receiving host "
                   "only, i.e. not counting drops on the veth pair before it), its CPU per "
                   "datagram there, and what happened at the highest rate offered.\n\n"
                   % LOSSLESS_PCT)
        out.append("| Receiver | Mode | Highest rate with < %g%% loss | CPU ns/dgram there | "
                   "... with < %g%% loss in the host | Highest offered | Achieved there | "
                   "Loss there (in the host) | Limited by |\n"
                   "|---|---|---:|---:|---:|---:|---:|---:|---|\n" % (LOSSLESS_PCT, LOSSLESS_PCT))
        for h in head:
            top = h["top"]
            host = top.get("host_loss_pct", top["loss_pct"])
            if host >= 1.0:
                limit = "the receiver (%.1f%% lost in the host)" % host
            elif top["loss_pct"] - host >= 1.0:
                limit = "the veth pair before the host (sender veth drops)"
            elif top["offered_pps"] == 0 or top["achieved_pps"] < 0.95 * top["offered_pps"]:
                limit = "the load generator (sender ceiling), not the receiver"
            else:
                limit = "not reached"
            out.append("| %s | %s | %s | %s | %s | %s | %.0f | %.2f%% (%.2f%%) | %s |\n" % (
                h["path"], h["mode"], num(h["best_pps"]), num(h["best_ns"]),
                num(h["host_best_pps"]), fmt_rate(top["offered_pps"]), top["achieved_pps"],
                top["loss_pct"], host, limit))
        out.append("\n")
    sections = [("seeds", "The seed projects' table"),
                ("rate", "Rising rates (10 clients) up to saturation"),
                ("clients", "Rising client counts")]
    for key, title in sections:
        sel = [r for r in rows if r["section"] == key]
        if not sel:
            continue
        out.append("## %s\n\n" % title)
        if key == "rate":
            out.append("Rate `max` = the load generator sends as fast as it can. A series "
                       "stops after its first row with >= %g%% loss.\n\n" % SATURATION_LOSS_PCT)
        out.append(E2E_HEAD)
        for r in sel:
            out.append(e2e_line(rows, r))
        out.append("\n")
    hs = [r for r in rows if r.get("status") == "ok" and r["mode"] == "dtls" and r.get("handshakes")
          and r["section"] == "clients"]
    if hs:
        out.append("## DTLS handshakes\n\n")
        out.append("Full mutual-authentication DTLS 1.2 handshakes (ECDSA P-256 certificates on "
                   "both sides, cookie exchange included), all clients of the row connecting at "
                   "once. *Handshakes/s* = handshakes completed / the load generator's handshake "
                   "phase; *collector CPU per handshake* = the collector's CPU time before the "
                   "DATA phase / handshakes.\n\n")
        out.append("| Path | Clients | OK | Failed | Phase s | Handshakes/s | Mean / max ms | "
                   "Collector CPU us per handshake |\n|---|---:|---:|---:|---:|---:|---:|---:|\n")
        for r in hs:
            h = r["handshakes"]
            out.append("| %s | %d | %s | %s | %.2f | %s | %.0f / %.0f | %s |\n" % (
                r["path"], r["clients"], h.get("ok"), h.get("failed"), h.get("phase_s", 0),
                num(h.get("rate_per_s")), h.get("mean_ms", 0), h.get("max_ms", 0),
                num(h.get("collector_cpu_us_per_handshake"))))
        out.append("\n")
    mem = memory_rows(rows)
    if mem:
        out.append("## Memory per client\n\n")
        out.append("Receiver peak RSS (VmHWM) with N clients against the same receiver with "
                   "fewer clients (M) at the same total rate: (RSS(N) - RSS(M)) / (N - M). For "
                   "DTLS this is the session plus the accounting state of a client.\n\n")
        out.append("| Receiver | Mode | Clients N | RSS MB | Reference M | RSS(M) MB | KiB per client |\n"
                   "|---|---|---:|---:|---:|---:|---:|\n")
        for r, ref in mem:
            out.append("| %s | %s | %d | %.1f | %d | %.1f | %.2f |\n" % (
                r["path"], r["mode"], r["clients"], r["rss_kb"] / 1024.0, ref["clients"],
                ref["rss_kb"] / 1024.0,
                (r["rss_kb"] - ref["rss_kb"]) / float(r["clients"] - ref["clients"])))
        out.append("\n")
    fl = [r for r in rows if r["section"] == "flood"]
    if fl:
        out.append("## Handshake flood\n\n")
        out.append("Established DTLS clients keep sending while the load generator floods "
                   "ClientHellos without cookies from 64 source ports in 198.18.1.0/24. The "
                   "collector answers each with a stateless HelloVerifyRequest (cookie) and "
                   "keeps no state; loss is the established clients' loss. *Dropped in XDP* = "
                   "datagrams the program refused by handshake rate limit or allowlist.\n\n")
        out.append("| Path | Clients | Offered/s | Flood (ClientHellos) | Dropped in XDP | "
                   "Cookies sent | Client handshakes ok/failed | Loss % | Loss where | "
                   "Collector CPU % | RSS MB |\n"
                   "|---|---:|---:|---|---:|---:|---:|---:|---|---:|---:|\n")
        for r in fl:
            if r.get("status") != "ok":
                out.append("| %s | %d | %s | %s | %s: %s | | | | | |\n" % (
                    r["path"], r["clients"], fmt_rate(r["offered_pps"]),
                    fmt_rate(r.get("flood_pps")), r.get("status"), r.get("note", "")))
                continue
            f = r.get("flood") or {}
            rx = (r.get("raw") or {}).get("receiver") or {}
            fl_txt = "none"
            if r.get("flood_pps"):
                fl_txt = "%s/s: %s sent in %.1f s" % (fmt_rate(r["flood_pps"]), f.get("sent", "?"),
                                                     f.get("elapsed_s", 0))
            xdp_drop = (r.get("loss_where") or {}).get("xdp", 0)
            hs = r.get("handshakes") or {}
            out.append("| %s | %d | %s | %s | %s | %s | %s/%s | %.3f | %s | %.0f | %.1f |\n" % (
                r["path"], r["clients"], fmt_rate(r["offered_pps"]), fl_txt,
                xdp_flood_drops(rx), first(rx, "dtls.cookie_sent", default="-"),
                hs.get("ok", "-"), hs.get("failed", "-"), r["loss_pct"], where_text(r),
                r["cpu_pct"], r["rss_kb"] / 1024.0))
        out.append("\n")
    out.append(sender_text(rows))
    if plots:
        out.append("## Plots\n\n")
        for name, title in plots:
            out.append("![%s](img/%s)\n\n" % (title, name))
    out.append("## Micro-benchmarks\n\n")
    if micro:
        out.append("Google Benchmark, `--benchmark_min_time=%g`; CPU time per operation.\n\n"
                   % env.cfg["micro"])
        out.append("| Benchmark | ns/op | items/s | counters |\n|---|---:|---:|---|\n")
        for b in micro:
            if b.get("ns_per_op") is None:
                out.append("| %s | %s | | |\n" % (b["name"], "skipped" if b.get("skipped")
                                                    else "failed"))
                continue
            ips = b.get("items_per_second")
            ctr = ", ".join("%s=%.4g" % kv for kv in sorted((b.get("counters") or {}).items()))
            out.append("| %s/%s | %.1f | %s | %s |\n" % (
                b["executable"], b["name"], b["ns_per_op"], "%.3g" % ips if ips else "-",
                ctr or "-"))
    else:
        out.append("No micro-benchmark is registered in this build.\n")
    out.append("\n")
    return "".join(out)


PLOT_LINES = [("io_uring", "plain"), ("af_xdp", "plain"), ("noxdp", "plain"),
              ("io_uring", "dtls"), ("af_xdp", "dtls"), ("c", "plain"), ("py", "plain")]


def plots(env, rows):
    """loss % and CPU ns/datagram against offered rate, one line per path."""
    gp = shutil.which("gnuplot")
    if not gp:
        warn("gnuplot not found: no plots (scripts/deps.sh installs gnuplot-nox)")
        return []
    pdir = os.path.join(env.out, "img")
    os.makedirs(pdir, exist_ok=True)
    series = []
    for kind, mode in PLOT_LINES:
        pts = []
        for r in rows:
            if (r.get("status") == "ok" and r["receiver"] == kind and r["mode"] == mode and
                    r["section"] in ("rate", "seeds") and r["clients"] in (1, 5, 10)):
                # 'max' rows are plotted at the rate the sender reached.
                x = r["offered_pps"] or r["achieved_pps"]
                pts.append((x, r["loss_pct"], r.get("cpu_ns_per_dgram") or 0))
        if not pts:
            continue
        pts.sort()
        dat = os.path.join(pdir, "%s-%s.dat" % (kind, mode))
        with open(dat, "w") as f:
            for x, loss, ns in pts:
                f.write("%g %g %g\n" % (x, loss, ns))
        label = RECEIVER_LABEL[kind] + ("" if kind in ("c", "py") else " " + mode)
        series.append((dat, label))
    if not series:
        return []
    made = []
    for name, col, ylabel, title in (
            ("loss_vs_rate.png", 2, "loss (%)", "Loss against offered rate"),
            ("cpu_ns_vs_rate.png", 3, "receiver CPU per datagram (ns)",
             "Receiver CPU per datagram against offered rate")):
        script = os.path.join(pdir, name + ".gp")
        with open(script, "w") as f:
            f.write("set terminal pngcairo size 960,600 noenhanced font 'sans,10'\n")
            f.write("set output '%s'\n" % os.path.join(pdir, name))
            f.write("set title '%s'\nset xlabel 'offered rate (datagrams/s)'\n" % title)
            f.write("set ylabel '%s'\nset logscale x\nset grid\n" % ylabel)
            # Loss rises to the right, CPU per datagram falls: each key goes
            # in the corner its curves leave empty.
            f.write("set key inside %s top opaque box\n" % ("left" if col == 2 else "right"))
            if col == 3:
                f.write("set logscale y\n")
            else:
                f.write("set yrange [0:*]\n")
            f.write("plot " + ", \\\n     ".join(
                "'%s' using 1:%d with linespoints lw 2 title '%s'" % (d, col, l)
                for d, l in series) + "\n")
        r = subprocess.run([gp, script], capture_output=True, text=True, timeout=60)
        if r.returncode != 0:
            warn("gnuplot failed for %s: %s" % (name, r.stderr.strip()))
            continue
        made.append((name, title))
    return made


def main():
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
    args = ap.parse_args()
    # run.sh starts this program as a background job, which a shell starts
    # with SIGINT ignored; restore it, and make SIGTERM end the run the same
    # way, so the finally blocks stop the receiver and the generator.
    def interrupted(signum, frame):
        raise KeyboardInterrupt()

    signal.signal(signal.SIGINT, interrupted)
    signal.signal(signal.SIGTERM, interrupted)
    env = Env(args)
    t0 = time.monotonic()
    meta = {"command": env.command, "level": env.level, "commit": git_commit(env.src),
            "machine": machine(), "workers": env.workers,
            "namespaces": [env.ns_col, env.ns_gen]}
    meta["loadavg_before"] = loadavg()
    log("== XTel bench (%s) -> %s" % (env.level, env.out))
    micro = [] if args.no_micro else run_micro(env)
    rows = [] if args.no_e2e else run_all(env)
    made = plots(env, rows)
    meta["elapsed_s"] = round(time.monotonic() - t0, 1)
    meta["loadavg_after"] = loadavg()
    result = {"meta": meta, "micro": micro, "rows": rows,
              "plots": [n for n, _ in made]}
    with open(os.path.join(env.out, "results.json"), "w") as f:
        json.dump(result, f, indent=1)
    md = markdown(env, meta, micro, rows, made)
    with open(os.path.join(env.out, "PERFORMANCE.md"), "w") as f:
        f.write(md)
    if env.publish:
        docs = os.path.join(env.src, "docs")
        os.makedirs(os.path.join(docs, "img"), exist_ok=True)
        with open(os.path.join(docs, "PERFORMANCE.md"), "w") as f:
            f.write(md)
        for name, _ in made:
            shutil.copyfile(os.path.join(env.out, "img", name), os.path.join(docs, "img", name))
        log("published docs/PERFORMANCE.md and %d plot(s) in docs/img/" % len(made))
    bad = [r for r in rows if r.get("status") == "error"]
    log("== done in %.0f s: %d rows (%d errors), %d micro-benchmarks; results in %s" % (
        meta["elapsed_s"], len(rows), len(bad), len(micro), env.out))
    return 1 if bad else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        warn("interrupted: the current row's receiver and generator were stopped")
        sys.exit(130)
