# SPDX-License-Identifier: MIT
"""Figures computed across rows, which the report and the plots read: the
per-receiver summary, the sender ceilings against the bare loop, the
pacing error, the memory-per-client pairs, and row lookups."""

# Loss below this counts as "taken without loss" in the summary.
LOSSLESS_PCT = 0.1
# The summary's lines and the plots' series, in this order.
PLOT_LINES = [("io_uring", "plain"), ("af_xdp", "plain"), ("noxdp", "plain"),
              ("io_uring", "dtls"), ("af_xdp", "dtls"), ("c", "plain"), ("min", "plain"),
              ("py", "plain")]


def baseline_for(rows, row, kind):
    for r in rows:
        if (r.get("receiver") == kind and r.get("status") == "ok" and r["mode"] == "plain" and
                r["section"] == row["section"] and r["clients"] == row["clients"] and
                r["offered_pps"] == row["offered_pps"]):
            return r
    return None


def find_row(rows, section, kind, mode, clients=None, rate=None, flood=None):
    for r in rows:
        if (r.get("status") == "ok" and r["section"] == section and r["receiver"] == kind and
                r["mode"] == mode and (clients is None or r["clients"] == clients) and
                (rate is None or r["offered_pps"] == rate) and
                (flood is None or bool(r.get("flood_pps")) == flood)):
            return r
    return None


def headline(rows):
    """Per (receiver, mode): best loss-free achieved rate and the top row."""
    out = []
    for kind, mode in PLOT_LINES:
        sel = [r for r in rows if r["section"] == "rate" and r.get("status") == "ok"
               and r["receiver"] == kind and r["mode"] == mode]
        if not sel:
            continue
        good = [r for r in sel if r["loss_pct"] < LOSSLESS_PCT]
        best = max(good, key=lambda r: r["achieved_pps"]) if good else None
        hgood = [r for r in sel if r.get("host_loss_pct", r["loss_pct"]) < LOSSLESS_PCT]
        hbest = max(hgood, key=lambda r: r["achieved_pps"]) if hgood else None
        top = max(sel, key=lambda r: (r["offered_pps"] == 0, r["offered_pps"]))
        out.append({"receiver": kind, "mode": mode, "path": sel[0]["path"],
                    "best_pps": best["achieved_pps"] if best else None,
                    "best_ns": best.get("cpu_ns_per_dgram") if best else None,
                    "host_best_pps": hbest["achieved_pps"] if hbest else None,
                    "top": top})
    return out


def median(vals):
    v = sorted(vals)
    n = len(v)
    return (v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2.0) if n else None


def sender_figures(rows):
    """One entry per (sender, mode, threads) of the ceiling rows, in plan
    order: the repeats' median, min and max achieved rate, and the median's
    ratio to the bare loop's median with the same threads."""
    groups = []
    by_key = {}
    for r in rows:
        if r["section"] != "sender":
            continue
        key = (r.get("sender"), r["mode"], r.get("threads"))
        if key not in by_key:
            by_key[key] = {"sender": key[0], "label": r.get("sender_label"), "mode": key[1],
                           "threads": key[2], "clients": r["clients"], "path": r["path"],
                           "rows": []}
            groups.append(by_key[key])
        by_key[key]["rows"].append(r)
    for g in groups:
        ok = [r for r in g["rows"] if r.get("status") == "ok"]
        g["ok"] = ok
        rates = [r["wire_pps"] for r in ok if r.get("wire_pps")]
        g["median"], g["min"], g["max"] = (median(rates), min(rates), max(rates)) if rates \
            else (None, None, None)
        g["sent"] = sum(r["sent"] for r in ok)
        g["got"] = sum(r["received"] - r["duplicates"] for r in ok)
        g["lost"] = sum(r["lost"] for r in ok)
    for g in groups:
        base = by_key.get(("bare", "plain", g["threads"]))
        g["ratio"] = (g["median"] / base["median"]
                      if base and base["median"] and g["median"] is not None else None)
    return groups


def pacing_error_pct(r):
    req = r.get("requested_pps") or r["offered_pps"]
    return 100.0 * (r["achieved_pps"] - req) / req if req else None


def memory_rows(rows):
    """(row, reference) pairs for the client-count series of each receiver.

    The reference is the series' smallest client count at the same total
    rate, so both have touched the same receive buffers and only the
    per-client state differs.
    """
    out = []
    for r in rows:
        if r.get("status") != "ok" or r["section"] != "clients":
            continue
        same = [x for x in rows if x.get("status") == "ok" and x["section"] == "clients" and
                x["receiver"] == r["receiver"] and x["mode"] == r["mode"] and
                x["offered_pps"] == r["offered_pps"] and x["clients"] < r["clients"]]
        if same:
            out.append((r, min(same, key=lambda x: x["clients"])))
    return out
