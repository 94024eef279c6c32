# SPDX-License-Identifier: MIT
"""The receive-path options of issue 16, each against the default in one run
(docs/CAPACITY.md, "Receive-path options"; bench/run.sh --rxopts).

Every variant is the collector's io_uring path (XDP attached, plain) with
one option more: io_uring NAPI busy polling (--rx-napi, with and without
--rx-napi-prefer), SO_BUSY_POLL (--busy-poll), completions per wait
(--rx-batch), the provided buffer count (--rx-buffers), and glibc's
transparent huge pages for malloc (GLIBC_TUNABLES=glibc.malloc.hugetlb=1,
no code change: the registry is malloc'd). Rounds alternate: each round
runs the default and every variant of a group, in an order rotated from
round to round, so slow phases of the shared machine spread over all of
them; a variant's ratio is the median over rounds of its figure divided by
the same round's default.

Two measures per variant:
  capacity  the drain of a pre-filled frozen receiver (capacity.py's row:
            receiver CPU per datagram with no sender running);
  e2e       a fixed rate end to end (rows.run_row), with the CPU of the
            sender process and of the ksoftirqd threads beside the
            receiver's: on veth the receive softirq (XDP, the UDP stack)
            runs in the sender's context, and busy polling can move it
            into the receiver's, so the sum is what says whether an option
            saved work or only moved it; e2e-max: one sender thread as
            fast as it can (no pacing sleeps in its CPU);
  callgrind the drain's userspace instructions per datagram (one round).
XTEL_RXOPTS_ONLY=capacity,e2e (a comma list of those names, or "min" for
the GRO group) runs only those groups.
"""
import os
import statistics
import subprocess
import sys
import threading
import time

from .capacity import run_capacity_row
from .env import nsexec
from .procs import threads_cpu_ns
from .rows import run_row
from .util import log

VARIANTS = {
    "default": ([], {}),
    "rx-napi 50": (["--rx-napi", 50], {}),
    "rx-napi 50 prefer": (["--rx-napi", 50, "--rx-napi-prefer"], {}),
    "busy-poll 50": (["--busy-poll", 50], {}),
    "rx-batch 8": (["--rx-batch", 8], {}),
    "rx-batch 64": (["--rx-batch", 64], {}),
    "rx-batch 256": (["--rx-batch", 256], {}),
    "rx-batch 1024": (["--rx-batch", 1024], {}),
    "rx-buffers 1024": (["--rx-buffers", 1024], {}),
    "rx-buffers 16384": (["--rx-buffers", 16384], {}),
    "malloc hugetlb": ([], {"GLIBC_TUNABLES": "glibc.malloc.hugetlb=1"}),
    # UDP GRO, on the minimal receiver (the collector's 2 KiB buffers hold
    # one datagram): the receiving veth's GRO (NAPI) switched on through
    # the ethtool ioctl, then UDP_GRO on the socket as well.
    "min": ([], {}),
    "min, veth gro": ([], {}),
    "min, veth gro + UDP_GRO": (["--gro"], {}),
}
# The receiver of a variant (default: the collector's io_uring path) and the
# receiving veth's GRO setting it needs (default: off, as the testbed has it).
KIND = {"min": "min", "min, veth gro": "min", "min, veth gro + UDP_GRO": "min"}
VETH_GRO = {"min, veth gro": 1, "min, veth gro + UDP_GRO": 1}
GRO = ("min, veth gro", "min, veth gro + UDP_GRO")
# Userspace instruction counts (callgrind sees no kernel work, so only
# the options that change what the loop itself does).
CALLGRIND = ("rx-batch 8", "rx-batch 256", "rx-buffers 1024")
POLLING = ("rx-napi 50", "rx-napi 50 prefer", "busy-poll 50")
BATCHES = ("rx-batch 8", "rx-batch 64", "rx-batch 256", "rx-batch 1024", "rx-buffers 1024",
           "rx-buffers 16384")

# Per level: rounds, datagrams per fill, the e2e rate and seconds, and the
# groups (measure, mode, clients, variants besides the reference, and the
# reference when it is not "default").
# The drains every level runs.
CAPACITY_GROUPS = [
    ("capacity", "plain", 10, POLLING + BATCHES),
    ("capacity", "dtls", 10, ("rx-batch 8", "rx-batch 256")),
    ("capacity", "plain", 10000, ("malloc hugetlb",)),
    ("capacity", "plain", 10, GRO, "min"),
    ("capacity", "plain", 1, GRO, "min"),
]
LEVELS = {
    "quick": dict(rounds=5, n=100000, rate=200000, secs=2.0, callgrind_n=20000,
                  groups=CAPACITY_GROUPS + [
                      ("e2e", "plain", 10, POLLING + ("rx-batch 64", "rx-batch 256",
                                                      "rx-buffers 1024")),
                      ("e2e-max", "plain", 10, POLLING),
                      ("callgrind", "plain", 10, CALLGRIND)]),
    "full": dict(rounds=5, n=200000, rate=200000, secs=3.0, callgrind_n=20000,
                 groups=CAPACITY_GROUPS + [
                     ("e2e", "plain", 10, POLLING + BATCHES),
                     ("e2e-max", "plain", 10, POLLING),
                     ("e2e", "plain", 10000, ("malloc hugetlb",)),
                     ("callgrind", "plain", 10, CALLGRIND)]),
}


class _SideCpu(threading.Thread):
    """While an e2e row runs: the CPU of the load generator (found by its
    binary's path, which is this build's) and of every ksoftirqd thread,
    sampled every 5 ms; per thread the last sample before it ended (the
    sender threads end before the process does)."""

    def __init__(self, loadgen):
        super().__init__(daemon=True)
        self.loadgen = os.path.realpath(loadgen)
        self.done = threading.Event()
        self.last = {}
        self.softirq0 = self._softirq()

    @staticmethod
    def _softirq():
        total = 0
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                if open("/proc/%s/comm" % pid).read().startswith("ksoftirqd/"):
                    total += int(open("/proc/%s/schedstat" % pid).read().split()[0])
            except (OSError, ValueError):
                pass
        return total

    def _loadgens(self):
        out = []
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                if os.path.realpath("/proc/%s/exe" % pid) == self.loadgen:
                    out.append(int(pid))
            except OSError:
                pass
        return out

    def run(self):
        while not self.done.wait(0.005):
            for pid in self._loadgens():
                self.last.update(threads_cpu_ns(pid) or {})

    def stop(self):
        self.done.set()
        self.join()
        # The loadgen's CPU before the first sample (its start) is counted
        # too: it exits right after its DATA phase.
        return {"sender_cpu_s": sum(self.last.values()) / 1e9,
                "softirqd_cpu_s": (self._softirq() - self.softirq0) / 1e9}


_GRO_PY = r"""
import array, fcntl, socket, struct, sys
# GRO and rx-udp-gro-forwarding of a device through SIOCETHTOOL (there is
# no ethtool binary here). veth hands a UDP skb to its peer's NAPI (where
# GRO runs) only when the peer has GRO on and also rx-udp-gro-forwarding
# (or fraglist GRO); otherwise it goes through netif_rx, without GRO.
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
def ioctl(buf):
    fcntl.ioctl(s.fileno(), 0x8946, struct.pack("16sP16x", sys.argv[1].encode(),
                                                buf.buffer_info()[0]))
def call(cmd, data=0):
    ev = array.array("I", [cmd, data])
    ioctl(ev)
    return ev[1]
info = array.array("I", [0x37, 0, 1 << 4, 0, 0])  # GSSET_INFO, ETH_SS_FEATURES
ioctl(info)
n = info[4]
names = array.array("B", struct.pack("III", 0x1b, 4, n) + bytes(32 * n))  # GSTRINGS
ioctl(names)
raw = names.tobytes()[12:]
bit = [raw[i * 32:(i + 1) * 32].split(b"\0")[0] for i in range(n)].index(
    b"rx-udp-gro-forwarding")
words = (n + 31) // 32
if sys.argv[2] != "get":
    on = int(sys.argv[2])
    call(0x2c, on)                                    # ETHTOOL_SGRO
    blocks = [0] * (2 * words)
    blocks[2 * (bit // 32)] = 1 << (bit % 32)         # valid
    blocks[2 * (bit // 32) + 1] = (1 << (bit % 32)) if on else 0
    ioctl(array.array("I", [0x3b, words] + blocks))   # ETHTOOL_SFEATURES
feat = array.array("I", [0x3a, words] + [0] * (4 * words))  # ETHTOOL_GFEATURES
ioctl(feat)
active = feat[2 + 4 * (bit // 32) + 2]
print("gro=%d udp_fwd=%d" % (call(0x2b), (active >> (bit % 32)) & 1))
"""


def _veth_gro(env, on):
    """Sets the collector veth's GRO (on: 1/0); returns what it reads back."""
    r = subprocess.run(nsexec(env.ns_col, [sys.executable, "-c", _GRO_PY, env.col_if,
                                           on]), capture_output=True, text=True, timeout=10)
    return r.stdout.strip() or r.stderr.strip()[-200:]


def _row(env, seq, measure, mode, clients, name, lv):
    args, rx_env = VARIANTS[name]
    env.rx_extra, env.rx_env = args, rx_env
    gro = VETH_GRO.get(name, 0)
    if gro:
        _veth_gro(env, 1)
    try:
        if measure == "callgrind":
            # Userspace instructions of the drain, repeatable: one round.
            return run_capacity_row(env, seq, "io_uring", mode, lv["callgrind_n"], clients,
                                    callgrind=True)
        if measure == "capacity":
            kind = KIND.get(name, "io_uring")
            row = run_capacity_row(env, seq, kind, mode, max(lv["n"], clients * 8), clients)
            if row.get("status") != "ok":
                row = run_capacity_row(env, seq, kind, mode, max(lv["n"], clients * 8),
                                       clients)
            if gro:
                row["veth_gro"] = _veth_gro(env, "get")
            return row
        side = _SideCpu(env.loadgen)
        side.start()
        try:
            # e2e: at a fixed rate; e2e-max: one sender thread as fast as
            # it can, so that its CPU per datagram is sending plus the
            # receive softirq it runs, without pacing sleeps.
            if measure == "e2e-max":
                row = run_row(env, seq, "rxopt", "io_uring", mode, clients, 0, lv["secs"],
                              opts={"threads": 1})
            else:
                row = run_row(env, seq, "rxopt", "io_uring", mode, clients, lv["rate"],
                              lv["secs"])
        finally:
            row_side = side.stop()
        row.update(row_side)
        got = row.get("received") or 0
        if got and row.get("cpu_s") is not None:
            row["sender_ns_per_dgram"] = row_side["sender_cpu_s"] * 1e9 / got
            row["softirqd_ns_per_dgram"] = row_side["softirqd_cpu_s"] * 1e9 / got
            row["total_ns_per_dgram"] = (row["cpu_s"] + row_side["sender_cpu_s"] +
                                         row_side["softirqd_cpu_s"]) * 1e9 / got
        return row
    finally:
        env.rx_extra, env.rx_env = (), None
        if gro:
            _veth_gro(env, 0)


def _figure(row):
    """CPU ns per datagram; for a callgrind row its instructions per datagram."""
    if row.get("status") != "ok":
        return None
    cg = row.get("callgrind")
    if isinstance(cg, dict):
        return cg["ir_per_dgram"]
    return row.get("cpu_ns_per_dgram")


def run_rxopts(env):
    lv = LEVELS["full" if env.level == "full" else "quick"]
    os.makedirs(env.raw, exist_ok=True)
    log("== receive-path options: %d round(s), each variant beside the default" % lv["rounds"])
    out, seq, t0 = [], 800, time.monotonic()
    only = os.environ.get("XTEL_RXOPTS_ONLY")
    for measure, mode, clients, names, *ref in lv["groups"]:
        if (mode == "dtls" and not env.have_dtls()) or \
                (only and not {measure, ref[0] if ref else "default"} & set(only.split(","))):
            continue
        ref = ref[0] if ref else "default"
        names = (ref,) + tuple(names)
        runs = {n: [] for n in names}
        for rnd in range(1 if measure == "callgrind" else lv["rounds"]):
            k = rnd % len(names)
            for name in names[k:] + names[:k]:
                seq += 1
                row = _row(env, seq, measure, mode, clients, name, lv)
                row.update(variant=name, round=rnd + 1)
                runs[name].append(row)
                f = _figure(row)
                log("  [%4.0fs] %-8s %-5s clients=%-5d %-18s round %d  %s" % (
                    time.monotonic() - t0, measure, mode, clients, name, rnd + 1,
                    "%s %s, loss %.3f%%%s" % (
                        "%.0f" % f, "Ir/dgram" if measure == "callgrind" else "ns/dgram",
                        row.get("loss_pct", 0),
                        ", sender %.0f, ksoftirqd %.0f ns/dgram" % (
                            row["sender_ns_per_dgram"], row["softirqd_ns_per_dgram"])
                        if "sender_ns_per_dgram" in row else "")
                    if f else "%s: %s" % (row.get("status"), row.get("note"))))
        out.append(_summarize(measure, mode, clients, names, runs, lv))
        if any(VETH_GRO.get(n) for n in names):
            out[-1]["veth_gro_after"] = _veth_gro(env, "get")
    return {"rounds": lv["rounds"], "rate": lv["rate"], "n": lv["n"], "groups": out}


def _counter(row, name):
    rx = (row.get("raw") or {}).get("receiver")
    return (rx.get("counters") or {}).get(name) if isinstance(rx, dict) else None


def _per_wait(row):
    """Datagrams per wake-up of the receive loop (received over the loop's
    wake-ups that brought completions)."""
    rx = (row.get("raw") or {}).get("receiver")
    b = _counter(row, "rx_waits")
    got = (rx.get("totals") or {}).get("received") if isinstance(rx, dict) else None
    return got / b if b and got else None


def _gro_per_read(row):
    """The minimal receiver's datagrams per read (> 1: GRO coalesced)."""
    rx = (row.get("raw") or {}).get("receiver")
    g = rx.get("gro") if isinstance(rx, dict) else None
    return g["datagrams"] / g["reads"] if isinstance(g, dict) and g.get("reads") else None


def _loss_where(rows):
    """Datagrams lost over all rounds, by where (derive.py's attribution),
    as "nic 120, rcvbuf 3"; "-" when nothing was lost."""
    tot = {}
    for r in rows:
        if not r.get("lost"):
            continue	# derive() books ENOBUFS re-arms as "ring" even then
        for k, v in (r.get("loss_where") or {}).items():
            tot[k] = tot.get(k, 0) + (v or 0)
    return ", ".join("%s %d" % kv for kv in sorted(tot.items()) if kv[1]) or "-"


def _median(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def _summarize(measure, mode, clients, names, runs, lv):
    """Per variant: median figures and the median of per-round ratios."""
    base = runs[names[0]]
    rows = []
    for name in names:
        rs = runs[name]
        ratios = [(_figure(r) / _figure(b)) if _figure(r) and _figure(b) else None
                  for r, b in zip(rs, base)]
        ent = {"variant": name, "options": " ".join(str(a) for a in VARIANTS[name][0]) or
               " ".join("%s=%s" % kv for kv in VARIANTS[name][1].items()) or "-",
               "ok": sum(1 for r in rs if r.get("status") == "ok"), "rounds": len(rs),
               "cpu_ns": _median(_figure(r) for r in rs),
               "ratio": _median(ratios), "ratios": ratios,
               "loss_pct": max((r.get("loss_pct") or 0) for r in rs) if rs else None,
               "ring_mode": next((r["raw"]["receiver"].get("io_uring_mode") for r in rs
                                  if isinstance(r.get("raw", {}).get("receiver"), dict)
                                  and "io_uring_mode" in r["raw"]["receiver"]), None),
               "per_wait": _median(_per_wait(r) for r in rs),
               "enobufs": _median(_counter(r, "enobufs") for r in rs),
               "gro_per_read": _median(_gro_per_read(r) for r in rs),
               "loss_where": _loss_where(rs),
               "tags": [r.get("tag") for r in rs]}
        if measure.startswith("e2e"):
            for k in ("sender_ns_per_dgram", "softirqd_ns_per_dgram", "total_ns_per_dgram",
                      "achieved_pps"):
                ent[k] = _median(r.get(k) for r in rs if r.get("status") == "ok")
            tot = [(r.get("total_ns_per_dgram") / b.get("total_ns_per_dgram"))
                   if r.get("total_ns_per_dgram") and b.get("total_ns_per_dgram") else None
                   for r, b in zip(rs, base)]
            ent["total_ratio"] = _median(tot)
            p99 = [((r.get("latency_us") or {}).get("p99")) for r in rs]
            ent["p99_us"] = _median(p99)
        rows.append(ent)
    return {"measure": measure, "mode": mode, "clients": clients,
            "rate": lv["rate"] if measure == "e2e" else 0 if measure == "e2e-max" else None,
            "fill": (max(lv["n"], clients * 8) if measure == "capacity" else
                     lv["callgrind_n"] if measure == "callgrind" else None),
            "variants": rows}


def _f(v, fmt="%.0f"):
    return fmt % v if v is not None else "-"


def rxopts_markdown(res):
    md = ["", "## Receive-path options", "",
          "The collector's io_uring path (XDP attached) with one option more against the "
          "default, %d alternating round(s) in one run (bench/run.sh --rxopts; "
          "docs/CAPACITY.md). *ratio* = median over rounds of the variant's CPU per datagram "
          "over the same round's default. Capacity: the drain of a pre-filled frozen "
          "receiver, receiver CPU only. End to end: receiver, sender process and ksoftirqd "
          "threads per datagram (on veth the receive softirq runs in the sender's "
          "context)." % res["rounds"]]
    for g in res["groups"]:
        if g["measure"] == "callgrind":
            md += ["", "Userspace instructions per datagram of one drain (callgrind, plain, "
                   "%d clients, fill %d; the kernel's work is not in it):" % (
                       g["clients"], g["fill"]), "",
                   "| variant | options | Ir/dgram | ratio |", "|---|---|---:|---:|"]
            for v in g["variants"]:
                md.append("| %s | `%s` | %s | %s |" % (v["variant"], v["options"],
                                                     _f(v["cpu_ns"]), _f(v["ratio"], "%.3f")))
        elif g["measure"] == "capacity":
            md += ["", "Capacity, %s, %d clients, fill %d:" % (g["mode"], g["clients"], g["fill"]),
                   "", "| variant | options | ok | receiver ns/dgram | ratio | dgrams per "
                   "wake-up | ENOBUFS | dgrams per read (GRO) | loss % |",
                   "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
            for v in g["variants"]:
                md.append("| %s | `%s` | %d/%d | %s | %s | %s | %s | %s | %s |" % (
                    v["variant"], v["options"], v["ok"], v["rounds"], _f(v["cpu_ns"]),
                    _f(v["ratio"], "%.2f"), _f(v["per_wait"]), _f(v["enobufs"]),
                    _f(v["gro_per_read"], "%.2f"), _f(v["loss_pct"], "%.3f")))
        else:
            md += ["", "End to end, %s, %d clients %s:" % (
                g["mode"], g["clients"], "at %d/s" % g["rate"] if g["rate"] else
                "as fast as one sender thread can (its CPU: sending plus the receive softirq)"),
                   "", "| variant | ok | achieved/s | receiver ns/dgram | ratio | sender ns | "
                   "ksoftirqd ns | total ns | total ratio | p99 us | loss % (max) | lost where (all rounds) |",
                   "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
            for v in g["variants"]:
                md.append("| %s | %d/%d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                    v["variant"], v["ok"], v["rounds"], _f(v.get("achieved_pps")),
                    _f(v["cpu_ns"]), _f(v["ratio"], "%.2f"),
                    _f(v.get("sender_ns_per_dgram")), _f(v.get("softirqd_ns_per_dgram")),
                    _f(v.get("total_ns_per_dgram")), _f(v.get("total_ratio"), "%.2f"),
                    _f(v.get("p99_us"), "%.1f"), _f(v["loss_pct"], "%.3f"), v["loss_where"]))
    return "\n".join(md) + "\n"
