# SPDX-License-Identifier: MIT
# A 3-node NATS JetStream cluster of Debian's nats-server for the tests,
# the benchmark and the demo (sourced, not run). Every node listens on
# 127.0.0.1 of the namespace it is started in: client ports BASE..BASE+2,
# cluster routes BASE+10..12, monitoring BASE+20..22. Each node has
# server_name and the shared cluster.name (JetStream refuses to cluster
# without them) and routes to all three. State lives under $NATS_DIR.
#
#   nats_up DIR BASE [WRAP...]   start n1..n3 (WRAP: e.g. ip netns exec NS)
#   nats_urls                    nats://127.0.0.1:BASE,... (all three)
#   nats_kill I [SIGNAL]         stop node I (KILL by default), wait for it
#   nats_start I                 start node I again (same store)
#   nats_down                    stop every node (trap-safe, idempotent)
#   nats_wait_js                 wait until JetStream has a meta leader

NATS_PIDS=(0 0 0 0)
NATS_DIR=
NATS_BASE=
NATS_WRAP=()

nats_conf() { # I
	local i=$1 c r
	c=$((NATS_BASE + i - 1))
	r=""
	for j in 1 2 3; do
		r="$r${r:+, }nats-route://127.0.0.1:$((NATS_BASE + 9 + j))"
	done
	mkdir -p "$NATS_DIR/n$i"
	cat >"$NATS_DIR/n$i.conf" <<CONF
server_name: n$i
listen: 127.0.0.1:$c
http: 127.0.0.1:$((NATS_BASE + 19 + i))
jetstream {
	store_dir: "$NATS_DIR/n$i"
	max_memory_store: 64MB
	max_file_store: 2GB
}
cluster {
	name: xtel
	listen: 127.0.0.1:$((NATS_BASE + 9 + i))
	routes: [$r]
}
CONF
}

nats_start() { # I
	local i=$1
	"${NATS_WRAP[@]}" nats-server -c "$NATS_DIR/n$i.conf" \
		>>"$NATS_DIR/n$i.log" 2>&1 &
	NATS_PIDS[$i]=$!
}

nats_up() { # DIR BASE [WRAP...]
	NATS_DIR=$1
	NATS_BASE=$2
	shift 2
	NATS_WRAP=("$@")
	command -v nats-server >/dev/null || { echo "FAIL nats-server not installed: run scripts/deps.sh"; return 1; }
	for i in 1 2 3; do
		nats_conf "$i"
		nats_start "$i"
	done
	nats_wait_js
}

nats_urls() {
	echo "nats://127.0.0.1:$NATS_BASE,nats://127.0.0.1:$((NATS_BASE + 1)),nats://127.0.0.1:$((NATS_BASE + 2))"
}

# The monitoring endpoint of the first live node answers /healthz?js-enabled-only
# and /jsz reports a meta leader.
nats_wait_js() {
	local i port
	for _ in $(seq 200); do
		for i in 1 2 3; do
			[ "${NATS_PIDS[$i]}" -gt 0 ] || continue
			port=$((NATS_BASE + 19 + i))
			if "${NATS_WRAP[@]}" curl -sf "http://127.0.0.1:$port/jsz" 2>/dev/null |
				grep -q '"leader"'; then
				return 0
			fi
		done
		sleep 0.1
	done
	echo "FAIL the NATS cluster elected no JetStream leader in 20 s"
	return 1
}

nats_kill() { # I [SIGNAL]
	local i=$1 sig=${2:-KILL}
	if [ "${NATS_PIDS[$i]}" -gt 0 ]; then
		kill "-$sig" "${NATS_PIDS[$i]}" 2>/dev/null
		wait "${NATS_PIDS[$i]}" 2>/dev/null || true
	fi
	NATS_PIDS[$i]=0
}

nats_down() {
	for i in 1 2 3; do
		nats_kill "$i" TERM
	done
}
