# SPDX-License-Identifier: MIT
"""Running the rows: one receiver in the collector namespace and one sender
in the generator namespace per row, both bounded in count and time, the
kernel counters read around them and the receiver's CPU sampled through the
load; derive() then turns what was recorded into the row's figures.
run_all() runs the plan, skips what this build cannot run or what has
already saturated, and runs a failed row once more."""
import os
import shutil
import subprocess
import time

from .commands import bare_cmd, loadgen_cmd, receiver_cmd
from .config import DRAIN_S, PLAIN_PATHS, RECEIVER_LABEL, SATURATION_LOSS_PCT, SENDER_LABEL
from .counters import counter_delta, read_counters
from .derive import bare_as_report, derive
from .env import nsexec, testbed_id
from .plan import plan
from .procs import CpuSampler, read_hwm_kb, stop_proc, wait_ready
from .util import fmt_rate, load_json, log, warn


class Row(dict):
    pass


def na_row(section, kind, mode, clients, rate, why):
    return Row(section=section, receiver=kind, path=RECEIVER_LABEL[kind], mode=mode,
               clients=clients, offered_pps=rate, status="n/a", note=why)


def strip_clients(report):
    if not isinstance(report, dict):
        return report
    return {k: v for k, v in report.items() if k not in ("clients", "xdp_clients")}


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
    files = {name: os.path.join(env.raw, "%s-%s" % (tag, name))
             for name in ("receiver.json", "loadgen.json", "receiver.log", "loadgen.log")}
    for name in ("receiver.json", "loadgen.json"):
        if os.path.exists(files[name]):
            os.unlink(files[name])
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
    # DTLS from 250k/s on needs the second thread too (one encrypts ~250k).
    threads = 2 if (rate == 0 or rate > 300000 or (mode == "dtls" and rate >= 250000)) \
        and clients >= 2 else 1
    threads = opts.get("threads", threads)
    row["threads"] = threads
    if sender == "bare":
        sender_cmd = bare_cmd(env, threads, secs)
    else:
        sender_cmd = loadgen_cmd(env, mode, clients, rate, secs, files["loadgen.json"], flood,
                                 threads, opts.get("payload_size"))
    pin_dir = os.path.join(env.bpffs, "bench-" + tag)
    shutil.rmtree(pin_dir, ignore_errors=True)
    t_start = time.monotonic()
    before = read_counters(env)
    with open(files["receiver.log"], "w") as rxl:
        rx = subprocess.Popen(nsexec(env.ns_col, receiver_cmd(env, kind, mode, rx_cap,
                                                             files["receiver.json"], clients,
                                                             pin_dir)),
                              stdout=rxl, stderr=subprocess.STDOUT)
    try:
        if not wait_ready(env, kind, rx, files["receiver.log"]):
            tail = ""
            try:
                tail = open(files["receiver.log"]).read().strip().splitlines()[-1]
            except (OSError, IndexError):
                pass
            row.update(status="error", note="receiver did not start (exit %s): %s" % (
                rx.poll(), tail[:200]))
            return row
        _load(env, row, rx.pid, sender, sender_cmd, files, lg_cap)
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
    _conclude(row, files, sender)
    return row


def _load(env, row, rx_pid, sender, sender_cmd, files, lg_cap):
    """The sender's run against a ready receiver, with the receiver's CPU
    sampled from now until it has drained. Raises TimeoutExpired when the
    sender outlives its bound."""
    # CPU is measured over the load window only: process start-up (BPF
    # verification, certificate loading, the Python interpreter) would
    # otherwise dominate the per-datagram figure of the slow rows.
    sampler = CpuSampler(rx_pid)
    sampler.start()
    w0 = time.monotonic()
    try:
        # loadgen writes its report itself; the bare loop prints its
        # JSON on stdout.
        with open(files["loadgen.log"], "w") as lgl, \
                open(files["loadgen.json"] if sender == "bare" else os.devnull, "w") as lgo:
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


def _conclude(row, files, sender):
    """Reads the two reports into the row, derives its figures and decides
    its status."""
    lgr = load_json(files["loadgen.json"])
    if sender == "bare":
        lgr = bare_as_report(lgr)
    rxr = load_json(files["receiver.json"])
    # Per-client arrays stay in the raw files: with 10,000 clients they
    # would make results.json tens of megabytes.
    row["raw"] = {"loadgen": strip_clients(lgr), "receiver": strip_clients(rxr)}
    if row.get("status") == "error":
        return
    if lgr is None or rxr is None:
        row.update(status="error", note="missing %s report (exit codes loadgen %s, receiver %s)"
                   % ("loadgen" if lgr is None else "receiver", row.get("loadgen_exit"),
                      row["receiver_exit"]))
        return
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


def _unavailable(env, kind, mode, opts, dtls_ok, afxdp_ok):
    """Why this build cannot run the row, or None."""
    if kind in PLAIN_PATHS + ("noxdp", "xdp_allow") and not env.have_collector():
        return "collector not built"
    if kind == "min" and not os.access(env.base_min, os.X_OK):
        return "bench/baseline_minimal not built"
    if opts.get("sender") == "bare" and not os.access(env.bare, os.X_OK):
        return "bench/bare_sendmmsg not built"
    if opts.get("sender", "loadgen") == "loadgen" and not env.have_loadgen():
        return "loadgen not built"
    if mode == "dtls" and not dtls_ok:
        return "DTLS not available in this build"
    if kind == "af_xdp" and not afxdp_ok:
        return "collector has no --afxdp"
    return None


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
        why = _unavailable(env, kind, mode, opts, dtls_ok, afxdp_ok)
        if why is None:
            if section == "rate" and line in saturated:
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
