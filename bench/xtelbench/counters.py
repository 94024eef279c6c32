# SPDX-License-Identifier: MIT
"""The kernel's drop counters around a row: UDP (RcvbufErrors), softnet
backlog drops, the collector veth's RX and the generator veth's TX drops.

Reading (a shell in each namespace) is kept apart from parsing, so that
recorded readings can be parsed the same way without a testbed.
"""
import subprocess

from .env import nsexec

COUNTER_SCRIPT = (
    "cat /proc/net/snmp; echo '#snmp6'; cat /proc/net/snmp6; "
    "echo '#softnet'; cat /proc/net/softnet_stat; "
    "echo '#veth'; cat /sys/class/net/{if}/statistics/rx_dropped "
    "/sys/class/net/{if}/statistics/rx_packets")


def read_counter_text(env):
    """(collector namespace text, generator veth tx_dropped text), or None
    when the collector namespace cannot be read."""
    try:
        text = subprocess.run(
            nsexec(env.ns_col, ["sh", "-c", COUNTER_SCRIPT.format(**{"if": env.col_if})]),
            capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    try:
        gen = subprocess.run(
            nsexec(env.ns_gen, ["cat", "/sys/class/net/%s/statistics/tx_dropped" % env.gen_if]),
            capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        gen = ""
    return text, gen


def parse_counters(text, gen_text):
    """The counters as a flat dict of ints: udp_*, udp6_*, softnet_dropped,
    veth_rx_dropped, veth_rx_packets, gen_veth_tx_dropped."""
    out = {}
    section = "snmp"
    udp_hdr = None
    softnet_drop = 0
    veth = []
    for line in text.splitlines():
        if line.startswith("#"):
            section = line[1:]
            continue
        f = line.split()
        if section == "snmp" and f and f[0] == "Udp:":
            if udp_hdr is None:
                udp_hdr = f[1:]
            else:
                for k, v in zip(udp_hdr, f[1:]):
                    out["udp_" + k] = int(v)
        elif section == "snmp6" and len(f) == 2 and f[0].startswith("Udp6"):
            out["udp6_" + f[0][4:]] = int(f[1])
        elif section == "softnet" and len(f) >= 2:
            softnet_drop += int(f[1], 16)
        elif section == "veth" and f:
            veth.append(int(f[0]))
    out["softnet_dropped"] = softnet_drop
    if len(veth) == 2:
        out["veth_rx_dropped"], out["veth_rx_packets"] = veth
    txt = gen_text.split()
    if txt:
        try:
            out["gen_veth_tx_dropped"] = int(txt[0])
        except ValueError:
            pass
    return out


def read_counters(env):
    """Kernel drop counters seen from the collector namespace."""
    got = read_counter_text(env)
    if got is None:
        return {}
    return parse_counters(*got)


def counter_delta(before, after):
    return {k: after[k] - before.get(k, 0) for k in after
            if isinstance(after[k], int)}
