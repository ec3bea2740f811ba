/*
 * Whose network namespace it is: lxkit-user-nic hands a device only to a
 * namespace its caller is privileged over, checked by the kernel's rules,
 * not by names or paths the caller gives.
 */
#ifndef LXKIT_USERNIC_ACCESS_H
#define LXKIT_USERNIC_ACCESS_H

#include <stddef.h>
#include <sys/types.h>

/*
 * A network namespace, `path` (/proc/PID/ns/net, or a namespace file the
 * caller holds, such as a monitor's /proc/PID/fd/N), opened with the
 * caller's (real) ids, so that the kernel's rules for opening it are the
 * caller's. It must be owned by a user namespace the caller owns (or one
 * below it), and not be this helper's own. An fd, or -1 with `why` (errno
 * set).
 */
int caller_netns(const char *path, uid_t ruid, gid_t rgid, char *why, size_t whylen);

#endif
