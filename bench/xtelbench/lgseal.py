# SPDX-License-Identifier: MIT
"""loadgen's CPU per DTLS record sealed, on the client's own record layer
(after the take-over, dtls/client.c) and on OpenSSL's (--openssl-records),
each client's records in bursts of 64 and interleaved (bench_dtls_seal, in
memory, ~1 s each), side by side in one run; docs/CAPACITY.md "loadgen's
DTLS clients after the handshake". Thread CPU time, so noisy on a shared
machine: the repeatable figure is callgrind's (see bench_dtls_seal.c)."""
import json
import os
import subprocess

from .util import log

CASES = [(order, layer) for order in ("bursts", "interleaved") for layer in ("own", "openssl")]


def dtls_seal(env, rounds=2):
    exe = os.path.join(env.build, "bench", "bench_dtls_seal")
    if not os.path.exists(exe) or not getattr(env, "certs", None):
        return None
    log("== loadgen's DTLS sealing (bench_dtls_seal, own layer vs --openssl-records)")
    out = {}
    # Alternated rounds: every case once per round, the median kept.
    for _ in range(rounds):
        for order, layer in CASES:
            cmd = [exe, env.certs, "--order", order, "--json"]
            if layer == "openssl":
                cmd.append("--openssl-records")
            try:
                p = subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                                   check=True)
                ns = json.loads(p.stdout)["ns_per_record"]["seal"]
            except (OSError, subprocess.SubprocessError, ValueError, KeyError) as e:
                log("  bench_dtls_seal failed: %s" % e)
                return None
            out.setdefault((order, layer), []).append(ns)
    return [{"order": o, "layer": l, "ns": sorted(v)[len(v) // 2], "ns_all": v}
            for (o, l), v in out.items()]


def dtls_seal_markdown(s):
    if not s:
        return ""
    by = {(r["order"], r["layer"]): r["ns"] for r in s}
    out = ["loadgen's CPU per DTLS record sealed (bench/bench_dtls_seal: 64 clients, "
           "100-byte datagrams; own: the client's record layer after the handshake, "
           "openssl: --openssl-records):\n\n| Order | own ns/record | OpenSSL's ns/record "
           "| own / OpenSSL's |\n|---|---:|---:|---:|\n"]
    for order in ("bursts", "interleaved"):
        own, ssl = by.get((order, "own")), by.get((order, "openssl"))
        if own and ssl:
            out.append("| %s | %.0f | %.0f | %.2fx |\n" % (order, own, ssl, own / ssl))
    out.append("\n")
    return "".join(out)
