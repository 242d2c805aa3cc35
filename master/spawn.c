/*
 * spawn.c - the workers' lives: forking them through the forker,
 * reaping them, killing them.
 *
 * Workers are forked by the forker (forker.c) but are our children all
 * the same; a new one is "starting" until the forker's answer brings its
 * pid, and answers come in the order asked.  A child reaped before its
 * answer came is kept as an early exit until it does.  What a reaped
 * worker's leaving means to the chat is told through the hooks given to
 * spawn_init(); the table itself is child.c's.
 *
 * Public: spawn_init, spawn_refill, spawn_retry_at, spawn_take_spare,
 * spawn_kill, spawn_kill_all, spawn_forker_event, spawn_reap,
 * spawn_busy, spawn_quiet.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conf.h"
#include "forker.h"
#include "log.h"
#include "os.h"
#include "spawn.h"

#define SPAWN_RETRY_MS	1000		/* after fork() or socketpair() fails */

static struct spawn_hooks hooks;
static int64_t retry_at;		/* forking failed: try again then */
static bool failing;			/* log a failure streak once */
static uint64_t failures;		/* how many times it failed */

/* An exit reaped before the forker told us whose pid it was. */
struct early {
	struct early *next;
	pid_t	 pid;
	int	 status;
};
static struct early *early;

static void child_exited(struct child *, int);

/* Empty lists; the hooks tell the module above about reaped children. */
void
spawn_init(const struct spawn_hooks *h)
{
	hooks = *h;
	child_init();
}

/* Starting a worker failed: say so once per streak, and retry later. */
static void
spawn_failed(int err)
{
	if (!failing)
		log_warning("cannot fork a spare worker: %s; retrying every "
		    "%d ms", strerror(err), SPAWN_RETRY_MS);
	failing = true;
	failures++;
	retry_at = os_now_ms() + SPAWN_RETRY_MS;
}

/* When forking may be tried again, if it has just failed; else 0. */
int64_t
spawn_retry_at(void)
{
	return retry_at > os_now_ms() ? retry_at : OS_NO_DEADLINE;
}

/*
 * Ask the forker for a spare worker; -1 with errno set if we cannot.
 * Its channel works at once; its pid comes later (spawn_started).
 */
static int
spawn_worker(void)
{
	struct child *c;
	int sv[2], saved;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    sv) == -1)
		return -1;
	if (forker_request(sv[1]) == -1) {	/* it takes sv[1] over */
		saved = errno;
		(void)close(sv[0]);
		(void)close(sv[1]);
		errno = saved;
		return -1;
	}
	if ((c = child_new(sv[0])) != NULL) {
		c->proc.failures = failures;
		return 0;
	}
	log_panic("out of memory for a new worker");
}

/*
 * Fork spares until the pool holds spare_workers, and one more for each
 * of the clients waiting for one (not while shutting down, and never
 * more than could be handed a client).  A forker that went away, or
 * that a reload retired, is replaced once it has been reaped.
 */
void
spawn_refill(int64_t now, unsigned waiting)
{
	unsigned want = conf.spare_workers + waiting;

	if (server.phase != PHASE_RUNNING || now < retry_at)
		return;
	if (!forker_running() && forker_start(&conf) == -1) {
		spawn_failed(errno);
		return;
	}
	if (!forker_accepting())
		return;			/* the old one is still leaving */
	if (children.nclients >= conf.max_clients)
		want = 0;
	else if (conf.max_clients - children.nclients < want)
		want = conf.max_clients - children.nclients;
	while (children.nspares + children.nstarting < want) {
		if (spawn_worker() == -1) {
			spawn_failed(errno);
			return;
		}
	}
}

/* Take an idle spare off the pool to serve a client, or NULL. */
struct child *
spawn_take_spare(void)
{
	struct child *c = TAILQ_FIRST(&children.spares);

	if (c != NULL)
		child_set_state(c, CHILD_CLIENT);
	return c;
}

/* Remember an exit we cannot place yet (see spawn_reap). */
static void
early_add(pid_t pid, int status)
{
	struct early *e;

	if ((e = malloc(sizeof(*e))) != NULL) {
		e->pid = pid;
		e->status = status;
		e->next = early;
		early = e;
		return;
	}
	log_panic("out of memory keeping the exit of process %ld", (long)pid);
}

/* Take pid's early exit, if it had one. */
static bool
early_take(pid_t pid, int *status)
{
	struct early **pp, *e;

	for (pp = &early; (e = *pp) != NULL; pp = &e->next) {
		if (e->pid != pid)
			continue;
		*pp = e->next;
		*status = e->status;
		free(e);
		return true;
	}
	return false;
}

/* No answer is awaited now: the exits left were of orphans. */
static void
early_flush(void)
{
	struct early *e;

	while ((e = early) != NULL) {
		early = e->next;
		log_info("reaped orphaned process %ld", (long)e->pid);
		free(e);
	}
}

/* SIGKILL, now or, for a child still starting, as soon as its pid comes. */
static void
child_sigkill(struct child *c)
{
	c->proc.killed = true;
	if (c->pid != 0 && kill(c->pid, SIGKILL) == -1 && errno != ESRCH)
		log_panic("kill(%ld, SIGKILL) failed: %s", (long)c->pid,
		    strerror(errno));
}

/* The forker's answer to our oldest request: a pid, or -errno. */
static void
spawn_started(int32_t answer)
{
	struct child *c = TAILQ_FIRST(&children.starting);
	int status;

	if (c == NULL)
		log_panic("the forker answered a request we did not make");
	if (answer <= 0) {
		spawn_failed(answer < 0 ? -answer : EPROTO);
		child_discard(c);
		return;
	}
	/*
	 * Only a worker asked for since the last failure shows that forking
	 * works again: one asked for before it may answer after it.
	 */
	if (failing && c->proc.failures == failures) {
		log_notice("forking spare workers works again");
		failing = false;
	}
	c->pid = answer;
	child_hash(c);
	server.stats.forked++;
	log_debug("forked spare worker %ld", (long)c->pid);
	if (early_take(c->pid, &status)) {
		/* Reaped already: its pid may be another's now; no kill. */
		child_set_state(c, CHILD_SPARE);
		child_unhash(c);
		child_exited(c, status);
	} else if (c->proc.killed) {
		/* Killed while starting: never a spare anyone could take. */
		child_set_state(c, CHILD_LEAVING);
		child_sigkill(c);
		if (server.phase == PHASE_KILLING)
			server.stats.killed++;
	} else {
		child_set_state(c, CHILD_SPARE);
	}
}

/* The forker is gone: requests it did not answer never will be. */
static void
spawn_forker_lost(void)
{
	struct child *c;
	unsigned lost = 0;

	forker_lost();
	while ((c = TAILQ_FIRST(&children.starting)) != NULL) {
		child_discard(c);	/* a worker it forked sees EOF, exits */
		lost++;
	}
	if (lost > 0)
		log_warning("the forker went away with %u request%s "
		    "unanswered", lost, lost == 1 ? "" : "s");
	early_flush();
}

/* The forker's socket: room for requests queued, its answers, its end. */
void
spawn_forker_event(void)
{
	int32_t answer;
	int r;

	if (forker_flush() == -1)
		log_debug("sending the forker a request: %s", strerror(errno));
	while ((r = forker_reply(&answer)) == 1)
		spawn_started(answer);
	if (r == -1)
		spawn_forker_lost();
	else if (children.nstarting == 0)
		early_flush();
}

/* Kill a worker now; its client's leaving is told when it is reaped. */
void
spawn_kill(struct child *c, const char *why)
{
	if (c->proc.killed || c->state == CHILD_DEAD)
		return;
	child_sigkill(c);
	if (c->state == CHILD_STARTING)
		return;			/* it must keep its place in line */
	/* Not told now: the caller may be in the middle of a broadcast. */
	if (c->state == CHILD_CLIENT)
		(void)snprintf(c->proc.why, sizeof(c->proc.why), "%s", why);
	if (c->state != CHILD_LEAVING)
		child_set_state(c, CHILD_LEAVING);
}

/* SIGKILL every child not yet killed (shutdown past its grace). */
unsigned
spawn_kill_all(void)
{
	struct childq *lists[] = { &children.starting, &children.spares,
	    &children.clients, &children.leaving };
	struct child *c;
	unsigned n = 0;

	forker_kill();
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		TAILQ_FOREACH(c, lists[i], entry) {
			if (c->proc.killed)
				continue;
			child_sigkill(c);
			n += c->pid != 0;
		}
	}
	server.stats.killed += n;
	return n;
}

/* Count and log one reaped child; true if it died on its own. */
static bool
child_account(struct child *c, int status, const char *how)
{
	bool crashed = !(WIFEXITED(status) && WEXITSTATUS(status) == 0) &&
	    !c->proc.killed;

	server.stats.reaped++;
	if (!crashed) {
		log_debug("reaped worker %ld: %s", (long)c->pid, how);
		return false;
	}
	server.stats.crashed++;
	if (c->state == CHILD_CLIENT)
		log_warning("worker %ld of client #%u (%s) died: %s",
		    (long)c->pid, c->client.id, c->client.nick, how);
	else
		log_warning("%s worker %ld died: %s", c->state == CHILD_SPARE ?
		    "spare" : "leaving", (long)c->pid, how);
	return true;
}

/* One reaped child: its last words, the books, then its client's end. */
static void
child_exited(struct child *c, int status)
{
	char how[32], why[64];
	bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;

	hooks.drain(c);			/* its last words come first */
	if (c->job.pid != 0)
		child_adopt(c);
	(void)os_status_text(status, how, sizeof(how));
	(void)child_account(c, status, how);
	if (c->state == CHILD_CLIENT) {
		(void)snprintf(why, sizeof(why), "worker died: %s", how);
		hooks.gone(c, !clean ? why : server.phase == PHASE_RUNNING ?
		    "connection closed" : "server shutting down");
	} else if (c->proc.why[0] != '\0') {
		hooks.gone(c, c->proc.why);
	}
	child_discard(c);
}

/* Reap every child that has exited; never blocks. */
void
spawn_reap(void)
{
	struct child *c;
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == forker_pid()) {
			forker_reaped(status);
		} else if ((c = child_find(pid)) != NULL) {
			child_unhash(c);
			child_exited(c, status);
		} else if (child_reap_orphan(pid, status) ||
		    hooks.other(pid, status)) {
			continue;
		} else if (children.nstarting > 0) {
			/* Maybe a worker whose pid the forker has yet to
			 * send: kept until every answer is in. */
			early_add(pid, status);
		} else {
			/* We are a subreaper: every orphaned descendant lands
			 * here (what a pipe job left behind when its group
			 * was killed).  Reaping it is all there is to do. */
			log_info("reaped orphaned process %ld", (long)pid);
		}
	}
	if (pid == -1 && errno != ECHILD)
		log_panic("waitpid() failed: %s", strerror(errno));
}

/* Is any child, adopted job or forker still to be reaped? */
bool
spawn_busy(void)
{
	return children.nchildren > 0 || child_orphans() != NULL ||
	    forker_running();
}

/*
 * Nothing in flight that a snapshot could not hold: no worker waiting
 * for the forker's answer (nor an exit kept for one), no request unsent.
 */
bool
spawn_quiet(void)
{
	return children.nstarting == 0 && early == NULL &&
	    !child_dead_pending() && !forker_busy();
}
