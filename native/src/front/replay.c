/*
 * Replaying a launch plan: each input entry is compared with the host as it
 * is now, each action entry done, in the recorded order (see front.h and
 * core/src/launch-plan/recorder.ts). The first difference abandons the
 * replay, and undo() takes back what it did: the front then runs the Node
 * CLI, which does the command the usual way and says what is wrong, if
 * anything is.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../common/proto.h"
#include "../common/spawn.h"
#include "front.h"

extern char **environ;


static int differs(struct replay *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->whybuf, sizeof(r->whybuf), fmt, ap);
	va_end(ap);
	r->why = r->whybuf;
	return -1;
}

static int same(const struct record *rec, uint32_t i, const char *s, size_t n)
{
	return i < rec->nstrs && rec->lens[i] == n && memcmp(rec->strs[i], s, n) == 0;
}

static int by_string(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int errno_of(int ret)
{
	return ret == 0 ? 0 : errno;
}

/* A whole file into a malloc'd buffer; returns its length, or -1 with errno. */
static long slurp(const char *path, char **out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t cap = 4096, n = 0;
	char *p = malloc(cap);
	for (;;) {
		if (n == cap) {
			char *q = realloc(p, cap *= 2);
			if (!q)
				break;
			p = q;
		}
		ssize_t got = read(fd, p + n, cap - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			int e = errno;
			close(fd);
			if (got < 0) {
				free(p);
				errno = e;
				return -1;
			}
			*out = p;
			return (long)n;
		}
		n += (size_t)got;
	}
	close(fd);
	free(p);
	errno = ENOMEM;
	return -1;
}

static int check_head(struct replay *r, const struct record *e)
{
	char cwd[PATH_MAX];
	mode_t mask = umask(0);
	umask(mask);
	if (e->nints < 9 || e->ints[0] != PLAN_FORMAT)
		return differs(r, "a plan of another format");
	if (e->ints[1] != getuid() || e->ints[2] != getgid() || e->ints[3] != geteuid() || e->ints[4] != getegid())
		return differs(r, "other credentials");
	if (e->ints[5] != (int64_t)mask)
		return differs(r, "another umask");
	for (int fd = 0; fd < 3; fd++)
		if (e->ints[6 + fd] != isatty(fd))
			return differs(r, "fd %d is%s a terminal now", fd, isatty(fd) ? "" : " not");
	if (!getcwd(cwd, sizeof(cwd)) || !same(e, 0, cwd, strlen(cwd)))
		return differs(r, "another working directory");
	return 0;
}

static int check_args(struct replay *r, const struct record *e)
{
	if ((int)e->nstrs != r->argc)
		return differs(r, "other arguments");
	for (int i = 0; i < r->argc; i++)
		if (!same(e, (uint32_t)i, r->argv[i], strlen(r->argv[i])))
			return differs(r, "other arguments");
	return 0;
}

static int check_env(struct replay *r, const struct record *e)
{
	size_t n = 0;
	for (char **v = environ; *v; v++)
		n++;
	if (n != e->nstrs)
		return differs(r, "another environment");
	char **sorted = malloc((n + 1) * sizeof(char *));
	memcpy(sorted, environ, n * sizeof(char *));
	qsort(sorted, n, sizeof(char *), by_string);
	int ok = 1;
	for (size_t i = 0; i < n && ok; i++)
		ok = same(e, (uint32_t)i, sorted[i], strlen(sorted[i]));
	free(sorted);
	return ok ? 0 : differs(r, "another environment");
}

static int check_stat(struct replay *r, const struct record *e)
{
	const char *path = e->strs[0];
	struct stat st;
	int nofollow = e->ints[11] != 0;
	int err = errno_of(nofollow ? lstat(path, &st) : stat(path, &st));
	if (err != e->ints[0])
		return differs(r, "%s: %s now", path, err ? strerror(err) : "there now");
	if (err)
		return 0;
	if ((int64_t)st.st_dev != e->ints[1] || (int64_t)st.st_ino != e->ints[2] || (int64_t)st.st_mode != e->ints[3] ||
	    (int64_t)st.st_uid != e->ints[4] || (int64_t)st.st_gid != e->ints[5])
		return differs(r, "%s has changed", path);
	/* A directory's size and times are not compared (recorded as -1): a readdir records what is in it. */
	if (S_ISDIR(st.st_mode) && e->ints[6] == -1)
		return 0;
	if ((int64_t)st.st_size != e->ints[6] || (int64_t)st.st_mtim.tv_sec != e->ints[7] || (int64_t)st.st_mtim.tv_nsec != e->ints[8] ||
	    (int64_t)st.st_ctim.tv_sec != e->ints[9] || (int64_t)st.st_ctim.tv_nsec != e->ints[10])
		return differs(r, "%s has changed", path);
	return 0;
}

static int check_content(struct replay *r, const struct record *e)
{
	const char *path = e->strs[0];
	char *text = NULL;
	long n = slurp(path, &text);
	int err = n < 0 ? errno : 0;
	if (err != e->ints[0]) {
		free(text);
		return differs(r, "%s: %s now", path, err ? strerror(err) : "there now");
	}
	int ok = 1;
	if (!err) {
		if (e->ints[1]) {
			char *norm = malloc((size_t)n + 1);
			size_t m = normalise(path, text, (size_t)n, norm, (size_t)n + 1);
			ok = same(e, 1, norm, m);
			free(norm);
		} else {
			ok = same(e, 1, text, (size_t)n);
		}
	}
	free(text);
	return ok ? 0 : differs(r, "%s has changed", path);
}

static int check_exists(struct replay *r, const struct record *e)
{
	struct stat st;
	int err = errno_of(e->ints[2] ? lstat(e->strs[0], &st) : stat(e->strs[0], &st));
	if (err != e->ints[0] || (!err && (int64_t)(st.st_mode & S_IFMT) != e->ints[1]))
		return differs(r, "%s: %s now", e->strs[0], err ? strerror(err) : "another file now");
	return 0;
}

static char type_of(const char *dir, const struct dirent *d)
{
	unsigned char t = d->d_type;
	if (t == DT_UNKNOWN) {
		char path[PATH_MAX];
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		if (lstat(path, &st) == 0)
			t = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : S_ISLNK(st.st_mode) ? DT_LNK : DT_UNKNOWN;
	}
	return t == DT_DIR ? 'd' : t == DT_REG ? 'f' : t == DT_LNK ? 'l' : 'o';
}

static int check_readdir(struct replay *r, const struct record *e)
{
	const char *path = e->strs[0];
	DIR *d = opendir(path);
	int err = d ? 0 : errno;
	if (err != e->ints[0]) {
		if (d)
			closedir(d);
		return differs(r, "%s: %s now", path, err ? strerror(err) : "there now");
	}
	if (!d)
		return 0;
	size_t n = 0, cap = 64;
	char **names = malloc(cap * sizeof(char *));
	struct dirent *ent;
	while ((ent = readdir(d))) {
		if (!strcmp(ent->d_name, ".") || !strcmp(ent->d_name, ".."))
			continue;
		if (n == cap)
			names = realloc(names, (cap *= 2) * sizeof(char *));
		size_t len = strlen(ent->d_name);
		names[n] = malloc(len + 2);
		names[n][0] = type_of(path, ent);
		memcpy(names[n] + 1, ent->d_name, len + 1);
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof(char *), by_string);
	int ok = n + 1 == e->nstrs;
	for (size_t i = 0; i < n; i++) {
		ok = ok && same(e, (uint32_t)i + 1, names[i], strlen(names[i]));
		free(names[i]);
	}
	free(names);
	return ok ? 0 : differs(r, "%s lists other files now", path);
}

static int check_path(struct replay *r, const struct record *e, int link)
{
	char out[PATH_MAX];
	int err = 0;
	if (link) {
		ssize_t n = readlink(e->strs[0], out, sizeof(out) - 1);
		if (n < 0)
			err = errno;
		else
			out[n] = 0;
	} else if (!realpath(e->strs[0], out)) {
		err = errno;
	}
	if (err != e->ints[0] || (!err && !same(e, 1, out, strlen(out))))
		return differs(r, "%s resolves otherwise now", e->strs[0]);
	return 0;
}

static int check_access(struct replay *r, const struct record *e)
{
	int err = errno_of(access(e->strs[0], (int)e->ints[1]));
	return err == e->ints[0] ? 0 : differs(r, "access to %s: %s now", e->strs[0], err ? strerror(err) : "allowed");
}

/* mkdir -p; 0 when `path` is a directory afterwards. */
int make_parents(const char *path, mode_t mode)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s", path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = 0;
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return -1;
		*s = '/';
	}
	return mkdir(p, mode) < 0 && errno != EEXIST ? -1 : 0;
}

static int act_mkdir(struct replay *r, const struct record *e)
{
	int err = errno_of(mkdir(e->strs[0], (mode_t)e->ints[0]));
	if (err != e->ints[1])
		return differs(r, "mkdir %s: %s", e->strs[0], err ? strerror(err) : "made, where it existed before");
	if (!err) {
		r->made = realloc(r->made, (r->nmade + 1) * sizeof(char *));
		r->made[r->nmade++] = e->strs[0];
	}
	return 0;
}

static int act_write(struct replay *r, const struct record *e)
{
	int fd = open(e->strs[0], (int)e->ints[0] | O_CLOEXEC, (mode_t)e->ints[1]);
	int err = fd < 0 ? errno : write_all(fd, e->strs[1], e->lens[1]) < 0 ? errno : 0;
	if (fd >= 0)
		close(fd);
	return err == e->ints[2] ? 0 : differs(r, "writing %s: %s", e->strs[0], err ? strerror(err) : "succeeded, where it failed before");
}

static int act_lock(struct replay *r, const struct record *e)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", e->strs[0]);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		make_parents(dir, 0755);
	}
	r->lock = open(e->strs[0], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (r->lock < 0)
		return differs(r, "the lock %s: %s", e->strs[0], strerror(errno));
	if (flock(r->lock, LOCK_EX | LOCK_NB) < 0)
		return differs(r, "the container is locked (%s)", e->strs[0]);
	return 0;
}

/* As Node does at its start (and so every helper it spawns inherits): the soft limit of open files raised to the hard one. */
static void raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* The monitor, as @lxkit/native's startHelper starts it: stdio, the control socket as fd 3, the lock as fd 4. */
static int act_spawn(struct replay *r, const struct record *e)
{
	int pair[2];
	if (e->nstrs < 2 || e->nstrs > 32 || e->nints > 8)
		return differs(r, "a malformed spawn entry");
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
		return differs(r, "socketpair: %s", strerror(errno));
	int sources[12], n = 0;
	for (int fd = 0; fd < 3; fd++)
		sources[n++] = fd;
	sources[n++] = pair[1];
	for (uint32_t i = 0; i < e->nints; i++)
		sources[n++] = e->ints[i] == 1 ? r->lock : -1;
	/* Above every target, so that no dup2 overwrites a source still to come. */
	for (int i = 3; i < n; i++)
		sources[i] = sources[i] < 0 ? -1 : fcntl(sources[i], F_DUPFD_CLOEXEC, 64);
	char *argv[32];
	for (uint32_t i = 1; i < e->nstrs; i++)
		argv[i - 1] = (char *)e->strs[i];
	argv[e->nstrs - 1] = NULL;
	posix_spawn_file_actions_t actions;
	posix_spawnattr_t attr;
	posix_spawn_file_actions_init(&actions);
	posix_spawnattr_init(&attr);
	for (int i = 0; i < n; i++)
		if (sources[i] >= 0)
			posix_spawn_file_actions_adddup2(&actions, sources[i], i);
	spawnattr_fresh(&attr);
	raise_nofile();
	int err = posix_spawn(&r->monitor, e->strs[0], &actions, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&actions);
	posix_spawnattr_destroy(&attr);
	for (int i = 3; i < n; i++)
		if (sources[i] >= 0)
			close(sources[i]);
	close(pair[1]);
	if (err) {
		close(pair[0]);
		r->monitor = -1;
		return differs(r, "starting %s: %s", e->strs[0], strerror(err));
	}
	r->control = pair[0];
	return 0;
}

static int act_send(struct replay *r, const struct record *e)
{
	uint8_t head[8];
	uint32_t len = e->lens[0] + 4;
	uint16_t type = (uint16_t)e->ints[0];
	memcpy(head, &len, 4);
	memcpy(head + 4, &type, 2);
	memset(head + 6, 0, 2);
	/*
	 * As the JavaScript side does: a frame the monitor can no longer take (EPIPE: it has ended the container
	 * and exited, the init having exited at once) is dropped; what it said before it left is still to be read.
	 */
	if (write_all(r->control, head, 8) < 0 || write_all(r->control, e->strs[0], e->lens[0]) < 0)
		return errno == EPIPE ? 0 : differs(r, "the monitor is gone (%s)", strerror(errno));
	return 0;
}

void note_exit(struct replay *r, const struct record *exited)
{
	r->exited = 1;
	r->exit_code = exited->nints > 0 ? exited->ints[0] : 1;
	r->ending = exited->nints > 2 ? exited->ints[2] : 0;
}

/* The next frame of the monitor's that is not a log line; an exit is kept for the tail. */
static int act_recv(struct replay *r, const struct record *e)
{
	for (;;) {
		uint16_t type;
		uint8_t *payload;
		struct record got;
		int decoded = record_read(r->control, &type, &payload, &got);
		if (decoded < 0)
			return differs(r, "the monitor left");
		if (!decoded) {
			free(payload);
			return differs(r, "a malformed frame from the monitor");
		}
		if (type == M_LOG) {
			int bad = got.nints > 0 && got.ints[0] >= 5;
			free(payload);
			if (bad)
				return differs(r, "the monitor reported an error");
			continue;
		}
		if (type == M_EXITED) {
			note_exit(r, &got);
			free(payload);
			continue;
		}
		int ok = type == M_RESULT ? got.nints > 0 && got.ints[0] == 1 : 1;
		free(payload);
		if (type == M_RUNNING)
			r->running = 1;
		if (type != e->ints[0] || ok != e->ints[1])
			return differs(r, "the monitor answered %u%s where it answered %lld", type, ok ? "" : " (a failure)", (long long)e->ints[0]);
		return 0;
	}
}

int replay(struct replay *r, const uint8_t *data, size_t len, int *tail)
{
	static struct record e;
	size_t at = 0;
	while (at + 8 <= len) {
		uint32_t n;
		uint16_t type;
		memcpy(&n, data + at, 4);
		memcpy(&type, data + at + 4, 2);
		if (n < 4 || at + 4 + n > len || rec_get(data + at + 8, n - 4, &e) < 0)
			return differs(r, "a damaged plan");
		at += 4 + n;
		int ret = 0;
		int path_entry = type >= P_STAT && type <= P_MKDIRP && type != P_OUTPUT;
		if (path_entry && (e.nstrs < 1 || e.nints < 1))
			return differs(r, "a damaged plan");
		switch (type) {
		case P_HEAD:
			ret = check_head(r, &e);
			break;
		case P_ARGS:
			ret = check_args(r, &e);
			break;
		case P_ENV:
			ret = check_env(r, &e);
			break;
		case P_STAT:
			ret = e.nints < 12 ? differs(r, "a damaged plan") : check_stat(r, &e);
			break;
		case P_CONTENT:
			ret = e.nstrs < 2 || e.nints < 2 ? differs(r, "a damaged plan") : check_content(r, &e);
			break;
		case P_EXISTS:
			ret = e.nints < 3 ? differs(r, "a damaged plan") : check_exists(r, &e);
			break;
		case P_READDIR:
			ret = check_readdir(r, &e);
			break;
		case P_REALPATH:
		case P_READLINK:
			ret = e.nstrs < 2 ? differs(r, "a damaged plan") : check_path(r, &e, type == P_READLINK);
			break;
		case P_ACCESS:
			ret = e.nints < 2 ? differs(r, "a damaged plan") : check_access(r, &e);
			break;
		case P_MKDIR:
			ret = e.nints < 2 ? differs(r, "a damaged plan") : act_mkdir(r, &e);
			break;
		case P_MKDIRP:
			ret = make_parents(e.strs[0], (mode_t)e.ints[0]) < 0 ? differs(r, "mkdir -p %s: %s", e.strs[0], strerror(errno)) : 0;
			break;
		case P_WRITE:
			ret = e.nstrs < 2 || e.nints < 3 ? differs(r, "a damaged plan") : act_write(r, &e);
			break;
		case P_CHOWN: {
			int err = e.nints < 3 ? -1 : errno_of(chown(e.strs[0], (uid_t)e.ints[0], (gid_t)e.ints[1]));
			ret = err == (e.nints < 3 ? 0 : e.ints[2]) ? 0 : differs(r, "chown %s: %s", e.strs[0], err > 0 ? strerror(err) : "otherwise");
			break;
		}
		case P_RMDIR: {
			int err = errno_of(rmdir(e.strs[0]));
			ret = err == e.ints[0] ? 0 : differs(r, "rmdir %s: %s", e.strs[0], err ? strerror(err) : "removed, where it failed before");
			break;
		}
		case P_OUTPUT:
			if (e.nints > 0 && e.nstrs > 0)
				write_all((int)e.ints[0], e.strs[0], e.lens[0]);
			break;
		case P_LOCK:
			ret = e.nstrs < 1 ? differs(r, "a damaged plan") : act_lock(r, &e);
			break;
		case P_SPAWN:
			ret = r->lock < 0 && e.nints > 0 ? differs(r, "a spawn before the lock") : act_spawn(r, &e);
			break;
		case P_SEND:
			ret = r->control < 0 || e.nints < 1 || e.nstrs < 1 ? differs(r, "a frame before the monitor") : act_send(r, &e);
			break;
		case P_RECV:
			ret = r->control < 0 || e.nints < 2 ? differs(r, "a frame before the monitor") : act_recv(r, &e);
			break;
		case P_TAIL:
			if (e.nints < 1 || e.nstrs < 1)
				return differs(r, "a damaged plan");
			*tail = (int)e.ints[0];
			r->container = e.strs[0];
			if (*tail == TAIL_STOP) {
				if (e.nints < 5 || e.nstrs < 2 || e.ints[1] < STOP_HALT || e.ints[1] > STOP_KILL)
					return differs(r, "a damaged plan");
				r->stop = (struct stop_request){ e.strs[0], e.strs[1], (enum stop_signal)e.ints[1], (long)e.ints[2], e.ints[3] != 0, e.ints[4] != 0 };
			} else if (r->control < 0) {
				return differs(r, "a hand-over without a monitor");
			}
			return 0;
		default:
			return differs(r, "an entry of unknown type %u", type);
		}
		if (ret < 0)
			return -1;
	}
	return differs(r, "a plan without its end");
}

int plan_tail(const uint8_t *data, size_t len, const char **container)
{
	static struct record e;
	for (size_t at = 0; at + 8 <= len;) {
		uint32_t n;
		uint16_t type;
		memcpy(&n, data + at, 4);
		memcpy(&type, data + at + 4, 2);
		if (n < 4 || at + 4 + n > len)
			break;
		if (type == P_TAIL && rec_get(data + at + 8, n - 4, &e) >= 0 && e.nints > 0 && e.nstrs > 0) {
			*container = e.strs[0];
			return (int)e.ints[0];
		}
		at += 4 + n;
	}
	return 0;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

void undo(struct replay *r)
{
	if (r->control >= 0) {
		/* Its controller gone, the monitor kills the container's first process, lets go of everything and exits. */
		close(r->control);
		r->control = -1;
	}
	if (r->monitor > 0) {
		int waited = 0;
		while (waitpid(r->monitor, NULL, WNOHANG) == 0) {
			if (waited++ == 3000) {
				kill(r->monitor, SIGKILL);
				waitpid(r->monitor, NULL, 0);
				break;
			}
			sleep_ms(1);
		}
		r->monitor = -1;
	}
	/* Deepest last made first; a cgroup whose last task is still exiting is busy a moment. */
	while (r->nmade > 0) {
		const char *dir = r->made[--r->nmade];
		for (int i = 0; rmdir(dir) < 0 && errno == EBUSY && i < 200; i++)
			sleep_ms(1);
	}
	if (r->lock >= 0) {
		close(r->lock);
		r->lock = -1;
	}
}

static const char *const STATUS_KEYS[] = { "Uid", "Gid", "Groups", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp", NULL };

static size_t put(char *out, size_t at, size_t cap, const char *s, size_t n)
{
	if (at + n <= cap)
		memcpy(out + at, s, n);
	return at + n;
}

/* JavaScript's slice(from, to) of a line, then trimmed of spaces (both ends, or the end only). */
static size_t put_column(char *out, size_t at, size_t cap, const char *line, size_t n, size_t from, size_t to, int both)
{
	if (from > n)
		from = n;
	if (to > n)
		to = n;
	while (both && from < to && (line[from] == ' ' || line[from] == '\t'))
		from++;
	while (to > from && (line[to - 1] == ' ' || line[to - 1] == '\t'))
		to--;
	return put(out, at, cap, line + from, to - from);
}

size_t normalise(const char *path, const char *in, size_t n, char *out, size_t cap)
{
	int status = !strcmp(path, "/proc/self/status"), limits = !strcmp(path, "/proc/self/limits");
	size_t at = 0;
	int first = 1;
	for (size_t start = 0; start <= n;) {
		const char *nl = memchr(in + start, '\n', n - start);
		size_t end = nl ? (size_t)(nl - in) : n;
		const char *line = in + start;
		size_t len = end - start;
		if (status) {
			const char *colon = memchr(line, ':', len);
			size_t klen = colon ? (size_t)(colon - line) : len;
			int keep = 0;
			for (const char *const *k = STATUS_KEYS; *k && colon; k++)
				keep |= strlen(*k) == klen && !memcmp(*k, line, klen);
			if (keep) {
				if (!first)
					at = put(out, at, cap, "\n", 1);
				at = put(out, at, cap, line, len);
				first = 0;
			}
		} else if (limits) {
			if (!first)
				at = put(out, at, cap, "\n", 1);
			at = put_column(out, at, cap, line, len, 0, 26, 0);
			at = put(out, at, cap, "|", 1);
			at = put_column(out, at, cap, line, len, 47, 68, 1);
			first = 0;
		} else {
			at = put(out, at, cap, in, n);
			break;
		}
		start = end + 1;
	}
	return at < cap ? at : cap;
}
