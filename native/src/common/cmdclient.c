/* See cmdclient.h. Replies are frames of proto.h on a stream socket, read whole (MSG_WAITALL). */
#define _GNU_SOURCE
#include "cmdclient.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int cmd_connect(const char *name)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	size_t n = strlen(name);
	if (n == 0 || n + 1 > sizeof(addr.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(addr.sun_path + 1, name, n);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int r;
	while ((r = connect(fd, (struct sockaddr *)&addr, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n))) < 0 && errno == EINTR)
		;
	if (r < 0) {
		int err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

static ssize_t recv_all(int sock, void *p, size_t n, int *fd)
{
	struct iovec iov = { .iov_base = p, .iov_len = n };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} c;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = fd ? c.buf : NULL, .msg_controllen = fd ? sizeof(c.buf) : 0 };
	ssize_t r;
	while ((r = recvmsg(sock, &msg, MSG_WAITALL | MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
		;
	if (r > 0 && fd) {
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm))
			if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS && cm->cmsg_len == CMSG_LEN(sizeof(int)))
				memcpy(fd, CMSG_DATA(cm), sizeof(int));
	}
	return r;
}

int cmd_request(int sock, uint16_t type, const int64_t *ints, uint32_t nints, const char *const *strs, uint32_t nstrs,
		struct record *reply, uint8_t **payload, int *fd)
{
	*payload = NULL;
	*fd = -1;
	if (send_record(sock, type, ints, nints, strs, nstrs) < 0)
		return -1;
	for (;;) {
		uint8_t hdr[8];
		ssize_t r = recv_all(sock, hdr, sizeof(hdr), fd);
		if (r != (ssize_t)sizeof(hdr)) {
			if (r >= 0)
				errno = ECONNRESET;
			return -1;
		}
		uint32_t len = (uint32_t)hdr[0] | (uint32_t)hdr[1] << 8 | (uint32_t)hdr[2] << 16 | (uint32_t)hdr[3] << 24;
		uint16_t got = (uint16_t)(hdr[4] | hdr[5] << 8);
		if (len < 4 || len > FRAME_MAX) {
			errno = EPROTO;
			return -1;
		}
		uint8_t *p = malloc(len - 4 + 1);
		if (!p)
			return -1;
		if (len > 4 && recv_all(sock, p, len - 4, NULL) != (ssize_t)(len - 4)) {
			free(p);
			errno = ECONNRESET;
			return -1;
		}
		if (got != C_REPLY) {
			/* A state event of a subscription: not what was asked. */
			free(p);
			continue;
		}
		if (rec_get(p, len - 4, reply) < 0) {
			free(p);
			errno = EPROTO;
			return -1;
		}
		*payload = p;
		return 0;
	}
}
