/*
 * A small rtnetlink client: the requests lxkit's network types make, on the
 * host (the addon) and in the container's network namespace (the first
 * process's ops). Each call sends one request and waits for its ack; on
 * failure it returns -1 with errno set, and the kernel's extended ack text
 * (when it gave one) in `why`.
 */
#ifndef LXKIT_NETLINK_H
#define LXKIT_NETLINK_H

#include <stddef.h>
#include <stdint.h>

#define NL_WHY 256

/* A NETLINK_ROUTE socket (extended acks asked for); -1 with errno. */
int nl_open(void);

/* One end of a device pair, or a device alone: what is set on it at creation or later. */
struct nl_link {
	const char *name;             /* IFLA_IFNAME; for nl_link_set, the device's new name (NULL: kept) */
	const uint8_t *hwaddr;        /* 6 bytes, or NULL */
	uint32_t mtu;                 /* 0: the kernel's */
	int master;                   /* ifindex of the bridge to enslave to; 0: none */
	int up;                       /* 1: up; 0: left as it is */
	int netns_fd;                 /* create in (or move to) this network namespace; -1: here */
	uint32_t rx_queues, tx_queues; /* at creation; 0: the kernel's */
};

/* A veth pair: `host` here, `peer` created directly in peer->netns_fd's namespace. */
int nl_veth_create(int fd, const struct nl_link *host, const struct nl_link *peer, char why[NL_WHY]);

/* One attribute of a device kind's IFLA_INFO_DATA (a mode, an id): 2 or 4 bytes. */
struct nl_data {
	uint16_t type;
	uint8_t size;
	uint32_t value;
};

/*
 * A device of `kind` (macvlan, ipvlan, vlan) on the host device `parent`
 * (an ifindex of this namespace), made as `dev` says (in dev->netns_fd's
 * namespace when set), with `ndata` attributes of its kind.
 */
int nl_link_create(int fd, const char *kind, int parent, const struct nl_link *dev, const struct nl_data *data, int ndata, char why[NL_WHY]);

/* Changes the device `ifindex` as `change` says. */
int nl_link_set(int fd, int ifindex, const struct nl_link *change, char why[NL_WHY]);

/* Deletes the device `ifindex` (a veth's pair with it). */
int nl_link_del(int fd, int ifindex, char why[NL_WHY]);

/* An address on `ifindex`: family AF_INET (4 bytes, optional broadcast) or AF_INET6 (16 bytes). */
int nl_addr_add(int fd, int ifindex, int family, const uint8_t *addr, int prefix, const uint8_t *broadcast, char why[NL_WHY]);

/*
 * A route through `ifindex`: to dst/prefix (NULL: the default route), via
 * gateway `gw` (NULL: on the link itself, scope link).
 */
int nl_route_add(int fd, int ifindex, int family, const uint8_t *dst, int prefix, const uint8_t *gw, char why[NL_WHY]);

/* Adds (add 1) or removes a VLAN of a bridge port `ifindex` (flags: BRIDGE_VLAN_INFO_PVID, _UNTAGGED). */
int nl_bridge_vlan(int fd, int ifindex, int add, uint16_t vid, uint16_t flags, char why[NL_WHY]);

/* A proxy neighbour entry (proxy ARP / NDP) for `addr` on `ifindex`, added (add 1) or removed. */
int nl_neigh_proxy(int fd, int add, int ifindex, int family, const uint8_t *addr, char why[NL_WHY]);

#endif
