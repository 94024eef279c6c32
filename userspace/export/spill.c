// SPDX-License-Identifier: MIT
/* The exporter's disk spill (spill.h): one file per message. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "export/spill.h"

static void path_of(char *buf, size_t cap, const char *dir, const char *edge,
		    const struct xtel_spill_name *n, const char *suffix)
{
	snprintf(buf, cap, "%s/%s.%" PRIu64 ".%" PRIu64 ".%" PRIu32 ".%" PRIu32
		 ".rollup%s", dir, edge, n->run, n->seq, n->part, n->clients, suffix);
}

int xtel_spill_write(const char *dir, const char *edge,
		     const struct xtel_spill_name *n, const void *data, size_t len)
{
	char tmp[4096], final[4096];
	int fd, err = 0;

	path_of(tmp, sizeof(tmp), dir, edge, n, ".tmp");
	path_of(final, sizeof(final), dir, edge, n, "");
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, data, len) != (ssize_t)len)
		err = errno ? -errno : -EIO;
	if (!err && fsync(fd))
		err = -errno;
	close(fd);
	if (!err && rename(tmp, final))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

int xtel_spill_read(const char *dir, const char *edge,
		    const struct xtel_spill_name *n, size_t len, uint8_t **out)
{
	char path[4096];
	uint8_t *buf = malloc(len ? len : 1);
	int fd, err = 0;

	if (!buf)
		return -ENOMEM;
	path_of(path, sizeof(path), dir, edge, n, "");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		free(buf);
		return -errno;
	}
	if (read(fd, buf, len) != (ssize_t)len)
		err = -EIO;
	close(fd);
	if (err) {
		free(buf);
		return err;
	}
	*out = buf;
	return 0;
}

void xtel_spill_remove(const char *dir, const char *edge,
		       const struct xtel_spill_name *n)
{
	char path[4096];

	path_of(path, sizeof(path), dir, edge, n, "");
	unlink(path);
}

struct found {
	struct xtel_spill_name n;
	size_t size;
};

static int found_cmp(const void *a, const void *b)
{
	const struct xtel_spill_name *x = &((const struct found *)a)->n;
	const struct xtel_spill_name *y = &((const struct found *)b)->n;

	if (x->run != y->run)
		return x->run < y->run ? -1 : 1;
	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return x->part < y->part ? -1 : x->part > y->part;
}

int xtel_spill_scan(const char *dir, const char *edge, xtel_spill_found_fn *fn,
		    void *arg)
{
	DIR *d = opendir(dir);
	struct found *v = NULL;
	size_t n = 0, cap = 0, elen = strlen(edge);
	struct dirent *de;
	int err = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		struct found f = { 0 };
		char path[4096];
		struct stat st;
		int used = 0;

		if (strncmp(de->d_name, edge, elen) || de->d_name[elen] != '.' ||
		    sscanf(de->d_name + elen + 1, "%" SCNu64 ".%" SCNu64 ".%" SCNu32
			   ".%" SCNu32 ".rollup%n", &f.n.run, &f.n.seq, &f.n.part,
			   &f.n.clients, &used) != 4 ||
		    de->d_name[elen + 1 + used] != '\0')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (stat(path, &st) || !S_ISREG(st.st_mode))
			continue;
		f.size = (size_t)st.st_size;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct found *nv = realloc(v, ncap * sizeof(*nv));

			if (!nv) {
				err = -ENOMEM;
				break;
			}
			v = nv;
			cap = ncap;
		}
		v[n++] = f;
	}
	closedir(d);
	if (!err && n)
		qsort(v, n, sizeof(*v), found_cmp);
	for (size_t i = 0; i < n && !err; i++)
		err = fn(arg, &v[i].n, v[i].size);
	free(v);
	return err ? err : (int)n;
}
