// SPDX-License-Identifier: MIT
/*
 * The receive workers' UDP sockets (see rx/socket.h): one per worker,
 * bound with SO_REUSEPORT so the kernel spreads the datagrams of many
 * clients over the workers, with the options the accounting depends on.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "collector/rx/socket.h"

static int set_int(int fd, int level, int opt, int val)
{
	return setsockopt(fd, level, opt, &val, sizeof(val)) ? -errno : 0;
}

static int make_socket(const struct xtel_config *cfg, bool reuseport)
{
	int fd = socket(cfg->bind_addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rc;

	if (fd < 0)
		return -errno;
	if (cfg->bind_addr.ss_family == AF_INET6) {
		/* One socket for both families: IPv4 peers appear v4-mapped. */
		rc = set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 0);
		if (rc)
			goto err;
	}
	if (reuseport) {
		rc = set_int(fd, SOL_SOCKET, SO_REUSEPORT, 1);
		if (rc)
			goto err;
	}
	if (bind(fd, (const struct sockaddr *)&cfg->bind_addr, cfg->bind_len)) {
		rc = -errno;
		goto err;
	}
	return fd;
err:
	close(fd);
	return rc;
}

int xtel_rx_port_probe(const struct xtel_config *cfg)
{
	int fd = make_socket(cfg, false);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

int xtel_rx_socket_open(const struct xtel_config *cfg, int *rcvbuf_eff,
			bool *forced)
{
	socklen_t sl = sizeof(int);
	int fd, rc, eff = 0;

	fd = make_socket(cfg, true);
	if (fd < 0)
		return fd;
	/*
	 * No SO_RXQ_OVFL: its control message would cost every datagram a
	 * put_cmsg for a counter that SO_MEMINFO reads as well, when it is
	 * asked for (xtel_rx_worker_kernel_drops).
	 */
	rc = set_int(fd, SOL_SOCKET, SO_TIMESTAMPNS, 1);
	if (rc)
		goto err;
	*forced = false;
	if (cfg->rcvbuf) {
		/*
		 * SO_RCVBUFFORCE ignores net.core.rmem_max but needs
		 * CAP_NET_ADMIN; without it SO_RCVBUF is silently capped, so
		 * the caller reports the size read back below.
		 */
		if (!set_int(fd, SOL_SOCKET, SO_RCVBUFFORCE, (int)cfg->rcvbuf)) {
			*forced = true;
		} else {
			rc = set_int(fd, SOL_SOCKET, SO_RCVBUF, (int)cfg->rcvbuf);
			if (rc)
				goto err;
		}
	}
	if (cfg->busy_poll_us &&
	    set_int(fd, SOL_SOCKET, SO_BUSY_POLL, (int)cfg->busy_poll_us)) {
		/*
		 * Optional: older kernels want CAP_NET_ADMIN above
		 * net.core.busy_read (EPERM; 6.18 does not), and a kernel
		 * without CONFIG_NET_RX_BUSY_POLL lacks it (ENOPROTOOPT). The
		 * socket works as without the option (netns rx_options).
		 */
		pr_warn("--busy-poll: SO_BUSY_POLL refused (%s): running "
			"without socket busy polling", strerror(errno));
	}
	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &eff, &sl)) {
		rc = -errno;
		goto err;
	}
	*rcvbuf_eff = eff;
	return fd;
err:
	close(fd);
	return rc;
}
