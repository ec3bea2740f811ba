/*
 * lxkit-probe: live kernel feature probes for `lxkit checkconfig`.
 *
 * Each probe runs in a forked child so that whatever it creates (a
 * namespace, a seccomp filter, network devices in a private network
 * namespace) disappears with the child. Nothing touches the host's own
 * namespaces. Output: one JSON object per probe and line:
 *   {"probe":"ns.user","ok":true}
 *   {"probe":"net.vlan","ok":false,"errno":95,"code":"EOPNOTSUPP","message":"Operation not supported"}
 *
 * Usage: lxkit-probe [PROBE...]   (no argument: every probe)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "common/kernel.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000
#endif

/* ---- netlink: just enough to create links in a private network namespace ---- */

struct nlreq {
	struct nlmsghdr n;
	struct ifinfomsg i;
	char buf[1024];
};

static struct rtattr *nla_put(struct nlmsghdr *n, int type, const void *data, size_t len)
{
	struct rtattr *rta = (struct rtattr *)((char *)n + NLMSG_ALIGN(n->nlmsg_len));
	size_t rtalen = RTA_LENGTH(len);

	if (NLMSG_ALIGN(n->nlmsg_len) + RTA_ALIGN(rtalen) > sizeof(struct nlreq))
		return NULL;
	rta->rta_type = type;
	rta->rta_len = rtalen;
	if (len)
		memcpy(RTA_DATA(rta), data, len);
	n->nlmsg_len = NLMSG_ALIGN(n->nlmsg_len) + RTA_ALIGN(rtalen);
	return rta;
}

static void nla_end(struct nlmsghdr *n, struct rtattr *nest)
{
	nest->rta_len = (char *)n + n->nlmsg_len - (char *)nest;
}

static int nl_talk(struct nlmsghdr *n)
{
	char reply[4096];
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int fd, ret;
	ssize_t len;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return errno;
	n->nlmsg_flags |= NLM_F_ACK;
	if (sendto(fd, n, n->nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		ret = errno;
		close(fd);
		return ret;
	}
	len = recv(fd, reply, sizeof(reply), 0);
	ret = len < 0 ? errno : EPROTO;
	if (len >= (ssize_t)NLMSG_LENGTH(sizeof(struct nlmsgerr))) {
		struct nlmsghdr *h = (struct nlmsghdr *)reply;
		if (h->nlmsg_type == NLMSG_ERROR)
			ret = -((struct nlmsgerr *)NLMSG_DATA(h))->error;
	}
	close(fd);
	return ret;
}

/* Creates link `name` of `kind` (on top of `lower` when given); `data` adds IFLA_INFO_DATA. */
static int link_add(const char *name, const char *kind, const char *lower,
		    void (*data)(struct nlmsghdr *))
{
	struct nlreq req;
	struct rtattr *linkinfo;

	memset(&req, 0, sizeof(req));
	req.n.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
	req.n.nlmsg_type = RTM_NEWLINK;
	req.n.nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL;
	req.i.ifi_family = AF_UNSPEC;
	nla_put(&req.n, IFLA_IFNAME, name, strlen(name) + 1);
	if (lower) {
		uint32_t idx = if_nametoindex(lower);
		if (!idx)
			return errno;
		nla_put(&req.n, IFLA_LINK, &idx, sizeof(idx));
	}
	linkinfo = nla_put(&req.n, IFLA_LINKINFO, NULL, 0);
	nla_put(&req.n, IFLA_INFO_KIND, kind, strlen(kind));
	if (data) {
		struct rtattr *info = nla_put(&req.n, IFLA_INFO_DATA, NULL, 0);
		data(&req.n);
		nla_end(&req.n, info);
	}
	nla_end(&req.n, linkinfo);
	return nl_talk(&req.n);
}

static void veth_peer(struct nlmsghdr *n)
{
	struct rtattr *peer = nla_put(n, 1 /* VETH_INFO_PEER */, NULL, 0);
	/* The peer's payload starts with its own ifinfomsg. */
	memset((char *)n + n->nlmsg_len, 0, sizeof(struct ifinfomsg));
	n->nlmsg_len += NLMSG_ALIGN(sizeof(struct ifinfomsg));
	nla_put(n, IFLA_IFNAME, "lxkprobe1", sizeof("lxkprobe1"));
	nla_end(n, peer);
}

static void vlan_id(struct nlmsghdr *n)
{
	uint16_t id = 10;
	nla_put(n, IFLA_VLAN_ID, &id, sizeof(id));
}

static int make_veth(void)
{
	return link_add("lxkprobe0", "veth", NULL, veth_peer);
}

/* ---- probes: each returns 0 or an errno, and runs in its own child ---- */

static int in_netns(void)
{
	return unshare(CLONE_NEWNET) ? errno : 0;
}

static int p_ns(int flag) { return unshare(flag) ? errno : 0; }
static int p_ns_mnt(void) { return p_ns(CLONE_NEWNS); }
static int p_ns_uts(void) { return p_ns(CLONE_NEWUTS); }
static int p_ns_ipc(void) { return p_ns(CLONE_NEWIPC); }
static int p_ns_pid(void) { return p_ns(CLONE_NEWPID); }
static int p_ns_net(void) { return p_ns(CLONE_NEWNET); }
static int p_ns_user(void) { return p_ns(CLONE_NEWUSER); }
static int p_ns_cgroup(void) { return p_ns(CLONE_NEWCGROUP); }
static int p_ns_time(void) { return p_ns(CLONE_NEWTIME); }

static int p_seccomp_filter(void)
{
	struct sock_filter allow[] = { BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW) };
	struct sock_fprog prog = { .len = 1, .filter = allow };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return errno;
	return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) ? errno : 0;
}

static int p_seccomp_notify(void)
{
	uint32_t action = SECCOMP_RET_USER_NOTIF;
	return syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) ? errno : 0;
}

static int p_net_veth(void)
{
	int err = in_netns();
	return err ? err : make_veth();
}

static int p_net_bridge(void)
{
	int err = in_netns();
	return err ? err : link_add("lxkprobebr", "bridge", NULL, NULL);
}

static int p_net_on_veth(const char *kind, void (*data)(struct nlmsghdr *))
{
	int err = in_netns();
	if (!err)
		err = make_veth();
	return err ? err : link_add("lxkprobe2", kind, "lxkprobe0", data);
}

static int p_net_macvlan(void) { return p_net_on_veth("macvlan", NULL); }
static int p_net_ipvlan(void) { return p_net_on_veth("ipvlan", NULL); }
static int p_net_vlan(void) { return p_net_on_veth("vlan", vlan_id); }

/* A system call exists when it fails with anything but ENOSYS on nonsense arguments. */
static int syscall_exists(long ret)
{
	return ret < 0 && errno == ENOSYS ? ENOSYS : 0;
}

static int p_clone3(void) { return syscall_exists(syscall(SYS_clone3, NULL, 0)); }
static int p_openat2(void) { return syscall_exists(syscall(SYS_openat2, -1, NULL, NULL, 0)); }
static int p_pidfd_open(void) { return syscall_exists(syscall(SYS_pidfd_open, getpid(), 0)); }
static int p_mount_setattr(void) { return syscall_exists(syscall(SYS_mount_setattr, -1, NULL, 0, NULL, 0)); }
static int p_close_range(void) { return syscall_exists(syscall(SYS_close_range, ~0U, ~0U, 0)); }

static const struct probe {
	const char *name;
	int (*fn)(void);
} probes[] = {
	{ "ns.mnt", p_ns_mnt },
	{ "ns.uts", p_ns_uts },
	{ "ns.ipc", p_ns_ipc },
	{ "ns.pid", p_ns_pid },
	{ "ns.net", p_ns_net },
	{ "ns.user", p_ns_user },
	{ "ns.cgroup", p_ns_cgroup },
	{ "ns.time", p_ns_time },
	{ "seccomp.filter", p_seccomp_filter },
	{ "seccomp.notify", p_seccomp_notify },
	{ "net.veth", p_net_veth },
	{ "net.bridge", p_net_bridge },
	{ "net.macvlan", p_net_macvlan },
	{ "net.ipvlan", p_net_ipvlan },
	{ "net.vlan", p_net_vlan },
	{ "syscall.clone3", p_clone3 },
	{ "syscall.openat2", p_openat2 },
	{ "syscall.pidfd_open", p_pidfd_open },
	{ "syscall.mount_setattr", p_mount_setattr },
	{ "syscall.close_range", p_close_range },
};

#define NPROBES (sizeof(probes) / sizeof(probes[0]))

static void report(const char *name, int err)
{
	if (!err) {
		printf("{\"probe\":\"%s\",\"ok\":true}\n", name);
		return;
	}
	const char *code = strerrorname_np(err);
	printf("{\"probe\":\"%s\",\"ok\":false,\"errno\":%d,\"code\":\"%s\",\"message\":\"%s\"}\n", name, err,
	       code ? code : "EUNKNOWN", strerror(err));
}

static int run(const struct probe *p)
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return errno;
	if (pid == 0) {
		/* A probe that hangs must not hang checkconfig. */
		alarm(5);
		_exit(p->fn() & 0xff);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return errno;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM ? ETIMEDOUT : EINTR;
}

int main(int argc, char *argv[])
{
	int unknown = 0;

	if (argc < 2) {
		for (size_t i = 0; i < NPROBES; i++)
			report(probes[i].name, run(&probes[i]));
		return 0;
	}
	for (int a = 1; a < argc; a++) {
		size_t i;
		for (i = 0; i < NPROBES; i++)
			if (strcmp(argv[a], probes[i].name) == 0)
				break;
		if (i == NPROBES) {
			fprintf(stderr, "lxkit-probe: unknown probe \"%s\"\n", argv[a]);
			unknown = 1;
			continue;
		}
		report(probes[i].name, run(&probes[i]));
	}
	return unknown ? 2 : 0;
}
