#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks of GET /api/v1/stream (docs/API.md, "Stream") for test_dashboard.sh.

Every check prints "ok   what" or "FAIL what: expected X, got Y".

usage: stream_checks.py PHASE URL [ARGS]
  table URL SECONDS OUT   read the stream for SECONDS; rebuild the client table
                          from its full and delta events; write it (JSON) to OUT
  exact URL TABLE REPORT  the rebuilt table equals the load generator's report
                          exactly, and equals /api/v1/clients
  cap URL N               N streams open, one more is 503 too_many_streams,
                          counted in /api/v1/stats and /metrics
  slow URL SECONDS        a reader that never reads: its events are dropped and
                          counted, then a full table is sent again (resync)
  auth URL TOKEN          with tokens: the stream is 401 without, 200 with
                          ?token= and with the header
"""
import json
import os
import socket
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))  # tests/lib
import checks  # noqa: E402
from checks import check  # noqa: E402


def get(url, headers=None):
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def events(url, seconds, headers=None):
    """(status, content-type, [event dicts]) of reading the stream for seconds."""
    u = urllib.parse.urlsplit(url)
    s = socket.create_connection((u.hostname, u.port), timeout=seconds + 5)
    path = u.path + ("?" + u.query if u.query else "")
    hdr = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: {u.netloc}\r\n{hdr}\r\n".encode())
    buf = b""
    end = time.monotonic() + seconds
    s.settimeout(0.2)
    while time.monotonic() < end:
        try:
            d = s.recv(1 << 20)
        except socket.timeout:
            continue
        if not d:
            break
        buf += d
    s.close()
    head, _, body = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1]) if lines and lines[0] else 0
    ctype = next((l.split(":", 1)[1].strip() for l in lines[1:]
                  if l.lower().startswith("content-type:")), None)
    # undo the chunked encoding
    data = b""
    while body:
        n, _, rest = body.partition(b"\r\n")
        try:
            size = int(n, 16)
        except ValueError:
            break
        if size == 0 or len(rest) < size:
            data += rest[:size]
            break
        data += rest[:size]
        body = rest[size + 2:]
    evs = []
    for block in data.decode().split("\n\n"):
        ev = {}
        for line in block.split("\n"):
            k, _, v = line.partition(": ")
            if k in ("id", "event", "data", "retry"):
                ev[k] = v
        if "data" in ev:
            ev["json"] = json.loads(ev["data"])
            evs.append(ev)
        elif "retry" in ev:
            evs.append(ev)
    return status, ctype, evs


def phase_table(url, seconds, out):
    st, ctype, evs = events(url + "/api/v1/stream", float(seconds))
    check("stream: 200", 200, st)
    check("stream: Content-Type text/event-stream", "text/event-stream", ctype)
    check("stream: the first event sets the reconnect delay", "2000",
          evs[0].get("retry") if evs else None)
    data = [e for e in evs if "json" in e]
    check("stream: events named interval, id = the view's seq", True,
          all(e["event"] == "interval" and int(e["id"]) == e["json"]["seq"] for e in data))
    check("stream: the first event is the full table", True, bool(data) and data[0]["json"]["full"])
    seqs = [e["json"]["seq"] for e in data]
    check("stream: one event per view, in order, none missing", list(range(seqs[0], seqs[0] + len(seqs))) if seqs else [], seqs)
    table = {}
    for e in data:
        j = e["json"]
        if j["full"]:
            table = {}
        cols = j["cols"]
        check_n = len(j["rows"]) == j["n_rows"]
        if not check_n:
            check(f"stream: event {j['seq']} n_rows = its rows", j["n_rows"], len(j["rows"]))
        for r in j["rows"]:
            row = dict(zip(cols, r))
            table[row["client_id"]] = row
    deltas = [e["json"] for e in data[1:]]
    check("stream: later events carry only changed rows (some carry none)", True,
          any(d["n_rows"] == 0 for d in deltas) if deltas else False)
    json.dump({"table": table, "last": data[-1]["json"]["totals"] if data else None},
              open(out, "w"))
    print(f"{len(data)} events, {len(table)} clients")


def expect(r):
    return {"received": r["sent"], "lost": r["injected_loss"],
            "duplicates": r["injected_dup"],
            "reordered": r["reorder_held"] - r["reorder_in_order"], "bytes": r["bytes"],
            "pending": 0}  # after BYE every gap is confirmed


def phase_exact(url, table_path, report_path):
    rep = json.load(open(report_path))
    got = json.load(open(table_path))
    table = {int(k): v for k, v in got["table"].items()}
    keys = ("received", "lost", "duplicates", "reordered", "bytes", "pending")
    want = {c["client_id"]: expect(c) for c in rep["clients"]}
    check("stream table: the load generator's clients", sorted(want), sorted(table))
    check("stream table: every client's counts = loadgen", want,
          {i: {k: table[i][k] for k in keys} for i in table})
    check("stream table: every client said BYE", ["bye"] * len(table),
          [table[i]["state"] for i in sorted(table)])
    t = expect(rep["totals"])
    check("stream totals = loadgen totals", {k: t[k] for k in keys},
          {k: got["last"][k] for k in keys})
    st, _, body = get(url + "/api/v1/clients?limit=10000")
    api = {c["client_id"]: {k: c[k] for k in keys} for c in json.loads(body)["clients"]}
    check("stream table = /api/v1/clients", api,
          {i: {k: table[i][k] for k in keys} for i in table})


def stream_stats(url):
    _, _, b = get(url + "/api/v1/stats")
    return json.loads(b)


def prom(url, name):
    _, _, b = get(url + "/metrics")
    for line in b.decode().splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return None


def phase_cap(url, n):
    n = int(n)
    u = urllib.parse.urlsplit(url)
    socks = []
    for _ in range(n):
        s = socket.create_connection((u.hostname, u.port), timeout=5)
        s.sendall(f"GET /api/v1/stream?rows=none HTTP/1.1\r\nHost: {u.netloc}\r\n\r\n".encode())
        s.recv(4096)        # the headers: the stream is open
        socks.append(s)
    check(f"cap: {n} streams open", n, stream_stats(url)["streams"]["open"])
    st, hdrs, body = get(url + "/api/v1/stream")
    err = json.loads(body).get("error", {})
    check("cap: one more is 503 too_many_streams with Retry-After",
          (503, "too_many_streams", "5"), (st, err.get("code"), hdrs.get("Retry-After")))
    s = stream_stats(url)
    check("cap: counted as refused.streams", 1, s["refused"]["streams"])
    check("cap: /metrics xtel_api_refused_requests_total{reason=\"streams\"}", 1.0,
          prom(url, 'xtel_api_refused_requests_total{reason="streams"}'))
    check("cap: /metrics xtel_api_streams", float(n), prom(url, "xtel_api_streams"))
    for s in socks:
        s.close()
    # a closed stream is noticed at its next event
    time.sleep(1.5)
    check("cap: closed streams are released", 0, stream_stats(url)["streams"]["open"])


def phase_slow(url, seconds):
    u = urllib.parse.urlsplit(url)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect((u.hostname, u.port))
    s.sendall(f"GET /api/v1/stream HTTP/1.1\r\nHost: {u.netloc}\r\n\r\n".encode())
    before = stream_stats(url)["streams"]
    time.sleep(float(seconds))      # read nothing
    mid = stream_stats(url)["streams"]
    check("slow reader: events dropped and counted", True, mid["dropped"] > before["dropped"])
    check("slow reader: a full table is due again (resyncs counted)", True,
          mid["resyncs"] > before["resyncs"])
    check("slow reader: /metrics xtel_api_stream_dropped_events_total = stats",
          True, prom(url, "xtel_api_stream_dropped_events_total") >= mid["dropped"])
    # now read: the bytes are whole events, and a full table follows the drop
    s.settimeout(0.5)
    buf = b""
    end = time.monotonic() + 4
    while time.monotonic() < end:
        try:
            d = s.recv(1 << 20)
        except socket.timeout:
            if b'"full":true' in buf.split(b"\r\n\r\n", 1)[-1][200:]:
                break
            continue
        if not d:
            break
        buf += d
    s.close()
    fulls = buf.count(b'"full":true')
    check("slow reader: after the drop, a full table again", True, fulls >= 2)


def phase_auth(url, token):
    st, _, _ = get(url + "/api/v1/stream")
    check("auth: the stream without a token is 401", 401, st)
    st, _, evs = events(url + "/api/v1/stream?token=nope", 0.5)
    check("auth: with a wrong ?token= 401", 401, st)
    st, _, evs = events(url + "/api/v1/stream?token=" + urllib.parse.quote(token), 1.5)
    check("auth: with ?token= 200 and events", (200, True), (st, len(evs) > 1))
    st, _, evs = events(url + "/api/v1/stream", 1.5, {"Authorization": "Bearer " + token})
    check("auth: with the Authorization header 200 and events", (200, True), (st, len(evs) > 1))
    st, _, _ = get(url + "/api/v1/totals?token=" + urllib.parse.quote(token))
    check("auth: ?token= is the stream's only: /api/v1/totals without the header is 401", 401, st)
    st, hdrs, body = get(url + "/")
    check("auth: the page itself is open (it holds no data)", 200, st)


def main():
    phase, url, *args = sys.argv[1:]
    {"table": phase_table, "exact": phase_exact, "cap": phase_cap,
     "slow": phase_slow, "auth": phase_auth}[phase](url, *args)
    sys.exit(1 if checks.fails else 0)


if __name__ == "__main__":
    main()
