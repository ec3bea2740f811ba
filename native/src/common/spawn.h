/*
 * posix_spawn of lxkit's helpers, shared by the addon (C++) and lxkit-front:
 * the attributes that give the helper what a freshly exec'd program expects.
 */
#ifndef LXKIT_SPAWN_H
#define LXKIT_SPAWN_H

#include <signal.h>
#include <spawn.h>

/* Every signal's disposition reset to its default and the mask emptied (the spawner may block or ignore some). */
static inline void spawnattr_fresh(posix_spawnattr_t *attr)
{
	sigset_t all, none;
	sigfillset(&all);
	sigemptyset(&none);
	posix_spawnattr_setsigdefault(attr, &all);
	posix_spawnattr_setsigmask(attr, &none);
	posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
}

#endif
