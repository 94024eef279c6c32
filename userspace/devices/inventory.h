/* SPDX-License-Identifier: MIT */
/*
 * The device inventory as the receive path and the readers see it: an
 * immutable, reference-counted snapshot of every device the operator
 * declared (client id, name, labels site/rack/role, expected heartbeat,
 * enabled, notes), sorted by client id. A snapshot never changes once
 * built; a change builds a new one (sharing the unchanged devices, which
 * are reference counted themselves) and the owner swaps it in, so a worker
 * looks a client id up in the snapshot it holds without any lock
 * (xtel_inventory_find), and a view keeps the one it was made with.
 *
 * struct xtel_device_spec is the mutable form the API, the JSON parser and
 * the database fill in; xtel_device_spec_check says what is wrong with one
 * in words an API error can carry.
 */
#ifndef XTEL_DEVICES_INVENTORY_H
#define XTEL_DEVICES_INVENTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	XTEL_DEV_NAME_MAX = 64,		/* bytes of a name */
	XTEL_DEV_LABEL_MAX = 64,	/* bytes of a label value */
	XTEL_DEV_NOTES_MAX = 1024,	/* bytes of the notes */
	XTEL_DEV_HEARTBEAT_MAX_MS = 86400000,	/* one day */
};

/* The labels a device carries: X(ENUM, "json key and Prometheus label"). */
#define XTEL_DEV_LABELS(X)	\
	X(SITE, "site")		\
	X(RACK, "rack")		\
	X(ROLE, "role")

enum xtel_dev_label {
#define XTEL_DEV_LABEL_ENUM_(e, name) XTEL_DEV_LABEL_##e,
	XTEL_DEV_LABELS(XTEL_DEV_LABEL_ENUM_)
#undef XTEL_DEV_LABEL_ENUM_
	XTEL_DEV_NLABELS
};

extern const char *const xtel_dev_label_names[XTEL_DEV_NLABELS];

/* One device, immutable once in a snapshot. */
struct xtel_device {
	uint32_t id;
	bool enabled;
	uint32_t heartbeat_ms;		/* 0: the collector's --stale-after */
	uint64_t created_ns, updated_ns;	/* CLOCK_REALTIME */
	char name[XTEL_DEV_NAME_MAX + 1];
	char labels[XTEL_DEV_NLABELS][XTEL_DEV_LABEL_MAX + 1];
	unsigned int refs;		/* __atomic */
	char notes[];			/* NUL-terminated */
};

/* The mutable form of a device (on the stack: the notes are inline). */
struct xtel_device_spec {
	uint32_t id;
	bool enabled;
	uint32_t heartbeat_ms;
	uint64_t created_ns, updated_ns;
	char name[XTEL_DEV_NAME_MAX + 1];
	char labels[XTEL_DEV_NLABELS][XTEL_DEV_LABEL_MAX + 1];
	char notes[XTEL_DEV_NOTES_MAX + 1];
};

/* What is wrong with a spec or a JSON body: an API error's parts. */
struct xtel_dev_err {
	const char *code;		/* "bad_label", "unknown_field", ... */
	char field[32];			/* the JSON field at fault, "" if none */
	char msg[160];
};

/* A new spec with the defaults: enabled, no heartbeat, empty strings. */
void xtel_device_spec_init(struct xtel_device_spec *s, uint32_t id);
void xtel_device_spec_from(struct xtel_device_spec *s,
			   const struct xtel_device *d);

/*
 * Whether a name, a label value or notes may be stored: at most their
 * maximum in bytes; names and notes hold no control character other than
 * (notes only) tab and newline, and no '"' or '\\' in a name; label values
 * are [A-Za-z0-9_.:/-]* so they need no escaping in any output.
 */
bool xtel_dev_name_ok(const char *s);
bool xtel_dev_label_ok(const char *s);
bool xtel_dev_notes_ok(const char *s);

/* 0, or -EINVAL with err filled in. */
int xtel_device_spec_check(const struct xtel_device_spec *s,
			   struct xtel_dev_err *err);

/* An immutable device from a checked spec (one reference), NULL: ENOMEM. */
struct xtel_device *xtel_device_new(const struct xtel_device_spec *s);
struct xtel_device *xtel_device_get(struct xtel_device *d);
void xtel_device_put(struct xtel_device *d);

/* The compact key array a lookup walks, parallel to devs. */
struct xtel_inventory_key {
	uint32_t id;
	uint32_t enabled;
};

struct xtel_inventory {
	uint32_t n;
	uint32_t n_enabled;
	struct xtel_inventory_key *keys;	/* sorted by id */
	struct xtel_device **devs;		/* parallel to keys */
	uint64_t version;			/* 1, 2, ... per change */
	unsigned int refs;			/* __atomic */
};

/*
 * A snapshot of n devices (any order; ids must differ), taking over the
 * caller's reference of each. Returns NULL (and puts the devices) when out
 * of memory or when an id repeats (errno EEXIST).
 */
struct xtel_inventory *xtel_inventory_new(struct xtel_device **devs,
					  uint32_t n, uint64_t version);

/* inv with d added or replacing the device of its id (d: a ref is taken). */
struct xtel_inventory *xtel_inventory_with(const struct xtel_inventory *inv,
					   struct xtel_device *d);
/* inv without id (NULL with errno ENOENT when absent). */
struct xtel_inventory *xtel_inventory_without(const struct xtel_inventory *inv,
					      uint32_t id);

struct xtel_inventory *xtel_inventory_get(struct xtel_inventory *inv);
void xtel_inventory_put(struct xtel_inventory *inv);

/*
 * Index of the first device whose id is id or above (inv->n: none).
 * Lock-free, any thread holding a reference.
 */
static inline uint32_t xtel_inventory_lower(const struct xtel_inventory *inv,
					    uint32_t id)
{
	uint32_t lo = 0, hi = inv->n;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (inv->keys[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Index of id, or -1. */
static inline long xtel_inventory_index(const struct xtel_inventory *inv,
					uint32_t id)
{
	uint32_t lo = xtel_inventory_lower(inv, id);

	return lo < inv->n && inv->keys[lo].id == id ? (long)lo : -1;
}

static inline const struct xtel_device *
xtel_inventory_find(const struct xtel_inventory *inv, uint32_t id)
{
	long i = inv ? xtel_inventory_index(inv, id) : -1;

	return i < 0 ? NULL : inv->devs[i];
}

/* The device of id with a reference taken (xtel_device_put), or NULL. */
struct xtel_device *xtel_inventory_take(const struct xtel_inventory *inv,
					uint32_t id);

#endif /* XTEL_DEVICES_INVENTORY_H */
