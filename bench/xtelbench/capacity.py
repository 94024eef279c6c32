# SPDX-License-Identifier: MIT
"""The receivers' own ceiling, apart from the sender: pre-fill, then drain.

On 2 shared cores the load generator and the receiver compete for the same
CPUs, so a rising-rate series ends at the sender's ceiling. Here the
receiver is frozen (SIGSTOP, every thread checked to be in state T) before
the first DATA datagram is sent; the load generator then puts N datagrams
into its socket receive buffer (SO_RCVBUFFORCE 1 GiB) or, for AF_XDP, its
RX ring and UMEM (--afxdp-frames 65536), as fast as it can, and exits. Only
then the receiver is woken (SIGCONT) and drains the backlog at full speed,
with no sender running. Its on-CPU time (schedstat of all its threads, in
ns, exact rather than sampled) from SIGCONT until it is idle again (socket
queue empty, no thread runnable, CPU time flat for three 20 ms samples),
over the datagrams it accounted, is its CPU per datagram at capacity;
1e9 / that is datagrams per second per core. The figure does not depend on
the sender's speed, and wall-clock noise from other work on the machine
does not enter it (only CPU time it actually got). The drain's wall-clock
rate is kept as context.

What it leaves out, by construction: on veth the receiving side's kernel
work up to the socket queue (the XDP program, the UDP stack, AF_XDP's copy
into the UMEM in copy mode) runs in the sender's context (its softirq), not
the receiver's; that part is in the sender's CPU, and in the end-to-end rows.
DTLS clients complete their handshakes first (loadgen --data-delay holds
INIT and DATA back until the receiver is frozen).

Where the userspace time goes: with --callgrind, one more drain per
receiver runs under valgrind --tool=callgrind with collection switched on
(callgrind_control -i on) just before SIGCONT and dumped after the drain, so
its instruction count is the drain's alone: instructions per datagram and
the top functions, repeatable to a few per cent on this noisy machine.
"""
import ipaddress
import os
import shutil
import signal
import subprocess
import time

from .commands import loadgen_cmd, receiver_cmd
from .config import PORT, RECEIVER_LABEL
from .counters import counter_delta, read_counters
from .derive import derive
from .env import nsexec
from .lgsize import LG_MAX_CLIENTS, lg_max_clients
from .procs import (read_hwm_kb, read_status_kb, rx_thread_cpu_ns, stop_proc, task_cpu_ns,
                    wait_ready)
from .rows import Row, strip_clients
from .util import first, load_json, log, warn

# The receivers the capacity section compares, plain, then DTLS.
CAPACITY_KINDS = (("io_uring", "plain"), ("noxdp", "plain"), ("af_xdp", "plain"),
                  ("c", "plain"), ("min", "plain"),
                  ("io_uring", "dtls"), ("noxdp", "dtls"), ("af_xdp", "dtls"))
RCVBUF = 1 << 30
AFXDP_FRAMES = 65536
# AF_XDP holds at most its ring: fill it to ~90% so that no frame is lost.
AFXDP_MAX = int(AFXDP_FRAMES * 0.9)
# More clients than that holds (the many-clients rows, e.g.
# XTEL_SCALE_KINDS=af_xdp): the largest ring --afxdp-frames takes (a 1 GiB
# UMEM, so the row's memory figures are the UMEM's); see afxdp_ring.
AFXDP_FRAMES_BIG = 262144
DATA_DELAY_S = 1.5
# Memory rows: after the drain, this long for the collector's next view
# (--interval 1 s) to hold every client before VmRSS is read.
MEM_SETTLE_S = 1.5
IDLE_SAMPLES = 3
SAMPLE_S = 0.02


def _threads_state(pid):
    """One-letter states of every thread of pid (R, S, T, ...)."""
    out = []
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            try:
                with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                    out.append(f.read().rsplit(")", 1)[1].split()[0])
            except (OSError, IndexError):
                pass
    except OSError:
        pass
    return out


def _frozen(pid, timeout=2.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        st = _threads_state(pid)
        if st and all(s in ("T", "t") for s in st):
            return True
        time.sleep(0.002)
    return False


def _rx_queue(env):
    """Bytes queued on the port's UDP sockets in the collector namespace."""
    try:
        text = subprocess.run(nsexec(env.ns_col, ["sh", "-c",
                                                  "cat /proc/net/udp /proc/net/udp6"]),
                              capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    q = 0
    for line in text.splitlines()[1:]:
        f = line.split()
        if len(f) > 4 and f[1].endswith(":%04X" % PORT):
            q += int(f[4].split(":")[1], 16)
    return q


def _drain(env, pid, cap_s=30.0):
    """SIGCONT, then wait until the receiver is idle; returns (cpu_ns,
    wall_s, rx_cpu_ns) of the drain, the last of the receive threads alone
    (None for a receiver without named threads)."""
    rx0 = rx_thread_cpu_ns(pid)
    c0 = task_cpu_ns(pid)
    t0 = time.monotonic()
    os.kill(pid, signal.SIGCONT)
    last_c, flat, t_busy = c0, 0, t0
    while time.monotonic() - t0 < cap_s:
        time.sleep(SAMPLE_S)
        c = task_cpu_ns(pid)
        if c is None:
            break
        running = any(s == "R" for s in _threads_state(pid))
        if c - last_c > 200000 or running:
            flat, t_busy = 0, time.monotonic()
        else:
            flat += 1
        last_c = c
        if flat >= IDLE_SAMPLES and _rx_queue(env) == 0:
            break
    rx1 = rx_thread_cpu_ns(pid)
    rx_ns = rx1 - rx0 if rx0 is not None and rx1 is not None and rx1 > rx0 else None
    return (last_c - c0 if last_c is not None else None), t_busy - t0, rx_ns


def _callgrind(env, cmd, outfile):
    """The receiver's argv under callgrind, collection off until asked."""
    return ["valgrind", "--tool=callgrind", "--compress-strings=no",
            "--callgrind-out-file=%s" % outfile] + cmd


# CPU a frozen receiver may show during the fill (the schedstat read and
# signal delivery; 0 in nearly every row): more fails the row.
FROZEN_CPU_MAX_NS = 5000000
# One loadgen process holds at most this many clients: it needs a socket
# each, and this machine's hard limit of open files is 20,000; DTLS rows
# size their chain from what bounds it here (lgsize.py).
# --data-delay of a DTLS chain's processes (see _Senders): longer than the
# handshakes of all of them take; SIGUSR1 ends it.
CHAIN_DELAY_S = 3600


def source_addr(env, p):
    """Process p's source address: host p+1 of the generator's AnyIP range
    (scripts/testbed.sh: bindable in the generator namespace, routed back
    from the collector's)."""
    net = ipaddress.ip_network(getattr(env, "src_net4", None) or "198.18.1.0/24")
    if p + 1 >= net.num_addresses - 1:
        raise ValueError("%d loadgen processes: more than %s has hosts" % (p + 1, net))
    return str(net.network_address + p + 1)


class _Senders:
    """loadgen as fast as it can, split over as many processes as the client
    count needs (consecutive ids), run one after the other; their reports
    are summed for the row."""

    def __init__(self, env, mode, clients, per_client, report, log_path, delay=None,
                 interleaved=False):
        """Several processes each speak from their own address of the
        generator's AnyIP range (loadgen --source 198.18.1.1, .2, ...), so
        that no two clients share an address and port, also across
        processes, and no address runs out of ports. interleaved: each
        client's turn is one datagram (loadgen --batch 1), so consecutive
        datagrams of a process come from different clients, as a fleet
        sends; otherwise a turn is a batch of one client's (64)."""
        self.reports, self.procs, self.log_path = [], [], log_path
        self.argvs = []
        # The log is shared with a warm-up and kept for the reader: only
        # what these processes write counts (see announced()).
        self.log_start = self._log_size()
        per = lg_max_clients(env, mode)
        k = (clients + per - 1) // per
        # DTLS over several processes (100,000 clients): each starts once
        # the one before has its handshakes done (one handshake storm at a
        # time, the receiver's half-open bound is per worker), all hold
        # their sessions until SIGUSR1 (loadgen ends --data-delay on it),
        # and wait() lets them send one after the other.
        self.chain = mode == "dtls" and k > 1 and bool(delay)
        if self.chain:
            delay = CHAIN_DELAY_S
        for p in range(k):
            n = clients // k + (1 if p < clients % k else 0)
            rep = report if k == 1 else "%s.%d" % (report, p)
            lg = loadgen_cmd(env, mode, n, 0, 60, rep, threads=1)
            lg[lg.index("--count") + 1] = per_client
            lg += ["--first-id", 1 + p * (clients // k) + min(p, clients % k)]
            if k > 1:
                lg += ["--source", source_addr(env, p)]
            if delay:
                lg += ["--data-delay", delay]
            if interleaved:
                lg += ["--batch", 1]
            if mode == "dtls":
                # No close_notify at the end: the frozen receiver would
                # find one per session behind the records and tear every
                # session down inside the timed drain (at 100,000 clients
                # about a third of the growth over 10: frees, the XDP peer
                # map's deletes, the answering alert; docs/CAPACITY.md
                # "Where a drain's time goes, kernel included").
                lg += ["--no-close"]
            self.argvs.append(nsexec(env.ns_gen, lg))
            self.reports.append(rep)

    def _log_size(self):
        return os.path.getsize(self.log_path) if os.path.exists(self.log_path) else 0

    def start(self):
        """Starts the first process; wait() runs the others one after the
        other (side by side they overflow veth's 256-slot XDP ring)."""
        self.log_start = self._log_size()	# after a warm-up's lines too
        self._spawn(self.argvs[0])

    def _spawn(self, argv):
        with open(self.log_path, "a") as lgl:
            self.procs.append(subprocess.Popen(argv, stdout=lgl, stderr=subprocess.STDOUT))

    def announced(self):
        """The first process has said its handshakes are done (in a chain:
        every process, each started here once the one before said so).
        Only the log's part written since this object was made counts: an
        older line (a row's first attempt, the same tag's row of an earlier
        run in a reused --out) made the receiver freeze before the
        handshakes, and every DTLS row fail with loadgen exit 4 (handshake
        timeout)."""
        with open(self.log_path) as f:
            f.seek(self.log_start)
            done = f.read().count("loadgen: handshakes done")
        if not self.chain:
            return done > 0
        if done >= len(self.procs) and len(self.procs) < len(self.argvs):
            log("    loadgen %d of %d: handshakes done, starting the next" %
                (len(self.procs), len(self.argvs)))
            self._spawn(self.argvs[len(self.procs)])
        return done >= len(self.argvs)

    def running(self):
        return any(p.poll() is None for p in self.procs)

    def wait(self, timeout):
        if self.chain:
            # Every process holds its sessions: SIGUSR1 to one at a time.
            for p in self.procs:
                p.send_signal(signal.SIGUSR1)
                p.wait(timeout=timeout)
            return max(p.returncode for p in self.procs)
        self.procs[0].wait(timeout=timeout)
        for argv in self.argvs[1:]:
            self._spawn(argv)
            self.procs[-1].wait(timeout=timeout)
        return max(p.returncode for p in self.procs)

    def kill(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()

    def report(self):
        """The first report, with the sums of every process's totals."""
        reps = [load_json(r) for r in self.reports]
        if any(r is None for r in reps):
            return None
        out = dict(reps[0], totals=dict(reps[0]["totals"]))
        for key in ("sent", "sent_data", "data_seqs", "bytes"):
            vals = [first(r, "totals." + key) for r in reps]
            if all(isinstance(v, (int, float)) for v in vals):
                out["totals"][key] = sum(vals)
        return out


def _warm_up(env, files, clients, mode, rx_pid):
    """Plain rows with many clients: every client is created (records,
    histogram blocks, metric slots) by a first small load the running
    receiver takes, so the measured fill finds them all in place."""
    warm = _Senders(env, mode, clients, 2, files["warmup.json"], files["loadgen.log"])
    warm.start()
    warm.wait(timeout=120)
    # Idle again: the same test as the end of a drain.
    deadline, last, flat = time.monotonic() + 30, task_cpu_ns(rx_pid), 0
    while time.monotonic() < deadline and flat < IDLE_SAMPLES:
        time.sleep(SAMPLE_S)
        c = task_cpu_ns(rx_pid)
        flat = flat + 1 if c is not None and c - last < 200000 else 0
        last = c
    return first(warm.report(), "totals.sent", default=0)


def afxdp_ring(n, clients):
    """(--afxdp-frames, DATA to fill) for an AF_XDP row of n DATA from
    clients: the fill and every client's INIT and BYE within ~90% of the
    ring (at most ~78,000 clients, one DATA each, fit the largest)."""
    frames = AFXDP_FRAMES if 3 * clients <= AFXDP_MAX else AFXDP_FRAMES_BIG
    return frames, max(clients, min(n, int(frames * 0.9) - 2 * clients))


def run_capacity_row(env, seq, kind, mode, n, clients=10, callgrind=False, workers=None,
                     section="capacity", extra=(), mem=False, order="bursts"):
    """One pre-fill and drain. extra: more receiver options; mem: after the
    drain, wait until a view holding every client has been made (interval
    1 s), then read the receiver's VmRSS and VmHWM. order: "bursts" (each
    client's datagrams in batches of 64) or "interleaved" (one per client
    turn: every datagram from another client, see _Senders)."""
    tag = "%03d-%s-%s-%s-c%d-n%d%s%s%s" % (seq, section, kind, mode, clients, n,
                                               "-w%d" % workers if workers else "",
                                               "-callgrind" if callgrind else "",
                                               "-il" if order == "interleaved" else "")
    files = {k: os.path.join(env.raw, "%s-%s" % (tag, k))
             for k in ("receiver.json", "loadgen.json", "receiver.log", "loadgen.log",
                       "callgrind.out", "warmup.json")}
    # A reused --out holds the same tags' files of an earlier run: none of
    # them may stand for this row's (the callgrind dump is FILE.1).
    for path in [files[k] for k in ("receiver.json", "loadgen.json", "callgrind.out",
                                    "warmup.json", "loadgen.log")] + [files["callgrind.out"] + ".1"]:
        if os.path.exists(path):
            os.unlink(path)
    frames = AFXDP_FRAMES
    if kind == "af_xdp":
        frames, n = afxdp_ring(n, clients)
    per_client = max(1, n // clients)
    row = Row(section=section, receiver=kind, path=RECEIVER_LABEL[kind], mode=mode,
              clients=clients, offered_pps=0, duration_s=60.0, flood_pps=0, tag=tag,
              callgrind=callgrind, fill=per_client * clients,
              workers=workers or env.workers, order=order)
    # A chain of DTLS loadgens (more clients than one holds) handshakes
    # for minutes before the fill: the receiver must outlast that bound.
    hs_bound = 60 + clients / 50.0
    cap_s = 120 if mode != "dtls" or clients <= lg_max_clients(env, mode) else 120 + hs_bound
    cmd = receiver_cmd(env, kind, mode, cap_s, files["receiver.json"], clients,
                       os.path.join(env.bpffs, "bench-" + tag))
    cmd += ["--rcvbuf", RCVBUF] + list(extra)
    if workers and kind not in ("c", "min"):
        cmd[cmd.index("--workers") + 1] = workers
    if kind not in ("c", "min"):
        if kind == "af_xdp":
            cmd += ["--afxdp-frames", frames]
    if callgrind:
        cmd = _callgrind(env, [str(a) for a in cmd], files["callgrind.out"])
    lg = _Senders(env, mode, clients, per_client, files["loadgen.json"], files["loadgen.log"],
                  delay=DATA_DELAY_S * (8 if callgrind else 1),
                  interleaved=order == "interleaved")
    shutil.rmtree(os.path.join(env.bpffs, "bench-" + tag), ignore_errors=True)
    before = read_counters(env)
    t_start = time.monotonic()
    with open(files["receiver.log"], "w") as rxl:
        rx = subprocess.Popen(nsexec(env.ns_col, cmd), stdout=rxl, stderr=subprocess.STDOUT)
    try:
        if not wait_ready(env, kind, rx, files["receiver.log"],
                          timeout=60.0 if callgrind else 8.0):
            row.update(status="error", note="receiver did not start (exit %s)" % rx.poll())
            return row
        if clients > 10 and mode == "plain":
            row["warmup_sent"] = _warm_up(env, files, clients, mode, rx.pid)
        lg.start()
        # Freeze the receiver once the handshakes are done, before INIT.
        # Generous: loading a certificate per client and the handshakes
        # took 26 s for 10,000 DTLS clients in a quiet moment, and more than
        # 63 s (the bound before) in a busy one.
        deadline = time.monotonic() + hs_bound
        while time.monotonic() < deadline and lg.running() and not lg.announced():
            time.sleep(0.01)
        if lg.running() and not lg.announced():
            # Freezing now would only time the rest of the handshakes out.
            row.update(status="error", note="loadgen's handshakes not done within %.0f s" %
                       hs_bound)
            return row
        if callgrind:
            # Zero the counts now, while the receiver still runs (vgdb
            # needs it to): between here and SIGSTOP it only waits.
            subprocess.run(["callgrind_control", "-z", str(rx.pid)],
                           capture_output=True, timeout=30)
        os.kill(rx.pid, signal.SIGSTOP)
        if not _frozen(rx.pid):
            row.update(status="error", note="receiver did not stop")
            return row
        c_frozen = task_cpu_ns(rx.pid)
        row["loadgen_exit"] = lg.wait(timeout=120)
        # A frozen receiver takes no CPU while the buffer fills: check it.
        row["cpu_while_frozen_ns"] = task_cpu_ns(rx.pid) - c_frozen
        if row["cpu_while_frozen_ns"] > FROZEN_CPU_MAX_NS:
            # It drained during the fill (a 10-client DTLS row once took
            # 194 ms of CPU "frozen" and then showed 1 ns per datagram).
            row.update(status="error", note="receiver ran while frozen (%d ns of CPU)" %
                       row["cpu_while_frozen_ns"])
            return row
        cpu_ns, wall, rx_ns = _drain(env, rx.pid, cap_s=120 if callgrind else 30)
        row["drain_rx_cpu_s"] = rx_ns / 1e9 if rx_ns is not None else None
        if callgrind:
            # The first dump (FILE.1) holds the drain alone.
            subprocess.run(["callgrind_control", "-d", str(rx.pid)],
                           capture_output=True, timeout=30)
        row["drain_cpu_s"] = cpu_ns / 1e9 if cpu_ns is not None else None
        row["drain_wall_s"] = wall
        if mem:
            time.sleep(MEM_SETTLE_S)
            row["vmrss_kb"] = read_status_kb(rx.pid, "VmRSS")
    except subprocess.TimeoutExpired:
        row.update(status="error", note="loadgen exceeded its time bound")
    finally:
        try:
            os.kill(rx.pid, signal.SIGCONT)
        except OSError:
            pass
        lg.kill()
        row["vmhwm_kb"] = read_hwm_kb(rx.pid)
        if callgrind and kind not in ("c", "min"):
            # valgrind 3.19 holds its thread lock through io_uring_enter:
            # the collector's main thread never gets to handle SIGINT. The
            # dump is written; end it and remove the XDP program it leaves.
            rx.kill()
            rx.wait()
            if kind != "noxdp":
                subprocess.run(nsexec(env.ns_col, [env.collector, "--detach", env.col_if]),
                               capture_output=True, timeout=30)
        stop_proc(rx, 60 if callgrind else 15)
    row["receiver_exit"] = rx.returncode
    shutil.rmtree(os.path.join(env.bpffs, "bench-" + tag), ignore_errors=True)
    row["counters"] = counter_delta(before, read_counters(env))
    row["wall_s"] = round(time.monotonic() - t_start, 3)
    _conclude(row, files, lg.report())
    return row


def _conclude(row, files, lgr):
    rxr = load_json(files["receiver.json"])
    if rxr is None and row["callgrind"] and lgr is not None:
        # No summary under valgrind (see above): the instruction counts are
        # per datagram sent, which the same receiver takes without loss.
        rxr = {"totals": {"received": first(lgr, "totals.sent", default=0) +
                          row.get("warmup_sent", 0)}}
        row["received_assumed"] = True
    row["raw"] = {"loadgen": strip_clients(lgr), "receiver": strip_clients(rxr)}
    if row.get("status") == "error":
        return
    if lgr is None or rxr is None:
        row.update(status="error", note="missing %s report" % (
            "loadgen" if lgr is None else "receiver"))
        return
    warm = row.get("warmup_sent", 0)
    if warm:
        # The warm-up's datagrams are in the receiver's totals too: count
        # them as sent (loss stays exact), and leave them out of the drain.
        lgr = dict(lgr, totals=dict(lgr["totals"], sent=lgr["totals"]["sent"] + warm))
    derive(row, lgr, rxr)
    if row.get("loadgen_exit"):
        row.update(status="error", note="loadgen exit %s" % row["loadgen_exit"])
        return
    got = row["received"] - warm
    row["drained"] = got
    cpu = row.get("drain_cpu_s")
    row["cpu_s"] = cpu
    row["cpu_ns_per_dgram"] = cpu * 1e9 / got if cpu and got else None
    rx_cpu = row.get("drain_rx_cpu_s")
    row["rx_cpu_ns_per_dgram"] = rx_cpu * 1e9 / got if rx_cpu and got else None
    row["capacity_pps"] = got / cpu if cpu and got else None
    row["drain_wall_pps"] = got / row["drain_wall_s"] if row.get("drain_wall_s") else None
    if row["callgrind"]:
        row["callgrind"] = _annotate(files["callgrind.out"], got)


def callgrind_self_costs(path):
    """Self instruction counts per function of a callgrind dump (written
    with --compress-strings=no): {(object, function): Ir}. Read directly,
    because callgrind_annotate 3.19 books a dump taken after -z on the
    thread's outermost frame."""
    costs, ob, fn, skip = {}, "", "", False
    with open(path, errors="replace") as f:
        for line in f:
            if line.startswith("ob="):
                ob = os.path.basename(line[3:].strip())
            elif line.startswith("fn="):
                fn = line[3:].strip()
            elif line.startswith("calls="):
                skip = True		# the next cost line is the call's, inclusive
            elif line[:1].isdigit() or line[:1] in "+-*":
                if skip:
                    skip = False
                    continue
                parts = line.split()
                if len(parts) >= 2 and parts[1].isdigit():
                    costs[(ob, fn)] = costs.get((ob, fn), 0) + int(parts[1])
    return costs


def _annotate(path, got):
    """Instructions per datagram and the top functions (self cost) of the
    drain's callgrind dump (FILE.1)."""
    dump = path + ".1"
    if not os.path.exists(dump) or not got:
        return None
    costs = callgrind_self_costs(dump)
    total = sum(costs.values())
    top = sorted(costs.items(), key=lambda kv: -kv[1])[:15]
    return {"ir_total": total, "ir_per_dgram": total / got,
            "top": [{"fn": fn, "obj": ob, "ir_per_dgram": ir / got} for (ob, fn), ir in top]}


def capacity_plan(env):
    c = env.cfg.get("capacity")
    if not c:
        return []
    todo = []
    kinds = c.get("kinds", CAPACITY_KINDS)
    for rnd in range(c["repeat"]):
        for kind, mode in kinds:
            todo.append((kind, mode, c["n"], False, rnd + 1, 10))
    # Scaling per core: the same DTLS drain spread over more workers (the
    # 10 clients' flows over their SO_REUSEPORT sockets).
    for w in c.get("dtls_workers", ()):
        todo.append(("io_uring", "dtls", c["n"], False, 1, 10, w))
    for clients in c.get("clients", ()):
        for kind in ("io_uring", "c", "min"):
            # At least as many datagrams as the 10-client rows, and
            # per_client each: a drain of a few ms would measure noise.
            todo.append((kind, "plain", max(c["n"], clients * c.get("per_client", 8)),
                         False, 1, clients))
    if c.get("callgrind") and shutil.which("valgrind"):
        for kind, mode in kinds:
            if kind != "af_xdp":	# valgrind starves its thread (see above)
                todo.append((kind, mode, c["callgrind_n"], True, 1, 10))
    return todo


def keep_failed(env, row):
    """Before a row runs again: its failed attempt's logs and reports are
    kept as FILE.failed (the retry starts from none of them)."""
    for k in ("receiver.json", "loadgen.json", "receiver.log", "loadgen.log"):
        path = os.path.join(env.raw, "%s-%s" % (row["tag"], k))
        if os.path.exists(path):
            os.replace(path, path + ".failed")


def run_capacity(env, seq0=500):
    rows = []
    todo = capacity_plan(env)
    dtls_ok, afxdp_ok = env.have_dtls(), env.have_afxdp()
    t0 = time.monotonic()
    for i, item in enumerate(todo, 1):
        kind, mode, n, cg, rnd, clients = item[:6]
        workers = item[6] if len(item) > 6 else None
        if (mode == "dtls" and not dtls_ok) or (kind == "af_xdp" and not afxdp_ok) or \
                (kind == "min" and not os.access(env.base_min, os.X_OK)):
            continue
        row = run_capacity_row(env, seq0 + i, kind, mode, n, clients, cg, workers)
        if row.get("status") != "ok" and not cg:
            log("    capacity row %d failed (%s), running it again" % (i, row.get("note")))
            keep_failed(env, row)
            row = run_capacity_row(env, seq0 + i, kind, mode, n, clients, cg, workers)
        row["repeat"] = rnd
        rows.append(row)
        _progress(i, len(todo), row, t0)
    return rows


def _progress(i, n, row, t0):
    head = "[%3d/%d %5.0fs] capacity%s %-28s %-5s clients=%-5d workers=%d fill=%-6d" % (
        i, n, time.monotonic() - t0, " (callgrind)" if row.get("callgrind") else "",
        row["path"], row["mode"], row["clients"], row.get("workers", 1), row.get("fill", 0))
    if row.get("status") != "ok":
        log(head + "  %s: %s" % (row.get("status"), row.get("note", "")))
        return
    cg = row.get("callgrind")
    log(head + "  drained=%d loss=%.3f%% cpu=%s ns/dgram capacity=%s/s/core drain=%.0f/s%s" % (
        row.get("drained", 0), row["loss_pct"],
        "%.0f" % row["cpu_ns_per_dgram"] if row.get("cpu_ns_per_dgram") else "-",
        "%.0f" % row["capacity_pps"] if row.get("capacity_pps") else "-",
        row.get("drain_wall_pps") or 0,
        " Ir/dgram=%.0f" % cg["ir_per_dgram"] if isinstance(cg, dict) else ""))
    if cg is not None and not isinstance(cg, dict) and row.get("callgrind"):
        warn("callgrind output missing for %s" % row["tag"])
