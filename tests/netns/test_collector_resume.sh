#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# netns tier: session resumption (userspace/dtls/resume.c) end to end. A
# collector with 2 workers (one ticket key for both); the loadgen's clients
# handshake, then reconnect all at once (--reconnect 2, a restart storm):
#  1. with --resume every reconnect is an abbreviated handshake:
#     dtls.handshakes_resumed equals the loadgen's reconnects exactly, and
#     the loadgen counts each as resumed;
#  2. without --resume none is (handshakes_resumed does not move);
#  3. the datagrams sent over the resumed sessions are accounted exactly
#     (received = the loadgen's sent, per client), nothing refused;
#  4. --ticket-key-file: the collector is restarted on the same key file
#     while the clients wait (loadgen --reconnect-after); the new process
#     resumes every one: handshakes_resumed = the resumed reconnects.
#  5. the verification cache (dtls/vcache.c, on by default): every full
#     handshake is a hit or a miss (hits + misses = the full handshakes),
#     a certificate misses at most once per worker, so the 3 full
#     handshakes of each client without --resume hit at least once;
#     with --verify-cache 0 nothing is counted.
# usage: test_collector_resume.sh SOURCE_ROOT COLLECTOR LOADGEN
# (RESUME_CLIENTS: clients per run, default 40)
set -uo pipefail
top=${1:?usage: test_collector_resume.sh SOURCE_ROOT COLLECTOR LOADGEN}
collector=${2:?}
loadgen=${3:?}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=test_collector_lib.sh
. "$here/test_collector_lib.sh"
port=7700
n=${RESUME_CLIENTS:-40}

command -v openssl >/dev/null || { echo "SKIP: openssl not installed"; exit 77; }
certs=$work/certs
"$top/certs/gen.sh" "$certs" $((2 * n)) >/dev/null 2>&1 || { echo "FAIL certs/gen.sh"; exit 1; }

testbed_up
start_collector dtls --no-xdp --workers 2 --quiet --cert "$certs/server.crt" \
	--key "$certs/server.key" --ca "$certs/ca.crt" \
	--summary-json "$work/rs.json" || exit 1

in_gen "$loadgen" --target "$XTEL_COL_IP4:$port" --mode dtls --certs "$certs" \
	--clients "$n" --count 50 --rate 20000 --reconnect 2 --resume --quiet \
	--report-json "$work/with.json" >"$work/with.out" 2>&1
check_eq "loadgen --reconnect 2 --resume: exit code" 0 "$?"
in_gen "$loadgen" --target "$XTEL_COL_IP4:$port" --mode dtls --certs "$certs" \
	--clients "$n" --first-id $((n + 1)) --count 50 --rate 20000 \
	--reconnect 2 --quiet --report-json "$work/without.json" \
	>"$work/without.out" 2>&1
check_eq "loadgen --reconnect 2 (full handshakes): exit code" 0 "$?"

sleep 0.5
stop_collector TERM
check_eq "collector exit code" 0 "$col_rc"

python3 - "$work/rs.json" "$work/with.json" "$work/without.json" "$n" \
	>"$work/rs.check" <<'PY'
import json, sys
s, w, wo = (json.load(open(p)) for p in sys.argv[1:4])
n = int(sys.argv[4])
d = s["dtls"]
def check(what, exp, got):
    print(("ok   " if exp == got else "FAIL ") + f"{what}: expected {exp}, got {got}")
check("loadgen with --resume: reconnects ok, resumed", [2 * n, 2 * n],
      [w["reconnect"]["ok"], w["reconnect"]["resumed"]])
check("loadgen without: reconnects ok, resumed", [2 * n, 0],
      [wo["reconnect"]["ok"], wo["reconnect"]["resumed"]])
check("dtls.handshakes_resumed = the resumed reconnects", 2 * n,
      d["handshakes_resumed"])
check("dtls.handshakes_ok: 2 runs x (first + 2 rounds)", 6 * n,
      d["handshakes_ok"])
check("no refusal, no failed or foreign ticket",
      [0, 0, 0, 0], [d["handshake_failed"], d["ticket_refused"],
                     d["ticket_unknown"], d["record_layer_fallback"]])
sent = w["totals"]["sent"] + wo["totals"]["sent"]
check("totals.received = the loadgen's sent", sent, s["totals"]["received"])
check("nothing lost", 0, s["totals"]["lost"])
lc = {c["client_id"]: c["sent"] for c in w["clients"] + wo["clients"]}
sc = {c["client_id"]: c["received"] for c in s["clients"]}
check("per client: received = sent", lc, sc)
check("verify cache: hits + misses = full handshakes, no eviction",
      [4 * n, 0], [d["verify_cache_hits"] + d["verify_cache_misses"],
                   d["verify_cache_evictions"]])
check("verify cache: misses at most 2 workers x 2n certificates, hits >= n",
      [True, True], [d["verify_cache_misses"] <= 4 * n,
                     d["verify_cache_hits"] >= n])
PY
tally "$work/rs.check"

# 4. A restart on the same --ticket-key-file (made by the first run).
key=$work/ticket.key
dtls_args=(--no-xdp --workers 2 --quiet --cert "$certs/server.crt"
	--key "$certs/server.key" --ca "$certs/ca.crt" --ticket-key-file "$key")
start_collector before "${dtls_args[@]}" --verify-cache 0 \
	--summary-json "$work/before.json" || exit 1
check_eq "--ticket-key-file made 0600, 80 bytes" "600 80" "$(stat -c '%a %s' "$key")"
in_gen "$loadgen" --target "$XTEL_COL_IP4:$port" --mode dtls --certs "$certs" \
	--clients "$n" --threads 1 --count 50 --rate 20000 --reconnect 1 --resume \
	--reconnect-after "$work/restarted" --handshake-timeout 30 --quiet \
	--report-json "$work/restart.json" >"$work/restart.out" 2>"$work/restart.err" &
lg_pid=$!
wait_log "waiting for" "$work/restart.err" "$lg_pid" 600
stop_collector TERM
check_eq "first collector on the key file: exit code" 0 "$col_rc"
start_collector after "${dtls_args[@]}" --summary-json "$work/after.json" || exit 1
touch "$work/restarted"
wait "$lg_pid"
check_eq "loadgen --reconnect-after (resumed across the restart): exit code" 0 "$?"
sleep 0.5
stop_collector TERM
check_eq "restarted collector: exit code" 0 "$col_rc"
python3 - "$work/before.json" "$work/after.json" "$work/restart.json" "$n" \
	>"$work/restart.check" <<'PY'
import json, sys
b, a, lg = (json.load(open(p)) for p in sys.argv[1:4])
n = int(sys.argv[4])
def check(what, exp, got):
    print(("ok   " if exp == got else "FAIL ") + f"{what}: expected {exp}, got {got}")
check("before the restart: full handshakes ok, resumed", [n, 0],
      [b["dtls"]["handshakes_ok"], b["dtls"]["handshakes_resumed"]])
check("--verify-cache 0: no hit, no miss", [0, 0],
      [b["dtls"]["verify_cache_hits"], b["dtls"]["verify_cache_misses"]])
check("loadgen: reconnects ok, resumed", [n, n],
      [lg["reconnect"]["ok"], lg["reconnect"]["resumed"]])
d = a["dtls"]
check("after: handshakes_resumed = the resumed reconnects", n,
      d["handshakes_resumed"])
check("after: handshakes_ok, failed, ticket_unknown, ticket_refused",
      [n, 0, 0, 0], [d["handshakes_ok"], d["handshake_failed"],
                     d["ticket_unknown"], d["ticket_refused"]])
check("after: totals.received = the loadgen's sent", lg["totals"]["sent"],
      a["totals"]["received"])
PY
tally "$work/restart.check"
finish
