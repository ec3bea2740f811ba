#define _GNU_SOURCE
#include "ovs.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Where distributions install it; never the caller's PATH. */
static const char *const VSCTL[] = { "/usr/bin/ovs-vsctl", "/usr/sbin/ovs-vsctl", "/usr/local/bin/ovs-vsctl", "/usr/local/sbin/ovs-vsctl" };

/* ovs-vsctl with `args` (after its own --timeout): its exit status, or -1 with `why` when it could not be run. */
static int vsctl(const char *const *args, size_t nargs, char *why, size_t whylen)
{
	const char *path = NULL;
	for (size_t k = 0; k < sizeof(VSCTL) / sizeof(*VSCTL) && !path; k++)
		if (access(VSCTL[k], X_OK) == 0)
			path = VSCTL[k];
	if (!path) {
		snprintf(why, whylen, "ovs-vsctl is not installed (looked in /usr/bin, /usr/sbin, /usr/local/bin, /usr/local/sbin)");
		return -1;
	}
	const char *argv[16] = { "ovs-vsctl", "--timeout=10" };
	size_t argc = 2;
	for (size_t k = 0; k < nargs && argc < sizeof(argv) / sizeof(*argv) - 1; k++)
		argv[argc++] = args[k];
	argv[argc] = NULL;
	static char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL };
	fflush(stdout);
	fflush(stderr);
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(why, whylen, "cannot fork for ovs-vsctl: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		/* Root through and through (not only effectively), its stdout out of the answer lxkit reads. */
		int null = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || setgroups(0, NULL) < 0 || setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
			_exit(126);
		execve(path, (char *const *)argv, envp);
		_exit(127);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			snprintf(why, whylen, "cannot wait for ovs-vsctl: %s", strerror(errno));
			return -1;
		}
	if (WIFEXITED(status) && WEXITSTATUS(status) < 126)
		return WEXITSTATUS(status);
	snprintf(why, whylen, "ovs-vsctl %s", WIFSIGNALED(status) ? "was killed" : "could not be run");
	return -1;
}

int ovs_is_bridge(const char *bridge, char *why, size_t whylen)
{
	const char *args[] = { "br-exists", bridge };
	int r = vsctl(args, 2, why, whylen);
	/* br-exists: 0 yes, 2 no; anything else is Open vSwitch not answering (no database). */
	if (r == 0 || r == 2)
		return r == 0;
	if (r > 0)
		snprintf(why, whylen, "ovs-vsctl br-exists %s exited with status %d", bridge, r);
	return -1;
}

static int port(const char *op, const char *flag, const char *bridge, const char *name, char *why, size_t whylen)
{
	const char *args[] = { flag, op, bridge, name };
	int r = vsctl(args, 4, why, whylen);
	if (r > 0)
		snprintf(why, whylen, "ovs-vsctl %s %s %s exited with status %d", op, bridge, name, r);
	return r == 0 ? 0 : -1;
}

int ovs_add_port(const char *bridge, const char *name, char *why, size_t whylen)
{
	return port("add-port", "--may-exist", bridge, name, why, whylen);
}

int ovs_del_port(const char *bridge, const char *name, char *why, size_t whylen)
{
	return port("del-port", "--if-exists", bridge, name, why, whylen);
}
