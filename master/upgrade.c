/*
 * upgrade.c - SIGUSR2: a new binary takes over the running master in
 * place, and nobody is dropped.
 *
 * The workers hold the connections, so only the master has to change.
 * On SIGUSR2 the master runs the binary at the path it was started from
 * with -t and its own arguments, in a child, with a deadline: the new
 * binary must find the configuration good and say that it can take
 * over (an "upgrade: version V ..." line).  Then the master waits until
 * nothing is in flight (no spare starting, no request for the forker
 * unsent; a cluster's link to Redis need not be quiet: it is made
 * again after the exec, and what was on its way is sent again, see
 * cluster.c), delivers the broadcasts it holds, writes its whole state to
 * a memfd as a snapshot (common/snap.h; each module writes its own
 * records), lets the descriptors it names cross the exec, blocks every
 * signal, and execve()s the new binary: same pid, so the children, the
 * subreaper flag and systemd's MAINPID stay.  Signals that come
 * meanwhile wait, blocked, for the new master's handlers.
 *
 * The new master finds the snapshot (FORKCHAT_SNAPSHOT names its
 * descriptor; FORKCHAT_PREVIOUS the old binary's and its version, kept
 * apart from the snapshot so that a binary that cannot read the
 * snapshot can still hand it back), reads it back into every module,
 * and carries on: old
 * workers keep their clients and their code until those leave; the old
 * forker and old spares are retired, and new ones run the new binary.
 * If it cannot take over (a snapshot or a protocol it does not read, a
 * configuration that fails), it execs the old binary again, which the
 * old master held open for that (FORKCHAT_ROLLBACK says why), and that
 * one reads the same snapshot back.
 *
 * Public: upgrade_init, upgrade_request, upgrade_defer_stop,
 * upgrade_holding, upgrade_reaped, upgrade_event, upgrade_deadline,
 * upgrade_tick, upgrade_check_report; upgrade_taking_over,
 * upgrade_take_over, upgrade_rollback.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "accept.h"
#include "chat.h"
#include "child.h"
#include "cluster.h"
#include "conf.h"
#include "ev.h"
#include "exits.h"
#include "fan.h"
#include "forker.h"
#include "log.h"
#include "notify.h"
#include "oper.h"
#include "os.h"
#include "service.h"
#include "snap.h"
#include "spawn.h"
#include "upgrade.h"

#define CHECK_MS	10000		/* the new binary's -t may take this long */
#define QUIET_MS	5000		/* then nothing in flight, within this */
#define CHECK_OUT_MAX	2048		/* what we keep of what -t says */
#define SNAPSHOT_ENV	"FORKCHAT_SNAPSHOT"
#define PREVIOUS_ENV	"FORKCHAT_PREVIOUS"

enum up_phase {
	UP_IDLE,
	UP_CHECKING,		/* the new binary's -t runs */
	UP_QUIESCING		/* waiting for nothing to be in flight */
};

static struct {
	struct src src;			/* first: the check's output's events */
	enum up_phase phase;
	char	 exe[PATH_MAX];		/* where we were started from */
	int	 exe_fd;		/* the running binary, for a rollback */
	char	**argv;			/* as we were started */
	pid_t	 check_pid;		/* the -t child, 0 once reaped */
	int	 check_status;
	int	 check_out;		/* its output, -1 at end-of-file */
	char	 out[CHECK_OUT_MAX];
	size_t	 nout;
	int64_t	 deadline;
	int	 stop_signo;		/* a stop that came meanwhile */
	char	 version[32];		/* the new binary's */
} up = { .src.kind = SRC_UPGRADE, .exe_fd = -1, .check_out = -1 };

/*
 * Where the binary the master was started from lives (path, from the
 * master before a live upgrade, or ours, made absolute), and a
 * descriptor of the binary running now, held for a rollback: by then
 * the path may name another file.
 */
void
upgrade_init(char **argv, const char *path)
{
	up.argv = argv;
	if (path != NULL && path[0] != '\0')
		(void)snprintf(up.exe, sizeof(up.exe), "%s", path);
	else if (os_self_exe(up.exe, sizeof(up.exe)) == -1)
		up.exe[0] = '\0';
	if (up.exe[0] == '\0' || (up.exe_fd = open("/proc/self/exe",
	    O_PATH | O_CLOEXEC)) == -1)
		log_warning("live upgrades are off: cannot hold the running "
		    "binary open: %s", strerror(errno));
}

/* -t for a master's SIGUSR2: say we can take a running one over. */
void
upgrade_check_report(void)
{
	if (getenv(UPGRADE_CHECK_ENV) != NULL)
		printf("upgrade: version %s snapshot %d channel %d\n",
		    FORKCHAT_VERSION, SNAP_VERSION, MSG_VERSION);
}

/* The check child: the new binary's -t, its output into fd. */
static _Noreturn void
upgrade_check_child(int fd)
{
	char *args[64];
	int n = 0;

	args[n++] = up.exe;
	args[n++] = (char *)(uintptr_t)"-t";
	for (int i = 1; up.argv[i] != NULL && n < 63; i++)
		args[n++] = up.argv[i];
	args[n] = NULL;
	if (dup2(fd, STDOUT_FILENO) == -1 || dup2(fd, STDERR_FILENO) == -1 ||
	    os_close_except(-1, -1) == -1 || os_signals_default() == -1 ||
	    setenv(UPGRADE_CHECK_ENV, "1", 1) == -1)
		_exit(EX_NOSTART);
	execv(up.exe, args);
	_exit(EX_NOSTART);
}

/* Start the check; -1 with errno set if it cannot run. */
static int
upgrade_check_start(void)
{
	sigset_t all, old;
	int p[2], saved;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) == -1)
		return -1;
	sigfillset(&all);
	(void)sigprocmask(SIG_BLOCK, &all, &old);
	if ((pid = fork()) == 0) {
		(void)sigprocmask(SIG_SETMASK, &old, NULL);
		upgrade_check_child(p[1]);
	}
	saved = errno;
	(void)sigprocmask(SIG_SETMASK, &old, NULL);
	(void)close(p[1]);
	if (pid == -1) {
		(void)close(p[0]);
		errno = saved;
		return -1;
	}
	if (ev_add(server.ep, p[0], EV_READ, &up.src) == -1)
		log_panic("epoll_ctl(ADD) for the upgrade check: %s",
		    strerror(errno));
	up.check_pid = pid;
	up.check_out = p[0];
	up.nout = 0;
	return 0;
}

/* SIGUSR2: check the binary at our path, then let it take over. */
void
upgrade_request(void)
{
	if (server.phase != PHASE_RUNNING) {
		log_notice("SIGUSR2 ignored: shutting down");
		return;
	}
	if (up.phase != UP_IDLE) {
		log_notice("SIGUSR2 ignored: an upgrade is under way");
		return;
	}
	if (up.exe_fd == -1) {
		log_error("upgrade refused: the running binary could not be "
		    "held open at start");
		return;
	}
	log_notice("SIGUSR2: checking %s to take over", up.exe);
	service_reloading();
	if (access(up.exe, X_OK) == -1 || upgrade_check_start() == -1) {
		log_error("upgrade refused: %s: %s; forkchatd %s runs on",
		    up.exe, strerror(errno), FORKCHAT_VERSION);
		service_upgrade_refused(strerror(errno));
		return;
	}
	up.phase = UP_CHECKING;
	up.stop_signo = 0;
	up.deadline = os_now_ms() + CHECK_MS;
}

/* SIGINT/SIGTERM during an upgrade: kept, acted on once it ends. */
bool
upgrade_defer_stop(int signo)
{
	if (up.phase == UP_IDLE)
		return false;
	if (up.stop_signo == 0)
		log_notice("%s: shutting down once the upgrade is done",
		    signo == SIGINT ? "SIGINT" : "SIGTERM");
	up.stop_signo = signo;
	return true;
}

/* Must the spare pool hold still (nothing new in flight)? */
bool
upgrade_holding(void)
{
	return up.phase == UP_QUIESCING;
}

/* A reaped process: the check's, claimed here; false if not ours. */
bool
upgrade_reaped(pid_t pid, int status)
{
	if (pid == 0 || pid != up.check_pid)
		return false;
	up.check_pid = 0;
	up.check_status = status;
	return true;
}

/* Stop reading the check's output. */
static void
upgrade_check_close(void)
{
	if (up.check_out == -1)
		return;
	(void)ev_del(server.ep, up.check_out);
	(void)close(up.check_out);
	up.check_out = -1;
}

/* The check's output is readable: keep what fits, until end-of-file. */
void
upgrade_event(void)
{
	char junk[512];
	ssize_t n;

	for (;;) {
		if (up.nout < sizeof(up.out) - 1)
			n = read(up.check_out, up.out + up.nout,
			    sizeof(up.out) - 1 - up.nout);
		else
			n = read(up.check_out, junk, sizeof(junk));
		if (n > 0 && up.nout < sizeof(up.out) - 1)
			up.nout += (size_t)n;
		if (n > 0 || (n == -1 && errno == EINTR))
			continue;
		if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
			upgrade_check_close();
		break;
	}
	up.out[up.nout] = '\0';
}

/* When upgrade_tick() has something to do. */
int64_t
upgrade_deadline(void)
{
	return up.phase == UP_IDLE ? OS_NO_DEADLINE : up.deadline;
}

/* The upgrade will not happen: say why; the stop it held, if any. */
static int
upgrade_refuse(const char *why)
{
	int signo = up.stop_signo;

	log_error("upgrade refused: %s; forkchatd %s runs on", why,
	    FORKCHAT_VERSION);
	service_upgrade_refused(why);
	if (up.check_pid != 0)
		(void)kill(up.check_pid, SIGKILL);	/* reaped as ever */
	upgrade_check_close();
	up.phase = UP_IDLE;
	up.stop_signo = 0;
	return signo;
}

/* What the check said: its first line, for a refusal. */
static const char *
upgrade_check_said(char *buf, size_t size)
{
	size_t n = strcspn(up.out, "\n");

	(void)snprintf(buf, size, "%.*s", (int)(n > 200 ? 200 : n), up.out);
	return buf[0] != '\0' ? buf : "nothing";
}

/* The check is over: may the new binary take over?  Sets up.version. */
static const char *
upgrade_verdict(char *why, size_t size)
{
	char said[256], how[32], *line;
	size_t n;

	if (!WIFEXITED(up.check_status) || WEXITSTATUS(up.check_status) != 0) {
		(void)snprintf(why, size, "%.512s -t failed (%.32s): %.200s",
		    up.exe, os_status_text(up.check_status, how, sizeof(how)),
		    upgrade_check_said(said, sizeof(said)));
		return why;
	}
	/* "upgrade: version V snapshot N channel N" */
	if ((line = strstr(up.out, "upgrade: version ")) == NULL ||
	    (n = strcspn(line += 17, " \n")) == 0 ||
	    n >= sizeof(up.version) || strncmp(line + n, " snapshot ", 10)
	    != 0) {
		(void)snprintf(why, size, "%.512s cannot take over a running "
		    "forkchatd (its -t said %.200s)", up.exe,
		    upgrade_check_said(said, sizeof(said)));
		return why;
	}
	(void)snprintf(up.version, sizeof(up.version), "%.*s", (int)n, line);
	return NULL;
}

/* Write the snapshot into a memfd at its start; -1 with errno set. */
static int
upgrade_snapshot(const struct snap *s)
{
	const char *p = buf_head(&s->b);
	size_t left = s->b.len;
	ssize_t n;
	int fd, saved;

	if ((fd = os_memfd("forkchatd-snapshot")) == -1)
		return -1;
	while (left > 0) {
		if ((n = write(fd, p, left)) == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		p += n;
		left -= (size_t)n;
	}
	if (lseek(fd, 0, SEEK_SET) == -1)
		goto fail;
	return fd;
fail:
	saved = errno;
	(void)close(fd);
	errno = saved;
	return -1;
}

/* Every module's state, and ours, as one snapshot. */
static int
upgrade_save(struct snap *s)
{
	snap_init(s, SNAP_VERSION);
	snap_begin(s, SNAP_UPGRADE);
	snap_u32(s, (uint32_t)up.stop_signo);
	snap_u64(s, (uint64_t)os_now_ms());
	snap_end(s);
	if (server_save(s) == -1 || conf_save(s) == -1 ||
	    accept_save(s) == -1 || forker_save(s) == -1 ||
	    child_save(s) == -1 || oper_save(s) == -1 ||
	    cluster_save(s) == -1 || s->failed)
		return -1;
	return 0;
}

/* Let what the snapshot names cross the exec, or close it on exec again. */
static void
upgrade_inherit(bool on, int snapfd)
{
	accept_inherit(on);
	forker_inherit(on);
	child_inherit(on);
	if (os_cloexec(snapfd, !on) == -1 || os_cloexec(up.exe_fd, !on) == -1)
		log_panic("fcntl(F_SETFD) for an upgrade: %s", strerror(errno));
}

/* Become the new binary; returns only if execve() failed (errno). */
static void
upgrade_exec(int snapfd)
{
	sigset_t all, old;
	char n[16], prev[PATH_MAX + 64];
	int saved;

	(void)snprintf(n, sizeof(n), "%d", snapfd);
	(void)snprintf(prev, sizeof(prev), "%d %s %s", up.exe_fd,
	    FORKCHAT_VERSION, up.exe);
	if (setenv(SNAPSHOT_ENV, n, 1) == -1 ||
	    setenv(PREVIOUS_ENV, prev, 1) == -1 || notify_reexport() == -1)
		return;
	upgrade_inherit(true, snapfd);
	sigfillset(&all);
	(void)sigprocmask(SIG_BLOCK, &all, &old);
	execv(up.exe, up.argv);
	saved = errno;
	(void)sigprocmask(SIG_SETMASK, &old, NULL);
	upgrade_inherit(false, snapfd);
	(void)os_unsetenv(SNAPSHOT_ENV);
	(void)os_unsetenv(PREVIOUS_ENV);
	(void)os_unsetenv("NOTIFY_SOCKET");
	(void)os_unsetenv("WATCHDOG_USEC");
	(void)os_unsetenv("WATCHDOG_PID");
	errno = saved;
}

/* Nothing in flight: hand everything over.  Returns only on failure. */
static int
upgrade_go(void)
{
	char why[PATH_MAX + 128];
	struct snap s;
	int fd;

	chat_end_turn();		/* joins not yet told */
	fan_release();			/* the broadcasts held back go now */
	if (upgrade_save(&s) == -1) {
		snap_free(&s);
		return upgrade_refuse("out of memory writing the state");
	}
	fd = upgrade_snapshot(&s);
	snap_free(&s);
	if (fd == -1) {
		(void)snprintf(why, sizeof(why), "cannot write the state: %s",
		    strerror(errno));
		return upgrade_refuse(why);
	}
	upgrade_exec(fd);
	(void)snprintf(why, sizeof(why), "execve(%s): %s", up.exe,
	    strerror(errno));
	(void)close(fd);
	return upgrade_refuse(why);
}

/*
 * Deadlines and progress: the check's end and verdict, then the wait
 * for nothing in flight, then the exec.  A signal number if a stop was
 * held for an upgrade that is not happening: the caller stops now.
 */
int
upgrade_tick(int64_t now)
{
	char why[PATH_MAX + 300];

	if (up.phase == UP_CHECKING) {
		if (up.check_pid != 0 && now >= up.deadline) {
			(void)snprintf(why, sizeof(why), "%.512s -t did not finish "
			    "within %d s", up.exe, CHECK_MS / 1000);
			return upgrade_refuse(why);
		}
		if (up.check_pid != 0 || up.check_out != -1)
			return 0;
		if (upgrade_verdict(why, sizeof(why)) != NULL)
			return upgrade_refuse(why);
		log_notice("upgrading forkchatd %s -> %s", FORKCHAT_VERSION,
		    up.version);
		up.phase = UP_QUIESCING;
		up.deadline = now + QUIET_MS;
	}
	if (up.phase != UP_QUIESCING)
		return 0;
	if (spawn_quiet())
		return upgrade_go();
	if (now >= up.deadline)
		return upgrade_refuse("workers were still starting after 5 s");
	return 0;
}
