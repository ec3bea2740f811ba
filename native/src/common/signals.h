/*
 * The C libraries' own real-time signals (glibc's 32 and 33, musl's 32 to
 * 34): a posix_spawn child of either library gets them ignored while it
 * shares its parent's memory, and the ignore survives the exec, which no
 * spawn attribute can undo (sigfillset leaves them out). So every helper
 * lxkit spawns starts with them ignored, and would pass that on to the
 * container's processes. Their public sigaction refuses these numbers:
 * the system call sets them back to the default a freshly exec'd program has.
 */
#ifndef LXKIT_SIGNALS_H
#define LXKIT_SIGNALS_H

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

static inline void signals_reset_internal(void)
{
	/* The kernel's struct sigaction: SIG_DFL (0) needs no restorer. */
	struct {
		void (*handler)(int);
		unsigned long flags;
		void (*restorer)(void);
		unsigned long mask;
	} dfl = { 0 };
	for (int s = 32; s <= 34; s++)
		(void)syscall(SYS_rt_sigaction, s, &dfl, NULL, sizeof(dfl.mask));
}

#endif
