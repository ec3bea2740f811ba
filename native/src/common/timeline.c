#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "timeline.h"

static int fd = -1;
static const char *tag = "";

void timeline_open(const char *who)
{
	tag = who;
	const char *path = getenv("LXKIT_TIMELINE");
	if (!path || !*path || fd >= 0)
		return;
	int saved = errno;
	/* O_NOFOLLOW: a symbolic link planted at the path does not redirect root's writes. */
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	errno = saved;
}

void timeline_who(const char *who)
{
	tag = who;
}

void timeline_mark(const char *step)
{
	if (fd < 0)
		return;
	int saved = errno;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	char line[192];
	int n = snprintf(line, sizeof(line), "%lld %d %s %s\n", (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec, (int)getpid(), tag, step);
	if (n >= (int)sizeof(line)) {
		n = (int)sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	/* One write of one line: O_APPEND keeps lines of several processes whole. */
	if (n > 0)
		(void)!write(fd, line, (size_t)n);
	errno = saved;
}

int timeline_fd(void)
{
	return fd;
}

void timeline_close(void)
{
	if (fd >= 0)
		close(fd);
	fd = -1;
}
