/* SPDX-License-Identifier: MIT */
/*
 * The session ticket key of one collector process (resume.c): random per
 * process by default, or kept in a file (--ticket-key-file) so that a
 * restarted collector still opens the tickets its devices hold and they
 * resume instead of handshaking in full. The file holds the
 * XTEL_DTLS_TICKET_KEY_LEN raw bytes of the current key, optionally
 * followed by the previous key's, and nothing else; it is made (0600, one
 * fresh random key, put in place whole: key_create) when missing, and
 * refused when anyone but its owner may read or write it, when its owner
 * is neither the process's user nor root, or when its size is not one or
 * two keys': whoever reads a key can open every ticket sealed with it and
 * so learn the sessions' master secrets, and whoever writes one can seal
 * tickets that resume as any client.
 *
 * Rotation (docs/CAPACITY.md): put a new key in front of the current one
 * (the file then holds two) and restart. New tickets are sealed with the
 * new key; a ticket of the previous key still resumes, and its handshake
 * hands the device a ticket of the new key. Once every device has had a
 * handshake, or the tickets' 2-hour lifetime has passed, drop the
 * previous key (the file holds one again). A ticket of a key no longer in
 * the file falls back to one full handshake (ticket_unknown), which also
 * hands out a ticket of the current key.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include "common/log.h"
#include "dtls/server.h"

static unsigned char process_key[2 * XTEL_DTLS_TICKET_KEY_LEN];
static int process_key_ret = -EAGAIN;
static unsigned int process_keys;	/* from a file, before any thread */
static pthread_once_t process_key_once = PTHREAD_ONCE_INIT;

static void process_key_init(void)
{
	process_key_ret = RAND_bytes(process_key, XTEL_DTLS_TICKET_KEY_LEN) == 1 ?
			  0 : -EIO;
	ERR_clear_error();
}

const unsigned char *xtel_dtls_process_ticket_key(void)
{
	if (process_keys)
		return process_key;
	pthread_once(&process_key_once, process_key_init);
	return process_key_ret == 0 ? process_key : NULL;
}

const unsigned char *xtel_dtls_process_ticket_key_prev(void)
{
	return process_keys == 2 ? process_key + XTEL_DTLS_TICKET_KEY_LEN : NULL;
}

/* Make the directory entry of path durable (best effort). */
static void sync_dir(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd;

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path) + 1,
			  path) >= (int)sizeof(dir))
		return;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

/*
 * A new key file at path (it did not exist): 0, -EEXIST when another
 * process made it meanwhile (read that one), or -errno. The key is
 * written and synced in a temporary file beside it (mkostemp: 0600,
 * O_EXCL) that link() then puts at path, so nobody ever opens a path
 * holding less than a whole key, and a key made meanwhile is never
 * replaced (link, unlike rename, fails on an existing name).
 */
static int key_create(const char *path, unsigned char *key)
{
	char tmp[PATH_MAX];
	ssize_t n;
	int fd, ret = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	if (RAND_bytes(key, XTEL_DTLS_TICKET_KEY_LEN) != 1) {
		ERR_clear_error();
		pr_err("ticket key file %s: no random bytes for a new key", path);
		return -EIO;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, key, XTEL_DTLS_TICKET_KEY_LEN);
	if (n != XTEL_DTLS_TICKET_KEY_LEN)
		ret = n < 0 ? -errno : -EIO;
	else if (fsync(fd) != 0)
		ret = -errno;
	if (close(fd) != 0 && ret == 0)
		ret = -errno;
	if (ret == 0 && link(tmp, path) != 0)
		ret = -errno;
	unlink(tmp);
	if (ret == -EEXIST)
		return ret;
	if (ret) {
		pr_err("ticket key file %s: writing the new key failed (%s)",
		       path, strerror(-ret));
		return -EIO;
	}
	sync_dir(path);
	pr_info("ticket key file %s: made a new key", path);
	return 0;
}

int xtel_dtls_ticket_key_file(const char *path, unsigned char *key,
			      unsigned int *nkeys)
{
	struct stat st;
	ssize_t n;
	int fd, ret;

	*nkeys = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && errno == ENOENT) {
		ret = key_create(path, key);
		if (ret == 0)
			*nkeys = 1;
		if (ret != -EEXIST) {	/* else another process made it: read it */
			if (ret && ret != -EIO)
				pr_err("ticket key file %s: cannot create it (%s)",
				       path, strerror(-ret));
			return ret;
		}
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	}
	if (fd < 0) {
		ret = -errno;
		pr_err("ticket key file %s: %s", path, strerror(-ret));
		return ret;
	}
	ret = fstat(fd, &st) ? -errno : 0;
	if (!ret && !S_ISREG(st.st_mode)) {
		pr_err("ticket key file %s is not a regular file", path);
		ret = -EINVAL;
	} else if (!ret && st.st_uid != geteuid() && st.st_uid != 0) {
		pr_err("ticket key file %s is owned by uid %u, not by this "
		       "process's user %u or root: its owner can put in a key "
		       "of their own and seal tickets for any client; run chown "
		       "%u %s (or delete it to make a new key)", path,
		       (unsigned int)st.st_uid, (unsigned int)geteuid(),
		       (unsigned int)geteuid(), path);
		ret = -EPERM;
	} else if (!ret && (st.st_mode & 077)) {
		pr_err("ticket key file %s has mode %04o: others may read the "
		       "key that opens every session ticket; run chmod 600 %s",
		       path, (unsigned int)(st.st_mode & 07777), path);
		ret = -EPERM;
	} else if (!ret && st.st_size != XTEL_DTLS_TICKET_KEY_LEN &&
		   st.st_size != 2 * XTEL_DTLS_TICKET_KEY_LEN) {
		pr_err("ticket key file %s holds %lld bytes, not one key's %d "
		       "or two keys' %d: restore it, or delete it to make a new "
		       "key (devices then handshake in full once)", path,
		       (long long)st.st_size, XTEL_DTLS_TICKET_KEY_LEN,
		       2 * XTEL_DTLS_TICKET_KEY_LEN);
		ret = -EINVAL;
	}
	if (!ret) {
		n = read(fd, key, (size_t)st.st_size);
		if (n != st.st_size) {
			ret = n < 0 ? -errno : -EIO;
			pr_err("ticket key file %s: read failed", path);
		}
	}
	close(fd);
	if (ret)
		OPENSSL_cleanse(key, 2 * XTEL_DTLS_TICKET_KEY_LEN);
	else
		*nkeys = (unsigned int)(st.st_size / XTEL_DTLS_TICKET_KEY_LEN);
	return ret;
}

int xtel_dtls_process_ticket_key_file(const char *path)
{
	unsigned int n = 0;
	int ret = xtel_dtls_ticket_key_file(path, process_key, &n);

	process_keys = ret == 0 ? n : 0;
	if (n == 2)
		pr_info("ticket key file %s: the previous key still opens "
			"tickets (a rotation)", path);
	return ret;
}
