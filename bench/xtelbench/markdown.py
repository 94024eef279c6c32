# SPDX-License-Identifier: MIT
"""PERFORMANCE.md: the run's header and how to read it, key figures, the
summary, one table per section of rows, DTLS handshakes, memory per client,
the handshake flood, the load generator section, plots and micro-benchmarks.
Everything here reads the rows and the figures; nothing is measured."""
from .capreport import capacity_markdown
from .config import SATURATION_LOSS_PCT, SENDER_CLIENTS, SENDER_PAYLOAD
from .derive import xdp_flood_drops
from .figures import (LOSSLESS_PCT, baseline_for, find_row, headline, memory_rows,
                      pacing_error_pct, sender_figures)
from .util import first, fmt_rate, num


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
            "| MB/s | p50 / p99 / p99.9 latency (us) | CPU % | CPU ns/dgram | vs C | vs minimal | vs Python | RSS MB |\n"
            "|---|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")


def e2e_line(rows, r):
    if r.get("status") != "ok":
        return "| %s | %s | %d | %s | %s | | | | | | | | | | |\n" % (
            r["path"], r["mode"], r["clients"], fmt_rate(r["offered_pps"]),
            "%s: %s" % (r.get("status"), r.get("note", "")))
    lat = r.get("latency_us") or {}
    latt = " / ".join(num(lat.get(k), "%.0f") for k in ("p50", "p99", "p999"))
    if r.get("latency_basis") == "userspace_read":
        latt += " (read)"
    vs_c = vs_min = vs_py = "-"
    if r["mode"] == "plain":
        vs_c = ratio_text(r, baseline_for(rows, r, "c"))
        vs_min = ratio_text(r, baseline_for(rows, r, "min"))
        vs_py = ratio_text(r, baseline_for(rows, r, "py"))
    return "| %s | %s | %d | %s | %.0f | %.3f | %s | %.2f | %s | %.0f | %s | %s | %s | %s | %.1f |\n" % (
        r["path"], r["mode"], r["clients"], fmt_rate(r["offered_pps"]), r["achieved_pps"],
        r["loss_pct"], where_text(r), r["mb_per_s"], latt, r["cpu_pct"],
        num(r.get("cpu_ns_per_dgram")), vs_c, vs_min, vs_py, r["rss_kb"] / 1024.0)


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
    return keys + _key_figures_more(rows)


def _key_figures_more(rows):
    """The key figures' second half: handshakes, memory, the load generator
    and the flood."""
    keys = []
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


def sender_text(rows):
    """The load generator section: its ceiling against the bare loop, and
    its pacing accuracy."""
    fig = sender_figures(rows)
    pace = [r for r in rows if r["section"] == "pacing"]
    if not fig and not pace:
        return ""
    out = ["## Load generator\n\n"]
    if fig:
        out.append(_sender_ceiling(fig))
    if pace:
        out.append(_sender_pacing(pace))
    return "".join(out)


def _sender_ceiling(fig):
    r0 = next((g["rows"][0] for g in fig), {})
    out = [
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
            SENDER_CLIENTS, r0.get("duration_s", 0), SENDER_PAYLOAD)]
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
    return "".join(out)


def _sender_pacing(pace):
    out = [
        "Pacing accuracy: `loadgen --rate R`, plain, %d clients, 1 thread, its default "
        "payload template, to the C baseline. *Achieved* = the report's "
        "`rate.achieved_pps` (DATA sequence numbers / the DATA phase); *error* = "
        "(achieved - requested) / requested; *DATA seqs* = what was sent against "
        "floor(R x duration); *receiver got* = datagrams the receiver counted / "
        "datagrams sent (INIT and BYE included).\n\n" % SENDER_CLIENTS]
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


def markdown(env, meta, micro, rows, plots):
    """The whole report; plots are the (file, title)s plots.plots() made."""
    return "".join([_intro(env, meta), paths_text(rows), _key_figures_text(rows),
                    _summary(rows), capacity_markdown(rows), _e2e_sections(rows), _handshakes(rows), _memory(rows),
                    _flood(rows), sender_text(rows), _plot_links(plots),
                    _micro(env, micro)])


def _intro(env, meta):
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
               "*vs C* / *vs minimal* / *vs Python* = the baseline's CPU ns per "
               "datagram divided by this row's at the same load (higher is better). The "
               "C and Python baselines (bench/baseline_recvmmsg.c, bench/baseline_recvfrom.py) "
               "decode the same datagrams fully and keep per-client sequence accounting; the "
               "minimal one (bench/baseline_minimal.c) is what a user comparing tools would "
               "write: blocking recvmmsg in batches of 64, a header check and per-client "
               "sequence gaps, nothing else. None of them has DTLS.\n\n")
    return "".join(out)


def _key_figures_text(rows):
    keys = key_figures(rows)
    if not keys:
        return ""
    return "## Key figures\n\n" + "".join("- %s\n" % k for k in keys) + "\n"


def _summary(rows):
    head = headline(rows)
    if not head:
        return ""
    out = ["## Summary\n\n"]
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
    return "".join(out)


def _e2e_sections(rows):
    out = []
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
    return "".join(out)


def _handshakes(rows):
    hs = [r for r in rows if r.get("status") == "ok" and r["mode"] == "dtls" and r.get("handshakes")
          and r["section"] == "clients"]
    if not hs:
        return ""
    out = ["## DTLS handshakes\n\n"]
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
    return "".join(out)


def _memory(rows):
    mem = memory_rows(rows)
    if not mem:
        return ""
    out = ["## Memory per client\n\n"]
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
    return "".join(out)


def _flood(rows):
    fl = [r for r in rows if r["section"] == "flood"]
    if not fl:
        return ""
    out = ["## Handshake flood\n\n"]
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
        hs = r.get("handshakes") or {}
        out.append("| %s | %d | %s | %s | %s | %s | %s/%s | %.3f | %s | %.0f | %.1f |\n" % (
            r["path"], r["clients"], fmt_rate(r["offered_pps"]), fl_txt,
            xdp_flood_drops(rx), first(rx, "dtls.cookie_sent", default="-"),
            hs.get("ok", "-"), hs.get("failed", "-"), r["loss_pct"], where_text(r),
            r["cpu_pct"], r["rss_kb"] / 1024.0))
    out.append("\n")
    return "".join(out)


def _plot_links(plots):
    if not plots:
        return ""
    out = ["## Plots\n\n"]
    for name, title in plots:
        out.append("![%s](img/%s)\n\n" % (title, name))
    return "".join(out)


def _micro(env, micro):
    out = ["## Micro-benchmarks\n\n"]
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
