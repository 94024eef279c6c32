# SPDX-License-Identifier: MIT
"""The argv of every receiver (collector paths, C and Python baselines) and
sender (loadgen, the bare sendmmsg loop) a row runs. Every one is bounded in
count and time by its own options."""
import os
import sys

from .config import ALLOW_CIDR, PORT, SENDER_PAYLOAD


def receiver_cmd(env, kind, mode, cap_s, summary, clients=1, pin_dir=None):
    if kind == "c":
        return [env.base_c, "--port", PORT, "--duration", cap_s, "--quiet", 0,
                "--json", summary]
    if kind == "min":
        return _rx_extra(env, [env.base_min, "--port", PORT, "--duration", cap_s, "--quiet", 0,
                               "--json", summary])
    if kind == "py":
        return [sys.executable, env.base_py, "--port", PORT, "--duration", cap_s,
                "--quiet", 0, "--json", summary]
    cmd = [env.collector, "--port", PORT, "--workers", env.workers, "--mode", mode,
           "--duration", "%g" % cap_s, "--summary-json", summary, "--quiet",
           "--iface", env.col_if]
    # The program's counters are pinned and add up across runs that share
    # the pins: each row gets its own directory on the testbed's bpffs (the
    # default under /sys/fs/bpf does not survive `ip netns exec`).
    if pin_dir and kind != "noxdp":
        cmd += ["--pin-dir", pin_dir]
    if mode == "dtls":
        cmd += ["--cert", os.path.join(env.certs, "server.crt"),
                "--key", os.path.join(env.certs, "server.key"),
                "--ca", os.path.join(env.certs, "ca.crt")]
        # The default session table (4096 per worker) is smaller than the
        # largest client counts measured here.
        if clients > 3000:
            cmd += ["--max-sessions", int(clients * 1.25) // env.workers + 1]
    if kind == "af_xdp":
        cmd.append("--afxdp")
    if kind == "noxdp":
        cmd[cmd.index("--iface"):cmd.index("--iface") + 2] = ["--no-xdp"]
    if kind == "noh":
        cmd.append("--no-health")
    if kind == "xdp_allow":
        # Only the clients' subnet may talk to the port: the flood range
        # (198.18.1.0/24) is dropped by XDP before the socket. Rate limits do
        # not fit this flood: spread over many source addresses, each stays
        # under a per-source limit, and a global limit (5,000/s against
        # 20,000/s) made 3 of 10 real clients' handshakes time out.
        cmd += ["--allow", ALLOW_CIDR]
    return _rx_extra(env, cmd)


def _rx_extra(env, cmd):
    """The receive-path options section (rxopts.py) runs the same rows with
    extra receiver options or environment (GLIBC_TUNABLES); nothing else
    sets them."""
    cmd = cmd + list(getattr(env, "rx_extra", ()))
    rx_env = getattr(env, "rx_env", None)
    if rx_env:
        cmd = ["env"] + ["%s=%s" % kv for kv in sorted(rx_env.items())] + cmd
    return cmd


def loadgen_cmd(env, mode, clients, rate, secs, report, flood=0, threads=1,
                payload_size=None):
    # --count bounds the datagrams, --duration the time: whichever ends first.
    per_client = max(1, int(round(rate * secs / clients))) if rate else 10 ** 9
    cmd = [env.loadgen, "--target", "%s:%d" % (env.col_ip, PORT),
           "--clients", clients, "--threads", min(threads, clients),
           "--rate", int(rate), "--duration", "%g" % secs,
           "--count", per_client, "--mode", mode,
           "--report-json", report, "--quiet"]
    if mode == "dtls":
        cmd += ["--certs", env.certs]
    if flood:
        cmd += ["--flood-handshakes", int(flood)]
    if payload_size:
        cmd += ["--payload-size", int(payload_size)]
    return cmd


def bare_cmd(env, threads, secs):
    """The bare sendmmsg loop: as fast as it can, bounded by time and count
    (the count is far above what 2 cores send in that time)."""
    return [env.bare, "--target", "%s:%d" % (env.col_ip, PORT), "--threads", threads,
            "--duration", "%g" % secs, "--count", 10 ** 9,
            "--payload-size", SENDER_PAYLOAD]
