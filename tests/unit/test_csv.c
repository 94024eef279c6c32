// SPDX-License-Identifier: MIT
/*
 * Unit tests of the CSV writer (userspace/collector/out/csv.c): rows pushed
 * through the real ring and writer thread, compared byte for byte with the
 * file: the example row of docs/COLLECTOR.md section 7, values as the
 * shortest decimal that reads back (16 digits and subnormals included,
 * which fuzz_csv found printed longer), and keys outside the decoder's
 * set, which must still give an RFC 4180 file (a CR in a key was written
 * unquoted, and a NUL cut the row short; both found by tests/fuzz).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "collector/out/csv.h"

static const char header[] =
	"client_id,seq,send_ts_ns,type,metrics,duplicate,gap,verdict,"
	"arrival_ns,latency_ns\n";

struct kv {
	const char *key;
	size_t len;
	double v;
};

/* One row of client 7, seq 1, DATA, new, as in COLLECTOR.md: its text. */
static char *row(const struct kv *m, unsigned int n, size_t *len)
{
	char path[] = "/tmp/xtel-test-csv.XXXXXX";
	struct xtel_msg msg = {
		.type = XTEL_MSG_DATA,
		.client_id = 7,
		.seq = 1,
		.send_ts_ns = 1795284538982585702ull,
		.n_metrics = n,
	};
	struct xtel_acct_result res = { .verdict = XTEL_SEQ_NEW, .latency_ns = 6950 };
	struct xtel_csv_writer *w;
	uint64_t rows = 0;
	char *text;
	FILE *f;
	int fd = mkstemp(path);
	long size;

	assert_true(fd >= 0);
	close(fd);
	for (unsigned int i = 0; i < n; i++)
		msg.metrics[i] = (struct xtel_metric){ m[i].key, (uint8_t)m[i].len, m[i].v };
	assert_int_equal(xtel_csv_writer_open(path, 1, 64, &w), 0);
	assert_int_equal(xtel_csv_writer_start(w), 0);
	assert_true(xtel_csv_push(xtel_csv_writer_ring(w, 0), &msg,
				  1795284538982592652ull, &res));
	assert_int_equal(xtel_csv_writer_stop(w, &rows), 0);
	assert_int_equal(rows, 1);
	xtel_csv_writer_free(w);

	f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	rewind(f);
	text = malloc((size_t)size + 1);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	unlink(path);
	text[size] = '\0';
	assert_true((size_t)size > strlen(header));
	assert_memory_equal(text, header, strlen(header));
	*len = (size_t)size - strlen(header);
	memmove(text, text + strlen(header), *len + 1);
	return text;
}

static void expect_row(const struct kv *m, unsigned int n, const char *want,
		       size_t want_len)
{
	size_t len;
	char *got = row(m, n, &len);

	if (len != want_len || memcmp(got, want, len) != 0)
		fail_msg("row \"%.*s\", expected \"%.*s\"", (int)len, got,
			 (int)want_len, want);
	free(got);
}

#define EXPECT(m, want) \
	expect_row(m, sizeof(m) / sizeof(m[0]), want, sizeof(want) - 1)

static void test_doc_example(void **state)
{
	static const struct kv m[] = { { "cpu", 3, 1 }, { "mem", 3, 1.5 } };

	(void)state;
	EXPECT(m, "7,1,1795284538982585702,DATA,cpu=1;mem=1.5,0,0,new,"
		  "1795284538982592652,6950\n");
}

static void test_shortest(void **state)
{
	static const struct kv m[] = {
		{ "a", 1, 72.3 },
		{ "b", 1, 0.7999999999999999 },		/* 16 digits, not 17 */
		{ "c", 1, 0.30000000000000004 },	/* 17 are needed */
		{ "d", 1, 5e-324 },			/* subnormals: fewer */
		{ "e", 1, 1.4909557e-317 },
		{ "f", 1, -0.0 },
		{ "g", 1, 1e22 },
	};

	(void)state;
	EXPECT(m, "7,1,1795284538982585702,DATA,a=72.3;b=0.7999999999999999;"
		  "c=0.30000000000000004;d=5e-324;e=1.4909557e-317;f=-0;g=1e+22,"
		  "0,0,new,1795284538982592652,6950\n");
}

static void test_hostile_keys(void **state)
{
	static const struct kv cr[] = { { "a\rb", 3, 1 } };
	static const struct kv nul[] = { { "a\0b", 3, 1 }, { "c", 1, 2 } };
	static const struct kv quote[] = { { "a\"b,c", 5, 1 } };

	(void)state;
	EXPECT(cr, "7,1,1795284538982585702,DATA,\"a\rb=1\",0,0,new,"
		   "1795284538982592652,6950\n");
	EXPECT(nul, "7,1,1795284538982585702,DATA,a\0b=1;c=2,0,0,new,"
		    "1795284538982592652,6950\n");
	EXPECT(quote, "7,1,1795284538982585702,DATA,\"a\"\"b,c=1\",0,0,new,"
		      "1795284538982592652,6950\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_doc_example),
		cmocka_unit_test(test_shortest),
		cmocka_unit_test(test_hostile_keys),
	};

	return cmocka_run_group_tests_name("csv", tests, NULL, NULL);
}
