# SPDX-License-Identifier: MIT
"""How many DTLS clients one loadgen process of a capacity row holds (the
chain size of capacity._Senders), from what bounds it on this machine:

- a socket each: the hard limit of open files (raised first when this
  process may, as root with CAP_SYS_RESOURCE; loadgen raises it the same
  way), less some spare;
- a source port each: the ephemeral range (ip_local_port_range) of the
  process's one source address, less some spare;
- memory: LG_MEM_BUDGET (at most a quarter of MemAvailable) over the bytes
  a client costs, measured here by bench_dtls_memory (its session after the
  handshake plus its identity), times HEAP_FACTOR for the heap's
  fragmentation and the client's own struct (loadgen's VmHWM per client
  was 13.1-13.9 KB at 5,000-19,900 clients against 7.8 KB there,
  docs/CAPACITY.md "loadgen's DTLS clients after the handshake").

Before the take-over a client held ~62 KB, so 15,000 per process (the old
fixed LG_MAX_CLIENTS) was also about what memory allowed; now sockets and
ports bound it. Plain rows keep LG_MAX_CLIENTS, so their figures stay
comparable with earlier publishes. The bound keeps a 2-core CI machine
safe: the memory budget per process is fixed, and the handshakes a row
runs do not depend on how they are split.
"""
import json
import os
import resource
import subprocess

from .util import log

LG_MAX_CLIENTS = 15000		# plain rows, and DTLS when nothing is measured
LG_MEM_BUDGET = 2 << 30		# bytes of client state per loadgen process
HEAP_FACTOR = 2.0
FD_SPARE = 64
PORT_SPARE = 1000


def fd_bound():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        with open("/proc/sys/fs/nr_open") as f:
            nr_open = int(f.read())
        if hard < nr_open:
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, nr_open))
            hard = nr_open
    except (OSError, ValueError):
        pass	# not allowed: the hard limit stays
    return hard - FD_SPARE


def port_bound():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            lo, hi = (int(x) for x in f.read().split())
        return hi - lo + 1 - PORT_SPARE
    except (OSError, ValueError):
        return LG_MAX_CLIENTS


def dtls_client_bytes(env):
    """A loadgen DTLS client's heap after its handshake, identity included
    (bench_dtls_memory, 200 sessions in memory, ~1 s); None when it cannot
    run."""
    if not getattr(env, "build", None) or not getattr(env, "certs", None):
        return None
    exe = os.path.join(env.build, "bench", "bench_dtls_memory")
    if not os.path.exists(exe):
        return None
    try:
        out = subprocess.run([exe, env.certs, "--clients", "200", "--half-open", "1",
                              "--json"], capture_output=True, text=True, timeout=120,
                             check=True)
        m = json.loads(out.stdout)
        return m["client_session_b"] + m["client_identity_b"]
    except (OSError, subprocess.SubprocessError, ValueError, KeyError) as e:
        log("  bench_dtls_memory (loadgen chain size) failed: %s" % e)
        return None


def mem_budget():
    try:
        with open("/proc/meminfo") as f:
            avail = next(int(l.split()[1]) * 1024 for l in f if l.startswith("MemAvailable:"))
        return min(LG_MEM_BUDGET, avail // 4)
    except (OSError, StopIteration, ValueError):
        return LG_MEM_BUDGET


def chain_size(per, fds, ports, budget):
    """(clients per process, the bounds by name) for per bytes a client
    (None: not measured, LG_MAX_CLIENTS stands in for memory)."""
    bounds = {"sockets": fds, "ports": ports}
    if per:
        bounds["memory"] = int(budget / (per * HEAP_FACTOR))
    else:
        bounds["fallback"] = LG_MAX_CLIENTS
    return max(1000, min(bounds.values())), bounds


def lg_max_clients(env, mode):
    """Clients per loadgen process for mode's rows (cached on env)."""
    if mode != "dtls":
        return LG_MAX_CLIENTS
    cached = getattr(env, "lg_max_dtls", None)
    if cached:
        return cached
    per = dtls_client_bytes(env)
    n, bounds = chain_size(per, fd_bound(), port_bound(), mem_budget())
    log("  loadgen: %s DTLS clients per process (bounds: %s; %s B per client measured)" % (
        "{:,}".format(n), ", ".join("%s {:,}".format(v) % k for k, v in bounds.items()),
        "%.0f" % per if per else "none"))
    env.lg_max_dtls = n
    return n
