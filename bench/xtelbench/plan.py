# SPDX-License-Identifier: MIT
"""The list of rows a level runs (config.LEVELS says how many of each)."""
from .config import PACING_RATES, PLAIN_PATHS, SENDER_CLIENTS, SENDER_PAYLOAD, SENDER_THREADS


def plan(env):
    """The list of rows to run: (section, kind, mode, clients, rate, flood),
    and for the load generator section a seventh item, the sender options
    (sender, threads, payload_size, secs, repeat)."""
    c = env.cfg
    rows = []
    for clients, rate in c["seeds"]:
        for mode in c["seed_modes"]:
            for path in c["seed_paths"]:
                rows.append(("seeds", path, mode, clients, rate, 0))
        for b in c["seed_baselines"]:
            rows.append(("seeds", b, "plain", clients, rate, 0))
    # Rising rates with 10 clients: one series per path and baseline.
    for kind in ("io_uring", "af_xdp", "c", "min", "py"):
        for rate in c["plain_rates"]:
            rows.append(("rate", kind, "plain", 10, rate, 0))
    for kind in PLAIN_PATHS:
        for rate in c["dtls_rates"]:
            rows.append(("rate", kind, "dtls", 10, rate, 0))
    # Rising client counts at a fixed total rate.
    for n in c["plain_clients"]:
        for kind in ("io_uring", "af_xdp", "c", "min", "py"):
            rows.append(("clients", kind, "plain", n, 50000, 0))
    for n in c["dtls_clients"]:
        for kind in PLAIN_PATHS:
            rows.append(("clients", kind, "dtls", n, 20000, 0))
    # DTLS with 100 clients at a fixed high rate (issue 16: >= 250k records/s
    # with 0 loss end to end).
    for rate in c.get("dtls100_rates", []):
        for kind in c.get("dtls100_paths", PLAIN_PATHS):
            rows.append(("clients", kind, "dtls", 100, rate, 0))
    # The same collector without its XDP front end: what XDP costs or saves.
    for rate in c.get("noxdp_rates", []):
        rows.append(("rate", "noxdp", "plain", 10, rate, 0))
    if c["flood"]:
        clients, rate, flood = c["flood"]
        rows.append(("flood", "io_uring", "dtls", clients, rate, 0))
        rows.append(("flood", "io_uring", "dtls", clients, rate, flood))
        rows.append(("flood", "xdp_allow", "dtls", clients, rate, flood))
        if c.get("noxdp_rates"):
            rows.append(("flood", "noxdp", "dtls", clients, rate, flood))
    snd = c.get("sender")
    if snd:
        # Sender ceilings: towards the C baseline for plain (it keeps up with
        # what two sender threads send), towards the collector without XDP
        # for DTLS (a DTLS sender needs someone to complete its handshakes).
        # Three senders and a receiver share 2 cores, so one run can be
        # disturbed (a full run once gave the 2-thread bare loop 366k/s,
        # 20% below its repeats): the table takes the median of the repeats,
        # run round by round so that a disturbance hits different senders.
        for rnd in range(snd.get("repeat", 1)):
            for threads in SENDER_THREADS:
                base = dict(threads=threads, payload_size=SENDER_PAYLOAD,
                            secs=snd["secs"], repeat=rnd + 1)
                rows.append(("sender", "c", "plain", threads, 0, 0, dict(base, sender="bare")))
                rows.append(("sender", "c", "plain", SENDER_CLIENTS, 0, 0,
                             dict(base, sender="loadgen")))
                rows.append(("sender", "noxdp", "dtls", SENDER_CLIENTS, 0, 0,
                             dict(base, sender="loadgen")))
        # Pacing: loadgen's default payload, 1 thread (the suite's choice
        # below 300k/s), its report against the rate asked for.
        for rate in PACING_RATES:
            rows.append(("pacing", "c", "plain", SENDER_CLIENTS, rate, 0,
                         dict(sender="loadgen", threads=1, secs=snd["pacing_secs"])))
    return rows
