#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# integration tier: the collector's HTTP API (docs/API.md) on the testbed.
# The collector runs in the collector namespace with XDP on its veth and
# the API on that namespace's loopback; api_checks.py runs there too.
#  1. exact: after a loadgen run with injected loss, duplicates and
#     reordering, every endpoint (totals, clients with paging, sorting and
#     state filter, clients/{id}, get, list, aggregate over the run and a
#     window, the seed's /telemetry/* shapes, healthz, readyz) equals the
#     load generator's report exactly; /api/v1/stats counts exactly the
#     requests made; a window after the traffic stopped holds nothing.
#  2. freshness: a client sending now is served fresh (200); once it stops
#     without BYE, get answers 503 with the value's age, list marks it.
#     Meanwhile every "curl ... # -> STATUS" example of docs/API.md runs
#     and must answer that status.
#  3. errors: 404 unknown client/metric/path, 400 naming each malformed
#     parameter, 405 with Allow, 413, 431; then a bounded fuzz of malformed
#     paths and parameters, each answered by a 4xx JSON error, server up.
#  4. the options' exit codes: --http options without --http, a bad
#     address, a port in use and an address not local (5; on IPv6), a bad
#     or missing token file (2), a missing certificate (3).
#  5. HTTPS and tokens: 401 without or with a wrong token, 403 for a read
#     token on an admin endpoint, 200 otherwise, probes open; SIGHUP
#     reloads the file (a broken file keeps the old tokens).
#  6. limits: 429 with Retry-After past the burst, the connection over the
#     per-source cap closed at accept, both counted in /api/v1/stats.
#
# usage: test_api.sh SOURCE_ROOT COLLECTOR LOADGEN
set -uo pipefail
top=${1:?usage: test_api.sh SOURCE_ROOT COLLECTOR LOADGEN}
collector=${2:?}
loadgen=${3:?}
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../netns/test_collector_lib.sh
. "$top/tests/netns/test_collector_lib.sh"
checks="$here/api_checks.py"
port=7700
http=127.0.0.1:9477
lg_pid=

command -v curl >/dev/null || { echo "FAIL curl not installed: run scripts/deps.sh"; exit 1; }

api_cleanup() {
	[ -n "$lg_pid" ] && kill -KILL "$lg_pid" 2>/dev/null
	lib_cleanup
}
trap api_cleanup EXIT


testbed_up

# ---- 1. exact values ----
start_collector exact --mode plain --iface "$XTEL_COL_IF" \
	--pin-dir "$XTEL_BPFFS/api" --workers 2 --quiet --interval 0.5 \
	--http "$http" --http-rate 0 --fresh-for 1 --stale-after 5 --api-window 60 || exit 1
check "curl reaches /healthz" in_col curl -sf "http://$http/healthz"
veth0=$(veth_drops)	# 20,000/s: see test_prometheus.sh
in_gen "$loadgen" --target "$XTEL_COL_IP4:$port" --mode plain --clients 8 \
	--threads 2 --count 2000 --rate 20000 --loss 0.02 --dup 0.01 \
	--reorder 0.02 --seed 5 --payload 'id={client};seq={seq}' --quiet \
	--report-json "$work/lg.json" >"$work/lg.out" 2>&1
check_eq "loadgen: exit code" 0 "$?"
check_veth_clean "$veth0"
sleep 1.2	# two --interval views: BYE confirmed every gap
run_checks exact python3 "$checks" exact "http://$http" "$work/lg.json"
grep '^SENT ' "$work/exact.check" | cut -d' ' -f2- >"$work/sent.json"
run_checks stats python3 "$checks" stats "http://$http" "$work/sent.json"
sleep 2
run_checks idle python3 "$checks" idle "http://$http" "$work/lg.json"

# ---- 2. freshness ----
# Not through in_gen or timeout: $! must be loadgen itself (ip netns exec
# execs it), to kill it without a BYE; --duration bounds it.
ip netns exec "$XTEL_NS_GEN" "$loadgen" --target "$XTEL_COL_IP4:$port" \
	--mode plain --clients 2 --first-id 101 --rate 100 --duration 20 \
	--payload 'temp={client}' --quiet >/dev/null 2>&1 &
lg_pid=$!
sleep 1.5
run_checks fresh python3 "$checks" fresh "http://$http" 101
run_checks docs python3 "$checks" docs "http://$http" "$top/docs/API.md"
kill -KILL "$lg_pid" 2>/dev/null
wait "$lg_pid" 2>/dev/null
lg_pid=
sleep 1.6	# over --fresh-for 1, under --stale-after 5
run_checks stale python3 "$checks" stale "http://$http" 101

# ---- 3. errors and fuzz ----
run_checks errors python3 "$checks" errors "http://$http"
run_checks fuzz python3 "$checks" fuzz "http://$http" 400 11
stop_collector TERM
check_eq "collector exit code after the API tests" 0 "$col_rc"

# ---- 4. exit codes of the options ----
cplain=(--mode plain --no-xdp --quiet --duration 3)
in_col "$collector" "${cplain[@]}" --http-rate 5 >/dev/null 2>"$work/e1.err"
check_eq "--http-rate without --http: exit 2" 2 "$?"
check "... the message says to add --http" grep -q "needs the HTTP API: add --http" "$work/e1.err"
in_col "$collector" "${cplain[@]}" --http 127.0.0.1:70000 >/dev/null 2>"$work/e2.err"
check_eq "--http with port 70000: exit 2" 2 "$?"
in_col "$collector" "${cplain[@]}" --http localhost:9477 >/dev/null 2>&1
check_eq "--http with a name, not an address: exit 2" 2 "$?"
start_collector busy "${cplain[@]}" --port 7702 --http '[::1]:9480' || exit 1
check "IPv6: --http [::1]:9480 answers" in_col curl -sfg 'http://[::1]:9480/healthz'
in_col "$collector" "${cplain[@]}" --port 7703 --http '[::1]:9480' >/dev/null 2>"$work/e3.err"
check_eq "--http port in use: exit 5" 5 "$?"
check "... the message names the address" grep -qF "[::1]:9480: Address already in use" "$work/e3.err"
stop_collector TERM
in_col "$collector" "${cplain[@]}" --http 198.18.0.99:9480 >/dev/null 2>"$work/e5.err"
check_eq "--http on an address no interface has: exit 5" 5 "$?"
printf 'read sha256:1234\n' >"$work/bad-tokens"
in_col "$collector" "${cplain[@]}" --http 127.0.0.1:9480 --http-tokens "$work/bad-tokens" \
	>/dev/null 2>"$work/e4.err"
check_eq "malformed token file: exit 2" 2 "$?"
check "... the message names the line" grep -q "bad-tokens:1: expected sha256:<64 hex digits>" "$work/e4.err"
in_col "$collector" "${cplain[@]}" --http 127.0.0.1:9480 --http-tokens "$work/none" \
	>/dev/null 2>&1
check_eq "missing token file: exit 2" 2 "$?"
in_col "$collector" "${cplain[@]}" --http 127.0.0.1:9480 --http-cert "$work/none.crt" \
	--http-key "$work/none.key" >/dev/null 2>&1
check_eq "missing --http-cert file: exit 3" 3 "$?"
in_col "$collector" "${cplain[@]}" --http 127.0.0.1:9480 --http-cert "$work/none.crt" \
	>/dev/null 2>&1
check_eq "--http-cert without --http-key: exit 2" 2 "$?"

# ---- 5. HTTPS and tokens ----
"$top/certs/gen.sh" "$work/certs" 1 >/dev/null 2>&1 || { echo "FAIL certs/gen.sh"; exit 1; }
tok_read=read-$(od -An -tx8 -N8 /dev/urandom | tr -d ' ')
tok_admin=admin-$(od -An -tx8 -N8 /dev/urandom | tr -d ' ')
tok_new=new-$(od -An -tx8 -N8 /dev/urandom | tr -d ' ')
sha() { printf %s "$1" | sha256sum | cut -d' ' -f1; }
printf '{"read": "%s", "admin": "%s", "new": "%s"}\n' "$tok_read" "$tok_admin" "$tok_new" \
	>"$work/tokens.json"
{
	echo "# scope hash name"
	echo "read  sha256:$(sha "$tok_read") grafana"
	echo "admin sha256:$(sha "$tok_admin")"
} >"$work/tokens"
start_collector tls --mode plain --no-xdp --quiet --port 7701 --http 127.0.0.1:9478 \
	--http-cert "$work/certs/server.crt" --http-key "$work/certs/server.key" \
	--http-tokens "$work/tokens" --http-rate 0 --interval 0.5 || exit 1
check "HTTPS: curl with the test CA gets /healthz" \
	in_col curl -sf --cacert "$work/certs/ca.crt" https://127.0.0.1:9478/healthz
check "HTTPS: plain HTTP to the TLS port gets no reply" \
	bash -c "! ip netns exec $XTEL_NS_COL curl -sf -m 3 http://127.0.0.1:9478/healthz"
check "HTTPS: the start line says https and tokens" \
	grep -q "HTTP API on https://127.0.0.1:9478 (bearer tokens required)" "$work/tls.err"
sleep 0.6
run_checks auth python3 "$checks" auth https://127.0.0.1:9478 "$work/certs/ca.crt" "$work/tokens.json"
printf 'read sha256:nothex\n' >"$work/tokens"
kill -HUP "$col_pid"
sleep 0.3
check "SIGHUP with a broken file: the reload error is logged" \
	grep -q "reload failed, the previous tokens stay in force" "$work/tls.err"
echo "read sha256:$(sha "$tok_new") rotated" >"$work/tokens"
kill -HUP "$col_pid"
sleep 0.3
run_checks reload python3 "$checks" reload https://127.0.0.1:9478 "$work/certs/ca.crt" "$work/tokens.json"
stop_collector TERM
check_eq "collector exit code after SIGHUPs" 0 "$col_rc"

# ---- 6. rate limit and connection cap ----
start_collector limits --mode plain --no-xdp --quiet --port 7701 --http 127.0.0.1:9479 \
	--http-rate 1 --http-burst 3 --http-source-conns 2 --interval 0.5 || exit 1
sleep 0.6
run_checks ratelimit python3 "$checks" ratelimit http://127.0.0.1:9479 3
sleep 1.2
run_checks conncap python3 "$checks" conncap http://127.0.0.1:9479 2
stop_collector TERM
check_eq "collector exit code after the limits" 0 "$col_rc"

finish
