#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# integration tier: the aggregator applies every edge message exactly once,
# also when a copy comes back after the stream's duplicate window
# (docs/SCALE-OUT.md, "Exactly-once merging"). One real nats-server with
# JetStream on loopback (ports 47500-47501 by default), one aggregator with a 1 s
# duplicate window, and agg_publish as the edge: message e1.100.1.0
# (client 7, 10 datagrams) is stored and applied; after the window has
# passed (and the aggregator forgot what it would have pruned) the same id
# is stored a second time, as an edge's spill resend after a long outage
# would be. (Only lower bounds of time matter: sleeps past the window.) The
# aggregator's totals must stay those of the first copy (10 received) and
# `duplicates` must be 1. Then the out-of-order and hole cases of a second
# run (seq 3, then 1, then 3 again), and a restarted aggregator refusing a
# resend of seq 1 from its checkpoint. Last a message whose id is not its
# header's edge id (a foreign publisher's): merged, kept by id only, and
# counted in `foreign_messages` (exactly 1; 0 while only edge ids came).
# About 15 s, no root. XTEL_AGG_ONCE_PORT_BASE moves the two ports.
# usage: test_agg_once.sh COLLECTOR AGG_PUBLISH
set -uo pipefail
collector=${1:?usage: test_agg_once.sh COLLECTOR AGG_PUBLISH}
publish=${2:?}
command -v nats-server >/dev/null || { echo "FAIL nats-server not installed: run scripts/deps.sh"; exit 1; }
command -v curl >/dev/null || { echo "FAIL curl not installed: run scripts/deps.sh"; exit 1; }

nats_port=${XTEL_AGG_ONCE_PORT_BASE:-47500}
http=127.0.0.1:$((nats_port + 1))
url=nats://127.0.0.1:$nats_port
work=$(mktemp -d /tmp/xtel-agg-once.XXXXXX)
nats_pid=
agg_pid=
passes=0
fails=0

cleanup() {
	local p
	for p in $agg_pid $nats_pid; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	rm -rf "$work"
}
trap cleanup EXIT

check_eq() { # what expected actual
	if [ "$2" = "$3" ]; then
		echo "ok   $1 ($3)"; passes=$((passes + 1))
	else
		echo "FAIL $1: expected '$2', got '$3'"; fails=$((fails + 1))
	fi
}
stat() { # NAME: the aggregator's counter or gauge from /api/v1/stats
	curl -sf "http://$http/api/v1/stats" | python3 -c \
		'import json,sys; print(json.load(sys.stdin)["aggregate"][sys.argv[1]])' "$1"
}
received() { # SITE: the aggregator's totals of that site
	curl -sf "http://$http/api/v1/totals?site=$1" | python3 -c \
		'import json,sys; print(json.load(sys.stdin)["totals"]["received"])'
}
wait_stat() { # NAME VALUE: until the counter has that value (20 s at most)
	for _ in $(seq 100); do
		[ "$(stat "$1" 2>/dev/null)" = "$2" ] && return 0
		sleep 0.2
	done
	echo "FAIL waiting for $1 = $2 (it is $(stat "$1"))"
	fails=$((fails + 1))
	return 1
}
pub() { # SITE EDGE RUN SEQ: one message of 10 datagrams of client 7
	"$publish" "$url" "$1" "$2" "$3" "$4" 0 1 7 10
}
# pub_late SITE EDGE RUN SEQ: the same id once JetStream forgot it: the
# window has passed, but the server drops its ids on a timer, so a copy
# it still calls a duplicate (not stored, nothing delivered) is sent again
pub_late() {
	local r
	for _ in $(seq 40); do
		r=$(pub "$@")
		[ "${r% duplicate 1}" = "$r" ] && break
		sleep 0.25
	done
	echo "$r"
}
agg_start() { # NAME
	"$collector" --aggregate "$url" --agg-db "$work/agg.db" --agg-dup-window 1 \
		--agg-ack-wait 2 --agg-batch 16 --http "$http" --http-rate 0 \
		--interval 0.2 --stale-after 600 >"$work/$1.out" 2>"$work/$1.err" &
	agg_pid=$!
	for _ in $(seq 100); do
		grep -q "aggregate: consumer" "$work/$1.err" && return 0
		sleep 0.1
	done
	echo "FAIL the aggregator did not bind its consumer"
	cat "$work/$1.err"
	exit 1
}
agg_stop() {
	kill -TERM "$agg_pid"
	wait "$agg_pid"
	agg_pid=
}

nats-server -js -a 127.0.0.1 -p "$nats_port" -sd "$work/js" >"$work/nats.log" 2>&1 &
nats_pid=$!
agg_start agg

# the first copy: stored, applied
check_eq "first copy stored" "stored 1 duplicate 0" "$(pub s1 e1 100 1)"
wait_stat applied 1
check_eq "first copy applied: site s1 received" 10 "$(received s1)"
# past the window: what the aggregator would forget by then is forgotten
# (its per-id table pruned: nothing left in it), and JetStream stores the
# resend as a new message
sleep 1.5
wait_stat applied_ids 0
check_eq "resend after the window stored again" "stored 2 duplicate 0" "$(pub_late s1 e1 100 1)"
wait_stat messages 2
wait_stat acks 2
check_eq "late resend refused: duplicates" 1 "$(stat duplicates)"
check_eq "late resend refused: stored_duplicates (delivered once, stored twice)" 1 "$(stat stored_duplicates)"
check_eq "late resend refused: applied" 1 "$(stat applied)"
check_eq "late resend refused: site s1 received as after the first copy" 10 "$(received s1)"

# a second run of the edge, out of order with a hole: seq 3 before seq 1;
# seq 2 never comes (a view the edge dropped); seq 3 again after the window
check_eq "run 200 seq 3 stored" "stored 3 duplicate 0" "$(pub s2 e1 200 3)"
check_eq "run 200 seq 1 stored" "stored 4 duplicate 0" "$(pub s2 e1 200 1)"
wait_stat applied 3
sleep 1.2
check_eq "run 200 seq 3 stored again after the window" "stored 5 duplicate 0" "$(pub_late s2 e1 200 3)"
wait_stat acks 5
check_eq "run 200: duplicates" 2 "$(stat duplicates)"
check_eq "run 200: site s2 received (seq 1 and 3 once)" 20 "$(received s2)"
check_eq "ranges: run 100 [1], run 200 [1] and [3]" 3 "$(stat applied_ranges)"
check_eq "only edge ids so far: foreign_messages" 0 "$(stat foreign_messages)"

# the sets are in the checkpoint: a restarted aggregator refuses seq 1
# of run 100 once more, and still applies the hole (run 200 seq 2) once
agg_stop
agg_start agg2
check_eq "restarted: run 100 seq 1 stored again" "stored 6 duplicate 0" "$(pub_late s1 e1 100 1)"
check_eq "restarted: run 200 seq 2 (the hole) stored" "stored 7 duplicate 0" "$(pub s2 e1 200 2)"
wait_stat acks 2
check_eq "restarted: duplicates" 1 "$(stat duplicates)"
check_eq "restarted: applied (the hole)" 1 "$(stat applied)"
check_eq "restarted: site s1 received" 10 "$(received s1)"
check_eq "restarted: site s2 received" 30 "$(received s2)"
check_eq "restarted: the hole filled, run 200 one range" 2 "$(stat applied_ranges)"

# a foreign publisher's message: an id of the edge form that its header
# (edge e1) contradicts. Merged once, but kept by id (pruned), not in a
# range: counted in foreign_messages, on /metrics too
check_eq "foreign id stored" "stored 8 duplicate 0" \
	"$("$publish" "$url" s3 e1 300 1 0 1 7 10 e9.300.1.0)"
wait_stat applied 2
wait_stat acks 3
check_eq "foreign id: foreign_messages" 1 "$(stat foreign_messages)"
check_eq "foreign id: site s3 received" 10 "$(received s3)"
check_eq "foreign id: no range for it" 2 "$(stat applied_ranges)"
check_eq "foreign id: on /metrics" 1 "$(curl -sf "http://$http/metrics" |
	awk '$1 == "xtel_aggregate_foreign_messages_total" { print $2 }')"
agg_stop

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
