/*
 * What lxkit's terminal helpers (lxkit-attach, lxkit-console) share: one
 * request read from the control socket (fd 3), and failures before their
 * work starts reported on it as a RESULT record, which lxkit turns into a
 * Node-style error (core/src/command/helper-session.ts).
 */
#ifndef LXKIT_HELPER_H
#define LXKIT_HELPER_H

#include <stdint.h>

#include "proto.h"

#define CONTROL_FD 3

/* Reports a failed system call to lxkit. */
void helper_report(int err, const char *syscall, const char *path);

/*
 * Reads the request: a frame of `type` whose record has at least `min_ints`
 * integers and `min_strs` strings (its payload stays allocated: the strings
 * point into it). Returns 0, or -1 after reporting EPROTO.
 */
int helper_request(uint16_t type, uint32_t min_ints, uint32_t min_strs, struct record *r);

#endif
