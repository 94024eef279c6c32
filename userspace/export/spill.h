/* SPDX-License-Identifier: MIT */
/*
 * The exporter's disk spill (--export-spill DIR): a message that no
 * longer fits the memory backlog is written to one file, named after its
 * Nats-Msg-Id and client count (<edge>.<run>.<seq>.<part>.<clients>.rollup),
 * read back when there is room again, and removed once JetStream acked
 * it. Files of an earlier run of the same edge (a crash, a restart with
 * NATS away) are found at start and sent too: their ids are their own, so
 * what was stored already is not counted twice.
 */
#ifndef XTEL_EXPORT_SPILL_H
#define XTEL_EXPORT_SPILL_H

#include <stddef.h>
#include <stdint.h>

struct xtel_spill_name {
	uint64_t run, seq;
	uint32_t part, clients;
};

/* Writes data as one file (fsync'd, renamed into place). 0 or -errno. */
int xtel_spill_write(const char *dir, const char *edge,
		     const struct xtel_spill_name *n, const void *data, size_t len);
/* Reads it back into a new buffer of exactly len bytes. 0 or -errno. */
int xtel_spill_read(const char *dir, const char *edge,
		    const struct xtel_spill_name *n, size_t len, uint8_t **out);
void xtel_spill_remove(const char *dir, const char *edge,
		       const struct xtel_spill_name *n);

/*
 * Every spill file of edge in dir: fn(arg, name, size) for each, sorted by
 * (run, seq, part). Returns how many, or -errno (no such dir: 0).
 */
typedef int xtel_spill_found_fn(void *arg, const struct xtel_spill_name *n,
				size_t size);
int xtel_spill_scan(const char *dir, const char *edge, xtel_spill_found_fn *fn,
		    void *arg);

#endif /* XTEL_EXPORT_SPILL_H */
