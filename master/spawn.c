/*
 * spawn.c - the child table: forking workers, finding them, reaping them.
 *
 * Every child is a struct child, looked up by pid in a small hash and
 * kept on exactly one list by state: starting, spares, clients or
 * leaving.  Workers are forked by the forker (forker.c) but are our
 * children all the same; a new one is "starting" until the forker's
 * answer brings its pid, and answers come in the order asked.  A child
 * reaped before its answer came is kept as an early exit until it does.
 * A reaped child is marked dead and freed only at the end of the loop's
 * turn (spawn_collect), because this turn's events may still point at it;
 * what its client's leaving means to the chat is the hooks' business.
 *
 * Public: spawn_init, spawn_refill, spawn_retry_at, spawn_take_spare,
 * spawn_set_state, spawn_close_channel, spawn_want_write, spawn_kill,
 * spawn_kill_all, spawn_forker_event, spawn_reap, spawn_collect,
 * spawn_find, spawn_orphans, spawn_busy.
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
#include "ev.h"
#include "forker.h"
#include "log.h"
#include "os.h"
#include "spawn.h"

#define PID_HASH	4096		/* buckets; chains stay short */
#define SPAWN_RETRY_MS	1000		/* after fork() or socketpair() fails */

struct children children;

static struct spawn_hooks hooks;
static struct child *pid_hash[PID_HASH];
static struct child *dead;		/* reaped this turn, freed at its end */
static struct orphan *orphans;		/* adopted pipe jobs, not reaped */
static int64_t retry_at;		/* forking failed: try again then */
static bool failing;			/* log a failure streak once */

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
	TAILQ_INIT(&children.starting);
	TAILQ_INIT(&children.spares);
	TAILQ_INIT(&children.clients);
	TAILQ_INIT(&children.leaving);
}

/* The hash chain a pid lives on. */
static struct child **
pid_bucket(pid_t pid)
{
	return &pid_hash[(unsigned)pid % PID_HASH];
}

/* The child with this pid, or NULL. */
struct child *
spawn_find(pid_t pid)
{
	struct child *c;

	for (c = *pid_bucket(pid); c != NULL; c = c->proc.hnext)
		if (c->pid == pid)
			return c;
	return NULL;
}

/* Unhook a child from the pid hash. */
static void
child_unhash(struct child *c)
{
	struct child **pp;

	for (pp = pid_bucket(c->pid); *pp != NULL; pp = &(*pp)->proc.hnext) {
		if (*pp == c) {
			*pp = c->proc.hnext;
			return;
		}
	}
	log_panic("worker %ld is not in the pid hash", (long)c->pid);
}

/* The list a child in this state is kept on, and its count. */
static struct childq *
child_list(enum child_state state, unsigned **count)
{
	switch (state) {
	case CHILD_STARTING:
		*count = &children.nstarting;
		return &children.starting;
	case CHILD_SPARE:
		*count = &children.nspares;
		return &children.spares;
	case CHILD_CLIENT:
		*count = &children.nclients;
		return &children.clients;
	default:
		*count = &children.nleaving;
		return &children.leaving;
	}
}

/* Move a child from its list to another state's (none for CHILD_DEAD). */
void
spawn_set_state(struct child *c, enum child_state state)
{
	struct childq *q;
	unsigned *n;

	q = child_list(c->state, &n);
	TAILQ_REMOVE(q, c, entry);
	(*n)--;
	c->state = state;
	if (state == CHILD_DEAD) {
		children.nchildren--;
		return;
	}
	q = child_list(state, &n);
	TAILQ_INSERT_TAIL(q, c, entry);
	(*n)++;
}

/* Stop watching and close the channel; safe to call twice. */
void
spawn_close_channel(struct child *c)
{
	if (c->chan.fd == -1)
		return;
	if (ev_del(server.ep, c->chan.fd) == -1)
		log_panic("epoll_ctl(DEL) failed for worker %ld: %s",
		    (long)c->pid, strerror(errno));
	(void)close(c->chan.fd);
	c->chan.fd = -1;
	c->chan.want_write = false;
}

/* Watch the channel for room to write, or stop. */
void
spawn_want_write(struct child *c, bool on)
{
	if (c->chan.fd == -1 || c->chan.want_write == on)
		return;
	c->chan.want_write = on;
	if (ev_mod(server.ep, c->chan.fd, EV_READ | (on ? EV_WRITE : 0),
	    c) == -1)
		log_panic("epoll_ctl(MOD) failed for worker %ld: %s",
		    (long)c->pid, strerror(errno));
}

/* Starting a worker failed: say so once per streak, and retry later. */
static void
spawn_failed(int err)
{
	if (!failing)
		log_warning("cannot fork a spare worker: %s; retrying every "
		    "%d ms", strerror(err), SPAWN_RETRY_MS);
	failing = true;
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

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    sv) == -1)
		goto fail;
	if (forker_request(sv[1]) == -1) {	/* it takes sv[1] over */
		saved = errno;
		(void)close(sv[0]);
		(void)close(sv[1]);
		errno = saved;
		goto fail;
	}
	c->src.kind = SRC_CHILD;
	c->chan.fd = sv[0];
	c->state = CHILD_STARTING;
	c->proc.born_ms = os_now_ms();
	msgq_init(&c->chan.out, conf.max_output_queue + CHAN_HEADROOM);
	msgin_init(&c->chan.in);
	if (ev_add(server.ep, c->chan.fd, EV_READ, c) == -1)
		log_panic("epoll_ctl(ADD) failed for a new worker: %s",
		    strerror(errno));
	TAILQ_INSERT_TAIL(&children.starting, c, entry);
	children.nstarting++;
	children.nchildren++;
	return 0;
fail:
	saved = errno;
	free(c);
	errno = saved;
	return -1;
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
		spawn_set_state(c, CHILD_CLIENT);
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

/*
 * Off every list, channel closed, freed at the end of the turn: a child
 * reaped, or one that never was or whose pid we will never learn.
 */
static void
child_discard(struct child *c)
{
	spawn_close_channel(c);
	spawn_set_state(c, CHILD_DEAD);
	c->proc.gnext = dead;
	dead = c;
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
	if (failing)
		log_notice("forking spare workers works again");
	failing = false;
	c->pid = answer;
	c->proc.hnext = *pid_bucket(c->pid);
	*pid_bucket(c->pid) = c;
	server.stats.forked++;
	log_debug("forked spare worker %ld", (long)c->pid);
	if (early_take(c->pid, &status)) {
		/* Reaped already: its pid may be another's now; no kill. */
		spawn_set_state(c, CHILD_SPARE);
		child_unhash(c);
		child_exited(c, status);
	} else if (c->proc.killed) {
		/* Killed while starting: never a spare anyone could take. */
		spawn_set_state(c, CHILD_LEAVING);
		child_sigkill(c);
		if (server.phase == PHASE_KILLING)
			server.stats.killed++;
	} else {
		spawn_set_state(c, CHILD_SPARE);
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
		c->proc.why = why;
	if (c->state != CHILD_LEAVING)
		spawn_set_state(c, CHILD_LEAVING);
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

/* A worker died with its pipe job alive: the job is ours to reap now. */
static void
spawn_adopt(struct child *c)
{
	struct orphan *o;

	/* PR_SET_PDEATHSIG has sent it SIGKILL; its group may need one. */
	if (kill(-c->job.pid, SIGKILL) == -1 && errno != ESRCH)
		log_warning("kill(-%ld): %s", (long)c->job.pid, strerror(errno));
	if ((o = calloc(1, sizeof(*o))) == NULL) {
		log_warning("out of memory tracking orphaned job %ld",
		    (long)c->job.pid);
		return;
	}
	o->pid = c->job.pid;
	o->id = c->client.id;
	o->since_ms = c->job.since_ms;
	memcpy(o->name, c->job.name, sizeof(o->name));
	o->next = orphans;
	orphans = o;
	c->job.pid = 0;
}

/* Pipe jobs we adopted and have not reaped yet. */
const struct orphan *
spawn_orphans(void)
{
	return orphans;
}

/* Reap an adopted job if pid is one; true if it was. */
static bool
spawn_reap_orphan(pid_t pid, int status)
{
	struct orphan **pp, *o;
	char how[32];

	for (pp = &orphans; (o = *pp) != NULL; pp = &o->next) {
		if (o->pid != pid)
			continue;
		*pp = o->next;
		log_info("reaped pipe job %ld (%s) of client #%u after its "
		    "worker died: %s", (long)pid, o->name, o->id,
		    os_status_text(status, how, sizeof(how)));
		free(o);
		return true;
	}
	return false;
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
		spawn_adopt(c);
	(void)os_status_text(status, how, sizeof(how));
	(void)child_account(c, status, how);
	if (c->state == CHILD_CLIENT) {
		(void)snprintf(why, sizeof(why), "worker died: %s", how);
		hooks.gone(c, !clean ? why : server.phase == PHASE_RUNNING ?
		    "connection closed" : "server shutting down");
	} else if (c->proc.why != NULL) {
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
		} else if ((c = spawn_find(pid)) != NULL) {
			child_unhash(c);
			child_exited(c, status);
		} else if (spawn_reap_orphan(pid, status)) {
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

/* Free the children reaped this turn; no event points at them now. */
void
spawn_collect(void)
{
	struct child *c;

	while ((c = dead) != NULL) {
		dead = c->proc.gnext;
		msgq_free(&c->chan.out);
		msgin_free(&c->chan.in);
		free(c);
	}
}

/* Is any child, adopted job or forker still to be reaped? */
bool
spawn_busy(void)
{
	return children.nchildren > 0 || orphans != NULL || forker_running();
}
