#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""unit: the benchmark suite's loss attribution (bench/xtelbench/derive.py),
the figures docs/PERFORMANCE.md publishes, on rows recorded from real runs.

Each fixture in bench_fixtures/ (made by bench_fixtures/record.py) holds what
run_row() passed to derive() in one real row: the row as measured, the
sender's report, the receiver's summary and the receiver's CPU samples, and
the kernel counter readings before and after the row. The test parses the
readings into the counter delta as the suite does, runs derive() and
compares every figure it adds with the value worked out from the fixture's
numbers: loss and where it happened (inside the host or before it), rates,
throughput, latency, CPU and memory. Edited copies of the fixtures cover
the attribution rules no recorded row reached (XDP drops, ring drops, more
veth drops than loss).

usage: test_bench_derive.py [SOURCE_ROOT]   (no privileges needed)
Exits 0 when every figure matches, 1 otherwise.
"""
import copy
import json
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = sys.argv.pop(1) if len(sys.argv) > 1 else os.path.join(HERE, "..", "..")
sys.path.insert(0, os.path.join(SRC, "bench"))
from xtelbench.counters import counter_delta, parse_counters  # noqa: E402
from xtelbench.derive import bare_as_report, derive, xdp_losses  # noqa: E402
from xtelbench.procs import CpuSampler  # noqa: E402

FIXTURES = os.path.join(HERE, "bench_fixtures")
CASES = ("plain-1k", "faults", "python-max", "bare2-collector", "dtls-flood-allow")

# What derive() adds to a row, in the order results.json shows it.
DERIVED_KEYS = [
    "status", "sent", "received", "duplicates", "lost_receiver", "lost", "loss_pct",
    "achieved_pps", "load_s", "requested_pps", "wire_pps", "data_seqs", "sent_data",
    "loss_where", "host_loss_pct", "mb_per_s", "latency_us", "latency_basis",
    "rusage_cpu_s", "rusage_cpu_ns_per_dgram", "setup_cpu_s", "cpu_s", "cpu_pct",
    "cpu_ns_per_dgram", "rss_kb", "xdp", "rejected"]


def load(name):
    with open(os.path.join(FIXTURES, name + ".json")) as f:
        return json.load(f)


def measured_row(fx):
    """The row as run_row hands it to derive(): the recorded measurements,
    the counter delta parsed from the recorded readings, the CPU samples."""
    row = copy.deepcopy(fx["row"])
    rd = fx["counter_readings"]
    row["counters"] = counter_delta(parse_counters(*rd["before"]), parse_counters(*rd["after"]))
    sampler = CpuSampler(0)     # never started: derive only reads its samples
    sampler.samples = [tuple(s) for s in fx["cpu"]["samples"]]
    row["_sampler"] = sampler
    row["_cpu_marks"] = tuple(fx["cpu"]["marks"])
    return row


def derived(fx, row=None, lg=None, rx=None):
    """The figures derive() added to the row, in the order it added them."""
    row = measured_row(fx) if row is None else row
    before = set(row)
    derive(row, copy.deepcopy(fx["loadgen"]) if lg is None else lg,
           copy.deepcopy(fx["receiver"]) if rx is None else rx)
    return {k: v for k, v in row.items() if k not in before}


def no_loss(**kw):
    return dict({"xdp": 0, "rcvbuf": 0, "ring": 0, "nic": 0, "other": 0}, **kw)


# Every figure of every fixture. Rates and shares are written as the
# arithmetic derive() must do on the fixture's numbers (the same operations,
# so the floats are equal bit for bit). The CPU figures come from the
# samples, interpolated at the window's marks (test_cpu_window checks that
# rule with round numbers), and are given as the values they give.
EXPECTED = {
    # 1 client at 1,000/s: 1,000 DATA + INIT + BYE, all received.
    "plain-1k": dict(
        status="ok", sent=1002, received=1002, duplicates=0, lost_receiver=0, lost=0,
        loss_pct=0.0, achieved_pps=999.903, load_s=1.000097, requested_pps=1000.0,
        wire_pps=999.903, data_seqs=1000, sent_data=1000, loss_where=no_loss(),
        host_loss_pct=0.0, mb_per_s=46980 / 1.000097 / 1e6,
        latency_us={"p50": 3.279, "p99": 14.015, "p999": 195.583},
        latency_basis="kernel_rx_timestamp",
        rusage_cpu_s=0.0 + 0.02022, rusage_cpu_ns_per_dgram=(0.0 + 0.02022) * 1e9 / 1002,
        setup_cpu_s=0.0008376219634389914, cpu_s=0.008008139036561009,
        cpu_pct=100.0 * 0.008008139036561009 / 1.000097,
        cpu_ns_per_dgram=0.008008139036561009 * 1e9 / 1002,
        rss_kb=7504, xdp={"attach_mode": "native", "afxdp": False}, rejected=0),
    # loadgen skipped 87 of 5,000 DATA seqs (--loss): the receiver counts
    # 87 lost, but of what was sent nothing is missing.
    "faults": dict(
        status="ok", sent=4923, received=4923, duplicates=0, lost_receiver=87, lost=0,
        loss_pct=0.0, achieved_pps=4999.61, load_s=1.000078, requested_pps=5000.0,
        wire_pps=4912.616, data_seqs=5000, sent_data=4913, loss_where=no_loss(),
        host_loss_pct=0.0, mb_per_s=230786 / 1.000078 / 1e6,
        latency_us={"p50": 3.119, "p99": 6.559, "p999": 56.063},
        latency_basis="kernel_rx_timestamp",
        rusage_cpu_s=0.007246 + 0.043481,
        rusage_cpu_ns_per_dgram=(0.007246 + 0.043481) * 1e9 / 4923,
        setup_cpu_s=0.0025186569427553453, cpu_s=0.033701619057244656,
        cpu_pct=100.0 * 0.033701619057244656 / 1.000078,
        cpu_ns_per_dgram=0.033701619057244656 * 1e9 / 4923,
        rss_kb=13720, xdp={"attach_mode": "native", "afxdp": False}, rejected=0),
    # 403,220 sent, 221,869 read: the 181,351 missing are exactly the
    # namespace's UDP RcvbufErrors, all inside the host.
    "python-max": dict(
        status="ok", sent=403220, received=221869, duplicates=0, lost_receiver=181351,
        lost=403220 - 221869, loss_pct=100.0 * 181351 / 403220, achieved_pps=403200.0,
        load_s=1.0, requested_pps=0.0, wire_pps=403200.0, data_seqs=403200,
        sent_data=403200, loss_where=no_loss(rcvbuf=181351),
        host_loss_pct=100.0 * 181351 / 403220, mb_per_s=10407879 / 1.0 / 1e6,
        latency_us={"p50": 190.65, "p99": 5379.193, "p999": 8176.505},
        latency_basis="userspace_read",
        rusage_cpu_s=0.657254, rusage_cpu_ns_per_dgram=0.657254 * 1e9 / 221869,
        setup_cpu_s=0.030504376085141817, cpu_s=0.5732835999148582,
        cpu_pct=100.0 * 0.5732835999148582 / 1.0,
        cpu_ns_per_dgram=0.5732835999148582 * 1e9 / 221869,
        rss_kb=24620, xdp=None, rejected=0),
    # The bare loop (reshaped by bare_as_report) sent 524,420; 6,068 did not
    # arrive: 845 dropped by the sender's veth before the host, 5,223 by the
    # socket buffer inside it (RcvbufErrors, also the collector's rxq_ovfl).
    # The collector's own "lost" means nothing here: the bare loop's seqs
    # are not per-client sequences.
    "bare2-collector": dict(
        status="ok", sent=524420, received=518352, duplicates=0, lost_receiver=524416,
        lost=6068, loss_pct=100.0 * 6068 / 524420, achieved_pps=524279.7, load_s=1.00026,
        requested_pps=0, wire_pps=524279.7, data_seqs=None, sent_data=524416,
        loss_where=no_loss(rcvbuf=5223, nic=845),
        host_loss_pct=100.0 * (6068 - 845) / 524420, mb_per_s=47688128 / 1.00026 / 1e6,
        latency_us={"p50": 501219.327, "p99": 985661.439, "p999": 1000174.619},
        latency_basis="kernel_rx_timestamp",
        rusage_cpu_s=0.101448 + 0.350788,
        rusage_cpu_ns_per_dgram=(0.101448 + 0.350788) * 1e9 / 518352,
        setup_cpu_s=0.016281831317902527, cpu_s=0.4241383046820975,
        cpu_pct=100.0 * 0.4241383046820975 / 1.00026,
        cpu_ns_per_dgram=0.4241383046820975 * 1e9 / 518352,
        rss_kb=13676, xdp={"attach_mode": "native", "afxdp": False}, rejected=5223),
    # 20,156 flood ClientHellos dropped by XDP's allowlist (drop_not_allowed)
    # are not loss of what the clients sent: xdp stays 0.
    "dtls-flood-allow": dict(
        status="ok", sent=5020, received=5020, duplicates=0, lost_receiver=0, lost=0,
        loss_pct=0.0, achieved_pps=4999.92, load_s=1.000016, requested_pps=5000.0,
        wire_pps=4999.92, data_seqs=5000, sent_data=5000, loss_where=no_loss(),
        host_loss_pct=0.0, mb_per_s=235147 / 1.000016 / 1e6,
        latency_us={"p50": 4.895, "p99": 24.703, "p999": 77.311},
        latency_basis="kernel_rx_timestamp",
        rusage_cpu_s=0.038222 + 0.043448,
        rusage_cpu_ns_per_dgram=(0.038222 + 0.043448) * 1e9 / 5020,
        setup_cpu_s=0.010216858815955117, cpu_s=0.04867912218404488,
        cpu_pct=100.0 * 0.04867912218404488 / 1.000016,
        cpu_ns_per_dgram=0.04867912218404488 * 1e9 / 5020,
        rss_kb=17736, xdp={"attach_mode": "native", "afxdp": False}, rejected=0,
        handshakes={"attempted": 10, "ok": 10, "failed": 0, "min_ms": 4.951,
                    "mean_ms": 6.36, "max_ms": 7.346, "retransmits": 0,
                    "phase_s": 0.014555, "rate_per_s": 10 / 0.014555,
                    "collector_cpu_us_per_handshake": 0.010216858815955117 * 1e6 / 10},
        flood={"requested_pps": 20000.0, "sent": 20156, "achieved_pps": 19979.872,
               "replies": 0, "errors": 0, "source_ports": 64, "elapsed_s": 1.008815}),
}


class RecordedRows(unittest.TestCase):
    maxDiff = None

    def test_counter_readings(self):
        """The readings parse into the delta the suite recorded, and the
        drops the loss split uses are where the kernel put them."""
        for name in CASES:
            fx = load(name)
            self.assertEqual(measured_row(fx)["counters"], fx["row"]["counters"], name)
        ctr = measured_row(load("bare2-collector"))["counters"]
        self.assertEqual((ctr["udp_RcvbufErrors"], ctr["udp6_RcvbufErrors"],
                          ctr["gen_veth_tx_dropped"], ctr["veth_rx_dropped"],
                          ctr["softnet_dropped"]), (5223, 0, 845, 0, 0))
        self.assertEqual(measured_row(load("python-max"))["counters"]["udp_RcvbufErrors"],
                         181351)

    def test_bare_report(self):
        """The bare loop's JSON becomes the loadgen-shaped report derive got."""
        fx = load("bare2-collector")
        self.assertEqual(bare_as_report(fx["loadgen"]["bare_sendmmsg"]), fx["loadgen"])

    def test_figures(self):
        for name in CASES:
            with self.subTest(case=name):
                got = derived(load(name))
                want = EXPECTED[name]
                for key in want:
                    self.assertEqual(got.get(key), want[key], "%s: %s" % (name, key))
                extra = [k for k in ("handshakes", "flood") if k in want]
                self.assertEqual(list(got), DERIVED_KEYS + extra)

    def test_loss_split_adds_up(self):
        """Every missing datagram of the recorded rows has exactly one place."""
        for name in CASES:
            got = derived(load(name))
            self.assertEqual(sum(got["loss_where"].values()), got["lost"], name)


class EditedRows(unittest.TestCase):
    """Recorded rows with a few numbers changed, for the rules no recorded
    row reached."""

    def test_collector_counters(self):
        """12 of plain-1k's datagrams missing: 3 refused by the XDP program
        (drop_bad_magic), 4 ENOBUFS completions, 2 socket overflows the
        collector saw (rxq_ovfl) though the namespace counted none, 3 that
        no counter explains. The flood limiters' drops are not counted."""
        fx = load("plain-1k")
        rx = copy.deepcopy(fx["receiver"])
        rx["totals"]["received"] = 1002 - 12
        rx["xdp"]["stats"]["drop_bad_magic"]["packets"] = 3
        rx["xdp"]["stats"]["drop_ratelimit"]["packets"] = 500
        rx["counters"]["enobufs"] = 4
        rx["drops"]["rxq_ovfl"] = 2
        got = derived(fx, rx=rx)
        self.assertEqual(got["loss_where"], no_loss(xdp=3, ring=4, rcvbuf=2, other=3))
        self.assertEqual(got["lost"], 12)
        self.assertEqual(got["loss_pct"], 100.0 * 12 / 1002)
        self.assertEqual(got["host_loss_pct"], 100.0 * 12 / 1002)

    def test_duplicates(self):
        """Copies do not make up for missing datagrams: 1,000 arrivals of
        which 2 are copies leave 4 of the 1,002 sent missing."""
        fx = load("plain-1k")
        rx = copy.deepcopy(fx["receiver"])
        rx["totals"].update(received=1000, duplicates=2)
        got = derived(fx, rx=rx)
        self.assertEqual((got["received"], got["duplicates"], got["lost"]), (1000, 2, 4))
        self.assertEqual(got["loss_where"], no_loss(other=4))
        rx["totals"].update(received=1004, duplicates=2)
        self.assertEqual(derived(fx, rx=rx)["lost"], 0)

    def test_rcvbuf_v4_and_v6(self):
        """python-max's socket overflows split between UDP and UDP6: both
        count, and the larger of that and the receiver's rxq_ovfl wins."""
        fx = load("python-max")
        row = measured_row(fx)
        row["counters"].update(udp_RcvbufErrors=181000, udp6_RcvbufErrors=351)
        self.assertEqual(derived(fx, row=row)["loss_where"], no_loss(rcvbuf=181351))
        rx = copy.deepcopy(fx["receiver"])
        rx["rxq_ovfl"] = 181351
        row = measured_row(fx)
        row["counters"].update(udp_RcvbufErrors=1000)
        self.assertEqual(derived(fx, row=row, rx=rx)["loss_where"], no_loss(rcvbuf=181351))

    def test_afxdp_rings(self):
        """AF_XDP ring drops (rx_ring_full + rx_dropped) count as ring."""
        fx = load("plain-1k")
        rx = copy.deepcopy(fx["receiver"])
        rx["totals"]["received"] = 1002 - 7
        rx["afxdp"] = {"bind_mode": "copy", "rx_ring_full": 5, "rx_dropped": 2}
        self.assertEqual(xdp_losses(rx), (0, 7))
        got = derived(fx, rx=rx)
        self.assertEqual(got["loss_where"], no_loss(ring=7))
        self.assertEqual(got["afxdp_bind_mode"], "copy")

    def test_only_before_host(self):
        """All of bare2-collector's loss on the veth pair: none in the host."""
        fx = load("bare2-collector")
        row = measured_row(fx)
        row["counters"].update(udp_RcvbufErrors=0, gen_veth_tx_dropped=6000,
                               veth_rx_dropped=60, softnet_dropped=8)
        rx = copy.deepcopy(fx["receiver"])
        rx["drops"]["rxq_ovfl"] = 0
        got = derived(fx, row=row, rx=rx)
        self.assertEqual(got["loss_where"], no_loss(nic=6000 + 60 + 8))
        self.assertEqual(got["loss_pct"], 100.0 * 6068 / 524420)
        self.assertEqual(got["host_loss_pct"], 0.0)

    def test_more_veth_drops_than_loss(self):
        """The veth counters also see other traffic: more drops there than
        datagrams missing leave host loss at 0, not below."""
        fx = load("plain-1k")
        row = measured_row(fx)
        row["counters"]["veth_rx_dropped"] = 40
        got = derived(fx, row=row)
        self.assertEqual(got["loss_where"], no_loss(nic=40))
        self.assertEqual((got["lost"], got["host_loss_pct"]), (0, 0.0))

    def test_cpu_window(self):
        """CPU of the DATA phase: from the generator's exit minus its DATA
        time (not before the window opened) to the drained end; the time
        before it is set-up. Samples 0, 0.2, 0.5, 0.6 s of CPU at t = 10..13,
        window 10..13, generator exit at 12.5 after 2 s of DATA: the DATA
        phase starts at 10.5 (0.1 s of CPU, interpolated), ends at 13."""
        fx = load("plain-1k")
        row = measured_row(fx)
        row["_sampler"].samples = [(10.0, 0), (11.0, 200000000), (12.0, 500000000),
                                   (13.0, 600000000)]
        row["_cpu_marks"] = (10.0, 12.5, 13.0)
        lg = copy.deepcopy(fx["loadgen"])
        lg["rate"]["data_elapsed_s"] = 2.0
        got = derived(fx, row=row, lg=lg)
        self.assertEqual((got["setup_cpu_s"], got["cpu_s"], got["cpu_pct"]), (0.1, 0.5, 25.0))
        self.assertEqual(got["cpu_ns_per_dgram"], 0.5 * 1e9 / 1002)

    def test_cpu_without_samples(self):
        """No samples: the window's CPU; no window either: the rusage."""
        fx = load("plain-1k")
        row = measured_row(fx)
        del row["_sampler"], row["_cpu_marks"]
        got = derived(fx, row=row)
        self.assertNotIn("setup_cpu_s", got)
        self.assertEqual(got["cpu_s"], 0.008845761)
        row = measured_row(fx)
        del row["_sampler"], row["_cpu_marks"], row["window_cpu_s"]
        self.assertEqual(derived(fx, row=row)["cpu_s"], 0.0 + 0.02022)


if __name__ == "__main__":
    unittest.main(verbosity=2)
