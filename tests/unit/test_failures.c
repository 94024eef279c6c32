// SPDX-License-Identifier: MIT
/*
 * Unit tests of the rings of recent DTLS handshake failures
 * (userspace/collector/failures.c): exact events back from one ring and
 * merged over several, the newest ones kept when a ring wraps, the peer
 * as the summary prints it, and a reader racing a writer that never sees
 * a torn event.
 *
 * usage: test_failures
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "collector/failures.h"

static struct sockaddr_storage addr(const char *ip, uint16_t port)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(ip, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		assert_int_equal(inet_pton(AF_INET6, ip, &s6->sin6_addr), 1);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		assert_int_equal(inet_pton(AF_INET, ip, &s4->sin_addr), 1);
	}
	return ss;
}

static void push(struct xtel_fail_ring *r, uint32_t path, uint64_t t,
		 const char *ip, uint16_t port, enum xtel_dtls_fail why,
		 uint32_t id)
{
	struct sockaddr_storage ss = addr(ip, port);

	xtel_fail_ring_push(r, path, t, (struct sockaddr *)&ss, why, id);
}

static void assert_event(const struct xtel_fail_event *e, uint64_t t,
			 const char *peer, enum xtel_dtls_fail why, uint32_t id,
			 uint32_t path)
{
	char buf[64];

	xtel_fail_format_peer(e, buf, sizeof(buf));
	assert_int_equal(e->time_ns, t);
	assert_string_equal(buf, peer);
	assert_int_equal(e->reason, why);
	assert_int_equal(e->client_id, id);
	assert_int_equal(e->path, path);
}

/* Two rings merged by time; fewer asked for: the newest. */
static void test_merge(void **state)
{
	static struct xtel_fail_ring a, b;
	const struct xtel_fail_ring *rings[2] = { &a, &b };
	struct xtel_fail_event out[XTEL_RECENT_FAILURES];

	(void)state;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	assert_int_equal(xtel_fail_recent(rings, 2, out, 16), 0);
	push(&a, 0, 100, "198.18.0.2", 40001, XTEL_DTLS_FAILED_REVOKED, 3);
	push(&a, 0, 200, "::ffff:198.18.0.5", 7, XTEL_DTLS_FAILED_DENIED, 9);
	push(&a, 0, 300, "2001:2::2", 40002, XTEL_DTLS_FAILED_UNKNOWN_CA, 0);
	push(&b, 1, 150, "198.18.1.9", 65535, XTEL_DTLS_FAILED_NO_CERT, 0);
	push(&b, 1, 250, "2001:2:0:1::7", 1, XTEL_DTLS_FAILED_OTHER, 4294967295u);

	assert_int_equal(xtel_fail_recent(rings, 2, out, 16), 5);
	assert_event(&out[0], 100, "198.18.0.2:40001", XTEL_DTLS_FAILED_REVOKED, 3, 0);
	assert_event(&out[1], 150, "198.18.1.9:65535", XTEL_DTLS_FAILED_NO_CERT, 0, 1);
	assert_event(&out[2], 200, "198.18.0.5:7", XTEL_DTLS_FAILED_DENIED, 9, 0);
	assert_event(&out[3], 250, "[2001:2:0:1::7]:1", XTEL_DTLS_FAILED_OTHER,
		     4294967295u, 1);
	assert_event(&out[4], 300, "[2001:2::2]:40002",
		     XTEL_DTLS_FAILED_UNKNOWN_CA, 0, 0);

	assert_int_equal(xtel_fail_recent(rings, 2, out, 3), 3);
	assert_int_equal(out[0].time_ns, 200);
	assert_int_equal(out[1].time_ns, 250);
	assert_int_equal(out[2].time_ns, 300);
	assert_int_equal(xtel_fail_recent(rings, 0, out, 3), 0);
}

/* A ring that wrapped gives its newest XTEL_FAIL_RING_SLOTS events. */
static void test_wrap(void **state)
{
	static struct xtel_fail_ring r;
	const struct xtel_fail_ring *rings[1] = { &r };
	struct xtel_fail_event out[XTEL_RECENT_FAILURES];

	(void)state;
	memset(&r, 0, sizeof(r));
	for (uint32_t k = 0; k < 20; k++)
		push(&r, 5, 1000 + k, "198.18.0.2", (uint16_t)k,
		     (enum xtel_dtls_fail)(k % XTEL_DTLS_NFAILS), k);
	assert_int_equal(r.head, 20);
	assert_int_equal(xtel_fail_recent(rings, 1, out, 16), 16);
	for (uint32_t i = 0; i < 16; i++) {
		char peer[32];

		snprintf(peer, sizeof(peer), "198.18.0.2:%u", i + 4);
		assert_event(&out[i], 1004 + i, peer,
			     (enum xtel_dtls_fail)((i + 4) % XTEL_DTLS_NFAILS),
			     i + 4, 5);
	}
}

static struct xtel_fail_ring race;
static unsigned long race_reads;	/* reads the reader completed */
enum { RACE_EVENTS = 64000, RACE_BURST = 64 };

/* Until the reader has completed n more reads (it runs on its own). */
static void wait_reads(unsigned long n)
{
	unsigned long want = __atomic_load_n(&race_reads, __ATOMIC_ACQUIRE) + n;

	while (__atomic_load_n(&race_reads, __ATOMIC_ACQUIRE) < want)
		sched_yield();
}

static void *writer(void *arg)
{
	(void)arg;
	for (uint32_t k = 1; k <= RACE_EVENTS; k++) {
		/*
		 * After each burst, two of the reader's reads: at least one
		 * of them lies wholly in the pause, whatever the scheduler
		 * does, so some reads always see whole rings.
		 */
		if (k % RACE_BURST == 1)
			wait_reads(2);
		struct sockaddr_in6 s6 = { .sin6_family = AF_INET6 };

		s6.sin6_port = htons((uint16_t)k);
		memcpy(&s6.sin6_addr, &k, sizeof(k));
		memcpy((char *)&s6.sin6_addr + 12, &k, sizeof(k));
		xtel_fail_ring_push(&race, 2, k, (struct sockaddr *)&s6,
				    (enum xtel_dtls_fail)(k % XTEL_DTLS_NFAILS), k);
	}
	return NULL;
}

/*
 * While a writer pushes RACE_EVENTS events, every event a reader gets is
 * whole (its fields all derive from its number) and in order; at the end
 * the newest 16 come back.
 */
static void test_race(void **state)
{
	const struct xtel_fail_ring *rings[1] = { &race };
	struct xtel_fail_event out[XTEL_RECENT_FAILURES];
	unsigned long reads = 0, events = 0;
	pthread_t t;

	(void)state;
	assert_int_equal(pthread_create(&t, NULL, writer, NULL), 0);
	while (__atomic_load_n(&race.head, __ATOMIC_ACQUIRE) < RACE_EVENTS) {
		unsigned int n = xtel_fail_recent(rings, 1, out, 16);

		reads++;
		__atomic_store_n(&race_reads, reads, __ATOMIC_RELEASE);
		for (unsigned int i = 0; i < n; i++) {
			uint32_t k = (uint32_t)out[i].time_ns, a0, a3;

			memcpy(&a0, out[i].addr, 4);
			memcpy(&a3, out[i].addr + 12, 4);
			assert_int_equal(out[i].client_id, k);
			assert_int_equal(out[i].reason, k % XTEL_DTLS_NFAILS);
			assert_int_equal(out[i].port, (uint16_t)k);
			assert_int_equal(a0, k);
			assert_int_equal(a3, k);
			assert_int_equal(out[i].family, AF_INET6);
			assert_int_equal(out[i].path, 2);
			if (i > 0)
				assert_true(out[i].time_ns > out[i - 1].time_ns);
			events++;
		}
	}
	pthread_join(t, NULL);
	/* A whole ring per burst at least (the first ones are shorter). */
	assert_true(events >= 16 * (RACE_EVENTS / RACE_BURST - 1));
	assert_int_equal(xtel_fail_recent(rings, 1, out, 16), 16);
	for (unsigned int i = 0; i < 16; i++)
		assert_int_equal(out[i].time_ns, RACE_EVENTS - 15 + i);
	print_message("%lu reads, %lu events checked\n", reads, events);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_wrap),
		cmocka_unit_test(test_race),
	};

	return cmocka_run_group_tests_name("failures", tests, NULL, NULL);
}
