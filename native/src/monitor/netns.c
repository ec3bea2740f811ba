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
#include "../common/netlink.h"

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

/*
 * Host devices handed to the container (lxc.net.N.type = phys) go back to
 * the host when it ends, under their own names and with their own MTU, as
 * LXC gives them back: left to the kernel, a virtual device would go with
 * the namespace, and a physical one would come back under whatever name the
 * container gave it. The monitor does it, whoever ends the container, while
 * it still holds the namespace.
 */
#define GIVE_BACK_MAX 16
static struct {
	char inside[IFNAMSIZ];
	char host[IFNAMSIZ];
	unsigned mtu;
} give_back[GIVE_BACK_MAX];
static int ngive_back;

void netns_give_back(const char *inside, const char *host, unsigned mtu)
{
	if (ngive_back == GIVE_BACK_MAX) {
		mlog(5, "monitor: more than %d host devices to give back; %s stays with the container", GIVE_BACK_MAX, host);
		return;
	}
	snprintf(give_back[ngive_back].inside, IFNAMSIZ, "%s", inside);
	snprintf(give_back[ngive_back].host, IFNAMSIZ, "%s", host);
	give_back[ngive_back].mtu = mtu;
	ngive_back++;
}

void netns_give_back_all(int ns)
{
	if (ngive_back == 0 || ns < 0)
		return;
	/* This thread's, not the process's: the namespaces are let go on a thread of their own too. */
	int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0 || setns(ns, CLONE_NEWNET) < 0) {
		mlog(5, "monitor: cannot enter the container's network namespace to give its host devices back: %s", strerror(errno));
		if (self >= 0)
			close(self);
		return;
	}
	/* A netlink socket and the names belong to the namespace they are made in: the container's. */
	int nl = nl_open();
	char why[NL_WHY];
	for (int i = 0; i < ngive_back; i++) {
		int ifindex = (int)if_nametoindex(give_back[i].inside);
		struct nl_link back = { .name = give_back[i].host, .mtu = give_back[i].mtu, .netns_fd = self };
		if (nl < 0 || ifindex == 0 || nl_link_set(nl, ifindex, &back, why) < 0)
			mlog(5, "monitor: cannot give %s (%s in the container) back to the host: %s%s%s", give_back[i].host, give_back[i].inside,
			     strerror(errno), why[0] && ifindex ? ": " : "", ifindex ? why : "");
		why[0] = 0;
	}
	if (nl >= 0)
		close(nl);
	ngive_back = 0;
	netns_return(self);
	close(self);
}

/*
 * Proxy neighbour entries put on a host interface for the container's
 * addresses (lxc.net.N.l2proxy): the interface outlives the container, so
 * the monitor takes them off again at the end, whoever ends it (LXC 5.0.2
 * leaves them behind).
 */
#define UNPROXY_MAX 32
static struct {
	char ifname[IFNAMSIZ];
	int family;
	uint8_t addr[16];
} unproxy[UNPROXY_MAX];
static int nunproxy;

void netns_unproxy(const char *ifname, int family, const uint8_t *addr, uint32_t len)
{
	if (nunproxy == UNPROXY_MAX || (len != 4 && len != 16)) {
		mlog(5, "monitor: cannot keep a proxy entry on %s to remove at the end", ifname);
		return;
	}
	snprintf(unproxy[nunproxy].ifname, IFNAMSIZ, "%s", ifname);
	unproxy[nunproxy].family = family;
	memcpy(unproxy[nunproxy].addr, addr, len);
	nunproxy++;
}

void netns_unproxy_all(void)
{
	if (nunproxy == 0)
		return;
	int nl = nl_open();
	char why[NL_WHY];
	for (int i = 0; i < nunproxy; i++) {
		int ifindex = (int)if_nametoindex(unproxy[i].ifname);
		why[0] = 0;
		/* An interface that is gone took its entries with it. */
		if (ifindex == 0 || nl < 0)
			continue;
		if (nl_neigh_proxy(nl, 0, ifindex, unproxy[i].family, unproxy[i].addr, why) < 0 && errno != ENOENT)
			mlog(5, "monitor: cannot remove the container's proxy entry from %s: %s%s%s", unproxy[i].ifname, strerror(errno), why[0] ? ": " : "", why);
	}
	if (nl >= 0)
		close(nl);
	nunproxy = 0;
}
