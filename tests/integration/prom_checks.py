#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks through a real Prometheus server's HTTP query API that what it
scraped from the collector's /metrics equals the load generator's exact
counts (docs/API.md, "Prometheus"). Run by test_prometheus.sh in the
collector's namespace, where Prometheus and the collector listen on
loopback. Prints "ok"/"FAIL" lines.

usage: prom_checks.py wait PROM_URL EXPECTED TIMEOUT_S
       prom_checks.py check PROM_URL REPORT.json IDS OMITTED
         (IDS: the clients with per-client series, e.g. 2,4,5; OMITTED:
         how many selected clients the cap left out)
"""
import json
import os
import sys
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))  # tests/lib
from checks import check  # noqa: E402


def query(base, q):
    """The instant vector of q: [(labels, value)]."""
    url = base + "/api/v1/query?" + urllib.parse.urlencode({"query": q})
    with urllib.request.urlopen(url, timeout=5) as r:
        doc = json.load(r)
    if doc.get("status") != "success":
        raise RuntimeError(f"{q}: {doc}")
    return [(s["metric"], float(s["value"][1])) for s in doc["data"]["result"]]


def scalar(base, q):
    v = query(base, q)
    return v[0][1] if len(v) == 1 else None


def wait(base, expected, timeout):
    """Until xtel_received_datagrams_total reads expected (all views in)."""
    end = time.monotonic() + timeout
    got = None
    while time.monotonic() < end:
        try:
            got = scalar(base, "xtel_received_datagrams_total")
        except OSError:
            got = None
        if got == expected:
            break
        time.sleep(0.25)
    check(f"Prometheus scraped xtel_received_datagrams_total = {expected:.0f} "
          f"within {timeout} s", expected, got)


def main():
    mode, base = sys.argv[1], sys.argv[2]
    if mode == "wait":
        wait(base, float(sys.argv[3]), float(sys.argv[4]))
        return
    rep = json.load(open(sys.argv[3]))
    sel = [int(i) for i in sys.argv[4].split(",")]
    omitted = int(sys.argv[5])
    cap = len(sel)
    t = rep["totals"]
    lg = {c["client_id"]: c for c in rep["clients"]}
    ids = sorted(lg)
    check("up{job=\"xtel\"} = 1", 1.0, scalar(base, 'up{job="xtel"}'))
    for series, exp in [
            ("xtel_received_datagrams_total", t["sent"]),
            ("xtel_received_bytes_total", t["bytes"]),
            ("xtel_lost_datagrams_total", t["injected_loss"]),
            ("xtel_duplicate_datagrams_total", t["injected_dup"]),
            ("xtel_reordered_datagrams_total", t["reorder_held"] - t["reorder_in_order"]),
            ("xtel_too_late_datagrams_total", 0),
            ("xtel_pending_datagrams", 0),  # every client said BYE: no gap left open
            ("xtel_rx_datagrams_total", t["sent"]),
            ("xtel_accepted_datagrams_total", t["sent"]),
            ('xtel_xdp_packets_total{outcome="passed"}', t["sent"]),
            ('sum(xtel_xdp_packets_total{verdict="drop"})', 0),
            ("sum(xtel_dropped_datagrams_total)", 0),
            ('xtel_clients{state="bye"}', len(ids)),
            ('xtel_clients{state="live"}', 0),
            ("xtel_metrics_omitted_clients", omitted),
            ("count(xtel_client_received_datagrams_total)", cap),
            ("xtel_xdp_attached", 1),
            ("xtel_receiving", 1)]:
        check(f"{series} = {exp}", float(exp), scalar(base, series))
    per = dict((int(m["client_id"]), v) for m, v in
               query(base, "xtel_client_received_datagrams_total"))
    check(f"xtel_client_received_datagrams_total of ids {sel} = loadgen sent",
          {i: float(lg[i]["sent"]) for i in sel}, per)
    lost = dict((int(m["client_id"]), v) for m, v in
                query(base, "xtel_client_lost_datagrams_total"))
    check("xtel_client_lost_datagrams_total = loadgen injected_loss",
          {i: float(lg[i]["injected_loss"]) for i in sel}, lost)
    dup = dict((int(m["client_id"]), v) for m, v in
               query(base, "xtel_client_duplicate_datagrams_total"))
    check("xtel_client_duplicate_datagrams_total = loadgen injected_dup",
          {i: float(lg[i]["injected_dup"]) for i in sel}, dup)
    cid = sel[0]
    check(f'xtel_client_metric{{client_id="{cid}",metric="id"}} = {cid}', float(cid),
          scalar(base, f'xtel_client_metric{{client_id="{cid}",metric="id"}}'))
    check(f"xtel_client_latency_seconds_count of {cid} = received - duplicates",
          float(lg[cid]["sent"] - lg[cid]["injected_dup"]),
          scalar(base, f'xtel_client_latency_seconds_count{{client_id="{cid}"}}'))
    q99 = scalar(base, f'xtel_client_latency_seconds{{client_id="{cid}",quantile="0.99"}}')
    check("xtel_client_latency_seconds p99 is a latency (0..1 s)", True,
          q99 is not None and 0 < q99 < 1)
    scrapes = scalar(base, 'xtel_api_requests_total{endpoint="metrics",code="200"}')
    # a scrape is counted once it is answered: the first one sees none
    check("xtel_api_requests_total counts the scrapes", True,
          scrapes is not None and scrapes >= 1)
    series = scalar(base, "xtel_metrics_omitted_series_total")
    check("xtel_metrics_omitted_series_total grows with the scrapes", True,
          series is not None and series > 0)


if __name__ == "__main__":
    main()
