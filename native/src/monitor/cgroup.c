/*
 * The container's cgroups, as the monitor holds them once lxkit's cgroup
 * driver made them (M_CGROUPS): the monitor answers where they are (for
 * attach, lxkit cgroup and info), freezes and thaws them, kills through
 * cgroup.kill, and removes them when the container is gone — by itself,
 * so that a daemon's end needs no Node process, and also when the
 * controller was killed.
 *
 * Entries (strs of M_CGROUPS, tab-separated fields):
 *   "P <version> <controllers> <limit dir> <init dir>"  one per hierarchy: the container's
 *       cgroup (limits; removed with everything below it) and the init's (attach joins it;
 *       the same unless lxc.cgroup.dir.container.inner)
 *   "M <monitor dir> <dir to leave to>"  the monitor's own cgroup in one hierarchy, made by
 *       lxkit (which moves the monitor in)
 *   "L <version> <cpuset 0|1> <base dir> <name> <tries> <dir to leave to>"  the monitor's own
 *       cgroup in one hierarchy, for the monitor to make and enter by itself once the
 *       container runs (cgroup_settle): `name` below `base`, else name-1, name-2… (up to
 *       `tries` names, the same suffix in every hierarchy). Making it is no part of a start.
 *   "E <dir>"  a cgroup to put the container's first process in, now: lxkit hands the v1
 *       hierarchies' while the clone runs, so this comes after the clone and before the
 *       first batch, which fails with the error if the move did (cgroup_failure).
 * Several M_CGROUPS add up (lxkit hands the unified hierarchy's before the clone, the v1
 * hierarchies' while the clone runs).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "monitor.h"

#define MAX_HIER 32

struct payload {
	int version;
	char *controllers; /* comma-separated (v1), or the unified hierarchy's cgroup.controllers */
	char *limit;
	char *init;
};
struct mon {
	char *dir;
	char *back;
};

struct later {
	int version;
	int cpuset;
	char *base;
	char *back;
};

static struct payload payloads[MAX_HIER];
static int npayloads;
static struct mon mons[MAX_HIER];
static int nmons;
static struct later laters[MAX_HIER];
static int nlaters;
static char *later_name;
static int later_tries;
static int failed_errno;
static char failed_path[4096];

static void sleep_ms(long ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int write_file(const char *dir, const char *file, const char *value)
{
	char path[4096];
	if (snprintf(path, sizeof(path), "%s/%s", dir, file) >= (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, value, strlen(value));
	int err = errno;
	close(fd);
	errno = err;
	return n < 0 ? -1 : 0;
}

static int read_file(const char *dir, const char *file, char *out, size_t size)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, out, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	out[n] = 0;
	return 0;
}

static char *field(char **rest)
{
	char *f = *rest;
	if (!f)
		return NULL;
	char *tab = strchr(f, '\t');
	if (tab) {
		*tab = 0;
		*rest = tab + 1;
	} else {
		*rest = NULL;
	}
	return f;
}

void cgroup_set(const struct record *r)
{
	for (uint32_t i = 0; i < r->nstrs; i++) {
		char *copy = strdup(r->strs[i]), *rest = copy;
		if (!copy)
			continue;
		char *kind = field(&rest);
		if (kind && strcmp(kind, "P") == 0 && npayloads < MAX_HIER) {
			char *version = field(&rest), *controllers = field(&rest), *limit = field(&rest), *init = field(&rest);
			if (version && controllers && limit && init)
				payloads[npayloads++] = (struct payload){ atoi(version), strdup(controllers), strdup(limit), strdup(init) };
		} else if (kind && strcmp(kind, "M") == 0 && nmons < MAX_HIER) {
			char *dir = field(&rest), *back = field(&rest);
			if (dir && back)
				mons[nmons++] = (struct mon){ strdup(dir), strdup(back) };
		} else if (kind && strcmp(kind, "E") == 0) {
			char *dir = field(&rest), pid[16];
			snprintf(pid, sizeof(pid), "%d", M.pid);
			if (dir && M.pid > 0 && !M.exited && !failed_errno && write_file(dir, "cgroup.procs", pid) < 0) {
				failed_errno = errno;
				snprintf(failed_path, sizeof(failed_path), "%s/cgroup.procs", dir);
			}
		} else if (kind && strcmp(kind, "L") == 0 && nlaters < MAX_HIER) {
			char *version = field(&rest), *cpuset = field(&rest), *base = field(&rest), *name = field(&rest), *tries = field(&rest),
			     *back = field(&rest);
			if (version && cpuset && base && name && tries && back) {
				laters[nlaters++] = (struct later){ atoi(version), atoi(cpuset), strdup(base), strdup(back) };
				if (!later_name) {
					later_name = strdup(name);
					later_tries = atoi(tries) > 0 ? atoi(tries) : 1;
				}
			}
		}
		free(copy);
	}
}

/* The first process could not be put in one of its cgroups ("E"): the errno, and *path. */
int cgroup_failure(const char **path)
{
	*path = failed_path;
	return failed_errno;
}

int cgroup_settle_pending(void)
{
	return nlaters > 0;
}

/* mkdir -p of `rel` below `base`; 1 when the last component was made, 0 when it exists, -1 on error. */
static int make_below(const char *base, const char *rel, int cpuset)
{
	char dir[4096], parent[4096];
	if (snprintf(dir, sizeof(dir), "%s/%s", base, rel) >= (int)sizeof(dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (char *slash = dir + strlen(base) + 1;; slash++) {
		slash = strchr(slash, '/');
		if (slash)
			*slash = 0;
		int made = mkdir(dir, 0755) == 0;
		if (!made && errno != EEXIST)
			return -1;
		if (made && cpuset) {
			/* A new v1 cpuset has no CPUs or memory nodes (no task may enter it): its parent's. */
			char value[4096];
			snprintf(parent, sizeof(parent), "%s", dir);
			*strrchr(parent, '/') = 0;
			for (int f = 0; f < 2; f++) {
				const char *file = f ? "cpuset.mems" : "cpuset.cpus";
				if (read_file(dir, file, value, sizeof(value)) == 0 && value[0] != '\n' && value[0])
					continue;
				if (read_file(parent, file, value, sizeof(value)) == 0)
					(void)write_file(dir, file, value);
			}
		}
		if (!slash)
			return made;
		*slash = '/';
	}
}

/*
 * The container runs: the monitor makes its own cgroups (LXC's
 * lxc.monitor.NAME) and moves there. Off the start's path on purpose; a
 * failure costs only the monitor's accounting, so it is logged, and the
 * monitor stays where it came from.
 */
void cgroup_settle(void)
{
	if (nlaters == 0)
		return;
	char name[4096];
	int done = 0;
	for (int attempt = 0; attempt < later_tries && !done; attempt++) {
		if (attempt == 0)
			snprintf(name, sizeof(name), "%s", later_name);
		else
			snprintf(name, sizeof(name), "%s-%d", later_name, attempt);
		int made = 0, clash = 0;
		for (; made < nlaters; made++) {
			int r = make_below(laters[made].base, name, laters[made].cpuset);
			if (r == 0) {
				/* Left by a monitor that was killed (nothing in it): removable. */
				char dir[8192];
				if (snprintf(dir, sizeof(dir), "%s/%s", laters[made].base, name) < (int)sizeof(dir) && rmdir(dir) == 0)
					r = make_below(laters[made].base, name, laters[made].cpuset);
			}
			if (r < 0)
				mlog(4, "monitor: cannot make cgroup %s/%s: %s", laters[made].base, name, strerror(errno));
			if (r <= 0) {
				clash = r == 0;
				break;
			}
		}
		if (made == nlaters) {
			done = 1;
			break;
		}
		for (int i = 0; i < made; i++) {
			char dir[8192];
			if (snprintf(dir, sizeof(dir), "%s/%s", laters[i].base, name) < (int)sizeof(dir))
				(void)rmdir(dir);
		}
		if (!clash)
			break;
	}
	for (int i = 0; i < nlaters; i++) {
		if (done && nmons < MAX_HIER) {
			char *dir = NULL;
			if (asprintf(&dir, "%s/%s", laters[i].base, name) < 0)
				dir = NULL;
			if (dir) {
				mons[nmons++] = (struct mon){ dir, strdup(laters[i].back) };
				if (write_file(dir, "cgroup.procs", "0") == 0)
					continue;
				mlog(4, "monitor: cannot enter cgroup %s: %s", dir, strerror(errno));
			}
		}
		(void)write_file(laters[i].back, "cgroup.procs", "0");
	}
	M.in_payload_cgroup = 0;
	if (!done)
		mlog(4, "monitor: no cgroup of its own (%s): it stays where it was started", later_name);
	for (int i = 0; i < nlaters; i++) {
		free(laters[i].base);
		free(laters[i].back);
	}
	nlaters = 0;
}

int cgroup_count(void)
{
	return npayloads;
}

/* "version\tcontrollers\tlimit dir\tinit dir" of each hierarchy, for C_CGROUPS. */
char *cgroup_describe(int i)
{
	char *s = NULL;
	if (i < npayloads && asprintf(&s, "%d\t%s\t%s\t%s", payloads[i].version, payloads[i].controllers, payloads[i].limit, payloads[i].init) < 0)
		s = NULL;
	return s;
}

const char *cgroup_init_dir(int i)
{
	return i < npayloads ? payloads[i].init : NULL;
}

static int has_controller(const struct payload *p, const char *name)
{
	size_t n = strlen(name);
	for (const char *c = p->controllers; c && *c;) {
		const char *end = strchr(c, ',');
		size_t len = end ? (size_t)(end - c) : strlen(c);
		if (len == n && strncmp(c, name, n) == 0)
			return 1;
		c = end ? end + 1 : c + len;
	}
	return 0;
}

/* The v1 freezer's hierarchy, or else the unified one (whose cgroup.freeze needs no controller). */
static const struct payload *freezer(int *v1)
{
	for (int i = 0; i < npayloads; i++)
		if (payloads[i].version == 1 && has_controller(&payloads[i], "freezer")) {
			*v1 = 1;
			return &payloads[i];
		}
	for (int i = 0; i < npayloads; i++)
		if (payloads[i].version == 2) {
			*v1 = 0;
			return &payloads[i];
		}
	return NULL;
}

static const struct payload *unified(void)
{
	for (int i = 0; i < npayloads; i++)
		if (payloads[i].version == 2)
			return &payloads[i];
	return NULL;
}

/* Whether the freezer reports the cgroup frozen (v1 freezer.state FROZEN, v2 cgroup.events "frozen 1"). */
static int is_frozen(const struct payload *p, int v1)
{
	char text[512];
	if (read_file(p->limit, v1 ? "freezer.state" : "cgroup.events", text, sizeof(text)) < 0)
		return 0;
	if (v1)
		return strncmp(text, "FROZEN", 6) == 0;
	const char *f = strstr(text, "frozen ");
	return f && f[7] == '1';
}

/*
 * Freezes (or thaws) the container: FREEZING then FROZEN, or THAWED then
 * RUNNING, told to subscribers. Waits up to timeout_ms (< 0: 10 s) for the
 * kernel to freeze every task. Returns 0 or an errno.
 */
int cgroup_freeze(int freeze, int timeout_ms)
{
	int v1 = 0;
	const struct payload *p = freezer(&v1);
	if (!p)
		return EOPNOTSUPP;
	if (M.pid < 0 || M.exited)
		return ESRCH;
	/* Settled first: the freeze must find the monitor where it belongs. */
	cgroup_settle();
	if (freeze && M.state != STATE_RUNNING && M.state != STATE_FROZEN)
		return EBUSY;
	if (!freeze) {
		if (M.state != STATE_FROZEN && M.state != STATE_FREEZING)
			return 0;
		if (write_file(p->limit, v1 ? "freezer.state" : "cgroup.freeze", v1 ? "THAWED" : "0") < 0)
			return errno;
		set_state(STATE_THAWED);
		set_state(STATE_RUNNING);
		return 0;
	}
	if (M.state == STATE_FROZEN)
		return 0;
	set_state(STATE_FREEZING);
	if (write_file(p->limit, v1 ? "freezer.state" : "cgroup.freeze", v1 ? "FROZEN" : "1") < 0) {
		int err = errno;
		set_state(STATE_RUNNING);
		return err;
	}
	long waited = 0, limit = timeout_ms < 0 ? 10000 : timeout_ms;
	while (!is_frozen(p, v1)) {
		if (waited >= limit) {
			/* As LXC: a freeze that does not finish is undone. */
			(void)write_file(p->limit, v1 ? "freezer.state" : "cgroup.freeze", v1 ? "THAWED" : "0");
			set_state(STATE_RUNNING);
			return ETIMEDOUT;
		}
		/* v1 needs the state written again while tasks are still being frozen. */
		if (v1)
			(void)write_file(p->limit, "freezer.state", "FROZEN");
		sleep_ms(1);
		waited++;
	}
	set_state(STATE_FROZEN);
	return 0;
}

/* A signal stops a frozen container only once thawed (v1): after a stop's signal, thaw. */
void cgroup_after_stop_signal(int sig)
{
	const struct payload *u = unified();
	if (sig == SIGKILL && u)
		(void)write_file(u->limit, "cgroup.kill", "1");
	if (M.state == STATE_FROZEN || M.state == STATE_FREEZING) {
		int v1 = 0;
		const struct payload *p = freezer(&v1);
		if (p)
			(void)write_file(p->limit, v1 ? "freezer.state" : "cgroup.freeze", v1 ? "THAWED" : "0");
	}
}

/* "." and "..": not a cgroup below. Other names may start with a dot (lxc-attach's .lxc, a container's own). */
static int self_or_parent(const char *name)
{
	return name[0] == '.' && (name[1] == 0 || (name[1] == '.' && name[2] == 0));
}

/* SIGKILL to every task left below `dir` (without a pid namespace they outlive the init). */
static int kill_tasks(const char *dir)
{
	int found = 0;
	char path[4096];
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	FILE *f = fopen(path, "re");
	if (f) {
		int pid;
		while (fscanf(f, "%d", &pid) == 1) {
			found = 1;
			kill(pid, SIGKILL);
		}
		fclose(f);
	}
	DIR *d = opendir(dir);
	if (!d)
		return found;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_type != DT_DIR || self_or_parent(e->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		found |= kill_tasks(path);
	}
	closedir(d);
	return found;
}

/* Removes `dir` and the cgroups below it, deepest first (a container may have made its own). */
static int remove_tree(const char *dir)
{
	/* Mostly a leaf (the init's cgroup is the container's): no walk. Children or tasks: EBUSY. */
	if (rmdir(dir) == 0 || errno == ENOENT)
		return 0;
	if (errno != EBUSY && errno != ENOTEMPTY)
		return -1;
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -1;
	struct dirent *e;
	char path[4096];
	while ((e = readdir(d))) {
		if (e->d_type != DT_DIR || self_or_parent(e->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		remove_tree(path);
	}
	closedir(d);
	return rmdir(dir) < 0 && errno != ENOENT ? -1 : 0;
}

/* rmdir with patience: a cgroup whose last task just died stays busy for a moment. */
static void remove_waiting(const char *dir, int payload)
{
	for (int tries = 0; tries < 400; tries++) {
		if (remove_tree(dir) == 0)
			return;
		if (errno != EBUSY)
			break;
		if (payload && tries % 20 == 0)
			kill_tasks(dir);
		sleep_ms(5);
	}
	mlog(4, "monitor: cannot remove cgroup %s: %s", dir, strerror(errno));
}

/* The monitor's stop work (a child it starts) leaves the monitor's cgroup, which goes before it exits. */
void cgroup_leave_monitor(void)
{
	for (int i = 0; i < nmons; i++)
		(void)write_file(mons[i].back, "cgroup.procs", "0");
	/* Not settled yet: back where it started, if it entered the init's cgroup for the clone. */
	if (M.in_payload_cgroup)
		for (int i = 0; i < nlaters; i++)
			(void)write_file(laters[i].back, "cgroup.procs", "0");
	M.in_payload_cgroup = 0;
}

/*
 * The container is gone: its cgroups go, then the monitor's own. Usually
 * nothing is left in them (the init took its pid namespace with it) and each
 * goes at once; only those still in use are thawed, killed and waited for.
 */
void cgroup_remove_all(void)
{
	/* First out of the container's cgroups, where a driver may have put the monitor for the clone. */
	cgroup_leave_monitor();
	int busy[MAX_HIER], nbusy = 0;
	for (int i = 0; i < npayloads; i++)
		if (remove_tree(payloads[i].limit) < 0)
			busy[nbusy++] = i; /* in use (EBUSY), or an error remove_waiting logs */
	if (nbusy > 0) {
		int v1 = 0;
		const struct payload *f = freezer(&v1);
		if (f && (M.state == STATE_FROZEN || M.state == STATE_FREEZING || is_frozen(f, v1)))
			(void)write_file(f->limit, v1 ? "freezer.state" : "cgroup.freeze", v1 ? "THAWED" : "0");
		const struct payload *u = unified();
		if (u)
			(void)write_file(u->limit, "cgroup.kill", "1");
		for (int i = 0; i < nbusy; i++)
			kill_tasks(payloads[busy[i]].limit);
		for (int i = 0; i < nbusy; i++)
			remove_waiting(payloads[busy[i]].limit, 1);
	}
	for (int i = 0; i < nmons; i++)
		remove_waiting(mons[i].dir, 0);
	npayloads = nmons = nlaters = 0;
}
