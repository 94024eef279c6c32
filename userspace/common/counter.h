/* SPDX-License-Identifier: MIT */
/*
 * What every counter family shares: one descriptor per counter, expanded
 * from the family's X-macro table (the kernel's SNMP MIB tables do the
 * same). The enum, the names in reports and JSON, and the help text of a
 * future Prometheus exposition all come from that one table, so adding a
 * counter is one line and names cannot drift from values.
 *
 * A table is a macro TABLE(X) whose rows are
 * X(ENUM_SUFFIX, "name", "unit", "help"); the unit is what one count is
 * ("datagrams", "bytes", "handshakes"), plural, as Prometheus names want it.
 * Names are stable snake_case: documented formats (docs/COLLECTOR.md,
 * docs/XDP.md) depend on them.
 */
#ifndef XTEL_COUNTER_H
#define XTEL_COUNTER_H

struct xtel_counter_desc {
	const char *name;	/* snake_case, as in reports and JSON */
	const char *unit;	/* what one count is, plural: "datagrams" */
	const char *help;	/* one line, for --help, docs and HELP lines */
};

/* Expands a table row into a designated descriptor initializer. */
#define XTEL_COUNTER_DESC(prefix, id, nm, un, hp) \
	[prefix##id] = { .name = (nm), .unit = (un), .help = (hp) },

#endif /* XTEL_COUNTER_H */
