# SPDX-License-Identifier: MIT
"""The ok/FAIL lines of the Python checkers (api_checks.py, prom_checks.py,
stream_checks.py in tests/integration): check() prints "ok   what" (with the
value when it is short) or "FAIL what: expected X, got Y" and returns whether
it held. The test scripts tally these lines (tally in
tests/netns/test_collector_lib.sh); passes and fails count them for a
checker's own exit code."""

passes = 0
fails = 0


def check(what, exp, got):
    global passes, fails
    good = exp == got
    if good:
        passes += 1
        shown = repr(got)
        print("ok   " + what + (f" ({shown})" if len(shown) <= 160 else ""))
    else:
        fails += 1
        print(f"FAIL {what}: expected {exp!r}, got {got!r}")
    return good
