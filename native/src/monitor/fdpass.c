/* One frame per SOCK_SEQPACKET message, optionally with one fd; see fdpass.h. */
#define _GNU_SOURCE
#include "fdpass.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

static int sendmsg_fds(int sock, const void *data, size_t n, const int *fds, int nfds)
{
	struct iovec iov = { .iov_base = (void *)data, .iov_len = n };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * FDS_MAX)];
	} c;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (nfds > FDS_MAX) {
		errno = EINVAL;
		return -1;
	}
	if (nfds > 0) {
		memset(&c, 0, sizeof(c));
		msg.msg_control = c.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * (size_t)nfds);
	}
	for (;;) {
		ssize_t w = sendmsg(sock, &msg, MSG_NOSIGNAL);
		if (w >= 0)
			return 0;
		if (errno != EINTR)
			return -1;
	}
}

int send_fds_record(int sock, uint16_t type, const int64_t *ints, uint32_t nints, const int *fds, int nfds)
{
	struct buf b;
	frame_begin(&b, type);
	rec_put(&b, ints, nints, NULL, NULL, 0);
	frame_end(&b);
	int ret = sendmsg_fds(sock, b.data, b.len, fds, nfds);
	buf_free(&b);
	return ret;
}

int send_fd_record(int sock, uint16_t type, const int64_t *ints, uint32_t nints, int fd)
{
	return send_fds_record(sock, type, ints, nints, &fd, fd >= 0 ? 1 : 0);
}

int send_frame(int sock, uint16_t type, const uint8_t *payload, size_t n)
{
	struct buf b;
	frame_begin(&b, type);
	buf_put(&b, payload, n);
	frame_end(&b);
	int ret = sendmsg_fds(sock, b.data, b.len, NULL, 0);
	buf_free(&b);
	return ret;
}

long recv_frame(int sock, uint16_t *type, uint8_t **payload, int *fd)
{
	int n;
	long ret = recv_frame_fds(sock, type, payload, fd, 1, &n);
	if (n == 0)
		*fd = -1;
	return ret;
}

long recv_frame_fds(int sock, uint16_t *type, uint8_t **payload, int *fds, int max, int *nfds)
{
	*nfds = 0;
	*payload = NULL;
	/* Peek at the size first: a seqpacket message must be read whole. */
	uint8_t hdr[8];
	ssize_t n;
	while ((n = recv(sock, hdr, sizeof(hdr), MSG_PEEK)) < 0 && errno == EINTR)
		;
	if (n <= 0)
		return n;
	if (n < 8) {
		errno = EPROTO;
		return -1;
	}
	uint32_t len = (uint32_t)hdr[0] | (uint32_t)hdr[1] << 8 | (uint32_t)hdr[2] << 16 | (uint32_t)hdr[3] << 24;
	if (len < 4 || len > FRAME_MAX) {
		errno = EPROTO;
		return -1;
	}
	uint8_t *msgbuf = malloc(len + 4);
	if (!msgbuf)
		return -1;
	struct iovec iov = { .iov_base = msgbuf, .iov_len = len + 4 };
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * FDS_MAX)];
	} c;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.buf, .msg_controllen = sizeof(c.buf) };
	while ((n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
		;
	/* The fds first: whatever came is taken, or closed when the frame is no good. */
	for (struct cmsghdr *cm = n >= 0 ? CMSG_FIRSTHDR(&msg) : NULL; cm; cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS || cm->cmsg_len < CMSG_LEN(0))
			continue;
		size_t count = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < count; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (*nfds < max)
				fds[(*nfds)++] = fd;
			else
				close(fd);
		}
	}
	if (n < (ssize_t)(len + 4)) {
		int err = n >= 0 ? EPROTO : errno;
		free(msgbuf);
		for (int i = 0; i < *nfds; i++)
			close(fds[i]);
		*nfds = 0;
		errno = err;
		return -1;
	}
	*type = (uint16_t)(msgbuf[4] | msgbuf[5] << 8);
	/* The payload where it is, moved over the header: no second buffer. */
	size_t plen = len - 4;
	memmove(msgbuf, msgbuf + 8, plen);
	*payload = msgbuf;
	return (long)plen;
}
