/* Path resolution inside the container's root; see resolve.c. */
#ifndef LXKIT_RESOLVE_H
#define LXKIT_RESOLVE_H

#include <sys/types.h>

#include "ops.h"

/* The root PF_IN_ROOT paths resolve beneath (OP_SET_ROOT), or -1. */
extern int root_fd;

/* Opens `path` (PF_IN_ROOT: beneath root_fd) with open(2) flags; O_CLOEXEC is added. */
int open_path(const char *path, int pf, int flags);
/* Opens `path` beneath dirfd; EXDEV when it would leave dirfd. */
int open_beneath(int dirfd, const char *path, int flags);
/* mkdir -p, each component checked against the root. */
int mkdir_p(const char *path, int pf, mode_t mode);
/* Opens `path` as O_PATH, creating an empty file (and parent directories) when missing. */
int create_file(const char *path, int pf, mode_t mode);
/* mkdir -p, then the directory opened (O_PATH | O_DIRECTORY). */
int mkdir_open(const char *path, int pf, mode_t mode);
/*
 * Opens the parent directory of `path` (O_PATH); *name points at the last
 * component. Kept open for the next call with the same parent: the caller
 * does not close it.
 */
int borrow_parent(const char *path, int pf, const char **name);
/* Closes what borrow_parent keeps: before any op that could change what a path resolves to. */
void resolve_forget(void);

#endif
