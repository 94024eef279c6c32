// SPDX-License-Identifier: MIT
/*
 * Google Benchmark of the DTLS layer (userspace/dtls/), in memory:
 *   BM_server_record     server input of one 100-byte telemetry record on an
 *                        established session (decrypt, replay window, client
 *                        id check, delivery callback), ns per record;
 *                        /0 the built-in record layer, /1 OpenSSL's
 *                        (cfg.openssl_records)
 *   BM_handshake         full mutual-auth handshake including the cookie
 *                        exchange, both ends on this thread, per handshake
 *   BM_session_memory    heap bytes per established server session
 *                        (mallinfo2 delta over 1000 sessions); /1000/0 the
 *                        built-in record layer, /1000/1 OpenSSL's; /../1
 *                        after one record from each client (the server
 *                        then drops the last flight it kept for resending)
 *   BM_half_open_attack  heap bytes per half-open handshake (mallinfo2
 *                        delta over a full table of 256, one source
 *                        address each): bytes_idle waiting for the
 *                        client's flight, bytes_attacked after the
 *                        pre-authentication attack of
 *                        tests/lib/dtls_attack.h (111 datagrams each),
 *                        bytes_added the difference (issue 10's target:
 *                        under 32 KiB)
 *
 * usage: bench_dtls SOURCE_ROOT [benchmark flags]
 * Certificates are generated with SOURCE_ROOT/certs/gen.sh into a temporary
 * /tmp/xtel-bench-dtls.* directory that is removed when the benchmarks end,
 * also when they fail, exit early or are stopped by a signal (they run in a
 * child process; the parent removes the directory).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <malloc.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "dtls_attack.h"

extern "C" {
#include "common/clock.h"
#include "common/log.h"
#include "dtls/client.h"
#include "dtls/server.h"
#include "wire/wire.h"
}

namespace {

enum { XTEL_DGRAM_BUF = 1500 };

std::string certdir;

std::string cert(const char *rel)
{
	return certdir + "/" + rel;
}

struct dgram {
	sockaddr_in to;
	std::vector<unsigned char> data;
};

// One server; datagrams it sends are queued for the bench to route.
struct bench_net {
	xtel_dtls_server *srv = nullptr;
	xtel_dtls_client_ctx *cctx = nullptr;
	xtel_dtls_identity *id = nullptr;
	std::vector<dgram> out;
	uint64_t delivered = 0;

	explicit bench_net(bool openssl_records = false)
	{
		xtel_dtls_server_cfg cfg = {};
		std::string crt = cert("server.crt"), key = cert("server.key"),
			    ca = cert("ca.crt");

		cfg.cert_file = crt.c_str();
		cfg.key_file = key.c_str();
		cfg.ca_file = ca.c_str();
		cfg.max_sessions = 4096;
		cfg.max_half_open = 256;
		cfg.openssl_records = openssl_records;
		cfg.send = [](void *arg, const sockaddr *peer, socklen_t,
			      const void *buf, size_t len) {
			auto *n = static_cast<bench_net *>(arg);
			dgram d;

			memcpy(&d.to, peer, sizeof(d.to));
			d.data.assign((const unsigned char *)buf,
				      (const unsigned char *)buf + len);
			n->out.push_back(std::move(d));
		};
		cfg.send_arg = this;
		cfg.on_data = [](void *arg, uint32_t, const sockaddr *, socklen_t,
				 const void *, size_t) {
			static_cast<bench_net *>(arg)->delivered++;
		};
		cfg.data_arg = this;
		// Failures were logged (the server's warnings are not shown).
		xtel_log_setup("bench_dtls", XTEL_LOG_ERR);
		if (xtel_dtls_server_new(&srv, &cfg) ||
		    xtel_dtls_client_ctx_new(&cctx, ca.c_str(), nullptr, nullptr) ||
		    xtel_dtls_identity_load(&id, cert("client-1.crt").c_str(),
					    cert("client-1.key").c_str()))
			abort();
	}
	~bench_net()
	{
		xtel_dtls_server_free(srv);
		xtel_dtls_client_ctx_free(cctx);
		xtel_dtls_identity_free(id);
	}

	// Run one client's handshake to completion from addr.
	xtel_dtls_client *connect(const sockaddr_in &addr)
	{
		unsigned char buf[XTEL_DGRAM_BUF];
		xtel_dtls_client *c;
		uint64_t now = xtel_mono_ns();

		if (xtel_dtls_client_new(&c, cctx, id, nullptr, 0) ||
		    xtel_dtls_client_start(c, now))
			abort();
		for (int round = 0; round < 20; round++) {
			ssize_t len;
			bool moved = false;

			while ((len = xtel_dtls_client_pop(c, buf, sizeof(buf))) > 0) {
				moved = true;
				xtel_dtls_server_input(srv, (const sockaddr *)&addr,
						       sizeof(addr), buf,
						       (size_t)len, now);
			}
			for (auto &d : out) {
				moved = true;
				xtel_dtls_client_input(c, d.data.data(),
						       d.data.size(), now);
			}
			out.clear();
			if (!moved)
				break;
		}
		if (xtel_dtls_client_state(c) != XTEL_DTLS_CLIENT_ESTABLISHED) {
			fprintf(stderr, "bench_dtls: handshake failed: %s\n",
				xtel_dtls_client_error(c));
			abort();
		}
		return c;
	}

	// Leave a handshake from addr half-open: ClientHello, our
	// HelloVerifyRequest, ClientHello with the cookie; our flight is
	// dropped and the client freed, so only the server holds memory.
	void half_open(const sockaddr_in &addr)
	{
		unsigned char buf[XTEL_DGRAM_BUF];
		xtel_dtls_client *c;
		uint64_t now = xtel_mono_ns();

		if (xtel_dtls_client_new(&c, cctx, nullptr, nullptr, 0) ||
		    xtel_dtls_client_start(c, now))
			abort();
		for (int step = 0; step < 2; step++) {
			ssize_t len = xtel_dtls_client_pop(c, buf, sizeof(buf));

			if (len <= 0)
				abort();
			out.clear();
			xtel_dtls_server_input(srv, (const sockaddr *)&addr,
					       sizeof(addr), buf, (size_t)len, now);
			if (out.empty())
				abort();
			if (step == 0)
				xtel_dtls_client_input(c, out[0].data.data(),
						       out[0].data.size(), now);
		}
		out.clear();
		xtel_dtls_client_free(c);
	}
};

sockaddr_in peer_addr(uint32_t n)
{
	sockaddr_in a = {};

	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(0xc6120100u + (n >> 16));	// 198.18.1.x
	a.sin_port = htons((uint16_t)(1024 + (n & 0x7fff)));
	return a;
}

void BM_server_record(benchmark::State &state)
{
	bench_net net(state.range(0) != 0);
	sockaddr_in addr = peer_addr(1);
	xtel_dtls_client *c = net.connect(addr);
	enum { BATCH = 4096 };
	std::vector<std::vector<unsigned char>> recs(BATCH);
	unsigned char plain[XTEL_MAX_DATAGRAM], buf[XTEL_DGRAM_BUF];
	// 72 bytes of metrics + 28-byte header = a 100-byte datagram.
	const char payload[] = "cpu=0.5,mem=1234567,disk=99.5,net_rx=123456789,"
			       "net_tx=987654321,load=1.5";
	static_assert(sizeof(payload) - 1 == 72, "100-byte record");
	uint64_t seq = 1;
	size_t i = BATCH;

	for (auto _ : state) {
		if (i == BATCH) {
			state.PauseTiming();
			for (auto &r : recs) {
				ssize_t len = xtel_wire_encode(plain, sizeof(plain),
					XTEL_MSG_DATA, 1, seq++, 0, payload,
					sizeof(payload) - 1);

				if (xtel_dtls_client_write(c, plain, (size_t)len))
					abort();
				len = xtel_dtls_client_pop(c, buf, sizeof(buf));
				r.assign(buf, buf + len);
			}
			i = 0;
			state.ResumeTiming();
		}
		xtel_dtls_server_input(net.srv, (const sockaddr *)&addr,
				       sizeof(addr), recs[i].data(),
				       recs[i].size(), 0);
		i++;
	}
	if (net.delivered != (uint64_t)state.iterations()) {
		state.SkipWithError("records were lost");
	}
	state.SetItemsProcessed(state.iterations());
	state.counters["dgram_bytes"] = (double)recs[0].size();
	xtel_dtls_client_free(c);
}
BENCHMARK(BM_server_record)->Arg(0)->Arg(1);

void BM_handshake(benchmark::State &state)
{
	bench_net net;
	unsigned char buf[XTEL_DGRAM_BUF];
	uint32_t n = 0;

	for (auto _ : state) {
		sockaddr_in addr = peer_addr(n++);
		xtel_dtls_client *c = net.connect(addr);
		ssize_t len;

		// close_notify keeps the server's session table from filling.
		xtel_dtls_client_close(c);
		while ((len = xtel_dtls_client_pop(c, buf, sizeof(buf))) > 0)
			xtel_dtls_server_input(net.srv, (const sockaddr *)&addr,
					       sizeof(addr), buf, (size_t)len, 0);
		net.out.clear();
		xtel_dtls_client_free(c);
	}
	state.counters["handshakes_per_s"] =
		benchmark::Counter((double)state.iterations(),
				   benchmark::Counter::kIsRate);
}
BENCHMARK(BM_handshake)->Unit(benchmark::kMicrosecond);

/*
 * One telemetry record from c: the proof that our last flight arrived,
 * after which the server keeps only the established session.
 */
static void send_one(bench_net &net, xtel_dtls_client *c, const sockaddr_in &addr)
{
	unsigned char plain[XTEL_MAX_DATAGRAM], buf[XTEL_DGRAM_BUF];
	ssize_t len = xtel_wire_encode(plain, sizeof(plain), XTEL_MSG_DATA, 1, 1,
				       0, "t=1", 3);

	if (len < 0 || xtel_dtls_client_write(c, plain, (size_t)len))
		abort();
	while ((len = xtel_dtls_client_pop(c, buf, sizeof(buf))) > 0)
		xtel_dtls_server_input(net.srv, (const sockaddr *)&addr,
				       sizeof(addr), buf, (size_t)len, 0);
}

void BM_session_memory(benchmark::State &state)
{
	const uint32_t sessions = (uint32_t)state.range(0);

	for (auto _ : state) {
		bench_net net(state.range(1) != 0);
		// Warm up OpenSSL's lazily built tables before measuring.
		xtel_dtls_client_free(net.connect(peer_addr(100000)));
		size_t before = mallinfo2().uordblks;

		for (uint32_t i = 0; i < sessions; i++) {
			sockaddr_in addr = peer_addr(i);
			xtel_dtls_client *c = net.connect(addr);

			if (state.range(2))
				send_one(net, c, addr);
			xtel_dtls_client_free(c);
		}
		size_t after = mallinfo2().uordblks;

		if (xtel_dtls_server_sessions(net.srv) != sessions + 1)
			state.SkipWithError("sessions missing");
		state.counters["bytes_per_session"] =
			(double)(after - before) / sessions;
	}
}
BENCHMARK(BM_session_memory)->Args({1000, 0, 0})->Args({1000, 1, 0})
	->Args({1000, 0, 1})->Args({1000, 1, 1})
	->Iterations(1)->Unit(benchmark::kMillisecond);

void BM_half_open_attack(benchmark::State &state)
{
	const uint32_t n = (uint32_t)state.range(0);

	for (auto _ : state) {
		bench_net net;
		unsigned char d[ATTACK_DGRAM_MAX];
		xtel_dtls_server_stats st;
		uint64_t now = xtel_mono_ns();

		// Warm up OpenSSL's lazily built tables before measuring.
		xtel_dtls_client_free(net.connect(peer_addr(100000)));
		size_t before = mallinfo2().uordblks;

		// One source address each: 198.18.2.0 and up, port 4000.
		std::vector<sockaddr_in> addrs(n);
		for (uint32_t i = 0; i < n; i++) {
			addrs[i] = peer_addr(0);
			addrs[i].sin_addr.s_addr = htonl(0xc6120200u + i);
			addrs[i].sin_port = htons(4000);
			net.half_open(addrs[i]);
		}
		size_t opened = mallinfo2().uordblks;

		for (uint32_t i = 0; i < n; i++)
			for (unsigned int k = 0; k < ATTACK_DGRAMS; k++)
				xtel_dtls_server_input(net.srv,
					(const sockaddr *)&addrs[i],
					sizeof(addrs[i]), d, attack_dgram(d, k),
					now);
		size_t attacked = mallinfo2().uordblks;

		if (xtel_dtls_server_half_open(net.srv) != n)
			state.SkipWithError("half-open handshakes missing");
		xtel_dtls_server_get_stats(net.srv, &st);
		state.counters["bytes_idle"] =
			((double)opened - (double)before) / n;
		state.counters["bytes_attacked"] =
			((double)attacked - (double)before) / n;
		state.counters["bytes_added"] =
			((double)attacked - (double)opened) / n;
		state.counters["estimate"] = (double)st.half_open_bytes / n;
	}
}
BENCHMARK(BM_half_open_attack)->Arg(256)->Iterations(1)
	->Unit(benchmark::kMillisecond);

/*
 * Removes the certificate directory and everything in it (gen.sh writes a
 * bad/ subdirectory too). nftw instead of system("rm -rf"): no shell, and
 * a failure is reported.
 */
int remove_entry(const char *path, const struct stat *, int, struct FTW *)
{
	if (remove(path) != 0) {
		fprintf(stderr, "bench_dtls: cannot remove %s: %s\n", path,
			strerror(errno));
		return -1;
	}
	return 0;
}

volatile sig_atomic_t child_pid;

void forward_signal(int sig)
{
	if (child_pid > 0)
		kill(child_pid, sig);
}

/*
 * Generates the certificates and runs the benchmarks in a child, whose
 * exit status is returned. Google Benchmark ends the process itself on
 * some errors, and a timeout (meson, the suite) sends a signal: none of
 * that can skip the parent's removal of the directory.
 */
int run_child(const char *src_root)
{
	struct sigaction sa = {};
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0) {
		perror("bench_dtls: fork");
		return 1;
	}
	if (pid == 0) {
		std::string cmd = std::string("'") + src_root + "/certs/gen.sh' '" +
				  certdir + "' 2 >/dev/null";

		if (system(cmd.c_str()) != 0) {
			fprintf(stderr, "bench_dtls: %s failed\n", cmd.c_str());
			_exit(1);
		}
		benchmark::RunSpecifiedBenchmarks();
		benchmark::Shutdown();
		fflush(stdout);
		_exit(0);
	}
	child_pid = pid;
	sa.sa_handler = forward_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, nullptr);
	sigaction(SIGTERM, &sa, nullptr);
	sigaction(SIGHUP, &sa, nullptr);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			perror("bench_dtls: waitpid");
			return 1;
		}
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	fprintf(stderr, "bench_dtls: benchmarks ended by signal %d\n",
		WTERMSIG(status));
	return 128 + WTERMSIG(status);
}

}  // namespace

int main(int argc, char **argv)
{
	char dir[] = "/tmp/xtel-bench-dtls.XXXXXX";
	const char *src_root;
	int ret;

	if (argc < 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: bench_dtls SOURCE_ROOT [benchmark flags]\n");
		return 2;
	}
	src_root = argv[1];
	argv[1] = argv[0];
	argc--;
	/*
	 * Flags first: --help and --benchmark_list_tests end the process inside
	 * Initialize, before anything exists that would need removing (every
	 * `bench_dtls SRC --help` the suite ran to recognise Google Benchmark
	 * used to leave a directory behind).
	 */
	benchmark::Initialize(&argc, argv + 1);
	if (benchmark::ReportUnrecognizedArguments(argc, argv + 1))
		return 2;
	if (mkdtemp(dir) == nullptr) {
		perror("bench_dtls: mkdtemp");
		return 1;
	}
	certdir = dir;
	ret = run_child(src_root);
	if (nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
		ret = 1;
	return ret;
}
