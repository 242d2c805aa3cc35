/*
 * limits.c - whether the system lets us serve max_clients: descriptors
 * for the master, processes for the workers.
 *
 * The master holds one channel per worker, the forker's end of each
 * spare's channel until the forker has taken it, and a client's socket
 * for a moment while it is handed over or waits for a spare, so it needs
 * about max_clients + 2 x spare_workers + ACCEPT_WAIT_MAX descriptors,
 * plus a few of its own; the soft
 * RLIMIT_NOFILE is raised to that (never the hard one, which is the
 * administrator's: LimitNOFILE= in a unit, ulimit -Hn in a shell).
 * Workers never outnumber max_clients, so with the master and the
 * forker that is the number of processes; it must fit RLIMIT_NPROC
 * (which counts every process of the user, and binds only a user other
 * than root), and, with what runs already, kernel.pid_max and
 * kernel.threads-max.  A limit that cannot be met is an error that says
 * which, and what would do: at start, and at a reload that raises
 * max_clients.
 *
 * Public: limits_check.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "accept.h"
#include "limits.h"
#include "num.h"
#include "os.h"

#define FD_OWN		64	/* listeners, epoll, pipes, logs, the reserve */
#define PROC_OWN	2	/* the master and the forker */

/* A kernel limit from /proc/sys, or 0 if it cannot be read. */
static unsigned long long
sysctl_value(const char *path)
{
	char buf[32];
	unsigned long long v;

	if (os_read_head(path, buf, sizeof(buf)) <= 0 ||
	    num_parse(buf, NULL, &v) == -1)
		return 0;
	return v;
}

/* Processes and threads on the system now (/proc/loadavg), 0 if unknown. */
static unsigned long long
tasks_now(void)
{
	char buf[128], *slash;
	unsigned long long v;

	/* "0.20 0.18 0.12 1/80 11206": running/total, then the last pid */
	if (os_read_head("/proc/loadavg", buf, sizeof(buf)) <= 0 ||
	    (slash = strchr(buf, '/')) == NULL ||
	    num_parse(slash + 1, NULL, &v) == -1)
		return 0;
	return v;
}

/* Raise the soft descriptor limit to what cfg needs, or say why not. */
static int
limits_nofile(const struct config *cfg, char *err, size_t errlen)
{
	rlim_t need = (rlim_t)cfg->max_clients + 2 * (rlim_t)cfg->spare_workers +
	    ACCEPT_WAIT_MAX + FD_OWN;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1) {
		(void)snprintf(err, errlen, "getrlimit(RLIMIT_NOFILE): %s",
		    strerror(errno));
		return -1;
	}
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need)
		return 0;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
		(void)snprintf(err, errlen, "max_clients = %u needs %ju open "
		    "files, but the hard limit is %ju: raise it (LimitNOFILE= "
		    "in the unit, ulimit -Hn) or lower max_clients",
		    cfg->max_clients, (uintmax_t)need, (uintmax_t)rl.rlim_max);
		return -1;
	}
	rl.rlim_cur = need;
	if (setrlimit(RLIMIT_NOFILE, &rl) == -1) {
		(void)snprintf(err, errlen, "setrlimit(RLIMIT_NOFILE, %ju): %s",
		    (uintmax_t)need, strerror(errno));
		return -1;
	}
	return 0;
}

/* The processes cfg needs must fit the user's and the kernel's limits. */
static int
limits_nproc(const struct config *cfg, char *err, size_t errlen)
{
	static const struct {
		const char *path, *name;
	} kernel[] = {
		{ "/proc/sys/kernel/pid_max", "pid_max" },
		{ "/proc/sys/kernel/threads-max", "threads-max" },
	};
	unsigned long long need = (unsigned long long)cfg->max_clients +
	    PROC_OWN, now = tasks_now(), max;
	struct rlimit rl;

	if (getuid() != 0 && getrlimit(RLIMIT_NPROC, &rl) == 0 &&
	    rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
		(void)snprintf(err, errlen, "max_clients = %u needs %llu "
		    "processes, but this user may have %ju: raise it "
		    "(LimitNPROC= in the unit, ulimit -u) or lower max_clients",
		    cfg->max_clients, need, (uintmax_t)rl.rlim_cur);
		return -1;
	}
	for (size_t i = 0; i < sizeof(kernel) / sizeof(kernel[0]); i++) {
		max = sysctl_value(kernel[i].path);
		if (max != 0 && now + need > max) {
			(void)snprintf(err, errlen, "max_clients = %u needs "
			    "%llu processes; with the %llu running, that passes "
			    "kernel.%s = %llu: raise it or lower max_clients",
			    cfg->max_clients, need, now, kernel[i].name, max);
			return -1;
		}
	}
	return 0;
}

/*
 * Can cfg's max_clients be served?  Raises the soft descriptor limit if
 * it must; 0, or -1 with the reason in err.  Run it as the user the
 * server runs as: RLIMIT_NPROC binds users other than root.
 */
int
limits_check(const struct config *cfg, char *err, size_t errlen)
{
	if (limits_nproc(cfg, err, errlen) == -1 ||
	    limits_nofile(cfg, err, errlen) == -1)
		return -1;
	return 0;
}
