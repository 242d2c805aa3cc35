/*
 * takeover.c - the new side of a live upgrade: a master that starts
 * with a snapshot reads the old master's state back and carries on, or
 * hands it back to the old binary (a rollback).
 *
 * FORKCHAT_SNAPSHOT names the memfd the old master wrote; every record
 * goes back to the module that wrote it.  A snapshot of another
 * version, a record that does not read, or a worker speaking a channel
 * protocol this master does not serve means this binary cannot take
 * over: it execs the old binary again (held open by the old master,
 * FORKCHAT_PREVIOUS names its descriptor and version), with
 * FORKCHAT_ROLLBACK saying why, and that one reads the same snapshot
 * back.  Until the end nothing is closed, and nothing is said to
 * anyone (a cluster's link to Redis is made again only once this binary
 * has taken over for good), so a rollback finds every descriptor, and
 * every peer, as it was.
 *
 * Public: takeover_begin, takeover_pending, takeover_config,
 * takeover_config_error, takeover_run, takeover_rollback.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "accept.h"
#include "child.h"
#include "cluster.h"
#include "conf.h"
#include "exits.h"
#include "forker.h"
#include "log.h"
#include "notify.h"
#include "num.h"
#include "oper.h"
#include "os.h"
#include "snap.h"
#include "takeover.h"

#define SNAPSHOT_ENV	"FORKCHAT_SNAPSHOT"
#define PREVIOUS_ENV	"FORKCHAT_PREVIOUS"
#define ROLLBACK_ENV	"FORKCHAT_ROLLBACK"
#define SNAPSHOT_MAX	((size_t)1 << 30)

/* What the snapshot says about the handing over itself. */
static struct {
	int	 fd;			/* the snapshot, -1 if none */
	int	 old_exe;		/* the binary before us, -1 if none */
	char	 old_version[32];
	uint32_t stop_signo;		/* a stop held during the upgrade */
	uint64_t exec_ms;		/* when the old master exec'd */
	char	*text;			/* the snapshot, read */
	size_t	 len;
	char	 rollback[256];		/* why we are the rollback, or "" */
	char	 conf_error[512];	/* why the file's configuration failed */
	char	 path[4096];		/* the binary's path, as started */
	char	**argv;
} to = { .fd = -1, .old_exe = -1 };

/* SNAP_UPGRADE: a stop held, and when the old master exec'd. */
static int
takeover_upgrade_record(struct msg *m)
{
	if (msg_u32(m, &to.stop_signo) == -1 ||
	    msg_u64(m, &to.exec_ms) == -1 || msg_end(m) == -1)
		return -1;
	return 0;
}

/*
 * FORKCHAT_PREVIOUS: "FD VERSION PATH": the binary that handed over, its
 * version, and the path the master was started from (where the next
 * upgrade looks, whatever file runs now).
 */
static void
takeover_previous(void)
{
	const char *prev = getenv(PREVIOUS_ENV), *p;
	unsigned long long fd;
	size_t n;

	if (prev == NULL || num_parse(prev, &p, &fd) == -1 || *p++ != ' ' ||
	    fd > INT32_MAX || (n = strcspn(p, " ")) == 0 ||
	    n >= sizeof(to.old_version) || p[n] != ' ')
		return;
	to.old_exe = (int)fd;
	(void)snprintf(to.old_version, sizeof(to.old_version), "%.*s",
	    (int)n, p);
	(void)snprintf(to.path, sizeof(to.path), "%s", p + n + 1);
}

/*
 * First thing at start: were we exec'd by an upgrade (or to roll one
 * back)?  Then the environment names the snapshot and the binary to hand
 * back to; take them now, so that whatever fails from here on, even the
 * configuration, can hand the server back.
 */
void
takeover_begin(char **argv)
{
	unsigned long long fd;
	const char *rb = getenv(ROLLBACK_ENV);

	if (getenv(SNAPSHOT_ENV) == NULL)
		return;
	to.argv = argv;
	if (rb != NULL)
		(void)snprintf(to.rollback, sizeof(to.rollback), "%s", rb);
	if (num_whole(getenv(SNAPSHOT_ENV), &fd) == -1 || fd > INT32_MAX)
		log_fatal(EX_SOFTWARE, "%s is not a descriptor", SNAPSHOT_ENV);
	to.fd = (int)fd;
	takeover_previous();
	(void)os_unsetenv(SNAPSHOT_ENV);
	(void)os_unsetenv(PREVIOUS_ENV);
	(void)os_unsetenv(ROLLBACK_ENV);
}

/* Do we start by taking a running master over? */
bool
takeover_pending(void)
{
	return to.fd != -1;
}

/* The path the master was started from, as the old one said; or "". */
const char *
takeover_path(void)
{
	return to.path;
}

/* One record, to the module that wrote it; -1 if it does not read. */
static int
takeover_record(uint32_t type, struct msg *m)
{
	switch (type) {
	case SNAP_UPGRADE:
		return takeover_upgrade_record(m);
	case SNAP_SERVER:
		return server_restore(m);
	case SNAP_PASSWORD:
		return conf_restore(m);
	case SNAP_CONFIG:
		return conf_restore_config(m, NULL, NULL, 0);
	case SNAP_LISTENER:
	case SNAP_WAITING:
		return accept_restore(type, m);
	case SNAP_FORKER:
		return forker_restore(m);
	case SNAP_CHILD:
	case SNAP_CHILD_OUT:
	case SNAP_CHILD_IN:
	case SNAP_ORPHAN:
		return child_restore(type, m);
	case SNAP_GUESS:
		return oper_restore(m);
	case SNAP_CLUSTER:
	case SNAP_CL_STREAM:
	case SNAP_CL_READ:
	case SNAP_CL_LINK:
	case SNAP_CL_SYNC:
	case SNAP_CL_OUT:
	case SNAP_CL_PEER:
	case SNAP_CL_MEMBER:
		return cluster_restore(type, m);
	default:
		return -1;
	}
}

/* The snapshot's text, read whole from its memfd; -1 with errno set. */
static int
takeover_read(void)
{
	struct stat st;
	ssize_t n;
	size_t got = 0;

	if (fstat(to.fd, &st) == -1)
		return -1;
	if ((size_t)st.st_size > SNAPSHOT_MAX || st.st_size <= 0) {
		errno = EFBIG;
		return -1;
	}
	to.len = (size_t)st.st_size;
	if ((to.text = malloc(to.len)) == NULL)
		return -1;
	while (got < to.len) {
		n = pread(to.fd, to.text + got, to.len - got, (off_t)got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return n == 0 ? (errno = EIO, -1) : -1;
		got += (size_t)n;
	}
	return 0;
}

/* Every record back where it belongs; NULL, or why not. */
static const char *
takeover_restore(char *why, size_t size)
{
	struct snap_reader r;
	struct msg m;
	uint32_t version, type;
	int n;

	if (to.text == NULL && takeover_read() == -1) {
		(void)snprintf(why, size, "cannot read the snapshot: %s",
		    strerror(errno));
		return why;
	}
	if (snap_open(&r, to.text, to.len, &version) == -1 ||
	    version != SNAP_VERSION) {
		(void)snprintf(why, size, "the snapshot is of version %u; "
		    "this binary reads version %d", version, SNAP_VERSION);
		return why;
	}
	while ((n = snap_next(&r, &type, &m)) == 1) {
		if (takeover_record(type, &m) == -1) {
			(void)snprintf(why, size, "record %u of the snapshot "
			    "does not read", type);
			return why;
		}
	}
	if (n == -1) {
		(void)snprintf(why, size, "the snapshot is cut short");
		return why;
	}
	if (!cluster_restored()) {
		(void)snprintf(why, size, "the snapshot's cluster state is "
		    "incomplete");
		return why;
	}
	return NULL;
}

/* Can this master serve every worker it takes over?  NULL, or why not. */
static const char *
takeover_check_workers(char *why, size_t size)
{
	const struct childq *lists[] = { &children.spares, &children.clients,
	    &children.leaving };
	const struct child *c;

	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		TAILQ_FOREACH(c, lists[i], entry) {
			if (c->bin.version[0] == '\0' ||	/* not said yet */
			    c->bin.proto == MSG_VERSION ||
			    c->bin.proto + 1 == MSG_VERSION)
				continue;
			(void)snprintf(why, size, "worker %ld speaks channel "
			    "protocol %u; this binary serves %d and %d",
			    (long)c->pid, c->bin.proto, MSG_VERSION - 1,
			    MSG_VERSION);
			return why;
		}
	}
	return NULL;
}

/*
 * The configuration file does not build (why): it changed since the
 * upgrade was checked.  As a failed reload keeps the configuration in
 * force, take the old master's from the snapshot.  -1 with err if that
 * fails too: the caller hands the server back.
 */
int
takeover_config(struct config *cfg, const char *why, char *err, size_t size)
{
	struct snap_reader r;
	struct msg m;
	uint32_t version, type;

	(void)snprintf(to.conf_error, sizeof(to.conf_error), "%s", why);
	if (to.text == NULL && takeover_read() == -1) {
		(void)snprintf(err, size, "%s; cannot read the snapshot: %s",
		    why, strerror(errno));
		return -1;
	}
	if (snap_open(&r, to.text, to.len, &version) == 0 &&
	    version == SNAP_VERSION) {
		while (snap_next(&r, &type, &m) == 1)
			if (type == SNAP_CONFIG)
				return conf_restore_config(&m, cfg, err, size);
	}
	(void)snprintf(err, size, "%s; the snapshot holds no configuration "
	    "this binary reads", why);
	return -1;
}

/* Why the file's configuration was not taken, or "" if it was. */
const char *
takeover_config_error(void)
{
	return to.conf_error;
}

/*
 * Take the running master over: every module's state from the snapshot.
 * Returns the clients kept; a failure hands everything back to the old
 * binary (takeover_rollback) and does not return.
 */
int
takeover_run(void)
{
	char why[256];

	if (takeover_restore(why, sizeof(why)) != NULL ||
	    takeover_check_workers(why, sizeof(why)) != NULL)
		takeover_rollback(why);
	free(to.text);
	to.text = NULL;
	(void)close(to.fd);
	if (to.old_exe != -1)
		(void)close(to.old_exe);
	to.fd = to.old_exe = -1;
	cluster_resume();		/* no handing back from here on */
	return (int)children.nclients;
}

/* The version of the master we took over from ("" if none). */
const char *
takeover_old_version(void)
{
	return to.old_version;
}

/* Why we are the rollback of a failed upgrade, or "" if we are not. */
const char *
takeover_rolled_back(void)
{
	return to.rollback;
}

/* A stop held during the upgrade, for us to act on; 0 if none. */
int
takeover_held_stop(void)
{
	return (int)to.stop_signo;
}

/* How long the master was away: from the old one's exec to now (ms). */
int64_t
takeover_away_ms(void)
{
	return to.exec_ms != 0 ? os_now_ms() - (int64_t)to.exec_ms : 0;
}

/*
 * This binary cannot take over: exec the old one again, with the same
 * snapshot (every descriptor it names still open and inheritable) and
 * why.  A rollback that fails too ends the process: there is nothing
 * left to run.
 */
_Noreturn void
takeover_rollback(const char *why)
{
	sigset_t all;
	char n[16], prev[4200];

	if (to.rollback[0] != '\0' || to.old_exe == -1 || to.fd == -1)
		log_fatal(EX_SOFTWARE, "cannot take the running server over: "
		    "%s; no binary to hand it back to", why);
	log_error("cannot take the running server over: %s; handing it back "
	    "to forkchatd %s", why, to.old_version);
	(void)snprintf(n, sizeof(n), "%d", to.fd);
	(void)snprintf(prev, sizeof(prev), "%d %s %s", to.old_exe,
	    to.old_version, to.path);
	if (setenv(SNAPSHOT_ENV, n, 1) == -1 ||
	    setenv(PREVIOUS_ENV, prev, 1) == -1 ||
	    setenv(ROLLBACK_ENV, why, 1) == -1 || notify_reexport() == -1)
		log_fatal(EX_SOFTWARE, "cannot hand the server back: %s",
		    strerror(errno));
	sigfillset(&all);
	(void)sigprocmask(SIG_BLOCK, &all, NULL);
	(void)execveat(to.old_exe, "", to.argv, environ, AT_EMPTY_PATH);
	log_fatal(EX_SOFTWARE, "cannot hand the server back: execveat: %s",
	    strerror(errno));
}
