/*
 * service.c - running as a daemon: what the service manager is told,
 * the sockets it passes, the log format it reads, the user we become.
 *
 * Notifications go out from the event loop only: READY=1 once the
 * listeners and the spare pool are up; STATUS= when the counts change
 * (at most once a second); RELOADING=1 with MONOTONIC_USEC= around a
 * reload, then READY=1; STOPPING=1 and EXTEND_TIMEOUT_USEC= while a
 * shutdown drains; WATCHDOG=1 at half of WATCHDOG_USEC.  A loop that is
 * stuck sends no WATCHDOG=1, which is the point.
 *
 * Public: service_init, service_sockets, service_is_ready, service_ready,
 * service_reloading, service_reloaded, service_stopping,
 * service_upgrade_refused, service_upgraded,
 * service_deadline, service_tick, service_check_account,
 * service_drop_privileges.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exits.h"
#include "log.h"
#include "notify.h"
#include "os.h"
#include "service.h"
#include "sock.h"
#include "spawn.h"

#define STATUS_EVERY_MS	1000		/* STATUS= at most this often */
#define EXTEND_EVERY_MS	2000		/* EXTEND_TIMEOUT_USEC= while draining */
#define EXTEND_BY_USEC	5000000LL	/* ...each buying this much time */

static unsigned sent_clients = ~0U, sent_spares = ~0U;
static int64_t next_status, next_watchdog, next_extend;
static bool ready;

/* Read NOTIFY_SOCKET and the watchdog settings; unset them. */
void
service_init(void)
{
	if (notify_init() == -1)
		log_warning("NOTIFY_SOCKET is unusable (%s); not notifying",
		    strerror(errno));
	if (notify_watchdog_ms() != 0)
		log_info("watchdog: WATCHDOG=1 every %lld ms",
		    (long long)notify_watchdog_ms());
}

/* Sockets from socket activation, if any; exits if they are unusable. */
int
service_sockets(int *fds, int max)
{
	int n, bad = -1;

	if ((n = sock_activated(fds, max, &bad)) == -1) {
		if (bad != -1)
			log_fatal(EX_FAIL, "LISTEN_FDS: descriptor %d is not a "
			    "listening stream socket", bad);
		log_fatal(EX_FAIL, "LISTEN_FDS: more than %d sockets", max);
	}
	if (n > 0)
		log_notice("using %d listening socket%s passed by the service "
		    "manager (LISTEN_FDS); listen in the configuration is "
		    "ignored", n, n == 1 ? "" : "s");
	return n;
}

/* STATUS= text for the counts now. */
static void
service_status(int64_t now)
{
	if (server.phase == PHASE_RUNNING)
		(void)notify_send("STATUS=%u client%s, %u spare worker%s",
		    children.nclients, children.nclients == 1 ? "" : "s",
		    children.nspares, children.nspares == 1 ? "" : "s");
	else
		(void)notify_send("STATUS=shutting down: %u worker%s left",
		    children.nchildren, children.nchildren == 1 ? "" : "s");
	sent_clients = children.nclients;
	sent_spares = children.nspares;
	next_status = now + STATUS_EVERY_MS;
}

/* Has the server said it is ready (it says so once)? */
bool
service_is_ready(void)
{
	return ready;
}

/* Listeners up, spares forked: READY=1. */
void
service_ready(void)
{
	int64_t now = os_now_ms();

	ready = true;
	(void)notify_send("READY=1\nMAINPID=%ld", (long)getpid());
	service_status(now);
	if (notify_watchdog_ms() != 0)
		next_watchdog = now;		/* the first one right away */
}

/* A reload begins. */
void
service_reloading(void)
{
	(void)notify_send("RELOADING=1\nMONOTONIC_USEC=%lld",
	    (long long)os_now_ms() * 1000);
}

/* A reload ended, well or not (failure says why). */
void
service_reloaded(const char *failure)
{
	if (failure != NULL)
		(void)notify_send("READY=1\nSTATUS=reload failed (%s); running "
		    "with the old configuration", failure);
	else
		(void)notify_send("READY=1");
	if (failure == NULL)
		service_status(os_now_ms());
}

/* A live upgrade did not happen: ready again, and why. */
void
service_upgrade_refused(const char *why)
{
	(void)notify_send("READY=1\nSTATUS=upgrade refused (%s); running "
	    "forkchatd %s", why, FORKCHAT_VERSION);
}

/* A live upgrade is done: this binary runs, and is ready. */
void
service_upgraded(void)
{
	int64_t now = os_now_ms();

	ready = true;
	(void)notify_send("READY=1\nSTATUS=forkchatd %s: %u client%s, %u "
	    "spare worker%s", FORKCHAT_VERSION, children.nclients,
	    children.nclients == 1 ? "" : "s", children.nspares,
	    children.nspares == 1 ? "" : "s");
	sent_clients = children.nclients;
	sent_spares = children.nspares;
	next_status = now + STATUS_EVERY_MS;
	if (notify_watchdog_ms() != 0)
		next_watchdog = now;
}

/* Shutdown begins: STOPPING=1, and ask for time while we drain. */
void
service_stopping(void)
{
	(void)notify_send("STOPPING=1");
	next_extend = os_now_ms();
}

/* When the service manager next needs a word from us, if ever. */
int64_t
service_deadline(void)
{
	int64_t d = OS_NO_DEADLINE;

	if (!notify_enabled() || !ready)
		return OS_NO_DEADLINE;
	if (children.nclients != sent_clients ||
	    children.nspares != sent_spares)
		d = next_status;
	d = os_nearer(d, next_watchdog);
	if (server.phase != PHASE_RUNNING)
		d = os_nearer(d, next_extend);
	return d;
}

/* Send what is due. */
void
service_tick(int64_t now)
{
	if (!notify_enabled() || !ready)
		return;
	if ((children.nclients != sent_clients ||
	    children.nspares != sent_spares) && now >= next_status)
		service_status(now);
	if (next_watchdog != 0 && now >= next_watchdog) {
		(void)notify_send("WATCHDOG=1");
		next_watchdog = now + notify_watchdog_ms();
	}
	if (server.phase != PHASE_RUNNING && now >= next_extend) {
		(void)notify_send("EXTEND_TIMEOUT_USEC=%lld", EXTEND_BY_USEC);
		next_extend = now + EXTEND_EVERY_MS;
	}
}

/* Look up user (and group): uid and gid; -1 with err set if unknown. */
static int
service_account(const struct config *cfg, uid_t *uid, gid_t *gid, char *err,
    size_t errlen)
{
	struct passwd *pw;
	struct group *gr;

	errno = 0;
	if ((pw = getpwnam(cfg->user)) == NULL) {
		(void)snprintf(err, errlen, "user %s: %s", cfg->user,
		    errno ? strerror(errno) : "no such user");
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	if (cfg->group == NULL)
		return 0;
	errno = 0;
	if ((gr = getgrnam(cfg->group)) == NULL) {
		(void)snprintf(err, errlen, "group %s: %s", cfg->group,
		    errno ? strerror(errno) : "no such group");
		return -1;
	}
	*gid = gr->gr_gid;
	return 0;
}

/* Do user and group exist (for -t, and before anything starts)? */
int
service_check_account(const struct config *cfg, char *err, size_t errlen)
{
	uid_t uid;
	gid_t gid;

	return cfg->user == NULL ? 0 :
	    service_account(cfg, &uid, &gid, err, errlen);
}

/*
 * After binding, before the first fork: become user/group with no
 * supplementary groups, and make sure there is no way back.
 */
void
service_drop_privileges(const struct config *cfg)
{
	char err[CONFIG_ERR_MAX];
	uid_t uid;
	gid_t gid;

	if (cfg->user == NULL && getuid() == 0 && cfg->npipes > 0) {
		log_warning("running as root with no user configured: pipe "
		    "programs run as root too (set user to drop privileges)");
		return;
	}
	if (cfg->user == NULL) {
		log_notice("running as uid %ld, gid %ld (no user configured)",
		    (long)getuid(), (long)getgid());
		return;
	}
	if (service_account(cfg, &uid, &gid, err, sizeof(err)) == -1)
		log_fatal(EX_FAIL, "%s", err);
	if (geteuid() != 0) {
		if (geteuid() != uid || getegid() != gid)
			log_fatal(EX_FAIL, "cannot become user %s: not started "
			    "as root", cfg->user);
		log_notice("running as user %s (uid %ld, gid %ld), as started",
		    cfg->user, (long)uid, (long)gid);
		return;
	}
	if (setgroups(0, NULL) == -1 || setresgid(gid, gid, gid) == -1 ||
	    setresuid(uid, uid, uid) == -1)
		log_fatal(EX_FAIL, "cannot become user %s: %s", cfg->user,
		    strerror(errno));
	if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0))
		log_fatal(EX_FAIL, "dropped to %s, but could become root again",
		    cfg->user);
	log_notice("running as user %s (uid %ld, gid %ld), no supplementary "
	    "groups", cfg->user, (long)uid, (long)gid);
}
