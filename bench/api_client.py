#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The HTTP client of the API measurements (bench/xtelbench/api.py), run in
the collector's namespace against its API on loopback.

  api_client.py hammer URL RATE SECS OUT.json
      RATE requests/s for SECS seconds over 2 keep-alive connections, a mix
      of endpoints (get, clients page, client, list, totals, aggregate of
      one client, and /metrics once a second as Prometheus would), paced
      against the clock (a late request is made up, never bursts beyond).
  api_client.py latency URL CLIENTS FIRST_ID OUT.json
      each endpoint N times in turn on one keep-alive connection: client
      side wall time p50/p99/max and the reply's size.

Every loop is bounded in count and time.
"""
import http.client
import json
import random
import sys
import time
import urllib.parse


def connect(url):
    u = urllib.parse.urlsplit(url)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=30)


def fetch(c, path):
    c.request("GET", path)
    r = c.getresponse()
    body = r.read()
    return r.status, len(body)


def pct(xs, q):
    if not xs:
        return None
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def hammer(url, rate, secs, out):
    conns = [connect(url), connect(url)]
    rng = random.Random(1)
    mix = (["/api/v1/get?client_id=%d&metric=temp"] * 4 +
           ["/api/v1/clients?limit=20"] * 2 + ["/api/v1/clients/%d"] * 2 +
           ["/api/v1/totals", "/api/v1/aggregate?client_id=%d"])
    n = int(rate * secs)
    t0 = time.monotonic()
    codes, lat, errors, metrics_at = {}, [], 0, t0
    for i in range(n):
        due = t0 + i / rate
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
        if now - t0 > secs + 5:
            break
        if now >= metrics_at:
            path = "/metrics"
            metrics_at += 1.0
        else:
            p = rng.choice(mix)
            path = p % rng.randrange(1, 1001) if "%d" in p else p
        c = conns[i % 2]
        t = time.monotonic()
        try:
            st, _ = fetch(c, path)
        except (OSError, http.client.HTTPException):
            errors += 1
            conns[i % 2] = c = connect(url)
            continue
        lat.append(time.monotonic() - t)
        codes[st] = codes.get(st, 0) + 1
    el = time.monotonic() - t0
    json.dump({"requests": len(lat), "errors": errors, "elapsed_s": el,
               "achieved_rps": len(lat) / el if el else 0, "codes": codes,
               "p50_ms": pct(lat, 0.5) * 1e3 if lat else None,
               "p99_ms": pct(lat, 0.99) * 1e3 if lat else None}, open(out, "w"))


def latency(url, clients, first_id, out):
    rng = random.Random(2)
    ids = lambda: rng.randrange(first_id, first_id + clients)
    plan = [("get", lambda: "/api/v1/get?client_id=%d&metric=temp" % ids(), 300),
            ("client", lambda: "/api/v1/clients/%d" % ids(), 300),
            ("clients page of 100", lambda: "/api/v1/clients?limit=100", 100),
            ("clients by loss, 100", lambda: "/api/v1/clients?sort=loss&limit=100", 20),
            ("list", lambda: "/api/v1/list?metric=temp", 10),
            ("aggregate one client", lambda: "/api/v1/aggregate?client_id=%d" % ids(), 300),
            ("aggregate window 5 s", lambda: "/api/v1/aggregate?window=5", 5),
            ("aggregate", lambda: "/api/v1/aggregate", 5),
            ("totals", lambda: "/api/v1/totals", 100),
            ("metrics", lambda: "/metrics", 20),
            ("telemetry_get", lambda: "/telemetry/get?switch_id=%d&metric=temp" % ids(), 300),
            ("healthz", lambda: "/healthz", 300)]
    c = connect(url)
    res = []
    deadline = time.monotonic() + 240
    for name, path, n in plan:
        lat, size, codes = [], 0, {}
        for _ in range(n):
            if time.monotonic() > deadline:
                break
            t = time.monotonic()
            st, size = fetch(c, path())
            lat.append(time.monotonic() - t)
            codes[st] = codes.get(st, 0) + 1
        res.append({"endpoint": name, "n": len(lat), "codes": codes, "bytes": size,
                    "p50_ms": pct(lat, 0.5) * 1e3, "p99_ms": pct(lat, 0.99) * 1e3,
                    "max_ms": max(lat) * 1e3})
    json.dump(res, open(out, "w"))


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "hammer":
        hammer(sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), sys.argv[5])
    else:
        latency(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
