/* Network namespaces for the monitor and its first process; see netns.c. */
#ifndef LXKIT_NETNS_H
#define LXKIT_NETNS_H

void netns_return(int self);                /* back to the namespace `self` refers to, or abort */
void netns_prepare(void);                   /* M_NETNS: the container's network namespace, made now (root only) */
int netns_enter_prepared(void);             /* in it for the clone: the fd to return with, or -1 (none made) */
void netns_drop_prepared(void);
int netns_loopback_up(const char **failed); /* lo up in the current network namespace; -1 with errno and the call that failed */
void netns_give_back(const char *inside, const char *host, unsigned mtu); /* M_NET_GIVE_BACK: a host device (phys) to return at the end */
void netns_give_back_all(int ns);            /* every such device moved from the namespace `ns` back to the monitor's */
void netns_unproxy(const char *ifname, int family, const uint8_t *addr, uint32_t len); /* M_NET_UNPROXY: a host proxy entry to remove at the end */
void netns_unproxy_all(void);                /* every such entry removed (in the monitor's own namespace) */

#endif
