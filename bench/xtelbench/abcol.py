# SPDX-License-Identifier: MIT
"""Two collector builds side by side on the DTLS capacity rows (--ab-dtls):
the build's collector ("new") and the one XTEL_COLLECTOR_B names ("old",
e.g. main's build), alternated in one run, the order swapped each round:
the DTLS drain at 10 clients (CPU ns per record), its callgrind row
(instructions per record, repeatable), and the many-clients DTLS drain
at the counts XTEL_AB_CLIENTS lists (default 10,000; a 100,000 row costs
~4 min per build), in the first order --many-clients-order names.
Receiver options are the many-clients rows' (scale.py), so the 10-client
row is the base of the ratios. Written for docs/CAPACITY.md,
"AEAD contexts per worker, not per session"; any two builds compare the
same way.
"""
import os
import time

from .capacity import run_capacity_row
from .figures import median
from .scale import scale_plan
from .util import log, num


def _plan(env):
    """(label, clients, n, extra, callgrind) per measurement."""
    c = env.cfg.get("capacity") or {}
    counts = [int(x) for x in os.environ.get("XTEL_AB_CLIENTS", "10000").split(",") if x]
    saved = getattr(env, "scale_modes", None)
    env.scale_modes = ("dtls",)
    rows = [t for t in scale_plan(env) if t[0] == "io_uring"]
    env.scale_modes = saved
    # scale_plan's options are sized for its largest count: take them from
    # a plan whose largest count is ours.
    top = max(counts + [10])
    extra = next((t[4] for t in rows if t[3] == top), rows[0][4] if rows else [])
    fill = lambda clients: max(c.get("n", 200000), clients * 8)
    todo = [("drain", 10, c.get("n", 200000), extra, False),
            ("callgrind", 10, c.get("callgrind_n", 20000), extra, True)]
    todo += [("drain", k, fill(k), extra, False) for k in counts]
    return todo


def run_ab_dtls(env):
    other = os.environ.get("XTEL_COLLECTOR_B")
    if not other or not os.access(other, os.X_OK) or not env.have_dtls():
        log("== --ab-dtls: XTEL_COLLECTOR_B (the other collector) not set or no DTLS")
        return None
    builds = {"new": env.collector, "old": other}
    rounds = int(os.environ.get("XTEL_AB_ROUNDS", "2"))
    log("== two collectors side by side, DTLS: new %s, old %s, %d round(s)" % (
        builds["new"], builds["old"], rounds))
    # --many-clients-order: the first order asked (a fleet: interleaved)
    order_rows = (getattr(env, "scale_orders", None) or ("bursts",))[0]
    res, seq, t0 = [], 900, time.monotonic()
    mine = env.collector
    try:
        for what, clients, n, extra, cg in _plan(env):
            runs = {"new": [], "old": []}
            big = clients > 10000
            for rnd in range(1 if cg or big else rounds):
                order = ("old", "new") if rnd % 2 == 0 else ("new", "old")
                for b in order:
                    seq += 1
                    env.collector = builds[b]
                    row = run_capacity_row(env, seq, "io_uring", "dtls", n, clients, cg,
                                           section="ab-" + b, extra=extra,
                                           order=order_rows)
                    cgr = row.get("callgrind")
                    f = cgr.get("ir_per_dgram") if isinstance(cgr, dict) else \
                        row.get("cpu_ns_per_dgram")
                    runs[b].append({"value": f, "status": row.get("status"),
                                    "note": row.get("note"), "loss_pct": row.get("loss_pct"),
                                    "vmhwm_kb": row.get("vmhwm_kb"), "tag": row.get("tag")})
                    log("  [%4.0fs] %-9s clients=%-6d %-3s round %d  %s" % (
                        time.monotonic() - t0, what, clients, b, rnd + 1,
                        "%s %s, loss %s%%" % (num(f), "Ir/record" if cg else "ns/record",
                                              row.get("loss_pct"))
                        if f else "%s: %s" % (row.get("status"), row.get("note"))))
            res.append({"what": what, "clients": clients, "runs": runs})
    finally:
        env.collector = mine
    return {"rounds": rounds, "new": builds["new"], "old": builds["old"], "rows": res,
            "order": order_rows}


def ab_dtls_markdown(ab):
    if not ab:
        return ""
    out = ["\n### Two collectors, DTLS (--ab-dtls; new: %s, old: %s%s)\n\n"
           "| Measure | Clients | old | new | new / old |\n|---|---:|---|---|---:|\n" % (
               ab["new"], ab["old"],
               "; records interleaved" if ab.get("order") == "interleaved" else "")]
    for r in ab["rows"]:
        v = {b: [x["value"] for x in r["runs"][b] if x["value"]] for b in ("old", "new")}
        m = {b: median(v[b]) if v[b] else None for b in v}
        ratio = "%.2fx" % (m["new"] / m["old"]) if m["old"] and m["new"] else "-"
        out.append("| %s | {:,} | %s | %s | %s |\n".format(r["clients"]) % (
            "Ir per record (callgrind)" if r["what"] == "callgrind" else "CPU ns per record",
            " / ".join("{:,.0f}".format(x) for x in v["old"]) or "-",
            " / ".join("{:,.0f}".format(x) for x in v["new"]) or "-", ratio))
    return "".join(out)
