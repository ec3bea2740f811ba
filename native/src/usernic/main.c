/*
 * lxkit-user-nic: gives an unprivileged user's container a veth on a bridge,
 * within the quotas of /etc/lxc/lxc-usernet (LXC's lxc-user-nic, with its
 * command line, output, quota file and database, so both count alike).
 *
 *   lxkit-user-nic create LXCPATH NAME PID|NETNS-PATH veth BRIDGE NICNAME
 *
 * makes a veth pair: one end on BRIDGE in the host's namespace (up, with the
 * bridge's MTU), the other, NICNAME, in the network namespace of PID (or the
 * namespace file NETNS-PATH, an lxkit extension: lxkit hands over its
 * monitor's /proc/PID/fd/N, which stays openable by the caller whatever the
 * container's init has become), and
 * prints `NICNAME:IFINDEX-INSIDE:HOST-END:IFINDEX-ON-HOST`. BRIDGE is a
 * kernel bridge or an Open vSwitch one (the host end added as its port).
 *
 *   lxkit-user-nic delete LXCPATH NAME NETNS-PATH veth BRIDGE HOST-END
 *
 * deletes the Open vSwitch port HOST-END from BRIDGE, as a container stops
 * (a kernel bridge's port goes with its device; Open vSwitch keeps it). The
 * caller must be privileged over the namespace, as with LXC, and HOST-END
 * must be a device this helper gave the caller on BRIDGE (its database),
 * which LXC does not ask.
 *
 * LXCPATH and NAME are not used, as in LXC. Installed setuid root:
 * everything it is given is the caller's, checked before use, and nothing
 * is read from the environment.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <net/if.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/netlink.h"
#include "access.h"
#include "ovs.h"
#include "quota.h"

#define MAX_GROUPS 256

static void fail(const char *what, int err)
{
	if (err)
		fprintf(stderr, "lxkit-user-nic: %s: %s\n", what, strerror(err));
	else
		fprintf(stderr, "lxkit-user-nic: %s\n", what);
	exit(1);
}

/* A name the kernel would take for a device, and nothing a path (or ovs-vsctl, as an option) could make of more. */
static int device_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= IF_NAMESIZE || s[0] == '-' || !strcmp(s, ".") || !strcmp(s, ".."))
		return 0;
	for (const char *p = s; *p; p++)
		if (*p == '/' || *p == ':' || isspace((unsigned char)*p) || !isprint((unsigned char)*p))
			return 0;
	return 1;
}

/* A small number from a sysfs file of a device; -1 when there is none. */
static long sysfs_number(const char *dev, const char *attr)
{
	char path[96], buf[32];
	snprintf(path, sizeof(path), "/sys/class/net/%s/%s", dev, attr);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	return strtol(buf, NULL, 10);
}

/* veth<uid>_XXXX as LXC names them (whose the end is shows in `ip link`), vethXXXXXX when the uid is too long for that. */
static void host_name(char out[IF_NAMESIZE], uid_t uid)
{
	static const char alnum[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	unsigned char rnd[6];
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		fail("cannot get random bytes for a device name", errno);
	char tail[7];
	for (size_t k = 0; k < sizeof(rnd); k++)
		tail[k] = alnum[rnd[k] % (sizeof(alnum) - 1)];
	tail[6] = 0;
	char prefix[IF_NAMESIZE + 16];
	snprintf(prefix, sizeof(prefix), "veth%u_", (unsigned)uid);
	if (strlen(prefix) + 4 < IF_NAMESIZE)
		snprintf(out, IF_NAMESIZE, "%s%.4s", prefix, tail);
	else
		snprintf(out, IF_NAMESIZE, "veth%s", tail);
}

/* The caller's groups by name, as lxc-usernet's @group lines name them. */
static int group_names(const char *user, gid_t gid, char **names)
{
	gid_t gids[MAX_GROUPS];
	int n = MAX_GROUPS;
	if (getgrouplist(user, gid, gids, &n) < 0)
		n = MAX_GROUPS; /* More than that: the first ones count. */
	int out = 0;
	for (int k = 0; k < n; k++) {
		struct group *g = getgrgid(gids[k]);
		if (g && (names[out] = strdup(g->gr_name)))
			out++;
	}
	return out;
}

/* What both requests are given, checked. */
struct request {
	const char *nspath_arg, *bridge, *name;
	char nspath[PATH_MAX];
	uid_t ruid;
	gid_t rgid;
	char *user;
	char *groups[MAX_GROUPS];
	int ngroups;
	int nsfd;
	int kernel_bridge; /* else perhaps an Open vSwitch one */
};

static void parse(struct request *r, char **argv, int is_create)
{
	const char *pidarg = argv[4], *type = argv[5];
	r->bridge = argv[6];
	r->name = argv[7];
	if (pidarg[0] == '/') {
		if (strlen(pidarg) >= sizeof(r->nspath))
			fail("NETNS-PATH is too long", 0);
		strcpy(r->nspath, pidarg);
	} else {
		char *end = NULL;
		long pid = strtol(pidarg, &end, 10);
		if (!isdigit((unsigned char)pidarg[0]) || *end || pid <= 0 || pid > 0x3fffffff)
			fail("PID is not a process id (nor an absolute path to a network namespace)", 0);
		snprintf(r->nspath, sizeof(r->nspath), "/proc/%ld/ns/net", pid);
	}
	if (strcmp(type, "veth"))
		fail("only veth devices are given to unprivileged users (lxc-usernet's TYPE)", 0);
	if (!device_name(r->bridge))
		fail("BRIDGE is not a network device name", 0);
	if (!device_name(r->name))
		fail(is_create ? "NICNAME is not a network device name" : "HOST-END is not a network device name", 0);

	r->ruid = getuid();
	r->rgid = getgid();
	struct passwd *pw = getpwuid(r->ruid);
	if (!pw)
		fail("the calling user has no name in the user database (lxc-usernet names users)", 0);
	r->user = strdup(pw->pw_name);
	r->ngroups = group_names(r->user, r->rgid, r->groups);

	char why[512];
	r->nsfd = caller_netns(r->nspath, r->ruid, r->rgid, why, sizeof(why));
	if (r->nsfd < 0)
		fail(why, errno);
	char brdir[64];
	snprintf(brdir, sizeof(brdir), "/sys/class/net/%s/bridge", r->bridge);
	struct stat st;
	r->kernel_bridge = stat(brdir, &st) == 0 && S_ISDIR(st.st_mode);
}

/* A link that is not a kernel bridge must be Open vSwitch's; fails otherwise. */
static void require_ovs(const char *bridge)
{
	char why[512], msg[700];
	int ovs = ovs_is_bridge(bridge, why, sizeof(why));
	if (ovs == 1)
		return;
	if (ovs < 0)
		snprintf(msg, sizeof(msg), "%s is not a bridge of the host, and Open vSwitch could not say whether it is one of its: %s", bridge, why);
	else
		snprintf(msg, sizeof(msg), "%s is neither a bridge of the host nor an Open vSwitch bridge", bridge);
	fail(msg, 0);
}

static int create(struct request *r)
{
	char why[512];
	const char *bridge = r->bridge, *nic = r->name;
	if (!r->kernel_bridge)
		require_ovs(bridge);
	int brindex = (int)if_nametoindex(bridge);
	if (brindex == 0) {
		snprintf(why, sizeof(why), "%s is not a network device of the host", bridge);
		fail(why, 0);
	}

	struct nic_db db;
	if (nic_db_open(&db, why, sizeof(why)) < 0)
		fail(why, errno);
	struct nic_entry added = { .type = "veth" };
	int q = nic_quota_owner(&db, r->user, r->groups, r->ngroups, "veth", bridge, added.owner, why, sizeof(why));
	if (q < 0)
		fail(why, errno);
	if (q == 0)
		fail(why, 0);
	snprintf(added.bridge, sizeof(added.bridge), "%s", bridge);

	long mtu = sysfs_number(bridge, "mtu");
	int nl = nl_open();
	if (nl < 0)
		fail("cannot open a netlink socket", errno);
	int made = -1;
	for (int attempt = 0; attempt < 5 && made < 0; attempt++) {
		host_name(added.host, r->ruid);
		/* An Open vSwitch port has no kernel master: ovs-vsctl adds it once it exists. */
		struct nl_link host = { .name = added.host, .mtu = mtu > 0 ? (uint32_t)mtu : 0, .master = r->kernel_bridge ? brindex : 0, .up = 1, .netns_fd = -1 };
		struct nl_link peer = { .name = nic, .mtu = host.mtu, .netns_fd = r->nsfd };
		char nlwhy[NL_WHY];
		made = nl_veth_create(nl, &host, &peer, nlwhy);
		/* EEXIST for the random host name: another try; for NICNAME inside, the same answer each time. */
		if (made < 0 && (errno != EEXIST || if_nametoindex(added.host) == 0)) {
			int err = errno;
			snprintf(why, sizeof(why), "cannot make the veth pair %s (host, on %s) / %s (in %s)%s%s", added.host, bridge, nic, r->nspath,
				 nlwhy[0] ? ": " : "", nlwhy);
			fail(why, err);
		}
	}
	if (made < 0)
		fail("cannot find a free name for the host end", EEXIST);
	int hostindex = (int)if_nametoindex(added.host);
	char nlwhy[NL_WHY];
	if (!r->kernel_bridge && ovs_add_port(bridge, added.host, why, sizeof(why)) < 0) {
		if (hostindex > 0)
			(void)nl_link_del(nl, hostindex, nlwhy);
		fail(why, 0);
	}
	if (nic_db_commit(&db, &added) < 0) {
		int err = errno;
		/* Not counted, so not given: the pair (and its port) goes again. */
		if (!r->kernel_bridge)
			(void)ovs_del_port(bridge, added.host, why, sizeof(why));
		if (hostindex > 0)
			(void)nl_link_del(nl, hostindex, nlwhy);
		fail("cannot record the device in " USERNIC_DB, err);
	}
	nic_db_close(&db);
	printf("%s:%ld:%s:%d\n", nic, sysfs_number(added.host, "iflink"), added.host, hostindex);
	return fflush(stdout) == 0 ? 0 : 1;
}

static int delete(struct request *r)
{
	char why[512];
	if (r->kernel_bridge) {
		snprintf(why, sizeof(why), "%s is a bridge of the host, whose ports go with their devices: only Open vSwitch ports are deleted", r->bridge);
		fail(why, 0);
	}
	struct nic_db db;
	if (nic_db_open(&db, why, sizeof(why)) < 0)
		fail(why, errno);
	if (!nic_db_find(&db, r->user, r->groups, r->ngroups, "veth", r->bridge, r->name)) {
		snprintf(why, sizeof(why), "%s is not a veth given to %s on %s (%s)", r->name, r->user, r->bridge, USERNIC_DB);
		fail(why, 0);
	}
	/*
	 * Not asked again whether BRIDGE is Open vSwitch's: create did, when it gave this device on it, and
	 * del-port names a bridge that is not. Under the database's lock, so that no create hands the name
	 * out again meanwhile.
	 */
	if (ovs_del_port(r->bridge, r->name, why, sizeof(why)) < 0)
		fail(why, 0);
	nic_db_close(&db);
	return 0;
}

int main(int argc, char **argv)
{
	int is_create = argc == 8 && !strcmp(argv[1], "create"), is_delete = argc == 8 && !strcmp(argv[1], "delete");
	if (!is_create && !is_delete) {
		fprintf(stderr, "usage: lxkit-user-nic create LXCPATH NAME PID|NETNS-PATH veth BRIDGE NICNAME\n"
				"       lxkit-user-nic delete LXCPATH NAME NETNS-PATH veth BRIDGE HOST-END\n");
		return 1;
	}
	if (geteuid() != 0)
		fail("not setuid root: as root, chown root and chmod u+s this file (lxkit's build does where it runs as root)", 0);
	umask(022);
	struct request r = { 0 };
	parse(&r, argv, is_create);
	return is_create ? create(&r) : delete(&r);
}
