# SPDX-License-Identifier: MIT
"""Where the run happens: paths, the testbed's namespaces and interfaces
(from scripts/testbed.sh's environment), what the built tree can do, and
the machine and commit the report names."""
import datetime
import os
import platform
import subprocess

from .config import LEVELS


def nsexec(ns, argv):
    return ["ip", "netns", "exec", ns] + [str(a) for a in argv]


class Env:
    """Paths, namespace names and what the built tree can do."""

    def __init__(self, args):
        self.src = os.path.abspath(args.src)
        self.build = os.path.abspath(args.build)
        self.out = os.path.abspath(args.out)
        self.raw = os.path.join(self.out, "raw")
        self.certs = os.path.abspath(args.certs) if args.certs else None
        self.level = args.level
        self.cfg = LEVELS[args.level]
        self.command = args.command or "bench/run.sh"
        self.publish = args.publish
        self.workers = int(os.environ.get("XTEL_BENCH_WORKERS", "1"))
        self.ns_col = os.environ.get("XTEL_NS_COL", "xtel-col")
        self.ns_gen = os.environ.get("XTEL_NS_GEN", "xtel-gen")
        self.col_ip = os.environ.get("XTEL_COL_IP4", "198.18.0.1")
        self.col_if = os.environ.get("XTEL_COL_IF", "veth-col")
        # The generator's AnyIP range: loadgen --source addresses.
        self.src_net4 = os.environ.get("XTEL_FLOOD_NET4", "198.18.1.0/24")
        self.gen_if = os.environ.get("XTEL_GEN_IF", "veth-gen")
        self.bpffs = os.environ.get("XTEL_BPFFS", "/run/xtel/bpffs")
        self.collector = os.environ.get(
            "XTEL_COLLECTOR", os.path.join(self.build, "userspace", "collector", "collector"))
        self.loadgen = os.environ.get(
            "XTEL_LOADGEN", os.path.join(self.build, "loadgen", "loadgen"))
        self.base_c = os.path.join(self.build, "bench", "baseline_recvmmsg")
        self.base_min = os.path.join(self.build, "bench", "baseline_minimal")
        self.base_py = os.path.join(self.src, "bench", "baseline_recvfrom.py")
        self.bare = os.path.join(self.build, "bench", "bare_sendmmsg")
        os.makedirs(self.raw, exist_ok=True)
        self.col_help = self._help(self.collector)
        self.lg_help = self._help(self.loadgen)

    @staticmethod
    def _help(exe):
        if not os.access(exe, os.X_OK):
            return None
        try:
            r = subprocess.run([exe, "--help"], capture_output=True, text=True,
                               timeout=10)
            return r.stdout + r.stderr
        except (OSError, subprocess.TimeoutExpired):
            return None

    def have_collector(self):
        return self.col_help is not None

    def have_loadgen(self):
        return self.lg_help is not None

    def have_dtls(self):
        return (self.col_help is not None and "dtls" in self.col_help and
                self.lg_help is not None and "dtls" in self.lg_help and
                self.certs is not None and
                os.path.exists(os.path.join(self.certs, "server.crt")))

    def have_afxdp(self):
        return self.col_help is not None and "--afxdp" in self.col_help


def testbed_id(env):
    """Inodes of the two namespaces: they change if someone recreates them."""
    ids = []
    for ns in (env.ns_col, env.ns_gen):
        try:
            ids.append(os.stat("/run/netns/" + ns).st_ino)
        except OSError:
            ids.append(None)
    return tuple(ids)


# ----------------------------------------------------- what the report names

def machine():
    info = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "uname": " ".join(platform.uname()[i] for i in (0, 2, 4)),
            "cpus": os.cpu_count()}
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                info["mem_gib"] = round(int(line.split()[1]) / 1048576, 1)
        for line in open("/etc/os-release"):
            if line.startswith("PRETTY_NAME="):
                info["os"] = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return info


def loadavg():
    try:
        return open("/proc/loadavg").read().split()[0]
    except OSError:
        return "?"


def git_commit(src):
    try:
        c = subprocess.run(["git", "-C", src, "rev-parse", "--short=12", "HEAD"],
                           capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", src, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return c + ("-dirty" if dirty else "")
    except OSError:
        return "unknown"
