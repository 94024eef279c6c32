# SPDX-License-Identifier: MIT
"""A row's table figures from what the row recorded: the sender's report
(loadgen's --report-json, or bare_sendmmsg's JSON reshaped by
bare_as_report), the receiver's summary (collector --summary-json or a
baseline's --json), the kernel counter delta (counters.counter_delta) and
the receiver's CPU samples.

This is where the loss is attributed (docs/PERFORMANCE.md publishes it):
  lost       = sent - (received - duplicates), never below 0
  xdp        = the XDP program's drop_* outcomes, except the flood limiters'
  rcvbuf     = UDP RcvbufErrors (v4 + v6), or the collector's rxq_ovfl if
               that is higher
  ring       = io_uring ENOBUFS completions, drops named *enobufs*/*ring*,
               AF_XDP rx_ring_full + rx_dropped
  nic        = before the host: receiving veth RX drops, softnet backlog
               drops, sender veth TX drops
  other      = what none of them explains
  host loss  = lost minus what happened before the host (nic)
No I/O here: tests/unit/test_bench_derive.py runs it on recorded inputs.
"""
from .util import first

# The handshake limiters and the allowlist drop the flood's ClientHellos,
# never the clients' data (all clients are inside the allowlist): not loss
# of what the generator sent.
FLOOD_DROPS = ("drop_ratelimit", "drop_hs_global", "drop_not_allowed")


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
            if name in FLOOD_DROPS:
                continue
            if name.startswith("drop") and isinstance(v, dict):
                drops += v.get("packets", 0)
    ring = 0
    ax = rx.get("afxdp")
    if isinstance(ax, dict):
        ring = ax.get("rx_ring_full", 0) + ax.get("rx_dropped", 0)
    return drops, ring


def xdp_flood_drops(rx):
    """Datagrams the XDP program refused by rate limit or allowlist."""
    xdp = rx.get("xdp")
    if not isinstance(xdp, dict):
        return "no XDP"
    st = xdp.get("stats") or {}
    return sum((st.get(k) or {}).get("packets", 0) for k in FLOOD_DROPS)


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


def derive(row, lg, rx):
    """Fills the table figures of a row from the two reports and the counters.

    row holds what run_row measured: duration_s, counters (the delta), and
    when the CPU was sampled window_cpu_s, _sampler and _cpu_marks. The
    figures are added in a fixed order: results.json keeps it.
    """
    sent, received, missing, elapsed = _delivery(row, lg, rx)
    _loss_where(row, rx, sent, missing)
    # Throughput, latency, CPU and memory of the receiver.
    rx_bytes = first(rx, "totals.bytes", default=None)
    if rx_bytes is None:
        rx_bytes = first(lg, "totals.bytes", "bytes", default=0) * (received / sent if sent else 0)
    row["mb_per_s"] = rx_bytes / elapsed / 1e6 if elapsed else 0.0
    row["latency_us"] = latency_of(rx)
    # The collector and the C baseline measure to the kernel's arrival
    # stamp; the Python baseline to the moment recvfrom returned.
    row["latency_basis"] = first(rx, "latency_basis", default="kernel_rx_timestamp")
    _cpu(row, rx, received, elapsed)
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


def _delivery(row, lg, rx):
    """Sent, received and lost, and the sender's rate; returns (sent,
    received, missing, DATA phase seconds)."""
    sent = first(lg, "totals.sent", "sent", "datagrams.sent", default=0)
    data_sent = first(lg, "totals.data_sent", "data_sent", default=None)
    elapsed = first(lg, "rate.data_elapsed_s", default=row["duration_s"])
    achieved = first(lg, "rate.achieved_pps", default=None)
    if achieved is None:
        achieved = (data_sent if data_sent is not None else sent) / elapsed if elapsed else 0
    received = first(rx, "totals.received", default=0)
    dups = first(rx, "totals.duplicates", default=0)
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
    return sent, received, missing, elapsed


def _loss_where(row, rx, sent, missing):
    """Where the loss happened. The kernel counters cover every receiver;
    XDP and ring counters exist only in the collector's summary."""
    ctr = row["counters"]
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


def _cpu(row, rx, received, elapsed):
    """The receiver's CPU: its whole-run rusage as its summary reports it,
    and the DATA phase's share from the samples taken through the load."""
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
