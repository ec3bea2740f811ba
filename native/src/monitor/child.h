/* The container's first process; see child.c. */
#ifndef LXKIT_CHILD_H
#define LXKIT_CHILD_H

#include <stddef.h>

/*
 * Never returns. `join_fds` are namespaces to setns() into (lxc.namespace.share.*).
 * `null_stdio`: the init's stdio is /dev/null (a daemon's), the container's own once it is set up.
 */
void child_main(int sock, const int *join_fds, const int *join_types, int njoin, int pdeath, int null_stdio);

/* The monitor's argument strings (one run of memory, `len` bytes with the last NUL): an init retitles them. */
void child_args(char *args, size_t len);

#endif
