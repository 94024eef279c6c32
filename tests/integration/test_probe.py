#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""integration tier: probe-server, probe and the collector on loopback.

 1. Three devices probe a server every 0.3 s, 4 times each, and send each
    result to a DTLS collector: every download is ok, the server sent
    exactly 12 objects, and the collector accounted exactly 4 DATA per
    device whose probe_* metrics are the ones the probe logged.
 2. Bad inputs, each counted under its kind while the probe keeps its
    schedule (every occurrence started, none skipped):
    server down (connect_refused), a client certificate from a rogue CA
    (tls_handshake; the server counts the refused handshakes), a wrong CA
    for the server (tls_verify), a throttle too slow for the timeout
    (timeout), every second object truncated (short_body), TLS 1.2 to a
    --tls-min 1.3 server (tls_handshake; 1.2 to the others works), and a
    size above the server's --max-size (http_status); the results of the
    timeout and truncation runs reach the collector under their kinds.
 3. Exit codes: --help 0, a bad flag 2, missing certificates 5 (both
    programs), a port in use 3 (server).
 4. The collector's history (--db) of those results: probe-report --db
    and, from a collector serving the file, /api/v1/probes/summary,
    /analysis and /series count exactly each device's downloads, ok ones
    and timeouts, and the good devices' mean speeds are the probe's (to
    the payload's 3 decimals); bad parameters are 400s.
 5. docs/API.md's probe examples against a collector serving the example
    history (tests/unit/test_probe_history FILE): each answers its status,
    and a reply shown without "..." is the reply, field for field.

Loopback ports 19600-19609 (override the base with XTEL_PROBE_PORT_BASE).

usage: test_probe.py SOURCE_ROOT PROBE_SERVER PROBE COLLECTOR PROBE_REPORT HISTORY_FIXTURE
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

top, server_exe, probe_exe, collector_exe, report_exe, fixture_exe = sys.argv[1:7]
base = int(os.environ.get("XTEL_PROBE_PORT_BASE", "19600"))
work = tempfile.mkdtemp(prefix="xtel-probe-test.")
certs = os.path.join(work, "certs")
db = os.path.join(work, "history.db")
procs = []
passes = fails = 0
good_rep = {}


def ok(what):
    global passes
    passes += 1
    print("ok   " + what)


def fail(what):
    global fails
    fails += 1
    print("FAIL " + what)


def check_eq(what, want, got):
    if want == got:
        ok(f"{what} ({got})")
    else:
        fail(f"{what}: expected {want!r}, got {got!r}")


def start(name, argv, ready):
    """Starts argv with stderr in work/name.err; waits for the line ready."""
    err = open(os.path.join(work, name + ".err"), "w")
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err)
    procs.append(p)
    # Up to 15 s: a loaded CI machine can take seconds to start a program.
    for _ in range(300):
        with open(err.name) as f:
            if ready in f.read():
                return p
        if p.poll() is not None:
            break
        time.sleep(0.05)
    with open(err.name) as f:
        sys.exit(f"{name} did not start:\n{f.read()}")


def stop(p):
    p.send_signal(signal.SIGTERM)
    return p.wait(timeout=20)


def server(name, port, *extra):
    return start(name, [server_exe, "--listen", f"127.0.0.1:{port}",
                        "--cert", f"{certs}/server.crt", "--key", f"{certs}/server.key",
                        "--ca", f"{certs}/ca.crt",
                        "--summary-json", os.path.join(work, name + ".json"), *extra],
                 "listening on")


def probe(name, port, *extra, certs_dir=None):
    """Runs the probe; returns (exit code, report, log lines)."""
    rep = os.path.join(work, name + ".json")
    log = os.path.join(work, name + ".jsonl")
    argv = [probe_exe, "--server", f"https://127.0.0.1:{port}",
            "--certs", certs_dir or certs, "--quiet",
            "--report-json", rep, "--log", log, *extra]
    with open(os.path.join(work, name + ".out"), "w") as out:
        rc = subprocess.call(argv, stdout=out, stderr=subprocess.STDOUT, timeout=60)
    report = json.load(open(rep)) if os.path.exists(rep) and os.path.getsize(rep) else {}
    lines = [json.loads(x) for x in open(log)] if os.path.exists(log) else []
    return rc, report, lines


def kinds_of(report):
    return {k: v for k, v in report.get("kinds", {}).items() if v}


def schedule_kept(what, report, n):
    """Every occurrence started and none skipped: a failure did not delay the
    next probe. (late_start, a start over 100 ms after its time, is printed,
    not asserted: a loaded CI machine can stall any process that long.)"""
    c = report.get("counters", {})
    check_eq(f"{what}: every occurrence started", n, c.get("started"))
    check_eq(f"{what}: none skipped (late starts: {c.get('late_start')})", 0,
             c.get("skipped_busy"))


def main():
    gen = subprocess.run([f"{top}/certs/gen.sh", certs, "6"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if gen.returncode:
        sys.exit("certs/gen.sh failed: " + gen.stderr)
    col_port, srv, slow, cut = base + 1, base, base + 2, base + 3
    down = base + 9
    col = start("collector", [collector_exe, "--no-xdp", "--bind", "127.0.0.1",
                              "--port", str(col_port), "--workers", "1", "--quiet",
                              "--cert", f"{certs}/server.crt", "--key", f"{certs}/server.key",
                              "--ca", f"{certs}/ca.crt",
                              "--summary-json", os.path.join(work, "collector.json"),
                              "--db", db],
                " mode, ")
    a = server("server", srv)
    b = server("slow", slow, "--throttle", "0.1", "--tls-min", "1.3")
    c = server("cut", cut, "--truncate-every", "2", "--max-size", "1048576")

    # ---- 1. good downloads, results to the collector ----
    global good_rep
    rc, rep, log = probe("good", srv, "--devices", "3", "--interval", "0.3",
                         "--count", "4", "--size", "65536",
                         "--collector", f"127.0.0.1:{col_port}")
    check_eq("good: exit code", 0, rc)
    check_eq("good: kinds", {"ok": 12}, kinds_of(rep))
    schedule_kept("good", rep, 12)
    check_eq("good: results sent", 12, rep.get("counters", {}).get("results_sent"))
    check_eq("good: log lines", 12, len(log))
    check_eq("good: every body complete", {65536}, {x["bytes"] for x in log})
    check_eq("good: fleet summary", (12, 12, 0),
             tuple(rep["fleet"][k] for k in ("downloads", "ok", "failed")))
    check_eq("good: per device", [(d, 4) for d in (1, 2, 3)],
             [(d["device"], d["ok"]) for d in rep["per_device"]])
    log_speed = {d: [x["bits_per_second"] / 1e6 for x in log if x["device"] == d]
                 for d in (1, 2, 3)}
    good_rep = rep
    one = os.path.join(work, "good-device2.json")
    rc = subprocess.call([report_exe, "--log", os.path.join(work, "good.jsonl"),
                          "--device", "2", "--json", one],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    dev2 = json.load(open(one)).get("summary", {}) if rc == 0 else {}
    check_eq("probe-report --log --device 2: its downloads and mean speed as the probe's",
             (4, round(rep["per_device"][1]["speed_mbps"]["mean"], 3)),
             (dev2.get("downloads"), round(dev2.get("speed_mbps", {}).get("mean", 0), 3)))
    check_eq("probe-report with no sample in the range: exit 4", 4, subprocess.call(
        [report_exe, "--log", os.path.join(work, "good.jsonl"), "--device", "9",
         "--json", one], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

    # ---- 2. bad inputs ----
    rc, rep, _ = probe("down", down, "--count", "3", "--interval", "0.2")
    check_eq("server down: exit code", 0, rc)
    check_eq("server down: kinds", {"connect_refused": 3}, kinds_of(rep))
    schedule_kept("server down", rep, 3)

    rogue = os.path.join(work, "rogue")
    os.makedirs(rogue)
    shutil.copy(f"{certs}/ca.crt", rogue)
    shutil.copy(f"{certs}/bad/client-1-rogue.crt", f"{rogue}/client-1.crt")
    shutil.copy(f"{certs}/bad/client-1-rogue.key", f"{rogue}/client-1.key")
    rc, rep, _ = probe("rogue", srv, "--count", "3", "--interval", "0.2", certs_dir=rogue)
    check_eq("rogue client certificate: kinds", {"tls_handshake": 3}, kinds_of(rep))
    schedule_kept("rogue client certificate", rep, 3)

    rc, rep, _ = probe("wrongca", srv, "--count", "3", "--interval", "0.2",
                       "--server-ca", f"{certs}/bad/rogue-ca.crt")
    check_eq("wrong CA: kinds", {"tls_verify": 3}, kinds_of(rep))
    schedule_kept("wrong CA", rep, 3)

    rc, rep, _ = probe("timeout", slow, "--first-id", "4", "--count", "3",
                       "--interval", "0.8", "--timeout", "0.5", "--size", "1048576",
                       "--collector", f"127.0.0.1:{col_port}")
    check_eq("timeout: kinds", {"timeout": 3}, kinds_of(rep))
    schedule_kept("timeout", rep, 3)

    rc, rep, log = probe("truncated", cut, "--first-id", "5", "--count", "4",
                         "--interval", "0.2", "--size", "65536",
                         "--collector", f"127.0.0.1:{col_port}")
    check_eq("truncated: kinds", {"ok": 2, "short_body": 2}, kinds_of(rep))
    check_eq("truncated: bytes of the cut objects", [32768, 32768],
             [x["bytes"] for x in log if x["kind"] == "short_body"])
    schedule_kept("truncated", rep, 4)

    rc, rep, _ = probe("tls12", srv, "--count", "2", "--interval", "0.2", "--tls", "1.2")
    check_eq("TLS 1.2: kinds", {"ok": 2}, kinds_of(rep))
    rc, rep, _ = probe("tls12-refused", slow, "--count", "2", "--interval", "0.2",
                       "--tls", "1.2")
    check_eq("TLS 1.2 to a --tls-min 1.3 server: kinds", {"tls_handshake": 2},
             kinds_of(rep))

    rc, rep, log = probe("status", cut, "--first-id", "6", "--count", "2",
                         "--interval", "0.2", "--size", "2000000")
    check_eq("too large: kinds", {"http_status": 2}, kinds_of(rep))
    check_eq("too large: status", [416, 416], [x["http_status"] for x in log])

    # ---- 3. exit codes ----
    check_eq("probe --help", 0, subprocess.call([probe_exe, "--help"],
                                                 stdout=subprocess.DEVNULL))
    check_eq("probe bad flag", 2, subprocess.call(
        [probe_exe, "--server", "http://x:1", "--certs", certs],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    check_eq("probe missing certificates", 5, subprocess.call(
        [probe_exe, "--server", f"https://127.0.0.1:{srv}", "--certs", certs,
         "--first-id", "7"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    check_eq("probe-server --help", 0, subprocess.call([server_exe, "--help"],
                                                        stdout=subprocess.DEVNULL))
    check_eq("probe-server missing key", 5, subprocess.call(
        [server_exe, "--listen", f"127.0.0.1:{base + 8}", "--cert", f"{certs}/server.crt",
         "--key", f"{work}/nope.key", "--ca", f"{certs}/ca.crt"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    check_eq("probe-server port in use", 3, subprocess.call(
        [server_exe, "--listen", f"127.0.0.1:{srv}", "--cert", f"{certs}/server.crt",
         "--key", f"{certs}/server.key", "--ca", f"{certs}/ca.crt"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

    # ---- what the servers and the collector counted ----
    for p, name in ((a, "server"), (b, "slow"), (c, "cut")):
        check_eq(f"{name}: clean exit on SIGTERM", 0, stop(p))
    sa = json.load(open(os.path.join(work, "server.json")))["counters"]
    check_eq("server: objects sent, handshakes refused",
             (14, 6, 0), (sa["objects_ok"], sa["tls_failed"], sa["objects_aborted"]))
    sc = json.load(open(os.path.join(work, "cut.json")))["counters"]
    check_eq("cut server: ok, truncated, refused",
             (2, 2, 2), (sc["objects_ok"], sc["objects_truncated"], sc["bad_requests"]))
    check_eq("collector: clean exit", 0, stop(col))
    cj = json.load(open(os.path.join(work, "collector.json")))
    clients = {c["client_id"]: c for c in cj["clients"]}
    for d in (1, 2, 3):
        m = clients[d]["metrics"]
        check_eq(f"collector: device {d} DATA and ok results",
                 (4, 4, 1.0), (clients[d]["by_type"]["DATA"], m["probe_ok"]["count"],
                               m["probe_ok"]["min"]))
        check_eq(f"collector: device {d} speeds as logged",
                 round(max(log_speed[d]), 3), round(m["probe_speed_mbps"]["max"], 3))
    m4, m5 = clients[4]["metrics"], clients[5]["metrics"]
    check_eq("collector: device 4 results are timeouts", (3, 5.0, 0.0),
             (m4["probe_kind"]["count"], m4["probe_kind"]["min"], m4["probe_ok"]["max"]))
    check_eq("collector: device 5 half ok", (4, 0.5),
             (m5["probe_ok"]["count"], m5["probe_ok"]["mean"]))
    check_eq("collector: no drops", 0, cj["dropped_total"])
    history_checks(good_rep, col_port)
    docs_examples(col_port)


def api(port, path):
    """GET path: (status, JSON body)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


def history_checks(good_rep, col_port):
    """The stored history, through probe-report --db and the API."""
    want = {1: (4, 4), 2: (4, 4), 3: (4, 4), 4: (3, 0), 5: (4, 2)}
    out = os.path.join(work, "report")
    rc = subprocess.call([report_exe, "--db", db, "--json", out + ".json", "--out", out],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    check_eq("probe-report --db: exit code", 0, rc)
    a = json.load(open(out + ".json"))
    check_eq("probe-report --db: fleet downloads, ok, failed, timeouts",
             (19, 14, 5, 3), (a["summary"]["downloads"], a["summary"]["ok"],
                              a["summary"]["failed"], a["summary"]["kinds"]["timeout"]))
    check_eq("probe-report --db: markdown and graphs", True,
             os.path.getsize(os.path.join(out, "report.md")) > 0 and
             os.path.exists(os.path.join(out, "probe-speed.png")))
    http = base + 5
    col = start("collector-api", [collector_exe, "--no-xdp", "--bind", "127.0.0.1",
                                  "--port", str(col_port), "--workers", "1", "--quiet",
                                  "--cert", f"{certs}/server.crt", "--key", f"{certs}/server.key",
                                  "--ca", f"{certs}/ca.crt", "--db", db,
                                  "--http", f"127.0.0.1:{http}"], " mode, ")
    st, s = api(http, "/api/v1/probes/summary?from=0")
    check_eq("API summary: status", 200, st)
    devs = {d["device"]: d for d in s.get("devices", [])}
    check_eq("API summary: downloads and ok per device", want,
             {d: (v["downloads"], v["ok"]) for d, v in devs.items()})
    check_eq("API summary: device 4's failures are timeouts", 3,
             devs.get(4, {}).get("kinds", {}).get("timeout"))
    good = {d["device"]: d["speed_mbps"]["mean"] for d in good_rep["per_device"]}
    check_eq("API summary: devices 1-3 mean speed as the probe measured (3 decimals)",
             True, all(abs(devs[d]["speed_mbps"]["mean"] - good[d]) < 0.0015
                       for d in (1, 2, 3)))
    st, an = api(http, "/api/v1/probes/analysis?from=0&device=4")
    check_eq("API analysis of device 4: downloads, timeouts",
             (200, 3, 3), (st, an["summary"]["downloads"], an["summary"]["kinds"]["timeout"]))
    check_eq("API analysis: 24 hours and the config", (24, 0.5),
             (len(an["hours"]), an["config"]["congested_frac"]))
    st, se = api(http, "/api/v1/probes/series?from=0&device=5")
    check_eq("API series of device 5: downloads in its buckets", (200, 4),
             (st, sum(p["downloads"] for p in se["points"])))
    st, e = api(http, "/api/v1/probes/series?from=0")
    check_eq("API series without device: 400 naming it", (400, "device"),
             (st, e["error"]["param"]))
    st, e = api(http, "/api/v1/probes/analysis?congested_frac=2")
    check_eq("API analysis with a bad fraction: 400", (400, "congested_frac"),
             (st, e["error"]["param"]))
    st, e = api(http, "/api/v1/probes/summary?device=1")
    check_eq("API summary refuses an unknown parameter", 400, st)
    check_eq("collector with the API: clean exit", 0, stop(col))


def docs_examples(col_port):
    """Every 'curl ...  # probes -> STATUS' line of docs/API.md."""
    ex = os.path.join(work, "example.db")
    subprocess.run([fixture_exe, ex], check=True, stdout=subprocess.DEVNULL)
    http = base + 6
    col = start("collector-docs", [collector_exe, "--no-xdp", "--bind", "127.0.0.1",
                                   "--port", str(col_port), "--workers", "1", "--quiet",
                                   "--cert", f"{certs}/server.crt", "--key", f"{certs}/server.key",
                                   "--ca", f"{certs}/ca.crt", "--db", ex,
                                   "--http", f"127.0.0.1:{http}"], " mode, ")
    lines = open(os.path.join(top, "docs", "API.md")).read().splitlines()
    n = 0
    for i, line in enumerate(lines):
        m = re.match(r"^curl -s 'http://127\.0\.0\.1:9477([^']*)'\s+# probes -> (\d{3})$", line)
        if not m:
            continue
        n += 1
        st, body = api(http, m.group(1))
        check_eq(f"docs example {m.group(1)}: status", int(m.group(2)), st)
        # The reply shown after it, when it is shown whole.
        if i + 3 < len(lines) and lines[i + 1] == "```" and lines[i + 2] == "```json" \
                and "..." not in lines[i + 3]:
            body.pop("snapshot", None)
            check_eq(f"docs example {m.group(1)}: the reply shown", json.loads(lines[i + 3]), body)
    check_eq("docs: probe examples found", True, n >= 5)
    check_eq("collector for the docs: clean exit", 0, stop(col))


try:
    main()
finally:
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait()
    if fails == 0:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print("kept " + work)
print(f"{passes} passed, {fails} failed")
sys.exit(1 if fails else 0)
