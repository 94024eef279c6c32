# SPDX-License-Identifier: MIT
"""Two collector builds side by side on the capacity rows: the build's
collector ("new") and the one XTEL_COLLECTOR_B names ("old", e.g. main's
build), alternated in one run, the order swapped each round.

--ab-dtls: the DTLS drain at 10 clients (CPU ns per record), its callgrind
row (instructions per record, repeatable), and the many-clients DTLS drain
at the counts XTEL_AB_CLIENTS lists (default 10,000; a 100,000 row costs
~4 min per build), in the first order --many-clients-order names; the
io_uring path, or AF_XDP's with XTEL_SCALE_KINDS=af_xdp.
Written for docs/CAPACITY.md, "AEAD contexts per worker, not per
session" and "The session side in fleet order".

--ab-plain: the many-clients plain drains (health on and --no-health, or
the kinds XTEL_SCALE_KINDS lists) at 10 clients and at the counts
XTEL_AB_CLIENTS lists (default 100,000), in each order
--many-clients-order asks for (interleaved: every datagram from another
client, as a fleet sends), whole process and receive threads, with VmHWM.
Written for docs/CAPACITY.md, "The accounting record in fleet order".

Receiver options are the many-clients rows' (scale.py), so the 10-client
row is the base of the ratios; any two builds compare the same way.
"""
import os
import time

from .capacity import run_capacity_row
from .figures import median
from .scale import scale_plan
from .util import log, num


def _counts(default):
    return [int(x) for x in os.environ.get("XTEL_AB_CLIENTS", default).split(",") if x]


def _rows(env, mode):
    saved = getattr(env, "scale_modes", None)
    env.scale_modes = (mode,)
    rows = scale_plan(env)
    env.scale_modes = saved
    return rows


def _plan_dtls(env):
    """(what, kind, clients, n, extra, callgrind) per measurement."""
    c = env.cfg.get("capacity") or {}
    counts = _counts("10000")
    # XTEL_SCALE_KINDS=af_xdp: the AF_XDP path's rows instead (no
    # callgrind row: valgrind starves its thread)
    kinds = [k for k in os.environ.get("XTEL_SCALE_KINDS", "").split(",") if k]
    kind = kinds[0] if kinds else "io_uring"
    rows = [t for t in _rows(env, "dtls") if t[0] == kind]
    # scale_plan's options are sized for its largest count: take them from
    # a plan whose largest count is ours.
    top = max(counts + [10])
    extra = next((t[4] for t in rows if t[3] == top), rows[0][4] if rows else [])
    fill = lambda clients: max(c.get("n", 200000), clients * 8)
    todo = [("drain", kind, 10, c.get("n", 200000), extra, False)]
    if kind != "af_xdp":
        todo.append(("callgrind", kind, 10, c.get("callgrind_n", 20000), extra, True))
    todo += [("drain", kind, k, fill(k), extra, False) for k in counts]
    return todo


def _plan_plain(env):
    """The many-clients plain rows at 10 and XTEL_AB_CLIENTS, per kind."""
    counts = _counts("100000")
    saved = os.environ.get("XTEL_BENCH_SCALE_CLIENTS")
    os.environ["XTEL_BENCH_SCALE_CLIENTS"] = ",".join(str(k) for k in counts)
    try:
        rows = _rows(env, "plain")
    finally:
        if saved is None:
            del os.environ["XTEL_BENCH_SCALE_CLIENTS"]
        else:
            os.environ["XTEL_BENCH_SCALE_CLIENTS"] = saved
    kinds = [k for k in os.environ.get("XTEL_SCALE_KINDS", "").split(",") if k] or \
        ["io_uring", "noh"]
    # The 10-client rows before and after the large ones, as scale.py runs
    # them: the two show how much the machine drifted meanwhile.
    return [("drain", kind, clients, n, extra, False)
            for kind, _, n, clients, extra in rows if kind in kinds]


def run_ab(env, mode):
    flag = "--ab-" + mode
    other = os.environ.get("XTEL_COLLECTOR_B")
    if not other or not os.access(other, os.X_OK) or (mode == "dtls" and not env.have_dtls()):
        log("== %s: XTEL_COLLECTOR_B (the other collector) not set%s" % (
            flag, " or no DTLS" if mode == "dtls" else ""))
        return None
    builds = {"new": env.collector, "old": other}
    rounds = int(os.environ.get("XTEL_AB_ROUNDS", "2"))
    # DTLS: the first order asked (each row of a fleet's order costs minutes)
    orders = getattr(env, "scale_orders", None) or ("bursts",)
    if mode != "plain":
        orders = orders[:1]
    log("== two collectors side by side, %s: new %s, old %s, %d round(s)" % (
        mode, builds["new"], builds["old"], rounds))
    res, seq, t0 = [], 900, time.monotonic()
    mine = env.collector
    try:
        for order in orders:
            for what, kind, clients, n, extra, cg in (_plan_plain(env) if mode == "plain"
                                                     else _plan_dtls(env)):
                runs = {"new": [], "old": []}
                big = mode == "dtls" and clients > 10000
                for rnd in range(1 if cg or big else rounds):
                    pair = ("old", "new") if rnd % 2 == 0 else ("new", "old")
                    for b in pair:
                        seq += 1
                        env.collector = builds[b]
                        row = run_capacity_row(env, seq, kind, mode, n, clients, cg,
                                               section="ab-" + b, extra=extra,
                                               mem=mode == "plain", order=order)
                        cgr = row.get("callgrind")
                        f = cgr.get("ir_per_dgram") if isinstance(cgr, dict) else \
                            row.get("cpu_ns_per_dgram")
                        runs[b].append({"value": f, "rx": row.get("rx_cpu_ns_per_dgram"),
                                        "status": row.get("status"), "note": row.get("note"),
                                        "loss_pct": row.get("loss_pct"),
                                        "vmhwm_kb": row.get("vmhwm_kb"), "tag": row.get("tag")})
                        log("  [%4.0fs] %-9s %-8s clients=%-6d %-11s %-3s round %d  %s" % (
                            time.monotonic() - t0, what, kind, clients, order, b, rnd + 1,
                            "%s %s (rx %s), loss %s%%" % (
                                num(f), "Ir/record" if cg else "ns/dgram",
                                num(row.get("rx_cpu_ns_per_dgram")), row.get("loss_pct"))
                            if f else "%s: %s" % (row.get("status"), row.get("note"))))
                res.append({"what": what, "kind": kind, "clients": clients, "order": order,
                            "runs": runs})
    finally:
        env.collector = mine
    return {"mode": mode, "rounds": rounds, "new": builds["new"], "old": builds["old"],
            "rows": res}


def run_ab_dtls(env):
    return run_ab(env, "dtls")


def run_ab_plain(env):
    return run_ab(env, "plain")


def _fmt(xs):
    return " / ".join("{:,.0f}".format(x) for x in xs) or "-"


def ab_markdown(ab):
    if not ab:
        return ""
    plain = ab.get("mode") == "plain"
    out = ["\n### Two collectors, %s (--ab-%s; new: %s, old: %s)\n\n" % (
        "plain" if plain else "DTLS", ab.get("mode", "dtls"), ab["new"], ab["old"])]
    if plain:
        out.append("| Receiver, order | Clients | old: whole (rx) ns/dgram | new: whole (rx) "
                   "| new / old, whole (rx) | VmHWM kB: old; new |\n"
                   "|---|---:|---|---|---:|---|\n")
    else:
        out.append("| Measure | Clients | old | new | new / old |\n|---|---:|---|---|---:|\n")
    for r in ab["rows"]:
        v = {b: [x["value"] for x in r["runs"][b] if x["value"]] for b in ("old", "new")}
        m = {b: median(v[b]) if v[b] else None for b in v}
        ratio = "%.2fx" % (m["new"] / m["old"]) if m["old"] and m["new"] else "-"
        if not plain:
            out.append("| %s | {:,} | %s | %s | %s |\n".format(r["clients"]) % (
                ("Ir per record (callgrind)" if r["what"] == "callgrind" else
                 "CPU ns per record") + (", interleaved" if r.get("order") == "interleaved"
                                         else ""), _fmt(v["old"]), _fmt(v["new"]), ratio))
            continue
        rx = {b: [x["rx"] for x in r["runs"][b] if x["rx"]] for b in ("old", "new")}
        mr = {b: median(rx[b]) if rx[b] else None for b in rx}
        rratio = "%.2fx" % (mr["new"] / mr["old"]) if mr["old"] and mr["new"] else "-"
        hwm = {b: [x["vmhwm_kb"] for x in r["runs"][b] if x.get("vmhwm_kb")] for b in rx}
        out.append("| %s, %s | {:,} | %s (%s) | %s (%s) | %s (%s) | %s; %s |\n".format(
            r["clients"]) % (r["kind"], r["order"], _fmt(v["old"]), _fmt(rx["old"]),
                             _fmt(v["new"]), _fmt(rx["new"]), ratio, rratio,
                             _fmt(hwm["old"]), _fmt(hwm["new"])))
    return "".join(out)


ab_dtls_markdown = ab_markdown
