/* SPDX-License-Identifier: MIT */
/*
 * Datagram-preserving BIO_METHOD for socket-less DTLS (see dgram_bio.h). The
 * ctrl handler answers exactly what OpenSSL's DTLS code asks of a datagram
 * BIO: MTU and overhead, peek mode for DTLSv1_listen, the retransmission
 * timer notification, flush and pending counts. Everything else is refused
 * so an unexpected request shows up as a failure rather than a silent yes.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dtls/dgram_bio.h"

struct dgram_slot {
	uint16_t len;
	unsigned char data[XTEL_DGRAM_SLOT_SIZE];
};

struct dgram_bio {
	/* Lent input datagram (see xtel_dgram_bio_set_input). */
	const unsigned char *rx;
	size_t rx_len;
	bool rx_valid;
	bool peek;

	/* Output: sink mode when nslots == 0. */
	xtel_dgram_sink_fn *sink;
	void *sink_arg;
	struct dgram_slot *ring;
	unsigned int nslots;
	unsigned int head;	/* oldest queued slot */
	unsigned int count;
	unsigned long tx_dropped;

	unsigned int overhead;
};

static BIO_METHOD *dgram_method;
static pthread_once_t dgram_method_once = PTHREAD_ONCE_INIT;

static struct dgram_bio *dgram_data(BIO *bio)
{
	return BIO_get_data(bio);
}

static int dgram_write(BIO *bio, const char *buf, int len)
{
	struct dgram_bio *d = dgram_data(bio);
	struct dgram_slot *slot;

	BIO_clear_retry_flags(bio);
	if (len < 0)
		return -1;
	/*
	 * A datagram that cannot be sent whole must not be sent at all; DTLS
	 * never writes more than its MTU, so this only catches misuse.
	 */
	if ((size_t)len > XTEL_DGRAM_SLOT_SIZE)
		return -1;

	if (d->nslots == 0) {
		if (d->sink == NULL) {
			d->tx_dropped++;
			return len;
		}
		d->sink(d->sink_arg, buf, (size_t)len);
		return len;
	}

	/*
	 * A full ring behaves like a full socket buffer: the datagram is
	 * lost and DTLS retransmission recovers handshake messages. Claiming
	 * success keeps OpenSSL from parking the record as a pending write.
	 */
	if (d->ring == NULL) {
		/* Trimmed (xtel_dgram_bio_trim): back on the first write. */
		d->ring = malloc((size_t)d->nslots * sizeof(*d->ring));
		d->head = 0;
	}
	if (d->count == d->nslots || d->ring == NULL) {
		d->tx_dropped++;
		return len;
	}
	slot = &d->ring[(d->head + d->count) % d->nslots];
	memcpy(slot->data, buf, (size_t)len);
	slot->len = (uint16_t)len;
	d->count++;
	return len;
}

static int dgram_read(BIO *bio, char *buf, int len)
{
	struct dgram_bio *d = dgram_data(bio);

	BIO_clear_retry_flags(bio);
	if (!d->rx_valid) {
		BIO_set_retry_read(bio);
		return -1;
	}
	/* Truncating a datagram would corrupt a record: refuse instead. */
	if (len < 0 || (size_t)len < d->rx_len) {
		d->rx_valid = false;
		return -1;
	}
	memcpy(buf, d->rx, d->rx_len);
	if (!d->peek)
		d->rx_valid = false;
	return (int)d->rx_len;
}

static int dgram_puts(BIO *bio, const char *str)
{
	return dgram_write(bio, str, (int)strlen(str));
}

static long dgram_ctrl(BIO *bio, int cmd, long num, void *ptr)
{
	struct dgram_bio *d = dgram_data(bio);

	switch (cmd) {
	case BIO_CTRL_FLUSH:
	case BIO_CTRL_DUP:
		return 1;
	case BIO_CTRL_RESET:
		d->rx_valid = false;
		d->count = 0;
		return 1;
	case BIO_CTRL_EOF:
		return 0;
	case BIO_CTRL_PENDING:
		return d->rx_valid ? (long)d->rx_len : 0;
	case BIO_CTRL_WPENDING:
		/* Queued datagrams are "on the wire" as far as DTLS knows. */
		return 0;
	case BIO_CTRL_GET_CLOSE:
		return BIO_get_shutdown(bio);
	case BIO_CTRL_SET_CLOSE:
		BIO_set_shutdown(bio, (int)num);
		return 1;
	case BIO_CTRL_DGRAM_QUERY_MTU:
	case BIO_CTRL_DGRAM_GET_FALLBACK_MTU:
		/*
		 * Only asked when SSL_OP_NO_QUERY_MTU is missing; answer the
		 * largest datagram the BIO carries minus the IP/UDP headers.
		 */
		return XTEL_DGRAM_SLOT_SIZE - (long)d->overhead;
	case BIO_CTRL_DGRAM_GET_MTU_OVERHEAD:
		return d->overhead;
	case BIO_CTRL_DGRAM_MTU_EXCEEDED:
		return 0;
	case BIO_CTRL_DGRAM_SET_PEEK_MODE:
		d->peek = num != 0;
		return 1;
	case BIO_CTRL_DGRAM_SET_NEXT_TIMEOUT:
		/* The owner polls DTLSv1_get_timeout() instead. */
		return 1;
	case BIO_CTRL_DGRAM_CONNECT:
	case BIO_CTRL_DGRAM_SET_CONNECTED:
	case BIO_CTRL_DGRAM_SET_PEER:
		/* Addressing is the caller's job; accept and ignore. */
		return 1;
	case BIO_CTRL_DGRAM_GET_PEER:
		/* Unknown here: DTLSv1_listen then clears its peer, as documented. */
		return 0;
	default:
		return 0;
	}
}

static int dgram_create(BIO *bio)
{
	struct dgram_bio *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return 0;
	d->overhead = XTEL_DGRAM_OVERHEAD;
	BIO_set_data(bio, d);
	BIO_set_init(bio, 1);
	BIO_set_shutdown(bio, 1);
	return 1;
}

static int dgram_destroy(BIO *bio)
{
	struct dgram_bio *d;

	if (bio == NULL)
		return 0;
	d = dgram_data(bio);
	if (d != NULL) {
		free(d->ring);
		free(d);
	}
	BIO_set_data(bio, NULL);
	BIO_set_init(bio, 0);
	return 1;
}

static void dgram_method_init(void)
{
	BIO_METHOD *m;
	int type = BIO_get_new_index();

	if (type == -1)
		return;
	m = BIO_meth_new(type | BIO_TYPE_SOURCE_SINK, "xtel datagram queue");
	if (m == NULL)
		return;
	if (!BIO_meth_set_write(m, dgram_write) ||
	    !BIO_meth_set_read(m, dgram_read) ||
	    !BIO_meth_set_puts(m, dgram_puts) ||
	    !BIO_meth_set_ctrl(m, dgram_ctrl) ||
	    !BIO_meth_set_create(m, dgram_create) ||
	    !BIO_meth_set_destroy(m, dgram_destroy)) {
		BIO_meth_free(m);
		return;
	}
	dgram_method = m;
}

BIO *xtel_dgram_bio_new(unsigned int tx_slots)
{
	struct dgram_bio *d;
	BIO *bio;

	pthread_once(&dgram_method_once, dgram_method_init);
	if (dgram_method == NULL)
		return NULL;
	bio = BIO_new(dgram_method);
	if (bio == NULL)
		return NULL;
	d = dgram_data(bio);
	if (tx_slots > 0) {
		d->ring = malloc((size_t)tx_slots * sizeof(*d->ring));
		if (d->ring == NULL) {
			BIO_free(bio);
			return NULL;
		}
		d->nslots = tx_slots;
	}
	return bio;
}

void xtel_dgram_bio_set_sink(BIO *bio, xtel_dgram_sink_fn *sink, void *arg)
{
	struct dgram_bio *d = dgram_data(bio);

	d->sink = sink;
	d->sink_arg = arg;
}

bool xtel_dgram_bio_set_input(BIO *bio, const void *dgram, size_t len)
{
	struct dgram_bio *d = dgram_data(bio);
	bool had = d->rx_valid;

	d->rx = dgram;
	d->rx_len = len;
	d->rx_valid = true;
	return had;
}

bool xtel_dgram_bio_clear_input(BIO *bio)
{
	struct dgram_bio *d = dgram_data(bio);
	bool had = d->rx_valid;

	d->rx_valid = false;
	d->rx = NULL;
	d->rx_len = 0;
	return had;
}

ssize_t xtel_dgram_bio_pop(BIO *bio, void *buf, size_t cap)
{
	struct dgram_bio *d = dgram_data(bio);
	const struct dgram_slot *slot;

	if (d->count == 0)
		return 0;
	slot = &d->ring[d->head];
	if (cap < slot->len)
		return -EMSGSIZE;
	memcpy(buf, slot->data, slot->len);
	d->head = (d->head + 1) % d->nslots;
	d->count--;
	return slot->len;
}

const void *xtel_dgram_bio_peek(BIO *bio, size_t *len)
{
	struct dgram_bio *d = dgram_data(bio);
	const struct dgram_slot *slot;

	if (d->count == 0) {
		*len = 0;
		return NULL;
	}
	slot = &d->ring[d->head];
	*len = slot->len;
	return slot->data;
}

void xtel_dgram_bio_drop(BIO *bio)
{
	struct dgram_bio *d = dgram_data(bio);

	if (d->count == 0)
		return;
	d->head = (d->head + 1) % d->nslots;
	d->count--;
}

bool xtel_dgram_bio_trim(BIO *bio)
{
	struct dgram_bio *d = dgram_data(bio);

	if (d->nslots == 0 || d->count > 0 || d->ring == NULL)
		return false;
	free(d->ring);
	d->ring = NULL;
	return true;
}

unsigned int xtel_dgram_bio_tx_queued(BIO *bio)
{
	return dgram_data(bio)->count;
}

unsigned int xtel_dgram_bio_tx_space(BIO *bio)
{
	struct dgram_bio *d = dgram_data(bio);

	return d->nslots - d->count;
}

unsigned long xtel_dgram_bio_tx_dropped(BIO *bio)
{
	return dgram_data(bio)->tx_dropped;
}

void xtel_dgram_bio_set_overhead(BIO *bio, unsigned int overhead)
{
	dgram_data(bio)->overhead = overhead;
}
