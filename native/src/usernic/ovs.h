/*
 * Open vSwitch for lxkit-user-nic, as LXC's lxc-user-nic uses it: a veth's
 * host end added to an Open vSwitch bridge as a port, and the port deleted
 * when the container stops (Open vSwitch keeps it in its database after the
 * device has gone). ovs-vsctl runs as root with a fixed environment, so it
 * talks to the system's database (its default socket) whatever the caller's
 * environment says; its own messages go to the caller's stderr.
 */
#ifndef LXKIT_USERNIC_OVS_H
#define LXKIT_USERNIC_OVS_H

#include <stddef.h>

/* Whether `bridge` is one of Open vSwitch's: 1 yes, 0 no, -1 Open vSwitch could not be asked (`why`). */
int ovs_is_bridge(const char *bridge, char *why, size_t whylen);

/* `ovs-vsctl --may-exist add-port BRIDGE PORT`: 0, or -1 with `why`. */
int ovs_add_port(const char *bridge, const char *port, char *why, size_t whylen);

/* `ovs-vsctl --if-exists del-port BRIDGE PORT`: 0, or -1 with `why`. */
int ovs_del_port(const char *bridge, const char *port, char *why, size_t whylen);

#endif
