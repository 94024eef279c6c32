# SPDX-License-Identifier: MIT
"""Process control and measurement of a row's receiver: starting it and
waiting until it listens (or says it is ready), stopping it so that it writes
its summary, and reading its CPU time (sampled through the load) and peak
memory from /proc."""
import os
import re
import signal
import subprocess
import threading
import time

from .config import PORT
from .env import nsexec


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
            if kind in ("c", "min", "py"):
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


def _wait_line(proc, log_path, text, timeout):
    """Until a line of log_path holds text (False: the process ended or the
    time ran out)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if text in open(log_path).read():
                return True
        except OSError:
            pass
        if proc.poll() is not None:
            return False
        time.sleep(0.05)
    return False


def start_ready(env, cmd, log_path, what="collector", ready=None, timeout=8.0):
    """Starts cmd in the collector namespace (stdout discarded, stderr to
    log_path) and waits until it is ready: by default as wait_ready does for
    the collector (its port bound and its mode reported); with ready=TEXT,
    until its log has TEXT (the aggregator's consumer line, probe-server's
    "listening on"). A process that does not get ready is stopped and a
    RuntimeError names it with the end of its log."""
    with open(log_path, "w") as err:
        proc = subprocess.Popen(nsexec(env.ns_col, cmd), stdout=subprocess.DEVNULL,
                                stderr=err)
    if ready is None:
        ok = wait_ready(env, "io_uring", proc, log_path, timeout)
    else:
        ok = _wait_line(proc, log_path, ready, timeout)
    if not ok:
        stop_proc(proc, 5)
        raise RuntimeError("%s did not start: %s" % (what, open(log_path).read()[-300:]))
    return proc


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


def read_status_kb(pid, key):
    """A kB field of /proc/PID/status (VmRSS, VmHWM, ...), None if gone."""
    try:
        for line in open("/proc/%d/status" % pid):
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def read_hwm_kb(pid):
    """Peak RSS of the process's current memory map (VmHWM).

    Not ru_maxrss: that survives execve, so a receiver started from this
    Python process would report Python's own peak instead of its own.
    """
    return read_status_kb(pid, "VmHWM")


def threads_cpu_ns(pid, comm_prefixes=None):
    """{tid: on-CPU ns (user + system)} of every thread of pid (with
    comm_prefixes only of the threads whose name starts with one of them);
    None when the process is gone."""
    out = {}
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            try:
                if comm_prefixes:
                    with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                        if not f.read().startswith(comm_prefixes):
                            continue
                with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                    out[int(tid)] = int(f.read().split()[0])
            except (OSError, ValueError, IndexError):
                pass
    except OSError:
        return None
    return out


def task_cpu_ns(pid, comm_prefixes=None):
    """On-CPU time (user + system) of all threads of pid, in ns; with
    comm_prefixes only of the threads whose name starts with one of them."""
    per = threads_cpu_ns(pid, comm_prefixes)
    return None if per is None else sum(per.values())


def rx_thread_cpu_ns(pid):
    """On-CPU time of the collector's receive threads alone (named
    xtel-rx<N> and xtel-afxdp; the main thread makes the views), in ns."""
    return task_cpu_ns(pid, ("xtel-rx", "xtel-afxdp"))


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
