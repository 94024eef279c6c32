# SPDX-License-Identifier: MIT
"""The capacity section of PERFORMANCE.md (rows from capacity.py): the
method, one line per receiver (median of the rounds), the ratios the
targets of issue 16 are stated in, and where the userspace instructions go
(callgrind). Reads rows only; nothing is measured here."""
from .capacity import CAPACITY_KINDS
from .figures import median
from .scale import scale_markdown
from .util import num

METHOD = (
    "Each receiver's own ceiling, apart from the sender (bench/xtelbench/capacity.py). "
    "The receiver is frozen with SIGSTOP (every thread checked to be in state T) before "
    "the first DATA datagram is sent; DTLS clients complete their handshakes first "
    "(`loadgen --data-delay` holds INIT and DATA back until then). The load generator "
    "then puts N datagrams into the frozen receiver's socket buffer (SO_RCVBUFFORCE "
    "1 GiB) or, for AF_XDP, its RX ring and UMEM (`--afxdp-frames 65536`, filled to 90%) "
    "as fast as it can, and exits. Only then the receiver gets SIGCONT and drains the "
    "backlog with no sender running. *CPU ns/dgram* = its on-CPU time (schedstat of all "
    "its threads: exact ns, not samples) from SIGCONT until it is idle again (socket "
    "queue empty, no thread runnable, CPU time flat for 3 x 20 ms), over the datagrams "
    "it accounted; *per core* = 1e9 / that, the datagrams/s one core sustains with 0 "
    "loss. It does not depend on the sender's speed, and other work on the machine "
    "cannot inflate it (only CPU time the receiver actually got counts); the drain's "
    "wall-clock rate is context only. Left out by construction: on veth the receiving "
    "side's kernel work up to the socket queue (the XDP program, the UDP stack, AF_XDP's "
    "copy into the UMEM in copy mode) runs in the sender's softirq, so it is the sender's "
    "CPU here; the end-to-end tables above include it. *CPU / C* and *CPU / minimal* are "
    "this row's CPU per datagram over the baseline's, as issue 16's targets are stated "
    "(lower is better; targets: io_uring plain <= 0.6 of C and <= 0.9 of minimal, "
    "AF_XDP <= 0.4 of minimal). *Userspace Ir/dgram* = instructions executed in "
    "userspace per datagram during one more drain of 20,000 datagrams under valgrind "
    "--tool=callgrind (zeroed just before SIGCONT, dumped after the drain; repeatable "
    "to a few instructions), where the level runs it.")


# What the figures above come from (issue 16, 2026-12-01), kept with the
# generator so that a regenerated report still says it; the measurements
# behind each line are in docs/CAPACITY.md and the commit messages.
FINDINGS = """What the receive paths do per datagram, and what was tried (docs/CAPACITY.md has the figures):

- *Where the time goes.* In a drain, the plain io_uring path executes ~1,200 userspace instructions per datagram (decode ~530 of them, accounting ~400), the C baseline ~670 (the same decoder), the minimal receiver 61; the rest of each receiver's CPU, most of it, is the kernel's receive call (copy-out, control messages, freeing the skb). The minimal receiver is therefore a floor the collector can approach but not pass on the socket path: 0.9 of it would need less kernel work per datagram than recvmmsg does, which only GRO (not applicable: telemetry flows are one small datagram per device per interval, of varying size) or AF_XDP give.
- *AF_XDP* skips the UDP stack and the socket: in copy mode on veth the copy into the UMEM happens in the XDP redirect, on the sending CPU's softirq, so the receiver only walks rings (~0.15 of the minimal receiver in the drain). With a zero-copy NIC driver that copy disappears altogether and the frame is DMAed into the UMEM; the receiver's work stays what it is here.
- *Kept:* one-pass payload parse with the reference parser as fallback, in-order fast path of the sequence window, metric key slots by position (plain path 1,388 -> 1,167 Ir/dgram); AES-GCM records opened in OpenSSL's TLS mode (one parameter and one EVP_Cipher per record instead of init/update/update/ctrl/final: DTLS 4,698 -> 3,610 Ir/record); hash slots as id+index pairs; no peer address and no SO_RXQ_OVFL control message per datagram in plain mode (within noise); plain mode's periodic batch wait (`--rx-wait`, default 5 ms: io_uring 814 -> 723 ns/dgram at 100k/s, 13.2 -> 7.6 us at 1k/s) and the AF_XDP thread's periodic looks while frames come densely (2,228 -> 243 ns/dgram at 100k/s).
- *Tried and dropped:* software prefetch of the next datagrams' registry slot, record and metric slots (+230 Ir per datagram, nothing measurable at 50k clients); a plain sleep between ring looks instead of a bounded ring wait (a timer wake-up costs ~22 us on this VM).
- *Handshakes and resumption.* A full mutual-auth handshake was 7.2M server instructions; OpenSSL decoded the client certificate twice, once from the Certificate message (1.5M, OpenSSL 3.0's d2i_X509 builds a decoder chain per call, openssl/openssl#19119) and once more while sealing the session ticket. Tickets are now sealed without the certificate (its identity is sealed beside the session and re-checked against the current policy), which makes a full handshake 5.7M; a returning certificate skips the chain check through the verification cache (`--verify-cache`, 4.8M). What is left is OpenSSL's: the Certificate decode, two ECDSA verifications, X25519, the ECDSA signature. A resumed handshake no longer decodes any certificate (2.1M -> 0.5M instructions); see the restart-storm rows. P-256 instead of X25519 was tried and is dearer in OpenSSL 3.0 (1.08x). *Memory:* a plain client costs 1.2-1.5 KiB of heap with `--no-health`, 1.8-2.0 KiB at the peak while the next view is built (the "Memory per client by component" table: record 448 B, the latency histogram in 64-bucket pages of 2- to 64-bit counters 0.1-0.3 KiB, 96 B per metric key slot, the view's copy 528 B with keys pointing at the interned names, two views alive at the peak), and 0.8-1.2 KiB more with health inference on, the default (engine state 400 B, the feed's previous copy of the latency histogram, a 216-byte result in each live view; docs/HEALTH.md). *Options:* NAPI busy polling, SO_BUSY_POLL, completions per wait, buffer counts, malloc huge pages and UDP GRO were each measured against the default (docs/CAPACITY.md, "Receive-path options", `bench/run.sh --rxopts`); none won on veth, so all are off.
- *Noise.* CPU time per datagram of the same drain varies by up to ~1.8x between runs on this shared 2-core VM (a busy sibling thread halves IPC); compare rows of one run, interleaved rounds' medians, and instruction counts.
"""


def capacity_groups(rows):
    """Per (receiver, mode), in CAPACITY_KINDS order: the rounds' median
    CPU per datagram and its range, loss, and the callgrind figures."""
    out = []
    cap = [r for r in rows if r.get("section") == "capacity"]
    w1 = min((r.get("workers", 1) for r in cap), default=1)
    keys = [(k, m, 10, w1) for k, m in CAPACITY_KINDS]
    keys += sorted({(r["receiver"], r["mode"], r["clients"], r.get("workers", 1)) for r in cap
                    if r["clients"] != 10 or r.get("workers", 1) != w1},
                   key=lambda k: (k[2], k[3], k[0] != "io_uring", k[0]))
    for kind, mode, clients, workers in keys:
        sel = [r for r in cap if r["receiver"] == kind and r["mode"] == mode
               and r["clients"] == clients and r.get("workers", 1) == workers]
        if not sel:
            continue
        ok = [r for r in sel if r.get("status") == "ok" and not r.get("callgrind")
              and r.get("cpu_ns_per_dgram")]
        cg = [r for r in sel if r.get("status") == "ok" and isinstance(r.get("callgrind"), dict)]
        ns = [r["cpu_ns_per_dgram"] for r in ok]
        g = {"receiver": kind, "mode": mode, "clients": clients, "workers": workers,
             "path": sel[0]["path"] + ("" if kind in ("c", "min") else
                                       ", %d worker%s" % (workers, "s" if workers > 1 else "")),
             "rows": sel, "ok": ok,
             "ns": median(ns), "ns_min": min(ns) if ns else None,
             "ns_max": max(ns) if ns else None,
             "fill": max((r.get("fill", 0) for r in sel), default=0),
             "sent": sum(r.get("sent", 0) for r in ok),
             "drained": sum(r.get("drained", r.get("received", 0)) for r in ok),
             "lost": sum(r.get("lost", 0) for r in ok),
             "wall_pps": median([r["drain_wall_pps"] for r in ok if r.get("drain_wall_pps")]),
             "cg": cg[0]["callgrind"] if cg else None}
        g["per_core"] = 1e9 / g["ns"] if g["ns"] else None
        out.append(g)
    for g in out:
        for base in ("c", "min"):
            b = next((x for x in out if x["receiver"] == base and x["mode"] == "plain"
                      and x["clients"] == g["clients"] and x["workers"] == w1), None)
            g["vs_" + base] = (g["ns"] / b["ns"]) if b and b["ns"] and g["ns"] else None
    return out


def capacity_markdown(rows):
    groups = capacity_groups(rows)
    if not groups:
        return scale_markdown(rows)
    out = ["## Receiver capacity (pre-filled buffer, drained with no sender)\n\n",
           METHOD + "\n\n",
           "| Receiver | Mode | Clients | Datagrams per fill | Rounds | Loss | CPU ns/dgram (min - max) "
           "| Datagrams/s per core | Drain wall rate/s | CPU / C | CPU / minimal "
           "| Userspace Ir/dgram |\n"
           "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"]
    for g in groups:
        if not g["ok"]:
            r = g["rows"][-1]
            out.append("| %s | %s | %d | %d | 0 | %s: %s | | | | | | |\n" % (
                g["path"], g["mode"], g["clients"], g["fill"], r.get("status"),
                r.get("note", "")))
            continue
        out.append("| %s | %s | %d | %d | %d | %s | %.0f (%.0f - %.0f) | %.0f | %s | %s | %s "
                   "| %s |\n" % (
            g["path"], g["mode"], g["clients"], g["fill"], len(g["ok"]),
            "%d of %d" % (g["lost"], g["sent"]), g["ns"], g["ns_min"], g["ns_max"],
            g["per_core"], num(g["wall_pps"]),
            num(g["vs_c"], "%.2f"), num(g["vs_min"], "%.2f"),
            num(g["cg"]["ir_per_dgram"]) if g["cg"] else "-"))
    out.append("\n")
    out.append(_where(groups))
    out.append(scale_markdown(rows))
    out.append(FINDINGS + "\n")
    return "".join(out)


def _where(groups):
    """The top functions by self instructions per datagram, per receiver."""
    cg = [g for g in groups if g["cg"]]
    if not cg:
        return ""
    out = ["Where the userspace instructions go (callgrind self cost per datagram, the "
           "largest functions of each receiver's drain):\n\n",
           "| Receiver | Mode | Ir/dgram | Top functions (Ir/dgram) |\n|---|---|---:|---|\n"]
    for g in cg:
        top = [t for t in g["cg"]["top"] if t["ir_per_dgram"] >= 1][:8]
        out.append("| %s | %s | %.0f | %s |\n" % (
            g["path"], g["mode"], g["cg"]["ir_per_dgram"],
            ", ".join("%s %.0f" % (t["fn"], t["ir_per_dgram"]) for t in top)))
    out.append("\n")
    return "".join(out)
