#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The collector's sd_notify messages (common/notify.c) for a Type=notify
unit, without systemd: this test is the service manager. It listens on a
NOTIFY_SOCKET, starts the collector (plain, loopback, no XDP) with
WATCHDOG_USEC set, and expects, in this order: READY=1 with a STATUS once it
receives, WATCHDOG=1 keep-alives, RELOADING=1 then READY=1 around a SIGHUP,
STOPPING=1 at SIGTERM, and exit code 0. Each wait is for a message, not for
a time (10 s at most per message before failing).

usage: test_service_notify.py COLLECTOR"""
import os
import signal
import socket
import subprocess
import sys
import tempfile

collector = sys.argv[1]
if "libsystemd" not in subprocess.run(["ldd", collector], capture_output=True,
                                      text=True).stdout:
    print("SKIP: collector built without libsystemd (-Dsystemd=disabled)")
    sys.exit(77)

passed = failed = 0


def check(what, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
        print(f"ok   {what}")
    else:
        failed += 1
        print(f"FAIL {what} {detail}")


with tempfile.TemporaryDirectory(prefix="xtel-notify.") as d:
    path = os.path.join(d, "notify")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    srv.bind(path)
    srv.settimeout(10)
    env = dict(os.environ, NOTIFY_SOCKET=path, WATCHDOG_USEC="200000")
    p = subprocess.Popen([collector, "--mode", "plain", "--no-xdp", "--bind",
                          "127.0.0.1", "--port", "19830", "--workers", "1",
                          "--quiet"], env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    seen = []

    def wait_for(field):
        """Messages until one with field; all of them kept in seen."""
        while True:
            try:
                msg = srv.recv(4096).decode()
            except socket.timeout:
                return None
            seen.append(msg)
            if field in msg.split("\n"):
                return msg

    try:
        ready = wait_for("READY=1")
        check("READY=1 once receiving", ready is not None, str(seen))
        check("... with a STATUS", ready and "STATUS=receiving" in ready, str(ready))
        check("WATCHDOG=1 keep-alive", wait_for("WATCHDOG=1") is not None, str(seen))
        p.send_signal(signal.SIGHUP)
        check("RELOADING=1 at SIGHUP", wait_for("RELOADING=1") is not None, str(seen))
        check("READY=1 after the reload", wait_for("READY=1") is not None, str(seen))
        p.send_signal(signal.SIGTERM)
        check("STOPPING=1 at SIGTERM", wait_for("STOPPING=1") is not None, str(seen))
        rc = p.wait(timeout=20)
        check("exit code 0", rc == 0, f"rc={rc} {p.stderr.read().decode()[-300:]}")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
