#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""unit: the capacity section's pure parts (bench/xtelbench/capacity.py,
capreport.py): the callgrind dump reader (self cost per function, call
lines' inclusive costs left out, compressed positions), the per-receiver
figures of the section (medians of rounds, ratios to the baselines of the
same client count, callgrind rows apart) and how a client count is split
over loadgen processes (consecutive ids, every client once), and that
only the current loadgen's log says its handshakes are done.

usage: test_bench_capacity.py [SOURCE_ROOT]   (no privileges needed)
"""
import os
import sys
import tempfile
import unittest
from unittest import mock

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = sys.argv.pop(1) if len(sys.argv) > 1 else os.path.join(HERE, "..", "..")
sys.path.insert(0, os.path.join(SRC, "bench"))
from xtelbench.capacity import (CHAIN_DELAY_S, LG_MAX_CLIENTS, _Senders, afxdp_ring,  # noqa: E402
                                callgrind_self_costs, keep_failed)
from xtelbench.capreport import capacity_groups  # noqa: E402
from xtelbench.scale import scale_groups, scale_markdown, scale_plan, with_orders  # noqa: E402
from xtelbench.abcol import _plan_dtls, ab_dtls_markdown, ab_markdown  # noqa: E402

# Two objects, three functions; main calls f twice (inclusive 700, which is
# f's own cost and must not count again), positions absolute, +N, -N, *.
DUMP = """# callgrind format
version: 1
positions: line
events: Ir
summary: 1000

ob=/usr/bin/prog
fl=/src/a.c
fn=main
10 100
+2 50
cob=/usr/bin/prog
cfi=/src/a.c
cfn=f
calls=2 30
* 700
-1 25
fn=f
30 300
+1 400
ob=/lib/libc.so.6
fl=???
fn=memcpy
0 125
"""


class CallgrindDump(unittest.TestCase):
    def test_self_costs(self):
        with tempfile.NamedTemporaryFile("w", suffix=".out", delete=False) as f:
            f.write(DUMP)
        try:
            costs = callgrind_self_costs(f.name)
        finally:
            os.unlink(f.name)
        self.assertEqual(costs, {("prog", "main"): 175, ("prog", "f"): 700,
                                 ("libc.so.6", "memcpy"): 125})
        self.assertEqual(sum(costs.values()), 1000)


def row(kind, mode, ns, clients=10, workers=1, cg=None, status="ok"):
    r = {"section": "capacity", "receiver": kind, "mode": mode, "path": kind,
         "clients": clients, "workers": workers, "status": status, "fill": 100,
         "sent": 102, "lost": 0, "received": 102, "drain_wall_pps": 1e6,
         "cpu_ns_per_dgram": ns, "callgrind": cg or False}
    return r


class Groups(unittest.TestCase):
    def test_medians_and_ratios(self):
        rows = [row("io_uring", "plain", 600), row("io_uring", "plain", 800),
                row("io_uring", "plain", 700),
                row("c", "plain", 1000), row("min", "plain", 500),
                row("io_uring", "plain", None, cg={"ir_per_dgram": 1200, "top": []}),
                row("io_uring", "plain", 900, clients=10000), row("c", "plain", 600, 10000),
                row("io_uring", "dtls", 1000, workers=2),
                {"section": "rate", "receiver": "c", "mode": "plain", "clients": 10}]
        g = {(x["receiver"], x["mode"], x["clients"], x["workers"]): x
             for x in capacity_groups(rows)}
        io = g[("io_uring", "plain", 10, 1)]
        self.assertEqual(io["ns"], 700)
        self.assertEqual((io["ns_min"], io["ns_max"]), (600, 800))
        self.assertEqual(len(io["ok"]), 3)
        self.assertAlmostEqual(io["vs_c"], 0.7)
        self.assertAlmostEqual(io["vs_min"], 1.4)
        self.assertAlmostEqual(io["per_core"], 1e9 / 700)
        self.assertEqual(io["cg"]["ir_per_dgram"], 1200)
        many = g[("io_uring", "plain", 10000, 1)]
        self.assertAlmostEqual(many["vs_c"], 1.5)	# against C with 10,000 clients
        self.assertIsNone(many["vs_min"])		# no minimal row there
        self.assertEqual(g[("io_uring", "dtls", 10, 2)]["ns"], 1000)
        self.assertEqual(list(g)[0], ("io_uring", "plain", 10, 1))


class FakeEnv:
    loadgen = "/bin/loadgen"
    col_ip = "198.18.0.1"
    certs = "/certs"
    ns_gen = "gen"


class Split(unittest.TestCase):
    def ids(self, clients):
        s = _Senders(FakeEnv(), "plain", clients, 8, "/tmp/r.json", "/tmp/l.log", delay=1.5)
        out = []
        for a in s.argvs:
            n = int(a[a.index("--clients") + 1])
            first = int(a[a.index("--first-id") + 1])
            self.assertLessEqual(n, LG_MAX_CLIENTS)
            self.assertEqual(a[a.index("--count") + 1], "8")
            self.assertEqual(a[a.index("--data-delay") + 1], "1.5")
            out.extend(range(first, first + n))
        return out, s

    def test_one_process(self):
        ids, s = self.ids(10)
        self.assertEqual(ids, list(range(1, 11)))
        self.assertEqual(s.reports, ["/tmp/r.json"])
        self.assertNotIn("--source", s.argvs[0])	# the route's address

    def test_many_processes(self):
        ids, s = self.ids(50001)
        self.assertEqual(ids, list(range(1, 50002)))
        self.assertEqual(len(s.argvs), 4)
        self.assertEqual(s.reports, ["/tmp/r.json.%d" % i for i in range(4)])
        # Each process from its own address of the AnyIP range.
        self.assertEqual([a[a.index("--source") + 1] for a in s.argvs],
                         ["198.18.1.%d" % i for i in range(1, 5)])


class Announced(unittest.TestCase):
    """Only what this row's loadgen wrote says its handshakes are done: a
    line left by an earlier attempt or an earlier run in a reused --out
    froze the receiver before the handshakes (every DTLS row: exit 4)."""

    def test_older_line_does_not_count(self):
        with tempfile.TemporaryDirectory() as d:
            log = os.path.join(d, "loadgen.log")
            with open(log, "w") as f:
                f.write("loadgen: handshakes done, DATA in 1.5 s\nexit code 0\n")
            s = _Senders(FakeEnv(), "dtls", 10, 8, os.path.join(d, "r.json"), log, delay=1.5)
            self.assertFalse(s.announced())
            with open(log, "a") as f:
                f.write("loadgen: handshakes done, DATA in 1.5 s\n")
            self.assertTrue(s.announced())

    def test_start_skips_earlier_lines(self):
        # A warm-up writes to the same log between construction and start().
        with tempfile.TemporaryDirectory() as d:
            log = os.path.join(d, "loadgen.log")
            s = _Senders(FakeEnv(), "dtls", 10, 8, os.path.join(d, "r.json"), log, delay=1.5)
            s.argvs = [["true"]]
            with open(log, "w") as f:
                f.write("loadgen: handshakes done, DATA in 1.5 s\n")
            s.start()
            s.procs[0].wait()
            self.assertFalse(s.announced())

    def test_failed_attempt_kept(self):
        with tempfile.TemporaryDirectory() as d:
            env = FakeEnv()
            env.raw = d
            for k in ("loadgen.log", "receiver.json"):
                with open(os.path.join(d, "501-x-" + k), "w") as f:
                    f.write(k)
            keep_failed(env, {"tag": "501-x"})
            self.assertEqual(sorted(os.listdir(d)),
                             ["501-x-loadgen.log.failed", "501-x-receiver.json.failed"])

    def test_dtls_one_process(self):
        s = _Senders(FakeEnv(), "dtls", LG_MAX_CLIENTS, 8, "/tmp/r.json", "/tmp/l.log",
                     delay=1.5)
        self.assertFalse(s.chain)
        self.assertEqual(s.argvs[0][s.argvs[0].index("--data-delay") + 1], "1.5")

    def test_interleaved(self):
        # --many-clients-order interleaved: a turn is one datagram per client
        # (loadgen --batch 1) in every process of the chain; bursts keep
        # loadgen's default batch.
        s = _Senders(FakeEnv(), "dtls", 2 * LG_MAX_CLIENTS + 1, 8, "/tmp/r.json",
                     "/tmp/l.log", delay=1.5, interleaved=True)
        self.assertEqual([a[a.index("--batch") + 1] for a in s.argvs], ["1"] * 3)
        s = _Senders(FakeEnv(), "dtls", 10, 8, "/tmp/r.json", "/tmp/l.log", delay=1.5)
        self.assertNotIn("--batch", s.argvs[0])

    def test_dtls_chain(self):
        # More DTLS clients than one process holds: each process starts
        # once the one before has its handshakes done, all wait for SIGUSR1
        # (the receiver is frozen only when every one is done).
        with tempfile.TemporaryDirectory() as d:
            log = os.path.join(d, "loadgen.log")
            s = _Senders(FakeEnv(), "dtls", 2 * LG_MAX_CLIENTS + 1, 8,
                         os.path.join(d, "r.json"), log, delay=1.5)
            self.assertTrue(s.chain)
            self.assertEqual(len(s.argvs), 3)
            self.assertEqual({a[a.index("--data-delay") + 1] for a in s.argvs},
                             {str(CHAIN_DELAY_S)})
            s.argvs = [["true"]] * 3
            s.start()
            self.assertEqual(len(s.procs), 1)
            self.assertFalse(s.announced())
            self.assertEqual(len(s.procs), 1)
            line = "loadgen: handshakes done, DATA in %d s or at SIGUSR1\n" % CHAIN_DELAY_S
            for started in (2, 3):
                with open(log, "a") as f:
                    f.write(line)
                self.assertFalse(s.announced())
                self.assertEqual(len(s.procs), started)
                self.assertFalse(s.announced())	# the same line starts no other
                self.assertEqual(len(s.procs), started)
            with open(log, "a") as f:
                f.write(line)
            self.assertTrue(s.announced())
            self.assertEqual(s.wait(timeout=10), 0)

    def test_new_log(self):
        with tempfile.TemporaryDirectory() as d:
            log = os.path.join(d, "loadgen.log")
            s = _Senders(FakeEnv(), "dtls", 10, 8, os.path.join(d, "r.json"), log, delay=1.5)
            with open(log, "w") as f:
                f.write("loadgen: handshakes done, DATA in 1.5 s\n")
            self.assertTrue(s.announced())



def srow(kind, mode, clients, ns, hwm, rx=None, status="ok"):
    return {"section": "scale", "receiver": kind, "mode": mode, "path": kind,
            "clients": clients, "status": status, "fill": 8 * clients, "sent": 10 * clients,
            "lost": 0, "cpu_ns_per_dgram": ns, "rx_cpu_ns_per_dgram": rx, "vmhwm_kb": hwm,
            "vmrss_kb": hwm}


class Scale(unittest.TestCase):
    """The many-clients rows: ratios to the same receiver's 10-client rows
    (their median), memory per client as the VmHWM increase per client."""

    def test_groups(self):
        rows = [srow("io_uring", "plain", 10, 600, 20000, 500),
                srow("io_uring", "plain", 10, 800, 20400, 700),
                srow("io_uring", "plain", 100000, 840, 20200 + 99990 * 2, 660),
                srow("noh", "plain", 10, 500, 18000),
                srow("noh", "plain", 100000, None, None, status="error"),
                srow("io_uring", "dtls", 10, 900, 23000),
                srow("io_uring", "dtls", 10000, 1800, 23000 + 9990 * 4),
                {"section": "capacity", "receiver": "io_uring", "mode": "plain",
                 "clients": 100000, "status": "ok", "cpu_ns_per_dgram": 1}]
        g = {(x["receiver"], x["mode"], x["clients"]): x for x in scale_groups(rows)}
        big = g[("io_uring", "plain", 100000)]
        self.assertAlmostEqual(big["vs_10"], 1.2)		# 840 / median(600, 800)
        self.assertAlmostEqual(big["rx_vs_10"], 1.1)		# 660 / 600
        self.assertAlmostEqual(big["per_client_b"], 2048.0)	# 2 kB more per client
        self.assertAlmostEqual(g[("io_uring", "dtls", 10000)]["per_client_b"], 4096.0)
        self.assertEqual(g[("noh", "plain", 100000)]["ok"], [])
        self.assertEqual(len(g), 6)				# the capacity row is not one
        md = scale_markdown(rows)
        self.assertIn("| io_uring | plain | 100,000 | 800,000 | 0 of 1,000,000 | 840 (840) "
                      "| 1.20x | 660 (1.10x) |", md)
        self.assertIn("| 2.00 KiB |", md)
        self.assertIn("| noh | plain | 100,000 | 800,000 | error:", md)

    def test_groups_by_order(self):
        # Interleaved DTLS rows are their own group, against the 10-client
        # rows of the same order.
        il = lambda r: dict(r, order="interleaved")
        rows = [srow("io_uring", "dtls", 10, 900, 23000),
                srow("io_uring", "dtls", 100000, 1800, 23000),
                il(srow("io_uring", "dtls", 10, 1000, 23000)),
                il(srow("io_uring", "dtls", 100000, 3000, 23000))]
        g = {(x["order"], x["clients"]): x for x in scale_groups(rows)}
        self.assertAlmostEqual(g[("bursts", 100000)]["vs_10"], 2.0)
        self.assertAlmostEqual(g[("interleaved", 100000)]["vs_10"], 3.0)
        self.assertIn("| io_uring, interleaved | dtls | 100,000 |", scale_markdown(rows))

    def test_dtls_memory_table(self):
        # bench_dtls_memory's figures ride on the first DTLS row.
        m = {"clients": 2000, "verify_cache": 65536, "server_session_b": 1815.3,
             "session_entry_b": 352, "own_rl_b": 128, "aead_ctx_b": 1161.8, "rest_b": 173.5,
             "server_session_flight_b": 2252.3, "half_open_b": 45560.5,
             "half_open_estimate_b": 45056.0, "client_idle_b": 61327.7,
             "client_session_b": 85383.6, "client_identity_b": 7098.8}
        rows = [srow("io_uring", "dtls", 10, 900, 23000),
                dict(srow("io_uring", "dtls", 10000, 1800, 23000 + 9990 * 4), dtls_mem=m)]
        md = scale_markdown(rows)
        self.assertIn("in memory, 2,000 sessions, verify cache 65,536 entries", md)
        self.assertIn("| server: one established session | 1,815 |\n", md)
        self.assertIn("| - its share of OpenSSL's AEAD decrypt contexts (one per session) "
                      "| 1,162 |\n", md)
        md = scale_markdown([rows[0], dict(rows[1], dtls_mem=dict(m, aead_slots=64,
                                                                  aead_ctx_b=37.2))])
        self.assertIn("| - its share of OpenSSL's AEAD decrypt contexts (64 per worker) "
                      "| 37 |\n", md)
        self.assertIn("| loadgen: one client session, idle after its handshake | 61,328 |\n", md)
        self.assertNotIn("DTLS memory by component", scale_markdown(rows[:1]))

    def test_ab_dtls_markdown(self):
        # --ab-dtls: every run of each build, the ratio of the medians.
        run = lambda v: {"value": v, "status": "ok" if v else "error"}
        ab = {"new": "/b/new", "old": "/b/old", "rounds": 2, "rows": [
            {"what": "drain", "clients": 10,
             "runs": {"old": [run(900.0), run(1000.0)], "new": [run(990.0), run(1100.0)]}},
            {"what": "callgrind", "clients": 10,
             "runs": {"old": [run(3600.0)], "new": [run(3654.0)]}},
            {"what": "drain", "clients": 100000,
             "runs": {"old": [run(None)], "new": [run(1800.0)]}}]}
        md = ab_dtls_markdown(ab)
        self.assertIn("| CPU ns per record | 10 | 900 / 1,000 | 990 / 1,100 | 1.10x |\n", md)
        self.assertIn("| Ir per record (callgrind) | 10 | 3,600 | 3,654 | 1.01x |\n", md)
        self.assertIn("| CPU ns per record | 100,000 | - | 1,800 | - |\n", md)
        self.assertEqual(ab_dtls_markdown(None), "")
        self.assertNotIn("interleaved", md)
        for r in ab["rows"]:
            r["order"] = "interleaved"
        self.assertIn("| Ir per record (callgrind), interleaved | 10 | 3,600 | 3,654 | 1.01x |\n",
                      ab_dtls_markdown(ab))

    def test_ab_plain_markdown(self):
        # --ab-plain: whole process and receive threads, each a ratio of
        # the medians, and the peak memory of every run.
        run = lambda v, rx, kb: {"value": v, "rx": rx, "vmhwm_kb": kb, "status": "ok"}
        ab = {"mode": "plain", "new": "/b/new", "old": "/b/old", "rounds": 2, "rows": [
            {"what": "drain", "kind": "noh", "clients": 100000, "order": "interleaved",
             "runs": {"old": [run(1200.0, 1100.0, 200000), run(1300.0, 1000.0, 200100)],
                      "new": [run(1000.0, 900.0, 199000), run(1100.0, 1000.0, 199900)]}}]}
        md = ab_markdown(ab)
        self.assertIn("Two collectors, plain (--ab-plain", md)
        self.assertIn("| noh, interleaved | 100,000 | 1,200 / 1,300 (1,100 / 1,000) | "
                      "1,000 / 1,100 (900 / 1,000) | 0.84x (0.90x) | "
                      "200,000 / 200,100; 199,000 / 199,900 |\n", md)

    def test_plan(self):
        class Env:
            workers = 1
            cfg = {"capacity": {"n": 200000, "scale": dict(
                clients=[10000, 100000], per_client=8, max_clients=131072,
                baselines=("c",), dtls_clients=10000)}}
        todo = scale_plan(Env())
        counts = [t[3] for t in todo if t[:2] == ("io_uring", "plain")]
        self.assertEqual(counts, [10, 10000, 100000, 10])	# 10 before and after
        big = [t for t in todo if t[:2] == ("io_uring", "plain") and t[3] == 100000][0]
        self.assertEqual(big[2], 800000)
        self.assertEqual(big[4], ["--max-clients", 131072])
        self.assertEqual([t[4] for t in todo if t[0] == "c"], [[]] * 4)
        dtls = [t for t in todo if t[1] == "dtls"]
        # Every DTLS row gets the session table of the 10,000 one.
        ms = ["--max-sessions", 12501]
        self.assertEqual(dtls, [("io_uring", "dtls", 200000, 10, ms),
                                ("io_uring", "dtls", 200000, 10000, ms),
                                ("noh", "dtls", 200000, 10, ms),
                                ("noh", "dtls", 200000, 10000, ms)])

    def test_plan_dtls_100k(self):
        class Env:
            workers = 1
            scale_modes = ("dtls",)		# --many-clients-dtls
            cfg = {"capacity": {"n": 200000, "scale": dict(
                clients=[10000, 100000], per_client=8, max_clients=131072,
                baselines=("c",), dtls_clients=[10000, 100000])}}
        todo = scale_plan(Env())
        # The table of 100,000 in every row, and sessions that outlast the
        # chain's handshakes.
        ms = ["--max-sessions", 125001, "--dtls-idle", 3600, "--max-clients", 131072]
        self.assertEqual(todo, [("io_uring", "dtls", 200000, 10, ms),
                                ("io_uring", "dtls", 200000, 10000, ms),
                                ("io_uring", "dtls", 800000, 100000, ms),
                                ("noh", "dtls", 200000, 10, ms),
                                ("noh", "dtls", 200000, 10000, ms),
                                ("noh", "dtls", 800000, 100000, ms)])


    def test_plan_dtls_ab_afxdp(self):
        # --ab-dtls with XTEL_SCALE_KINDS=af_xdp: the AF_XDP rows with the
        # options of the largest count, no callgrind row
        class Env:
            workers = 1
            cfg = {"capacity": {"n": 200000, "callgrind_n": 20000, "scale": dict(
                clients=[10000, 100000], per_client=8, max_clients=131072,
                baselines=("c",), dtls_clients=[10000, 100000])}}
        ms = ["--max-sessions", 125001, "--dtls-idle", 3600, "--max-clients", 131072]
        with mock.patch.dict(os.environ, {"XTEL_SCALE_KINDS": "af_xdp",
                                          "XTEL_AB_CLIENTS": "100000"}):
            todo = _plan_dtls(Env())
        self.assertEqual(todo, [("drain", "af_xdp", 10, 200000, ms, False),
                                ("drain", "af_xdp", 100000, 800000, ms, False)])
        with mock.patch.dict(os.environ, {"XTEL_AB_CLIENTS": "100000"}):
            todo = _plan_dtls(Env())
        self.assertEqual([t[:3] for t in todo], [("drain", "io_uring", 10),
                                                 ("callgrind", "io_uring", 10),
                                                 ("drain", "io_uring", 100000)])

    def test_afxdp_ring(self):
        # 10 clients: the default ring, the fill, INITs and BYEs in 90% of it
        self.assertEqual(afxdp_ring(200000, 10), (65536, 58962))
        self.assertEqual(afxdp_ring(1000, 10), (65536, 1000))
        # 60,000: the largest ring, one or more records each
        self.assertEqual(afxdp_ring(480000, 60000), (262144, 115929))
        self.assertLessEqual(115929 + 2 * 60000, 262144 * 0.9)
        # more than it holds: a record each all the same
        self.assertEqual(afxdp_ring(800000, 100000), (262144, 100000))


class Orders(unittest.TestCase):
    def test_orders(self):
        # --many-clients-order both: every row twice, plain too;
        # --publish (scale_fleet_rows): the --no-health DTLS rows at 10 and
        # the largest count once more, interleaved.
        todo = [("io_uring", "plain", 8, 10, []), ("io_uring", "dtls", 8, 10, []),
                ("noh", "dtls", 8, 10, []), ("noh", "dtls", 8, 10000, []),
                ("noh", "dtls", 8, 100000, [])]

        class Both:
            scale_orders = ("bursts", "interleaved")
        out = with_orders(Both(), todo)
        self.assertEqual(len(out), 2 * 5)
        self.assertEqual(out[:2], [(todo[0], "bursts"), (todo[0], "interleaved")])

        class Publish:
            scale_fleet_rows = True
        out = with_orders(Publish(), todo)
        self.assertEqual([o for o in out if o[1] == "interleaved"],
                         [(todo[2], "interleaved"), (todo[4], "interleaved")])
        self.assertEqual(len(with_orders(object(), todo)), 5)


class Fleet(unittest.TestCase):
    def test_fleet_markdown(self):
        # bench_dtls_fleet's rows ride on the first DTLS row: ratios to the
        # same order's 10 sessions.
        f = [{"clients": 10, "order": "bursts", "cpu_ns_per_record": 200.0,
              "aead_ctx_rekeys": 0},
             {"clients": 10, "order": "interleaved", "cpu_ns_per_record": 250.0,
              "aead_ctx_rekeys": 0},
             {"clients": 100000, "order": "bursts", "cpu_ns_per_record": 300.0,
              "aead_ctx_rekeys": 100000},
             {"clients": 100000, "order": "interleaved", "cpu_ns_per_record": 1000.0,
              "aead_ctx_rekeys": 800000}]
        rows = [dict(srow("io_uring", "dtls", 10, 900, 23000), dtls_fleet=f)]
        md = scale_markdown(rows)
        self.assertIn("| 100,000 | bursts | 300 | 1.50x | 100,000 |\n", md)
        self.assertIn("| 100,000 | interleaved | 1,000 | 4.00x | 800,000 |\n", md)
        self.assertIn("| 10 | bursts | 200 | 1 | 0 |\n", md)

    def test_plain_fleet_markdown(self):
        # bench_plain_fleet's rows ride on the first plain row.
        f = [{"clients": 10, "order": "interleaved", "cpu_ns_per_datagram": 100.0},
             {"clients": 100000, "order": "interleaved", "cpu_ns_per_datagram": 230.0}]
        rows = [dict(srow("io_uring", "plain", 10, 900, 23000), plain_fleet=f)]
        md = scale_markdown(rows)
        self.assertIn("| Clients | Order | CPU ns/dgram | vs 10 |\n|---:|---|---:|---:|\n", md)
        self.assertIn("| 100,000 | interleaved | 230 | 2.30x |\n", md)
        self.assertIn("| 10 | interleaved | 100 | 1 |\n", md)


class ScaleKnobs(unittest.TestCase):
    def test_env_counts_and_kinds(self):
        # XTEL_SCALE_DTLS_CLIENTS / XTEL_SCALE_KINDS: only those DTLS rows.
        class Env:
            workers = 1
            scale_modes = ("dtls",)
            cfg = {"capacity": {"n": 200000, "scale": dict(
                clients=[10000, 100000], per_client=8, max_clients=131072,
                dtls_clients=[10000, 100000])}}
        saved = dict(os.environ)
        try:
            os.environ.update(XTEL_SCALE_DTLS_CLIENTS="100000", XTEL_SCALE_KINDS="noh")
            todo = scale_plan(Env())
        finally:
            os.environ.clear()
            os.environ.update(saved)
        self.assertEqual([(t[0], t[3]) for t in todo], [("noh", 10), ("noh", 100000)])


if __name__ == "__main__":
    unittest.main()
