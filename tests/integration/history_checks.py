#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks of the history endpoints (docs/API.md) for test_history.sh.

  history_checks.py docs URL API.md
      every request of the "History examples" section, answered by a
      collector serving history_fixture's file, equals the block under it
      byte for byte (the reply's snapshot object removed).
  history_checks.py exact URL SUMMARY.json LOADGEN.json FROM TO
      the history of [FROM, TO) holds exactly what the collector's summary
      JSON and the load generator's report counted, per client and for the
      fleet, at every tier, in JSON and in CSV.

Prints "ok ..." / "FAIL ..." lines; exits 1 on a failure.
"""
import csv
import io
import json
import re
import sys
import urllib.error
import urllib.request

fails = 0


def ok(msg):
    print("ok   " + msg)


def fail(msg):
    global fails
    fails += 1
    print("FAIL " + msg)


def check_eq(what, want, got):
    if want == got:
        ok("%s (%r)" % (what, got))
    else:
        fail("%s: expected %r, got %r" % (what, want, got))


def fetch(url, accept=None):
    req = urllib.request.Request(url)
    if accept:
        req.add_header("Accept", accept)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read().decode()


SNAP = re.compile(r',"snapshot":\{[^{}]*\}\}$')


def docs(base, api_md):
    text = open(api_md).read()
    sec = text[text.index("### History examples"):]
    sec = sec[:sec.index("\n## ")]
    pairs = re.findall(r"```sh\ncurl -s '([^']+)'\n```\n\n```(json|csv)\n(.*?)```",
                       sec, re.S)
    check_eq("docs: history examples found", 6, len(pairs))
    for url, kind, want in pairs:
        path = url[url.index("/api/"):]
        status, ctype, body = fetch(base + path)
        check_eq("docs: %s status" % path, 200, status)
        if kind == "json":
            got = SNAP.sub("}", body.strip())
            check_eq("docs: %s body" % path, want.strip(), got)
        else:
            check_eq("docs: %s content type" % path,
                     "text/csv; charset=utf-8", ctype)
            got = body.replace("\r\n", "\n")
            check_eq("docs: %s body" % path, want, got)


def series(base, path):
    status, _, body = fetch(base + path)
    if status != 200:
        fail("%s: status %d: %s" % (path, status, body[:200]))
        return None
    return json.loads(body)


def exact(base, summary, lg, frm, to):
    s = json.load(open(summary))
    g = json.load(open(lg))
    tot = s["totals"]
    # what the load generator caused is what the collector accounted
    gt = g["totals"]
    check_eq("summary: received = loadgen sent", gt["sent"], tot["received"])
    check_eq("summary: lost = loadgen's injected loss", gt["injected_loss"],
             tot["lost"])
    check_eq("summary: duplicates = loadgen's injected dup",
             gt["injected_dup"], tot["duplicates"])
    for step, tier in ((10, "10s"), (60, "1m"), (3600, "1h"), (1, "1s")):
        d = series(base, "/api/v1/history/totals?from=%d&to=%d&step=%d"
                   % (frm, to, step))
        if d is None:
            continue
        check_eq("totals step %d: tier" % step, tier, d["tier"])
        for k in ("received", "bytes", "lost", "duplicates", "reordered",
                  "too_late"):
            check_eq("totals step %d: %s" % (step, k), tot[k],
                     sum(p[k] for p in d["points"]))
        check_eq("totals step %d: latency count" % step,
                 tot["latency_us"]["count"],
                 sum(p["latency"]["count"] for p in d["points"]))
        check_eq("totals step %d: max latency" % step,
                 tot["latency_us"]["max"],
                 max((p["latency"]["max"] or 0 for p in d["points"]),
                     default=None))
    sent = {c["client_id"]: c for c in g["clients"]}
    for c in s["clients"]:
        cid = c["client_id"]
        check_eq("client %d: summary received = loadgen sent" % cid,
                 sent[cid]["sent"], c["received"])
        for step in (10, 60, 3600):
            d = series(base, "/api/v1/history?client_id=%d&from=%d&to=%d"
                       "&step=%d" % (cid, frm, to, step))
            if d is None:
                continue
            for k in ("received", "bytes", "lost", "duplicates",
                      "reordered"):
                check_eq("client %d step %d: %s" % (cid, step, k), c[k],
                         sum(p[k] for p in d["points"]))
            check_eq("client %d step %d: latency count" % (cid, step),
                     c["latency_us"]["count"],
                     sum(p["latency"]["count"] for p in d["points"]))
        # the payload's metric id={client}: every sample is the id
        d = series(base, "/api/v1/history?client_id=%d&metric=id&from=%d"
                   "&to=%d&step=3600" % (cid, frm, to))
        if d is not None:
            m = c["metrics"]["id"]
            check_eq("client %d: metric id count" % cid, m["count"],
                     sum(p["count"] for p in d["points"]))
            check_eq("client %d: metric id min/max" % cid, (cid, cid),
                     (min(p["min"] for p in d["points"]),
                      max(p["max"] for p in d["points"])))
        # CSV through Accept: the same sums
        status, ctype, body = fetch(
            base + "/api/v1/history?client_id=%d&metric=received&from=%d"
            "&to=%d&step=10" % (cid, frm, to), accept="text/csv")
        rows = list(csv.DictReader(io.StringIO(body)))
        check_eq("client %d: CSV received" % cid, c["received"],
                 sum(int(r["value"]) for r in rows))
    st = series(base, "/api/v1/stats")
    if st is not None:
        db = st["db"]
        check_eq("stats: db.dropped_views", 0, db["dropped_views"])
        check_eq("stats: db.failed_transactions", 0, db["failed_transactions"])
        if db["written_views"] > 0 and db["queued_views"] >= db["written_views"]:
            ok("stats: db queued_views %d, written_views %d"
               % (db["queued_views"], db["written_views"]))
        else:
            fail("stats: no view written: %r" % db)
    _, _, m = fetch(base + "/metrics")
    check_eq("/metrics has xtel_db_written_rows_total", True,
             "\nxtel_db_written_rows_total " in m)


def main():
    if sys.argv[1] == "docs":
        docs(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "exact":
        exact(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]),
              int(sys.argv[6]))
    else:
        sys.exit("usage: see the docstring")
    sys.exit(1 if fails else 0)


if __name__ == "__main__":
    main()
