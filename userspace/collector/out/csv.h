/* SPDX-License-Identifier: MIT */
/*
 * CSV export of accepted datagrams, off the receive path. Each receive
 * worker pushes a compact binary record into its own bounded
 * single-producer/single-consumer ring (no lock, no syscall, no formatting
 * on the hot thread); one writer thread formats the rows and writes the
 * file. A full ring refuses the record and the caller counts it as
 * csv_dropped: rows are never lost silently. xtel_csv_writer_stop() writes
 * everything that was pushed before it returns.
 */
#ifndef XTEL_OUT_CSV_H
#define XTEL_OUT_CSV_H

#include <stdbool.h>
#include <stdint.h>

#include "acct/registry.h"
#include "wire/wire.h"

struct xtel_csv_ring;
struct xtel_csv_writer;

/*
 * Create path (truncating it) and n_rings rings of slots 64-byte slots
 * each (a power of two). Writes the header row. Returns 0 or -errno.
 */
int xtel_csv_writer_open(const char *path, unsigned int n_rings,
			 unsigned int slots, struct xtel_csv_writer **out);

/* Ring i, to be used by exactly one producer thread. */
struct xtel_csv_ring *xtel_csv_writer_ring(struct xtel_csv_writer *w,
					   unsigned int i);

/* Start the writer thread. Returns 0 or -errno. */
int xtel_csv_writer_start(struct xtel_csv_writer *w);

/*
 * Producer side: queue one accepted datagram. Returns false when the ring
 * has no room (the caller counts csv_dropped).
 */
bool xtel_csv_push(struct xtel_csv_ring *r, const struct xtel_msg *msg,
		   uint64_t arrival_ns, const struct xtel_acct_result *res);

/*
 * Call after every producer stopped: write all queued rows, flush, close
 * and join the writer. rows gets the number of data rows written. Returns
 * 0 or the first write error as -errno.
 */
int xtel_csv_writer_stop(struct xtel_csv_writer *w, uint64_t *rows);

/* Free everything (stops the thread first if it still runs). */
void xtel_csv_writer_free(struct xtel_csv_writer *w);

#endif /* XTEL_OUT_CSV_H */
