/*
 * Quotas of lxkit-user-nic, as LXC's lxc-user-nic keeps them, so that both
 * count against the same limits: /etc/lxc/lxc-usernet says how many devices
 * of a type a user (or @group) may attach to a bridge, and /run/lxc/nics
 * lists the host ends given out, one `OWNER TYPE BRIDGE HOST-END` per line,
 * under a POSIX write lock on the whole file (LXC's lock).
 */
#ifndef LXKIT_USERNIC_QUOTA_H
#define LXKIT_USERNIC_QUOTA_H

#include <net/if.h>
#include <sys/types.h>

#define USERNET_CONF "/etc/lxc/lxc-usernet"
#define USERNIC_DB_DIR "/run/lxc"
#define USERNIC_DB USERNIC_DB_DIR "/nics"

/* One line of the database. `owner` is the lxc-usernet line's first field: a user name or @group. */
struct nic_entry {
	char owner[64];
	char type[16];
	char bridge[IF_NAMESIZE];
	char host[IF_NAMESIZE];
};

struct nic_db {
	int fd;
	struct nic_entry *entries;
	size_t count;
};

/*
 * Opens the database and waits for its lock; the entries whose host end is
 * gone from this namespace are left out (they went with their container's
 * namespace). 0, or -1 with errno and `why`.
 */
int nic_db_open(struct nic_db *db, char *why, size_t whylen);

/*
 * The lxc-usernet owner (`user` or one of `groups` as @name) with a device
 * of `type` on `bridge` left in its quota, in the file's order, copied to
 * owner. 1: found; 0: none left (or no line at all; `why` says which); -1: the
 * file could not be read (errno, `why`).
 */
int nic_quota_owner(const struct nic_db *db, const char *user, char *const *groups, int ngroups, const char *type, const char *bridge,
		    char owner[64], char *why, size_t whylen);

/*
 * The entry of a `type` device whose host end is `host` on `bridge` given to
 * `user` (by name, or by one of `groups` as @name), or NULL: what the caller
 * may have deleted.
 */
const struct nic_entry *nic_db_find(const struct nic_db *db, const char *user, char *const *groups, int ngroups, const char *type,
				    const char *bridge, const char *host);

/* Writes the kept entries and `added` back; 0, or -1 with errno. */
int nic_db_commit(struct nic_db *db, const struct nic_entry *added);

void nic_db_close(struct nic_db *db);

#endif
