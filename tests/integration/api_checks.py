#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks of the collector's HTTP API (docs/API.md), run by test_api.sh
inside the collector's namespace against a collector on loopback.

Every check prints one line, "ok   what" or "FAIL what: expected X, got Y";
the shell test counts them. Values are compared exactly against the load
generator's JSON report (docs/LOADGEN.md): what a collector should count for
a client is received = sent, lost = injected_loss, duplicates = injected_dup,
reordered = reorder_held - reorder_in_order; a metric's samples are the
unique DATA datagrams, sent_data - injected_dup.

usage: api_checks.py PHASE BASE_URL [ARGS...]
  exact REPORT.json      every endpoint after a finished loadgen run
  idle REPORT.json       the same run seen by ?window= after traffic stopped
  fresh ID               a client sending now: get is 200 and fresh
  stale ID               the same client after it stopped without BYE
  errors                 404/400/405/413/431 with JSON bodies
  fuzz N SEED            N malformed requests: each a 4xx JSON error
  auth TOKENS.json       401/403/200 by token and scope
  reload TOKENS.json     after SIGHUP: the new token in force
  ratelimit BURST        429 with Retry-After after BURST requests
  conncap CAP            a source's connection CAP+1 is closed at accept
  stats COUNTS.json      /api/v1/stats per-endpoint counts, exactly
  docs API.md            every "curl ... # -> STATUS" line of the document
"""
import http.client
import os
import re
import shlex
import subprocess
import json
import random
import socket
import ssl
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))  # tests/lib
from checks import check  # noqa: E402

BASE = None
CTX = None
HEADERS = {}
SENT = {}        # endpoint name -> requests this script made, for "stats"


def conn():
    u = urllib.parse.urlsplit(BASE)
    if u.scheme == "https":
        return http.client.HTTPSConnection(u.hostname, u.port, timeout=10,
                                           context=CTX)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=10)


def req(path, method="GET", headers=None, body=None, raw=False):
    """One request on a fresh connection: (status, headers, body JSON)."""
    c = conn()
    h = dict(HEADERS)
    h.update(headers or {})
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    data = r.read()
    c.close()
    hdrs = {k.lower(): v for k, v in r.getheaders()}
    if raw:
        return r.status, hdrs, data
    try:
        doc = json.loads(data) if data else None
    except ValueError:
        doc = {"_not_json": data[:200].decode("latin-1")}
    return r.status, hdrs, doc


def get(path, **kw):
    return req(path, **kw)


def expect(r):
    return {"received": r["sent"], "lost": r["injected_loss"],
            "duplicates": r["injected_dup"],
            "reordered": r["reorder_held"] - r["reorder_in_order"],
            "bytes": r["bytes"]}


def has_snapshot(what, doc):
    s = doc.get("snapshot") if isinstance(doc, dict) else None
    check(f"{what}: snapshot seq/taken_ns/age_s present", True,
          isinstance(s, dict) and s.get("seq", 0) >= 1 and
          s.get("taken_ns", 0) > 0 and s.get("age_s", -1) >= 0)


def err_ok(what, status, doc, exp_status, code=None, param="-"):
    e = doc.get("error") if isinstance(doc, dict) else None
    check(f"{what}: status", exp_status, status)
    check(f"{what}: JSON error with that status", exp_status,
          e.get("status") if isinstance(e, dict) else None)
    if code is not None:
        check(f"{what}: error code", code, e.get("code") if e else None)
    if param != "-":
        check(f"{what}: parameter named", param, e.get("param") if e else None)


# ---- exact values after a finished run ----

def phase_exact(report_path):
    rep = json.load(open(report_path))
    lg = {c["client_id"]: c for c in rep["clients"]}
    ids = sorted(lg)
    tot = expect(rep["totals"])
    n = len(ids)

    st, _, t = get("/api/v1/totals")
    check("totals: 200", 200, st)
    has_snapshot("totals", t)
    for k in ("received", "lost", "duplicates", "reordered", "bytes"):
        check(f"totals.{k} = loadgen", tot[k], t["totals"][k])
    check("totals.pending: 0 after every BYE", 0, t["totals"].get("pending"))
    check("totals.by_type = loadgen sent by type",
          [rep["totals"]["sent_init"], rep["totals"]["sent_heartbeat"],
           rep["totals"]["sent_data"], rep["totals"]["sent_bye"]],
          [t["totals"]["by_type"][k] for k in ("INIT", "HEARTBEAT", "DATA", "BYE")])
    check("totals.clients", n, t["clients"])
    check("totals.bye (every client said BYE)", n, t["bye"])
    check("totals.dropped_total", 0, t["dropped_total"])
    check("totals.counters.rx_datagrams = loadgen sent", rep["totals"]["sent"],
          t["counters"]["rx_datagrams"])
    check("totals.counters.accepted = loadgen sent", rep["totals"]["sent"],
          t["counters"]["accepted"])
    check("totals.drops: every reason 0", {}, {k: v for k, v in t["drops"].items() if v})
    if t["xdp"]:
        check("totals.xdp.stats.passed.packets = loadgen sent", rep["totals"]["sent"],
              t["xdp"]["stats"]["passed"]["packets"])
    SENT["totals"] = SENT.get("totals", 0) + 1

    st, _, cl = get("/api/v1/clients?limit=10000")
    SENT["clients"] = SENT.get("clients", 0) + 1
    check("clients: 200", 200, st)
    has_snapshot("clients", cl)
    check("clients.total", n, cl["total"])
    check("clients: ids in order", ids, [c["client_id"] for c in cl["clients"]])
    bad = [(c["client_id"], k, expect(lg[c["client_id"]])[k], c[k])
           for c in cl["clients"] for k in ("received", "lost", "duplicates",
                                             "reordered", "bytes")
           if expect(lg[c["client_id"]])[k] != c[k]]
    check("clients: received/lost/duplicates/reordered/bytes = loadgen per client",
          [], bad[:5])
    check("clients: every state bye, none fresh", [("bye", False)] * n,
          [(c["state"], c["fresh"]) for c in cl["clients"]])
    check("clients: by_type.DATA = loadgen sent_data per client",
          [lg[i]["sent_data"] for i in ids],
          [c["by_type"]["DATA"] for c in cl["clients"]])
    check("clients: highest_seq = loadgen last_seq",
          [lg[i]["last_seq"] for i in ids], [c["highest_seq"] for c in cl["clients"]])
    st, _, pg = get("/api/v1/clients?limit=3&offset=3")
    SENT["clients"] += 1
    check("clients?limit=3&offset=3: the 4th to 6th ids", ids[3:6],
          [c["client_id"] for c in pg["clients"]])
    check("clients?limit=3&offset=3: total still all", n, pg["total"])
    st, _, so = get("/api/v1/clients?sort=loss&limit=10000")
    SENT["clients"] += 1
    keyed = sorted(lg.values(), key=lambda r: (
        -expect(r)["lost"] / (expect(r)["received"] - expect(r)["duplicates"] +
                              expect(r)["lost"]), r["client_id"]))
    check("clients?sort=loss: by loss_pct descending, ties by id",
          [r["client_id"] for r in keyed], [c["client_id"] for c in so["clients"]])
    check("clients?sort=loss: order defaults to desc", "desc", so["order"])
    st, _, lv = get("/api/v1/clients?state=live")
    SENT["clients"] += 1
    check("clients?state=live: none", 0, lv["total"])
    st, _, by = get("/api/v1/clients?state=bye&sort=id&order=desc&limit=2")
    SENT["clients"] += 1
    check("clients?state=bye&order=desc&limit=2", ids[::-1][:2],
          [c["client_id"] for c in by["clients"]])

    cid = ids[2]
    st, _, one = get(f"/api/v1/clients/{cid}")
    SENT["client"] = SENT.get("client", 0) + 1
    c = one["client"]
    check(f"clients/{cid}: 200", 200, st)
    for k in ("received", "lost", "duplicates", "reordered", "bytes"):
        check(f"clients/{cid}.{k} = loadgen", expect(lg[cid])[k], c[k])
    uniq = lg[cid]["sent_data"] - lg[cid]["injected_dup"]
    check(f"clients/{cid}.metrics.id last/min/max/mean = {cid}", [cid] * 4,
          [c["metrics"]["id"][k] for k in ("last", "min", "max", "mean")])
    check(f"clients/{cid}.metrics.id.count = unique DATA (sent_data - dup)",
          uniq, c["metrics"]["id"]["count"])
    check(f"clients/{cid}.metrics.seq.count = unique DATA", uniq,
          c["metrics"]["seq"]["count"])
    check(f"clients/{cid}.metrics.id has ts_ns, age_s, fresh=false", True,
          c["metrics"]["id"]["ts_ns"] > 0 and c["metrics"]["id"]["age_s"] >= 0 and
          c["metrics"]["id"]["fresh"] is False)
    check(f"clients/{cid}: pending 0, epochs 1", (0, 1), (c["pending"], c["epochs"]))
    check(f"clients/{cid}: interval_metrics has both keys", ["id", "seq"],
          sorted(c["interval_metrics"]))
    check(f"clients/{cid}: latency_us.count = received - duplicates",
          expect(lg[cid])["received"] - expect(lg[cid])["duplicates"],
          c["latency_us"]["count"] + c["latency_us"]["negative"])

    st, _, g = get(f"/api/v1/get?client_id={cid}&metric=id")
    SENT["get"] = SENT.get("get", 0) + 1
    check("get (client said BYE): 503", 503, st)
    check("get: value, fresh=false, state bye, error.code stale",
          (float(cid), False, "bye", "stale"),
          (g["value"], g["fresh"], g["state"], g["error"]["code"]))
    check("get: client_id and metric echoed", (cid, "id"), (g["client_id"], g["metric"]))
    check("get: ts_ns = clients/{id}'s metrics.id.ts_ns", c["metrics"]["id"]["ts_ns"],
          g["ts_ns"])
    has_snapshot("get", g)

    st, _, li = get("/api/v1/list?metric=id")
    SENT["list"] = SENT.get("list", 0) + 1
    check("list: 200", 200, st)
    check("list: one entry per client, value = id",
          [(i, float(i)) for i in ids], [(e["client_id"], e["value"]) for e in li["clients"]])
    check("list: count and stale (all said BYE)", (n, n), (li["count"], li["stale"]))
    check("list: every entry marked not fresh", [False] * n, [e["fresh"] for e in li["clients"]])

    st, _, ag = get("/api/v1/aggregate")
    SENT["aggregate"] = SENT.get("aggregate", 0) + 1
    check("aggregate: 200, whole run (window_s null)", (200, None), (st, ag["window_s"]))
    badag = []
    for a in ag["clients"]:
        e = expect(lg[a["client_id"]])
        u = lg[a["client_id"]]["sent_data"] - lg[a["client_id"]]["injected_dup"]
        got = (a["received"], a["lost"], a["duplicates"], a["errors"],
               a["metrics"]["id"]["min"], a["metrics"]["id"]["max"],
               a["metrics"]["id"]["count"])
        want = (e["received"], e["lost"], e["duplicates"],
                e["lost"] + e["duplicates"], float(a["client_id"]),
                float(a["client_id"]), u)
        if got != want:
            badag.append((a["client_id"], want, got))
    check("aggregate: per client received/lost/duplicates/errors and metric id "
          "min/max/count = loadgen", [], badag[:3])
    check("aggregate.totals = loadgen", (tot["received"], tot["lost"], tot["duplicates"]),
          (ag["totals"]["received"], ag["totals"]["lost"], ag["totals"]["duplicates"]))
    check("aggregate: latency_max_us >= latency_p99_us > 0", True,
          all(a["latency_max_us"] >= a["latency_p99_us"] > 0 for a in ag["clients"]))
    st, _, a1 = get(f"/api/v1/aggregate?metric=id&client_id={cid}")
    SENT["aggregate"] += 1
    check("aggregate?metric=id&client_id: one client, one metric",
          ([cid], ["id"]), ([a["client_id"] for a in a1["clients"]],
                            sorted(a1["clients"][0]["metrics"])))
    st, _, aw = get("/api/v1/aggregate?window=60")
    SENT["aggregate"] += 1
    check("aggregate?window=60 (covers the run): totals = loadgen",
          (tot["received"], tot["lost"], tot["duplicates"]),
          (aw["totals"]["received"], aw["totals"]["lost"], aw["totals"]["duplicates"]))
    check("aggregate?window=60: metric id count = unique DATA of all",
          sum(r["sent_data"] - r["injected_dup"] for r in lg.values()),
          sum(a["metrics"]["id"]["count"] for a in aw["clients"]))

    # The seed's paths, with its shapes.
    st, _, sg = get(f"/telemetry/get?switch_id={cid}&metric=id")
    SENT["telemetry_get"] = 1
    check("seed get: 503 for a stale value, its shape",
          (503, cid, "id", float(cid), "stale value"),
          (st, sg["switch_id"], sg["metric"], sg["value"], sg["error"]))
    check("seed get: timestamp in seconds = ts_ns / 1e9", round(g["ts_ns"] / 1e9, 6),
          sg["timestamp"])
    st, _, sl = get("/telemetry/list?metric=id")
    SENT["telemetry_list"] = 1
    check("seed list?metric=: values[] of switch_id/value/timestamp/stale",
          [(i, float(i), True) for i in ids],
          [(e["switch_id"], e["value"], e["stale"]) for e in sl["values"]])
    check("seed list?metric=: keys", ["stale", "switch_id", "timestamp", "value"],
          sorted(sl["values"][0]))
    st, _, sla = get("/telemetry/list")
    SENT["telemetry_list"] += 1
    check("seed list: switches[] with every metric", [(i, ["id", "seq"]) for i in ids],
          [(e["switch_id"], sorted(e["metrics"])) for e in sla["switches"]])
    st, _, sa = get("/telemetry/aggregate")
    SENT["telemetry_aggregate"] = 1
    check("seed aggregate: switches[] keys",
          ["max_latency", "min_bandwidth", "switch_id", "total_errors"],
          sorted(sa["switches"][0]))
    check("seed aggregate: total_errors = loadgen lost + dup per switch",
          [expect(lg[i])["lost"] + expect(lg[i])["duplicates"] for i in ids],
          [e["total_errors"] for e in sa["switches"]])
    st, _, ss = get("/telemetry/stats")
    SENT["telemetry_stats"] = 1
    check("seed stats: endpoints keyed by path with count/avg/max latency",
          (1, True), (ss["endpoints"]["/telemetry/get"]["count"],
                      ss["endpoints"]["/telemetry/get"]["max_latency_ms"] > 0))

    st, _, h = get("/healthz")
    SENT["healthz"] = 2     # and test_api.sh's curl before the run
    check("healthz: 200 ok", (200, "ok"), (st, h["status"]))
    st, _, r = get("/readyz")
    SENT["readyz"] = 1
    check("readyz: 200 ready, receiving", (200, "ready", True),
          (st, r["status"], r["receiving"]))
    # health (docs/HEALTH.md): every client said BYE, so none holds a verdict,
    # and warm-up ending is no transition
    st, _, hh = get("/api/v1/health")
    SENT["health"] = 1
    check("health: 200, every client ok after its BYE, one group fleet",
          (200, ids, {"ok": len(ids)}, ["fleet"]),
          (st, [c["client_id"] for c in hh["clients"]],
           {k: v for k, v in hh["counts"].items() if v},
           [g["label"] for g in hh["groups"]]))
    st, _, hc = get("/api/v1/health/%d" % ids[0])
    SENT["health_client"] = 1
    check("health/{id}: every signal with value, baseline, scale, z",
          (200, sorted(["lat_p50_ms", "lat_p99_ms", "queue_ms", "jitter_ms",
                        "loss_pct", "dup_pct", "reorder_pct", "rate_pps"]),
           ["baseline", "scale", "unit", "value", "z"]),
          (st, sorted(hc["client"]["signals"]),
           sorted(hc["client"]["signals"]["queue_ms"])))
    st, _, ev = get("/api/v1/events")
    SENT["events"] = 1
    check("events: 200, no transition, none dropped", (200, 0, 0, []),
          (st, ev["total"], ev["dropped"], ev["events"]))
    print("SENT " + json.dumps(SENT))


def phase_idle(report_path):
    """After the traffic stopped for longer than the window."""
    rep = json.load(open(report_path))
    st, _, aw = get("/api/v1/aggregate?window=1")
    check("aggregate?window=1 after 2 s of silence: 200", 200, st)
    check("aggregate?window=1: nothing received, lost or duplicated in it",
          (0, 0, 0), (aw["totals"]["received"], aw["totals"]["lost"],
                      aw["totals"]["duplicates"]))
    check("aggregate?window=1: no metric sample in it", [],
          [a["client_id"] for a in aw["clients"] if a["metrics"]])
    check("aggregate?window=1: every client still listed", len(rep["clients"]),
          len(aw["clients"]))
    check("aggregate?window=1: 2 intervals of 0.5 s", 2, aw["intervals"])


def phase_fresh(cid):
    st, _, g = get(f"/api/v1/get?client_id={cid}&metric=temp")
    check(f"get (client {cid} sending): 200", 200, st)
    check("get: fresh, live, value = client id", (True, "live", float(cid)),
          (g.get("fresh"), g.get("state"), g.get("value")))
    check("get: age_s under --fresh-for", True, 0 <= g.get("age_s", 99) <= 1.0)
    st, _, li = get("/api/v1/list?metric=temp")
    check("list?metric=temp: both live clients fresh", (2, 0), (li["count"], li["stale"]))
    st, _, c = get(f"/api/v1/clients/{cid}")
    check(f"clients/{cid}: fresh and live", (True, "live"),
          (c["client"]["fresh"], c["client"]["state"]))
    st, _, sg = get(f"/telemetry/get?switch_id={cid}&metric=temp")
    check("seed get (fresh): 200 with value, no error", (200, float(cid), None),
          (st, sg["value"], sg.get("error")))
    st, _, ag = get(f"/api/v1/aggregate?window=0.5&client_id={cid}")
    check("aggregate?window=0.5 while sending: samples in the window", True,
          ag["clients"][0]["metrics"]["temp"]["count"] > 0)


def phase_stale(cid):
    st, _, g = get(f"/api/v1/get?client_id={cid}&metric=temp")
    check(f"get (client {cid} stopped without BYE): 503", 503, st)
    check("get: still live by --stale-after, but not fresh", ("live", False),
          (g.get("state"), g.get("fresh")))
    check("get: the age in the body is over --fresh-for (1 s)", True, g.get("age_s", 0) > 1.0)
    check("get: error.code stale", "stale", g["error"]["code"])
    st, _, li = get("/api/v1/list?metric=temp")
    check("list?metric=temp: both marked stale", (2, 2), (li["count"], li["stale"]))


# ---- errors ----

def phase_errors():
    c = SENT
    st, _, d = get("/api/v1/clients/999999")
    err_ok("unknown client (path)", st, d, 404, "unknown_client", "id")
    st, _, d = get("/api/v1/get?client_id=999999&metric=id")
    err_ok("unknown client (get)", st, d, 404, "unknown_client", "client_id")
    st, _, d = get("/api/v1/get?client_id=3&metric=nope")
    err_ok("unknown metric (get)", st, d, 404, "unknown_metric", "metric")
    st, _, d = get("/api/v1/list?metric=nope")
    err_ok("unknown metric (list)", st, d, 404, "unknown_metric", "metric")
    st, _, d = get("/api/v1/aggregate?metric=nope")
    err_ok("unknown metric (aggregate)", st, d, 404, "unknown_metric", "metric")
    st, _, d = get("/api/v1/nothing")
    err_ok("unknown path", st, d, 404, "not_found")
    st, _, d = get("/api/v1/clients/3/more")
    err_ok("path below a client", st, d, 404, "not_found")
    for path, param in [("/api/v1/clients/abc", "id"),
                        ("/api/v1/clients/4294967296", "id"),
                        ("/api/v1/clients/-1", "id"),
                        ("/api/v1/get?client_id=-1&metric=id", "client_id"),
                        ("/api/v1/get?client_id=0x3&metric=id", "client_id"),
                        ("/api/v1/get?metric=id", "client_id"),
                        ("/api/v1/get?client_id=3", "metric"),
                        ("/api/v1/get?client_id=3&metric=bad%20key", "metric"),
                        ("/api/v1/get?client_id=3&metric=" + "k" * 33, "metric"),
                        ("/api/v1/list", "metric"),
                        ("/api/v1/clients?limit=0", "limit"),
                        ("/api/v1/clients?limit=10001", "limit"),
                        ("/api/v1/clients?offset=x", "offset"),
                        ("/api/v1/clients?sort=bogus", "sort"),
                        ("/api/v1/clients?state=dead", "state"),
                        ("/api/v1/clients?order=up", "order"),
                        ("/api/v1/clients?foo=1", "foo"),
                        ("/api/v1/clients?limit=1&limit=2", "limit"),
                        ("/api/v1/aggregate?window=abc", "window"),
                        ("/api/v1/aggregate?window=0", "window"),
                        ("/api/v1/aggregate?window=61", "window"),
                        ("/api/v1/aggregate?client_id=x", "client_id"),
                        ("/api/v1/totals?x=1", "x"),
                        ("/telemetry/get?switch_id=abc&metric=id", None)]:
        st, _, d = get(path)
        if param is None:   # the seed's flat error
            check(f"400 {path}: seed error shape", (400, True),
                  (st, isinstance(d.get("error"), str)))
        else:
            err_ok(f"400 {path}", st, d, 400, None, param)
    for m in ("POST", "PUT", "DELETE", "PATCH"):
        st, h, d = req("/api/v1/clients", method=m)
        err_ok(f"405 {m} /api/v1/clients", st, d, 405, "method_not_allowed")
        check(f"405 {m}: Allow header", "GET, HEAD", h.get("allow"))
    st, h, d = req("/api/v1/admin/reload", method="GET")
    err_ok("405 GET /api/v1/admin/reload", st, d, 405, "method_not_allowed")
    check("405 GET admin: Allow POST", "POST", h.get("allow"))
    st, _, d = req("/api/v1/totals", method="POST", body=b"x" * 5000)
    err_ok("413 body of 5000 bytes", st, d, 413, "body_too_large")
    st, _, d = req("/api/v1/totals", headers={"X-Big": "a" * 16000})
    err_ok("431 a 16000-byte header", st, d, 431, "headers_too_large")
    st, _, d = req("/api/v1/clients?metric=" + "m" * 9000)
    err_ok("431 a 9000-byte query", st, d, 431, "headers_too_large")
    st, h, _ = req("/api/v1/totals", method="HEAD", raw=True)
    check("HEAD /api/v1/totals: 200, JSON type", (200, "application/json"),
          (st, h.get("content-type")))
    st, _, d = get("/healthz")
    check("still up after the errors", 200, st)


# ---- fuzz ----

PATHS = ["/api/v1/clients", "/api/v1/clients/", "/api/v1/get", "/api/v1/list",
         "/api/v1/aggregate", "/api/v1/totals", "/api/v1/stats", "/metrics",
         "/telemetry/get", "/telemetry/list", "/telemetry/aggregate",
         "/healthz", "/api/v1/admin/reload", "/api/v2/clients", "/api",
         "/api/v1/clients/1", "//api/v1/clients", "/api/v1/clients/../totals"]
KEYS = ["client_id", "metric", "limit", "offset", "sort", "state", "order",
        "window", "switch_id", "x", "", "client_id[]", "%00", "m%ff"]
JUNK = ["", "-1", "1e3", "0x10", "99999999999999999999", "%00", "%ff%fe",
        "nan", "inf", "1.5", "a" * 40, "\u00e9", "%25", "1%202", "+1", " 1",
        "bad key", "../..", "id;rm", "'", "\"", "{}", "[1]", "null", "18446744073709551616"]


def malformed(rng):
    """A request that must be refused: (method, target, headers, body)."""
    kind = rng.randrange(8)
    p = rng.choice(PATHS)
    if kind == 0:      # unknown path
        return "GET", p + rng.choice(["x", "/z", "/1/2", "%2e%2e", "/%00"]), {}, None
    if kind == 1:      # wrong method
        return rng.choice(["POST", "PUT", "DELETE", "OPTIONS", "PATCH"]), \
            rng.choice(PATHS[:12]), {}, None
    if kind == 2:      # bad client id in the path
        return "GET", "/api/v1/clients/" + urllib.parse.quote(rng.choice(JUNK[1:]) + "x",
                                                              safe="%"), {}, None
    if kind == 3:      # unknown or repeated parameter
        k = rng.choice(["foo", "Client_id", "limit&limit=1", "metric&metric=a"])
        return "GET", "/api/v1/clients?" + k + "=1", {}, None
    if kind == 4:      # a bad value of a known parameter
        path, key = rng.choice([("/api/v1/clients", "limit"),
                                ("/api/v1/clients", "offset"),
                                ("/api/v1/clients", "sort"),
                                ("/api/v1/clients", "state"),
                                ("/api/v1/get", "client_id"),
                                ("/api/v1/aggregate", "window"),
                                ("/api/v1/list", "metric"),
                                ("/telemetry/get", "switch_id")])
        v = urllib.parse.quote(rng.choice(JUNK), safe="%")
        if key in ("client_id", "switch_id"):
            q = f"{key}={v}x&metric=id"
        elif key == "metric":
            q = f"metric={v}%20"
        else:
            q = f"{key}={v}x"
        return "GET", f"{path}?{q}", {}, None
    if kind == 5:      # a missing required parameter
        return "GET", rng.choice(["/api/v1/get", "/api/v1/get?metric=id",
                                  "/api/v1/get?client_id=1", "/api/v1/list",
                                  "/telemetry/get?metric=id"]), {}, None
    if kind == 6:      # too large
        if rng.random() < 0.5:
            return "GET", "/api/v1/totals", {"X-Pad": "p" * rng.randrange(8300, 30000)}, None
        return "POST", "/api/v1/totals", {}, b"b" * rng.randrange(4097, 20000)
    # random bytes in the query
    q = "".join(rng.choice("abc=&%;?/#[]0123456789") for _ in range(rng.randrange(1, 60)))
    return "GET", "/api/v1/clients?zz" + urllib.parse.quote(q, safe="") + "=1", {}, None


def phase_fuzz(n, seed):
    rng = random.Random(seed)
    bad = []
    for i in range(n):
        m, target, h, body = malformed(rng)
        try:
            st, _, d = req(target, method=m, headers=h, body=body)
        except (OSError, http.client.HTTPException) as e:
            bad.append((m, target[:60], repr(e)))
            continue
        e = d.get("error") if isinstance(d, dict) else None
        # a seed path's error is {"error": "text"}
        ok_json = (isinstance(e, dict) and e.get("status") == st) or isinstance(e, str)
        if not (400 <= st < 500 and ok_json):
            bad.append((m, target[:60], st, str(d)[:80]))
    check(f"fuzz: {n} malformed requests each got a 4xx JSON error", [], bad[:5])
    st, _, _ = get("/healthz")
    check("fuzz: the server is still up", 200, st)


# ---- auth, limits ----

def phase_auth(tokens_path):
    global HEADERS
    t = json.load(open(tokens_path))
    HEADERS = {}
    st, h, d = get("/api/v1/totals")
    err_ok("no token", st, d, 401, "unauthorized")
    check("no token: WWW-Authenticate Bearer", 'Bearer realm="xtel"', h.get("www-authenticate"))
    st, _, d = get("/api/v1/totals", headers={"Authorization": "Bearer wrong"})
    err_ok("unknown token", st, d, 401, "unauthorized")
    st, _, d = get("/api/v1/totals", headers={"Authorization": "Basic " + t["read"]})
    err_ok("not a bearer token", st, d, 401, "unauthorized")
    st, _, d = get("/metrics", headers={"Authorization": "Bearer wrong"})
    check("/metrics with an unknown token: 401", 401, st)
    rd = {"Authorization": "Bearer " + t["read"]}
    ad = {"Authorization": "Bearer " + t["admin"]}
    st, _, d = get("/api/v1/totals", headers=rd)
    check("read token: 200", 200, st)
    st, _, _ = get("/metrics", headers=rd, raw=True)
    check("read token on /metrics: 200", 200, st)
    st, _, d = req("/api/v1/admin/reload", method="POST", headers=rd)
    err_ok("read token on an admin endpoint", st, d, 403, "forbidden")
    st, _, d = req("/api/v1/admin/reload", method="POST", headers=ad)
    check("admin token: reload 200 with the token count", (200, 2), (st, d.get("tokens")))
    st, _, d = get("/api/v1/totals", headers=ad)
    check("admin token may read: 200", 200, st)
    st, _, d = get("/healthz")
    check("/healthz needs no token", 200, st)
    st, _, d = get("/readyz")
    check("/readyz needs no token", 200, st)
    st, _, s = get("/api/v1/stats", headers=rd)
    check("stats: refused.unauthorized = 4, forbidden = 1", (4, 1),
          (s["refused"]["unauthorized"], s["refused"]["forbidden"]))
    check("stats: tokens required, 2, 1 reload", (True, 2, 1),
          (s["tokens"]["required"], s["tokens"]["count"], s["tokens"]["reloads"]))


def phase_reload(tokens_path):
    t = json.load(open(tokens_path))
    st, _, _ = get("/api/v1/totals", headers={"Authorization": "Bearer " + t["read"]})
    check("after SIGHUP: the removed token is refused", 401, st)
    st, _, _ = get("/api/v1/totals", headers={"Authorization": "Bearer " + t["new"]})
    check("after SIGHUP: the new token works", 200, st)
    st, _, s = get("/api/v1/stats", headers={"Authorization": "Bearer " + t["new"]})
    check("stats: 2 reloads (admin call + SIGHUP), 1 failed (bad file)", (2, 1),
          (s["tokens"]["reloads"], s["tokens"]["reload_errors"]))


def phase_ratelimit(burst):
    codes, retry = [], None
    for _ in range(burst + 2):
        st, h, d = get("/api/v1/totals")
        codes.append(st)
        if st == 429:
            retry = h.get("retry-after")
            err = d
    check(f"rate limit: {burst} answered, then 429", [200] * burst + [429, 429], codes)
    check("429: Retry-After 1 (1 request/s)", "1", retry)
    err_ok("429 body", 429, err, 429, "rate_limited")
    time.sleep(1.1)
    st, _, _ = get("/api/v1/totals")
    check("after Retry-After: answered again", 200, st)


def phase_conncap(cap):
    u = urllib.parse.urlsplit(BASE)
    socks = []
    for _ in range(cap):
        s = socket.create_connection((u.hostname, u.port), timeout=5)
        socks.append(s)
    time.sleep(0.2)
    extra = socket.create_connection((u.hostname, u.port), timeout=5)
    try:
        extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        got = extra.recv(100)
    except OSError:
        got = b""
    check(f"connection cap {cap}: connection {cap + 1} closed at accept", b"", got)
    extra.close()
    s = socks[0]
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    check("the capped source's open connections still served", True,
          s.recv(100).startswith(b"HTTP/1.1 200"))
    for s in socks:
        s.close()
    time.sleep(1.1)
    st, _, d = get("/api/v1/stats")
    check("stats: connections.refused = 1", 1, d["connections"]["refused"])


def phase_stats(counts_path):
    counts = json.load(open(counts_path))
    st, _, s = get("/api/v1/stats")
    check("stats: 200", 200, st)
    got = {k: s["endpoints"][k]["requests"] for k in counts}
    check("stats: requests per endpoint = what the checks sent", counts, got)
    check("stats: every endpoint has latency min <= p99 <= max", True,
          all(e["latency_us"]["min"] <= e["latency_us"]["p99"] <= e["latency_us"]["max"]
              for e in s["endpoints"].values() if e["requests"]))
    check("stats: snapshot_age_s and snapshot_cost_ms present", True,
          s["snapshot_age_s"] >= 0 and s["snapshot_cost_ms"] >= 0)


def phase_docs(doc_path):
    """Runs each documented example; its status must be the documented one."""
    n = 0
    for line in open(doc_path):
        m = re.match(r"^(curl .*?)\s+# -> (\d{3})$", line.strip())
        if not m:
            continue
        n += 1
        argv = shlex.split(m.group(1)) + ["-o", "/dev/null", "-w", "%{http_code}"]
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
        check(f"docs example: {m.group(1)}", m.group(2), out.stdout)
    check("docs: examples found", True, n >= 10)


def main():
    global BASE, CTX
    phase, BASE = sys.argv[1], sys.argv[2]
    args = sys.argv[3:]
    if BASE.startswith("https"):
        CTX = ssl.create_default_context(cafile=args.pop(0))
    {"exact": lambda: phase_exact(args[0]),
     "idle": lambda: phase_idle(args[0]),
     "fresh": lambda: phase_fresh(int(args[0])),
     "stale": lambda: phase_stale(int(args[0])),
     "errors": phase_errors,
     "fuzz": lambda: phase_fuzz(int(args[0]), int(args[1])),
     "auth": lambda: phase_auth(args[0]),
     "reload": lambda: phase_reload(args[0]),
     "ratelimit": lambda: phase_ratelimit(int(args[0])),
     "conncap": lambda: phase_conncap(int(args[0])),
     "stats": lambda: phase_stats(args[0]),
     "docs": lambda: phase_docs(args[0])}[phase]()


if __name__ == "__main__":
    main()
