/*
 * The start's timeline, for performance work (docs/timeline.md): with
 * LXKIT_TIMELINE=<file> in the environment, lxkit's Node side, the monitor
 * and the container's first process (until it runs the container's program)
 * append one line per step to <file>:
 *
 *   <CLOCK_MONOTONIC ns> <pid> <who> <step>
 *
 * All three read the same clock, so that the lines of one start, sorted,
 * show which of them the start waited on. Without the variable nothing is
 * opened and a mark is one branch.
 */
#ifndef LXKIT_TIMELINE_H
#define LXKIT_TIMELINE_H

#ifdef __cplusplus
extern "C" {
#endif

/* Opens the file LXKIT_TIMELINE names (close-on-exec, appended to); `who` tags the lines. */
void timeline_open(const char *who);
/* The tag of the lines from now on (the container's first process, once cloned). */
void timeline_who(const char *who);
/* One line for `step`, if a timeline is open; errno is kept. */
void timeline_mark(const char *step);
/* The open file's fd, or -1: kept by the clone's fd clean-up. */
int timeline_fd(void);
/* Closes the file: before the container's own code can reach it. */
void timeline_close(void);

#ifdef __cplusplus
}
#endif

#endif
