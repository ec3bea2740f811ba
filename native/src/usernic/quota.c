/*
 * lxc-usernet quotas and the /run/lxc/nics database (quota.h).
 */
#define _GNU_SOURCE
#include "quota.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Far more than any host gives out; a larger file is not ours to trust. */
#define MAX_FILE (1 << 20)

/* The whole of an open file, NUL-terminated; NULL with errno. */
static char *slurp(int fd)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return NULL;
	if (st.st_size > MAX_FILE) {
		errno = EFBIG;
		return NULL;
	}
	char *buf = malloc((size_t)st.st_size + 1);
	if (!buf)
		return NULL;
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t n = pread(fd, buf + got, (size_t)st.st_size - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			return NULL;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	buf[got] = 0;
	return buf;
}

/* Copies a field that must fit; 0 when it does not. */
static int field(char *dst, size_t size, const char *src)
{
	if (!src || strlen(src) >= size)
		return 0;
	strcpy(dst, src);
	return 1;
}

int nic_db_open(struct nic_db *db, char *why, size_t whylen)
{
	*db = (struct nic_db){ .fd = -1 };
	if (mkdir(USERNIC_DB_DIR, 0755) < 0 && errno != EEXIST) {
		snprintf(why, whylen, "cannot make %s", USERNIC_DB_DIR);
		return -1;
	}
	db->fd = open(USERNIC_DB, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (db->fd < 0) {
		snprintf(why, whylen, "cannot open %s", USERNIC_DB);
		return -1;
	}
	struct flock lk = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int r;
	do
		r = fcntl(db->fd, F_SETLKW, &lk);
	while (r < 0 && errno == EINTR);
	char *text = r < 0 ? NULL : slurp(db->fd);
	if (!text) {
		snprintf(why, whylen, "cannot lock and read %s", USERNIC_DB);
		return -1;
	}
	size_t cap = 0;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *s2 = NULL;
		const char *f[4];
		int n = 0;
		for (char *t = strtok_r(line, " \t", &s2); t && n < 4; t = strtok_r(NULL, " \t", &s2))
			f[n++] = t;
		struct nic_entry e;
		if (n != 4 || !field(e.owner, sizeof(e.owner), f[0]) || !field(e.type, sizeof(e.type), f[1]) ||
		    !field(e.bridge, sizeof(e.bridge), f[2]) || !field(e.host, sizeof(e.host), f[3]))
			continue;
		/* A host end that is gone went with its container's namespace: its place in the quota is free. */
		if (if_nametoindex(e.host) == 0)
			continue;
		if (db->count == cap) {
			cap = cap ? cap * 2 : 16;
			struct nic_entry *grown = realloc(db->entries, cap * sizeof(*grown));
			if (!grown) {
				free(text);
				snprintf(why, whylen, "reading %s", USERNIC_DB);
				return -1;
			}
			db->entries = grown;
		}
		db->entries[db->count++] = e;
	}
	free(text);
	return 0;
}

static size_t in_use(const struct nic_db *db, const char *owner, const char *type, const char *bridge)
{
	size_t n = 0;
	for (size_t k = 0; k < db->count; k++) {
		const struct nic_entry *e = &db->entries[k];
		n += !strcmp(e->owner, owner) && !strcmp(e->type, type) && !strcmp(e->bridge, bridge);
	}
	return n;
}

static int applies(const char *who, const char *user, char *const *groups, int ngroups)
{
	if (who[0] != '@')
		return !strcmp(who, user);
	for (int k = 0; k < ngroups; k++)
		if (!strcmp(who + 1, groups[k]))
			return 1;
	return 0;
}

int nic_quota_owner(const struct nic_db *db, const char *user, char *const *groups, int ngroups, const char *type, const char *bridge,
		    char owner[64], char *why, size_t whylen)
{
	int fd = open(USERNET_CONF, O_RDONLY | O_CLOEXEC);
	char *text = fd < 0 ? NULL : slurp(fd);
	int err = errno;
	if (fd >= 0)
		close(fd);
	if (!text) {
		errno = err;
		snprintf(why, whylen, "cannot read %s, which gives users their network devices", USERNET_CONF);
		return -1;
	}
	int lines = 0, full = 0, lineno = 0;
	char *save = NULL;
	/* strsep keeps empty lines, so that line numbers in warnings are the file's. */
	for (char *rest = text, *line; (line = strsep(&rest, "\n"));) {
		lineno++;
		line[strcspn(line, "#")] = 0;
		const char *f[5];
		int n = 0;
		for (char *t = strtok_r(line, " \t", &save); t && n < 5; t = strtok_r(NULL, " \t", &save))
			f[n++] = t;
		if (n == 0)
			continue;
		char *end = NULL;
		long quota = n == 4 ? strtol(f[3], &end, 10) : -1;
		if (n != 4 || *end || quota < 0) {
			fprintf(stderr, "lxkit-user-nic: %s:%d: not \"USER|@GROUP TYPE BRIDGE COUNT\": line ignored\n", USERNET_CONF, lineno);
			continue;
		}
		if (!applies(f[0], user, groups, ngroups) || strcmp(f[1], type) || strcmp(f[2], bridge))
			continue;
		lines++;
		/* A line whose quota is used up passes the turn to the next one that applies (lxc-usernet(5)). */
		if (in_use(db, f[0], type, bridge) < (size_t)quota && field(owner, 64, f[0])) {
			free(text);
			return 1;
		}
		full++;
	}
	free(text);
	if (lines == 0)
		snprintf(why, whylen, "no line of %s lets %s attach a %s device to %s", USERNET_CONF, user, type, bridge);
	else
		snprintf(why, whylen, "the quota is reached: the %d line%s of %s that let %s attach a %s device to %s %s used up", lines,
			 lines == 1 ? "" : "s", USERNET_CONF, user, type, bridge, full == 1 ? "is" : "are");
	return 0;
}

const struct nic_entry *nic_db_find(const struct nic_db *db, const char *user, char *const *groups, int ngroups, const char *type,
				    const char *bridge, const char *host)
{
	for (size_t k = 0; k < db->count; k++) {
		const struct nic_entry *e = &db->entries[k];
		if (!strcmp(e->host, host) && !strcmp(e->bridge, bridge) && !strcmp(e->type, type) && applies(e->owner, user, groups, ngroups))
			return e;
	}
	return NULL;
}

int nic_db_commit(struct nic_db *db, const struct nic_entry *added)
{
	size_t cap = (db->count + 1) * (sizeof(struct nic_entry) + 4) + 1;
	char *out = malloc(cap);
	if (!out)
		return -1;
	size_t len = 0;
	for (size_t k = 0; k <= db->count; k++) {
		const struct nic_entry *e = k < db->count ? &db->entries[k] : added;
		len += (size_t)snprintf(out + len, cap - len, "%s %s %s %s\n", e->owner, e->type, e->bridge, e->host);
	}
	int ok = ftruncate(db->fd, 0) == 0 && pwrite(db->fd, out, len, 0) == (ssize_t)len;
	free(out);
	return ok ? 0 : -1;
}

void nic_db_close(struct nic_db *db)
{
	if (db->fd >= 0)
		close(db->fd);
	free(db->entries);
	*db = (struct nic_db){ .fd = -1 };
}
