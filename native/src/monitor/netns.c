/*
 * Network namespaces for the monitor, which must always come back to the
 * host's: everything it starts later (post-stop's node, hook scripts) and
 * every clone after a reboot must see the host's network.
 *
 * The container's network namespace made ahead of its clone (M_NETNS): a new
 * network namespace is ~0.5 ms of kernel work (the init of every per-network
 * subsystem, the loopback device), which the monitor does here while lxkit's
 * pre-start runs in node, instead of inside the clone the start waits on.
 * The clone then starts in it (the monitor steps in for the clone and back).
 * Only for root and without a new user namespace: a network namespace belongs
 * to the user namespace that made it, and a container with a user namespace
 * must own its own — such a clone makes its namespace as before.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "monitor.h"
#include "netns.h"

static int prepared = -1;

void netns_return(int self)
{
	while (setns(self, CLONE_NEWNET) < 0) {
		if (errno != EINTR && errno != ENOMEM) {
			fprintf(stderr, "lxkit-monitor: cannot return to the host's network namespace: %s\n", strerror(errno));
			abort();
		}
	}
}

int netns_loopback_up(const char **failed)
{
	*failed = "socket";
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "lo");
	*failed = "ioctl(SIOCGIFFLAGS)";
	int ret = ioctl(fd, SIOCGIFFLAGS, &ifr);
	if (ret == 0 && !(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
		*failed = "ioctl(SIOCSIFFLAGS)";
		ret = ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	int err = errno;
	close(fd);
	errno = err;
	return ret;
}

void netns_prepare(void)
{
	if (prepared >= 0 || geteuid() != 0)
		return;
	int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return;
	if (unshare(CLONE_NEWNET) == 0) {
		prepared = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
		/* Up as the container's op would bring it, which then finds it so (a failure is the op's to report). */
		const char *failed;
		(void)netns_loopback_up(&failed);
		netns_return(self);
	} else {
		/* The clone makes it then, and reports what fails. */
		mlog(2, "monitor: no network namespace ahead of the clone: %s", strerror(errno));
	}
	close(self);
}

int netns_enter_prepared(void)
{
	if (prepared < 0)
		return -1;
	int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self >= 0 && setns(prepared, CLONE_NEWNET) < 0) {
		close(self);
		self = -1;
	}
	netns_drop_prepared();
	return self;
}

void netns_drop_prepared(void)
{
	if (prepared >= 0)
		close(prepared);
	prepared = -1;
}
