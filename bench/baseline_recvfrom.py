#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Baseline receiver written the way simple telemetry servers usually are.

One blocking recvfrom() per datagram in a Python loop, the 28-byte XTel
header decoded with struct, the payload parsed as key=value pairs split on
';', and per-client sequence accounting with the highest sequence number and
a bytearray of seen numbers per epoch. The benchmark suite (bench/run.sh)
runs it on the same testbed and loads as the collector so that the
collector's figures can be read as ratios against the usual design; its JSON
summary has the same names as the C baseline's (totals.received, lost,
duplicates, rusage.cpu_s, rusage.maxrss_kb).

usage: baseline_recvfrom.py [--port 7700] [--duration S] [--quiet S] [--json FILE]

It stops after --duration seconds, once --quiet seconds passed without a
datagram after the first one, or on SIGINT/SIGTERM, then prints the summary.
"""
import argparse
import json
import math
import resource
import signal
import socket
import struct
import sys
import time

HDR = struct.Struct(">HBBHHIQQ")  # magic version type flags plen id seq ts
MAGIC, VERSION, HDR_LEN, MAX_PAYLOAD = 0x5854, 1, 28, 1200
INIT, BYE = 1, 4
MAX_SEQ_JUMP = 1 << 24


class Stop(Exception):
    """Raised from the timer or signal handler to leave the blocking loop."""


class Client:
    __slots__ = ("received", "bytes", "dups", "reordered", "lost_closed",
                 "highest", "distinct", "seen", "init_ts", "bye_seen")

    def __init__(self):
        self.received = self.bytes = self.dups = self.reordered = 0
        self.lost_closed = self.highest = self.distinct = 0
        self.seen = bytearray()
        self.init_ts = None
        self.bye_seen = False

    def close_epoch(self):
        if self.distinct or self.highest:
            self.lost_closed += self.highest + 1 - self.distinct
        self.seen = bytearray()
        self.highest = self.distinct = 0
        self.bye_seen = False

    def lost(self):
        open_epoch = self.highest + 1 - self.distinct if (self.distinct or self.highest) else 0
        return self.lost_closed + open_epoch


def parse_metrics(payload):
    """key=value;key=value -> dict; raises ValueError when malformed."""
    out = {}
    if not payload:
        return out
    for pair in payload.split(b";"):
        key, sep, value = pair.partition(b"=")
        if not sep or not key:
            raise ValueError("malformed metric")
        v = float(value)
        if not math.isfinite(v):
            raise ValueError("bad value")
        out[key] = v
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=7700)
    ap.add_argument("--duration", type=float, default=60.0)
    ap.add_argument("--quiet", type=float, default=2.0,
                    help="stop this many seconds after the last datagram (0: never)")
    ap.add_argument("--json", help="write the summary here instead of stdout")
    args = ap.parse_args()

    sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    sock.bind(("::", args.port))

    clients = {}
    rejected = {}
    lat = []
    state = {"first": None, "last": None}
    start = time.monotonic()

    def on_timer(signum, frame):
        now = time.monotonic()
        if now - start >= args.duration:
            raise Stop()
        last = state["last"]
        if args.quiet > 0 and last is not None and now - last >= args.quiet:
            raise Stop()

    def on_signal(signum, frame):
        raise Stop()

    # The loop blocks in recvfrom like a typical server; a 100 ms interval
    # timer interrupts it only to check the stop conditions.
    signal.signal(signal.SIGALRM, on_timer)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    signal.setitimer(signal.ITIMER_REAL, 0.1, 0.1)

    def reject(reason):
        rejected[reason] = rejected.get(reason, 0) + 1

    try:
        while True:
            data, _peer = sock.recvfrom(2048)
            now = time.monotonic()
            if state["first"] is None:
                state["first"] = now
            state["last"] = now
            arrival_ns = time.time_ns()
            if len(data) < HDR_LEN:
                reject("truncated")
                continue
            magic, version, mtype, flags, plen, cid, seq, ts = HDR.unpack_from(data)
            if magic != MAGIC or version != VERSION or not 1 <= mtype <= 4 or flags:
                reject("bad_header")
                continue
            if plen > MAX_PAYLOAD or plen != len(data) - HDR_LEN:
                reject("length_mismatch")
                continue
            try:
                parse_metrics(data[HDR_LEN:])
            except ValueError:
                reject("malformed_metric")
                continue

            c = clients.get(cid)
            if c is None:
                c = clients[cid] = Client()
            c.received += 1
            c.bytes += len(data)
            lat.append(arrival_ns - ts)
            if mtype == INIT and seq == 0:
                if (c.distinct or c.highest) and ts != c.init_ts:
                    c.close_epoch()
                c.init_ts = ts
            if seq > c.highest + MAX_SEQ_JUMP:
                reject("seq_out_of_range")
                continue
            if mtype == BYE:
                if c.bye_seen:
                    c.dups += 1
                c.bye_seen = True
                if seq > c.highest:
                    c.highest = seq
                continue
            if seq >= len(c.seen):
                c.seen.extend(bytes(max(seq + 1 - len(c.seen), len(c.seen))))
            if c.seen[seq]:
                c.dups += 1
                continue
            c.seen[seq] = 1
            c.distinct += 1
            if seq < c.highest:
                c.reordered += 1
            else:
                c.highest = seq
    except Stop:
        pass
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0, 0)
    end = time.monotonic()

    lat.sort()
    pos = [x for x in lat if x >= 0]

    def q(p):
        if not pos:
            return 0.0
        return pos[min(len(pos) - 1, int(p * len(pos)))] / 1e3

    ru = resource.getrusage(resource.RUSAGE_SELF)
    # ru_maxrss survives execve (it may be the launcher's peak); VmHWM is ours.
    hwm = 0
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
    summary = {
        "receiver": "baseline_recvfrom",
        "totals": {
            "received": sum(c.received for c in clients.values()),
            "bytes": sum(c.bytes for c in clients.values()),
            "lost": sum(c.lost() for c in clients.values()),
            "duplicates": sum(c.dups for c in clients.values()),
            "reordered": sum(c.reordered for c in clients.values()),
            "clients": len(clients),
        },
        "rejected": rejected,
        "rejected_total": sum(rejected.values()),
        # time.time_ns() after recvfrom returned: socket queueing and the
        # wake-up are included, as a simple server experiences them.
        "latency_basis": "userspace_read",
        "latency_us": {"count": len(pos), "negative": len(lat) - len(pos),
                       "p50": q(0.50), "p99": q(0.99), "p999": q(0.999),
                       "max": pos[-1] / 1e3 if pos else 0.0},
        "rcvbuf": sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF),
        "elapsed_s": end - start,
        "active_s": (state["last"] - state["first"]) if state["first"] is not None else 0.0,
        "rusage": {"utime_s": ru.ru_utime, "stime_s": ru.ru_stime,
                   "cpu_s": ru.ru_utime + ru.ru_stime, "maxrss_kb": ru.ru_maxrss},
        "vmhwm_kb": hwm,
    }
    text = json.dumps(summary, indent=2) + "\n"
    if args.json:
        with open(args.json, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
