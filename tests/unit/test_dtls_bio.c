// SPDX-License-Identifier: MIT
/*
 * Unit tests of the datagram BIO (userspace/dtls/dgram_bio.c): one
 * datagram per write and per read, never merged or truncated.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dtls/dgram_bio.h"

/* BIO: one datagram per write/read, never merged or truncated. */
static void test_dgram_bio(void **state)
{
	BIO *b = xtel_dgram_bio_new(2);
	unsigned char out[XTEL_DGRAM_SLOT_SIZE];
	const void *pk;
	size_t len;

	(void)state;
	assert_non_null(b);
	assert_int_equal(BIO_write(b, "abc", 3), 3);
	assert_int_equal(BIO_write(b, "defg", 4), 4);
	assert_int_equal(BIO_write(b, "h", 1), 1);	/* ring full: dropped */
	assert_int_equal(xtel_dgram_bio_tx_dropped(b), 1);
	assert_int_equal(xtel_dgram_bio_tx_queued(b), 2);
	assert_int_equal(xtel_dgram_bio_pop(b, out, 2), -EMSGSIZE);
	assert_int_equal(xtel_dgram_bio_pop(b, out, sizeof(out)), 3);
	assert_memory_equal(out, "abc", 3);
	pk = xtel_dgram_bio_peek(b, &len);
	assert_int_equal(len, 4);
	assert_memory_equal(pk, "defg", 4);
	xtel_dgram_bio_drop(b);
	assert_int_equal(xtel_dgram_bio_pop(b, out, sizeof(out)), 0);
	assert_null(xtel_dgram_bio_peek(b, &len));

	/* Reads: exactly one datagram, retry when none, error if too small. */
	assert_int_equal(BIO_read(b, out, sizeof(out)), -1);
	assert_true(BIO_should_retry(b) && BIO_should_read(b));
	assert_false(xtel_dgram_bio_set_input(b, "12345", 5));
	assert_int_equal(BIO_ctrl_pending(b), 5);
	assert_int_equal(BIO_read(b, out, 3), -1);
	assert_false(BIO_should_retry(b));
	xtel_dgram_bio_set_input(b, "12345", 5);
	assert_int_equal(BIO_read(b, out, sizeof(out)), 5);
	assert_int_equal(BIO_read(b, out, sizeof(out)), -1);
	assert_true(BIO_should_retry(b));
	/* Peek mode leaves the datagram in place. */
	BIO_ctrl(b, BIO_CTRL_DGRAM_SET_PEEK_MODE, 1, NULL);
	xtel_dgram_bio_set_input(b, "xy", 2);
	assert_int_equal(BIO_read(b, out, sizeof(out)), 2);
	assert_int_equal(BIO_read(b, out, sizeof(out)), 2);
	BIO_ctrl(b, BIO_CTRL_DGRAM_SET_PEEK_MODE, 0, NULL);
	assert_true(xtel_dgram_bio_clear_input(b));
	assert_false(xtel_dgram_bio_clear_input(b));
	assert_int_equal(BIO_ctrl(b, BIO_CTRL_DGRAM_GET_MTU_OVERHEAD, 0, NULL),
			 XTEL_DGRAM_OVERHEAD);
	assert_int_equal(BIO_flush(b), 1);
	/* A datagram larger than a slot is refused whole. */
	memset(out, 0, sizeof(out));
	assert_true(BIO_write(b, out, XTEL_DGRAM_SLOT_SIZE) > 0);
	BIO_free(b);
	b = xtel_dgram_bio_new(1);
	{
		static unsigned char big[XTEL_DGRAM_SLOT_SIZE + 1];

		assert_int_equal(BIO_write(b, big, sizeof(big)), -1);
	}
	BIO_free(b);
}

/*
 * A trimmed ring (an idle endpoint's) holds no slots until the next write,
 * which brings it back; a ring holding a datagram is not trimmed, and a
 * sink-mode BIO has none to trim.
 */
static void test_dgram_bio_trim(void **state)
{
	unsigned char buf[16];
	BIO *b = xtel_dgram_bio_new(2), *s = xtel_dgram_bio_new(0);

	(void)state;
	assert_non_null(b);
	assert_non_null(s);
	assert_true(xtel_dgram_bio_trim(b));		/* empty: freed */
	assert_false(xtel_dgram_bio_trim(b));		/* nothing left to free */
	assert_int_equal(xtel_dgram_bio_tx_space(b), 2);
	assert_int_equal(BIO_write(b, "abc", 3), 3);	/* the ring comes back */
	assert_false(xtel_dgram_bio_trim(b));		/* it holds a datagram */
	assert_int_equal(BIO_write(b, "de", 2), 2);
	assert_int_equal(BIO_write(b, "f", 1), 1);	/* full: dropped, counted */
	assert_int_equal(xtel_dgram_bio_tx_dropped(b), 1);
	assert_int_equal(xtel_dgram_bio_pop(b, buf, sizeof(buf)), 3);
	assert_memory_equal(buf, "abc", 3);
	assert_int_equal(xtel_dgram_bio_pop(b, buf, sizeof(buf)), 2);
	assert_memory_equal(buf, "de", 2);
	assert_true(xtel_dgram_bio_trim(b));
	assert_int_equal(BIO_write(b, "gh", 2), 2);	/* after a wrap, from slot 0 */
	assert_int_equal(xtel_dgram_bio_tx_queued(b), 1);
	assert_int_equal(xtel_dgram_bio_pop(b, buf, sizeof(buf)), 2);
	assert_memory_equal(buf, "gh", 2);
	assert_int_equal(xtel_dgram_bio_pop(b, buf, sizeof(buf)), 0);
	assert_false(xtel_dgram_bio_trim(s));		/* sink mode */
	BIO_free(b);
	BIO_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dgram_bio),
		cmocka_unit_test(test_dgram_bio_trim),
	};

	return cmocka_run_group_tests_name("dtls_bio", tests, NULL, NULL);
}
