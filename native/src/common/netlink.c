/*
 * rtnetlink requests (netlink.h). One request, one ack: lxkit's network
 * set-up is a handful of requests per device, so nothing here batches or
 * caches; what matters is that a refusal comes back with the kernel's own
 * words (NETLINK_EXT_ACK), which name the attribute it did not like.
 */
#define _GNU_SOURCE
#include "netlink.h"

#include <errno.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif

struct req {
	union {
		struct nlmsghdr h;
		char buf[2048];
	};
};

static uint32_t seq;

int nl_open(void)
{
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -1;
	int one = 1;
	/* Older kernels have no extended acks: errno alone then. */
	(void)setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

static void *tail(struct req *r)
{
	return r->buf + NLMSG_ALIGN(r->h.nlmsg_len);
}

static void begin(struct req *r, uint16_t type, uint16_t flags, const void *body, size_t len)
{
	memset(r, 0, sizeof(*r));
	r->h.nlmsg_type = type;
	r->h.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	r->h.nlmsg_seq = ++seq;
	r->h.nlmsg_len = NLMSG_LENGTH(len);
	memcpy(NLMSG_DATA(&r->h), body, len);
}

/* Appends an attribute; the buffer is large enough for every request built here. */
static struct rtattr *put(struct req *r, uint16_t type, const void *data, size_t len)
{
	struct rtattr *a = tail(r);
	a->rta_type = type;
	a->rta_len = RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(a), data, len);
	r->h.nlmsg_len = NLMSG_ALIGN(r->h.nlmsg_len) + RTA_ALIGN(a->rta_len);
	return a;
}

static void put_u32(struct req *r, uint16_t type, uint32_t v)
{
	put(r, type, &v, sizeof(v));
}

static void put_str(struct req *r, uint16_t type, const char *s)
{
	put(r, type, s, strlen(s) + 1);
}

static struct rtattr *nest(struct req *r, uint16_t type)
{
	return put(r, type, NULL, 0);
}

static void nest_end(struct req *r, struct rtattr *a)
{
	a->rta_len = (unsigned short)((char *)tail(r) - (char *)a);
}

/* The kernel's message in an error ack's NLMSGERR_ATTR_MSG, if any. */
static void ext_ack(const struct nlmsghdr *h, const struct nlmsgerr *e, char why[NL_WHY])
{
	if (!(h->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	size_t off = sizeof(*e);
	/* Without NLM_F_CAPPED the original request follows the error, before the TLVs. */
	if (!(h->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	const char *p = (const char *)e + NLMSG_ALIGN(off);
	const char *end = (const char *)h + h->nlmsg_len;
	while (p + sizeof(struct nlattr) <= end) {
		const struct nlattr *a = (const struct nlattr *)p;
		if (a->nla_len < sizeof(*a) || p + a->nla_len > end)
			break;
		if ((a->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG) {
			snprintf(why, NL_WHY, "%.*s", (int)(a->nla_len - sizeof(*a)), p + sizeof(*a));
			/* The kernel's text ends in a NUL, sometimes in a newline too. */
			why[strcspn(why, "\n")] = 0;
			return;
		}
		p += NLA_ALIGN(a->nla_len);
	}
}

static int talk(int fd, struct req *r, char why[NL_WHY])
{
	why[0] = 0;
	struct sockaddr_nl to = { .nl_family = AF_NETLINK };
	ssize_t n;
	do
		n = sendto(fd, r->buf, r->h.nlmsg_len, 0, (struct sockaddr *)&to, sizeof(to));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	char ans[8192];
	for (;;) {
		do
			n = recv(fd, ans, sizeof(ans), 0);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			return -1;
		for (struct nlmsghdr *h = (struct nlmsghdr *)ans; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != r->h.nlmsg_seq || h->nlmsg_type != NLMSG_ERROR)
				continue;
			const struct nlmsgerr *e = NLMSG_DATA(h);
			if (e->error == 0)
				return 0;
			ext_ack(h, e, why);
			errno = -e->error;
			return -1;
		}
	}
}

/* The attributes of one device's end: name, address, MTU, master, namespace. */
static void put_link(struct req *r, const struct nl_link *l)
{
	if (l->name)
		put_str(r, IFLA_IFNAME, l->name);
	if (l->hwaddr)
		put(r, IFLA_ADDRESS, l->hwaddr, 6);
	if (l->mtu)
		put_u32(r, IFLA_MTU, l->mtu);
	if (l->master)
		put_u32(r, IFLA_MASTER, (uint32_t)l->master);
	if (l->netns_fd >= 0)
		put_u32(r, IFLA_NET_NS_FD, (uint32_t)l->netns_fd);
	if (l->rx_queues)
		put_u32(r, IFLA_NUM_RX_QUEUES, l->rx_queues);
	if (l->tx_queues)
		put_u32(r, IFLA_NUM_TX_QUEUES, l->tx_queues);
}

static struct ifinfomsg ifinfo(int ifindex, const struct nl_link *l)
{
	struct ifinfomsg i = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex };
	if (l->up) {
		i.ifi_flags = IFF_UP;
		i.ifi_change = IFF_UP;
	}
	return i;
}

int nl_veth_create(int fd, const struct nl_link *host, const struct nl_link *peer, char why[NL_WHY])
{
	struct req r;
	struct ifinfomsg i = ifinfo(0, host);
	begin(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &i, sizeof(i));
	put_link(&r, host);
	struct rtattr *info = nest(&r, IFLA_LINKINFO);
	put_str(&r, IFLA_INFO_KIND, "veth");
	struct rtattr *data = nest(&r, IFLA_INFO_DATA);
	/* The peer's attributes follow an ifinfomsg of their own. */
	struct rtattr *p = nest(&r, VETH_INFO_PEER);
	struct ifinfomsg pi = ifinfo(0, peer);
	memcpy(tail(&r), &pi, sizeof(pi));
	r.h.nlmsg_len += NLMSG_ALIGN(sizeof(pi));
	put_link(&r, peer);
	nest_end(&r, p);
	nest_end(&r, data);
	nest_end(&r, info);
	return talk(fd, &r, why);
}

int nl_link_create(int fd, const char *kind, int parent, const struct nl_link *dev, const struct nl_data *data, int ndata, char why[NL_WHY])
{
	struct req r;
	struct ifinfomsg i = ifinfo(0, dev);
	begin(&r, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &i, sizeof(i));
	put_link(&r, dev);
	put_u32(&r, IFLA_LINK, (uint32_t)parent);
	struct rtattr *info = nest(&r, IFLA_LINKINFO);
	put_str(&r, IFLA_INFO_KIND, kind);
	if (ndata > 0) {
		struct rtattr *d = nest(&r, IFLA_INFO_DATA);
		for (int k = 0; k < ndata; k++) {
			if (data[k].size == 2) {
				uint16_t v = (uint16_t)data[k].value;
				put(&r, data[k].type, &v, sizeof(v));
			} else {
				put_u32(&r, data[k].type, data[k].value);
			}
		}
		nest_end(&r, d);
	}
	nest_end(&r, info);
	return talk(fd, &r, why);
}

int nl_link_set(int fd, int ifindex, const struct nl_link *change, char why[NL_WHY])
{
	struct req r;
	struct ifinfomsg i = ifinfo(ifindex, change);
	begin(&r, RTM_NEWLINK, 0, &i, sizeof(i));
	put_link(&r, change);
	return talk(fd, &r, why);
}

int nl_link_del(int fd, int ifindex, char why[NL_WHY])
{
	struct req r;
	struct ifinfomsg i = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex };
	begin(&r, RTM_DELLINK, 0, &i, sizeof(i));
	return talk(fd, &r, why);
}

static size_t addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

int nl_addr_add(int fd, int ifindex, int family, const uint8_t *addr, int prefix, const uint8_t *broadcast, char why[NL_WHY])
{
	struct req r;
	struct ifaddrmsg a = { .ifa_family = (uint8_t)family, .ifa_prefixlen = (uint8_t)prefix, .ifa_index = (uint32_t)ifindex };
	begin(&r, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &a, sizeof(a));
	put(&r, IFA_LOCAL, addr, addr_len(family));
	put(&r, IFA_ADDRESS, addr, addr_len(family));
	if (broadcast && family == AF_INET)
		put(&r, IFA_BROADCAST, broadcast, 4);
	return talk(fd, &r, why);
}

int nl_route_add(int fd, int ifindex, int family, const uint8_t *dst, int prefix, const uint8_t *gw, char why[NL_WHY])
{
	struct req r;
	struct rtmsg m = {
		.rtm_family = (uint8_t)family,
		.rtm_dst_len = (uint8_t)(dst ? prefix : 0),
		.rtm_table = RT_TABLE_MAIN,
		.rtm_protocol = RTPROT_BOOT,
		.rtm_scope = gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK,
		.rtm_type = RTN_UNICAST,
	};
	begin(&r, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, &m, sizeof(m));
	if (dst)
		put(&r, RTA_DST, dst, addr_len(family));
	if (gw)
		put(&r, RTA_GATEWAY, gw, addr_len(family));
	put_u32(&r, RTA_OIF, (uint32_t)ifindex);
	return talk(fd, &r, why);
}

int nl_neigh_proxy(int fd, int add, int ifindex, int family, const uint8_t *addr, char why[NL_WHY])
{
	struct req r;
	struct ndmsg n = { .ndm_family = (uint8_t)family, .ndm_ifindex = ifindex, .ndm_flags = NTF_PROXY, .ndm_state = NUD_PERMANENT };
	begin(&r, add ? RTM_NEWNEIGH : RTM_DELNEIGH, add ? NLM_F_CREATE | NLM_F_EXCL : 0, &n, sizeof(n));
	put(&r, NDA_DST, addr, addr_len(family));
	return talk(fd, &r, why);
}

int nl_bridge_vlan(int fd, int ifindex, int add, uint16_t vid, uint16_t flags, char why[NL_WHY])
{
	struct req r;
	struct ifinfomsg i = { .ifi_family = AF_BRIDGE, .ifi_index = ifindex };
	begin(&r, add ? RTM_SETLINK : RTM_DELLINK, 0, &i, sizeof(i));
	struct rtattr *spec = nest(&r, IFLA_AF_SPEC);
	struct bridge_vlan_info info = { .flags = flags, .vid = vid };
	put(&r, IFLA_BRIDGE_VLAN_INFO, &info, sizeof(info));
	nest_end(&r, spec);
	return talk(fd, &r, why);
}
