/* The C side of a container's command socket, for lxkit's helpers (attach, console). */
#ifndef LXKIT_CMDCLIENT_H
#define LXKIT_CMDCLIENT_H

#include <stdint.h>

#include "proto.h"

/* Connects to the abstract unix socket `name`; -1 with errno (ECONNREFUSED: the container is not running). */
int cmd_connect(const char *name);

/*
 * Sends a request and reads the reply: its payload (malloc'd, into *payload,
 * decoded into *reply) and an fd if one came with it (else -1). Returns 0,
 * or -1 with errno.
 */
int cmd_request(int sock, uint16_t type, const int64_t *ints, uint32_t nints, const char *const *strs, uint32_t nstrs,
		struct record *reply, uint8_t **payload, int *fd);

#endif
