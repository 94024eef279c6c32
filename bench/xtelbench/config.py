# SPDX-License-Identifier: MIT
"""The suite's fixed choices: the port, what each level runs, the labels.

Every other module reads these; none of them is changed at run time.
"""

PORT = 7700
# After the load generator exits, the receiver gets this long to empty its
# queues before it is told to stop.
DRAIN_S = 0.3
# The flood row with XDP's allowlist: the generator's own subnet.
ALLOW_CIDR = "198.18.0.0/24"
# A row whose loss reaches this ends the rising-rate series of its line:
# higher rates would only measure the same saturation again. A sender that
# falls short of the offered rate does not end it (that says nothing about
# the receiver, and the next rate may well go through).
SATURATION_LOSS_PCT = 10.0
PLAIN_PATHS = ("io_uring", "af_xdp")
# The load generator section: 10 clients; the payload every sender of the
# ceiling rows sends (loadgen --payload-size, bare_sendmmsg --payload-size),
# so that both put the same 92-byte datagrams on the wire; the fixed rates
# whose pacing is checked.
SENDER_CLIENTS = 10
SENDER_PAYLOAD = 64
SENDER_THREADS = (1, 2)
PACING_RATES = (20000, 100000)
SENDER_LABEL = {"loadgen": "loadgen", "bare": "bare sendmmsg loop"}

# What each level runs: seconds of DATA per row, Google Benchmark min time,
# the rising-rate series (10 clients; 0 = as fast as the generator can),
# the client-count series (at 50k/s plain, 20k/s DTLS), the seed table's
# (clients, rate) rows and what runs them, and the flood row (clients, rate,
# ClientHellos/s), and the capacity section (capacity.py: datagrams per
# pre-fill, rounds, and whether one more drain per receiver runs under
# callgrind, with how many datagrams; scale: the many-clients rows of
# scale.py, client counts, DATA per client, --max-clients, the baselines
# beside the collector and the DTLS client count). Sized so that full < 10 min and quick < 2 min on 2 cores.
LEVELS = {
    "smoke": dict(secs=1.0, micro=0.01, plain_rates=[], dtls_rates=[],
                  plain_clients=[], dtls_clients=[], seeds=[(1, 1000)],
                  seed_modes=("plain",), seed_paths=("io_uring",),
                  seed_baselines=("c",), flood=None, sender=None),
    "quick": dict(secs=1.0, micro=0.05, plain_rates=[100000, 300000, 0],
                  dtls_rates=[50000], plain_clients=[100, 1000],
                  dtls_clients=[100, 1000], seeds=[(1, 1000), (5, 5000), (10, 20000)],
                  seed_modes=("plain", "dtls"), seed_paths=PLAIN_PATHS,
                  seed_baselines=("c", "min", "py"), flood=(10, 5000, 20000),
                  sender=dict(secs=1.0, repeat=1, pacing_secs=2.0),
                  capacity=dict(n=100000, repeat=1, clients=[10000], dtls_workers=[2],
                                scale=dict(clients=[20000], per_client=8, max_clients=131072,
                                           dtls_clients=1000)),
                  dtls100_rates=[250000], dtls100_paths=("io_uring",)),
    "full": dict(secs=2.0, micro=0.2,
                 plain_rates=[50000, 100000, 200000, 300000, 400000, 500000, 0],
                 dtls_rates=[25000, 50000, 100000, 200000, 0],
                 plain_clients=[100, 1000, 10000], dtls_clients=[100, 1000, 10000],
                 seeds=[(1, 1000), (5, 5000), (10, 20000)],
                 seed_modes=("plain", "dtls"), seed_paths=PLAIN_PATHS,
                 seed_baselines=("c", "min", "py"), flood=(10, 5000, 50000),
                 noxdp_rates=[100000, 300000, 0],
                 sender=dict(secs=3.0, repeat=3, pacing_secs=5.0),
                 capacity=dict(n=200000, repeat=2, callgrind=True, callgrind_n=20000,
                               clients=[1000, 10000, 50000], per_client=8,
                               dtls_workers=[2],
                               scale=dict(clients=[10000, 100000], per_client=8,
                                          max_clients=131072, baselines=("c", "min"),
                                          dtls_clients=[10000, 100000])),
                 dtls100_rates=[250000]),
}

RECEIVER_LABEL = {
    "io_uring": "collector io_uring",
    "noxdp": "collector io_uring, --no-xdp",
    "noh": "collector io_uring, --no-health",
    "xdp_allow": "collector io_uring, XDP --allow 198.18.0.0/24",
    "af_xdp": "collector AF_XDP",
    "c": "baseline C recvmmsg",
    "min": "baseline minimal recvmmsg",
    "py": "baseline Python recvfrom",
}
