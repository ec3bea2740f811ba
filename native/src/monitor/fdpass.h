/* Frames over the monitor <-> child SOCK_SEQPACKET socket, with fds (SCM_RIGHTS). */
#ifndef LXKIT_FDPASS_H
#define LXKIT_FDPASS_H

#include <stdint.h>

#include "../common/proto.h"

#define FDS_MAX 64 /* fds in one frame */

/* Sends one frame (a record) carrying `fd` (SCM_RIGHTS; -1 for none). */
int send_fd_record(int sock, uint16_t type, const int64_t *ints, uint32_t nints, int fd);
/* The same with `nfds` fds (at most FDS_MAX). */
int send_fds_record(int sock, uint16_t type, const int64_t *ints, uint32_t nints, const int *fds, int nfds);
/* Sends an already encoded frame (as read from JavaScript) without fds. */
int send_frame(int sock, uint16_t type, const uint8_t *payload, size_t n);
/* Receives one frame: payload (malloc'd) and an fd if one came (else -1). Returns payload length, or -1. */
long recv_frame(int sock, uint16_t *type, uint8_t **payload, int *fd);
/* The same with up to `max` fds (at most FDS_MAX; more that came are closed), their number in *nfds. */
long recv_frame_fds(int sock, uint16_t *type, uint8_t **payload, int *fds, int max, int *nfds);

#endif
