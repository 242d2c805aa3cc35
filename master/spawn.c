/*
 * spawn.c - the child table: forking workers, finding them, reaping them.
 *
 * Every child is a struct child, looked up by pid in a small hash and
 * kept on exactly one list by state: starting, spares, clients or
 * leaving.  Workers are forked by the forker (forker.c) but are our
 * children all the same; a new one is "starting" until the forker's
 * answer brings its pid, and answers come in the order asked.  A
 * reaped child is marked dead and freed only at the end of the loop's
 * turn (spawn_collect), because this turn's events may still point at it.
 *
 * Public: spawn_init, spawn_worker, spawn_take_spare, spawn_refill,
 * spawn_reap, spawn_kill, spawn_kill_all, spawn_signal_all,
 * spawn_collect, spawn_forker_ready, spawn_adopt, spawn_orphans,
 * spawn_find, child_close_channel, child_set_state, exit_text.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ev.h"
#include "log.h"
#include "master.h"
#include "os.h"
#include "../worker/worker.h"

#define PID_HASH	4096		/* buckets; chains stay short */
#define SPAWN_RETRY_MS	1000		/* after fork() or socketpair() fails */

static struct child *pid_hash[PID_HASH];
static struct child *dead;		/* reaped this turn, freed at its end */

/* An exit reaped before the forker told us whose pid it was. */
struct early {
	struct early *next;
	pid_t	 pid;
	int	 status;
};
static struct early *early;
static bool spawn_failing;		/* log a failure streak once */

static void child_exited(struct child *, int);
static void child_unhash(struct child *);

/* Empty lists. */
void
spawn_init(void)
{
	TAILQ_INIT(&M.starting);
	TAILQ_INIT(&M.spares);
	TAILQ_INIT(&M.clients);
	TAILQ_INIT(&M.leaving);
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

	for (c = *pid_bucket(pid); c != NULL; c = c->hnext)
		if (c->pid == pid)
			return c;
	return NULL;
}

/* The list a child in this state is kept on. */
static struct childq *
child_list(enum child_state state)
{
	switch (state) {
	case CHILD_STARTING:
		return &M.starting;
	case CHILD_SPARE:
		return &M.spares;
	case CHILD_CLIENT:
		return &M.clients;
	default:
		return &M.leaving;
	}
}

/* Stop watching and close the channel; safe to call twice. */
void
child_close_channel(struct child *c)
{
	if (c->fd == -1)
		return;
	if (ev_del(M.ep, c->fd) == -1)
		log_panic("epoll_ctl(DEL) failed for worker %ld: %s",
		    (long)c->pid, strerror(errno));
	(void)close(c->fd);
	c->fd = -1;
}

/* Starting a worker failed: say so once per streak, and retry later. */
static void
spawn_failed(int err)
{
	if (!spawn_failing)
		log_warning("cannot fork a spare worker: %s; retrying every "
		    "%d ms", strerror(err), SPAWN_RETRY_MS);
	spawn_failing = true;
	M.spawn_retry = os_now_ms() + SPAWN_RETRY_MS;
}

/*
 * Ask the forker for a spare worker; NULL with errno set if we cannot.
 * Its channel works at once; its pid comes later (spawn_started).
 */
struct child *
spawn_worker(void)
{
	struct child *c;
	int sv[2], saved;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    sv) == -1)
		goto fail;
	if (forker_request(sv[1]) == -1) {
		saved = errno;
		(void)close(sv[0]);
		(void)close(sv[1]);
		errno = saved;
		goto fail;
	}
	(void)close(sv[1]);		/* the forker has its own copy */
	c->src.kind = SRC_CHILD;
	c->fd = sv[0];
	c->state = CHILD_STARTING;
	c->born_ms = os_now_ms();
	msgq_init(&c->out, M.cfg.max_output_queue + CHAN_HEADROOM);
	msgin_init(&c->in);
	if (ev_add(M.ep, c->fd, EV_READ, c) == -1)
		log_panic("epoll_ctl(ADD) failed for a new worker: %s",
		    strerror(errno));
	TAILQ_INSERT_TAIL(&M.starting, c, entry);
	M.nstarting++;
	M.nchildren++;
	return c;
fail:
	saved = errno;
	free(c);
	errno = saved;
	return NULL;
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
	child_close_channel(c);
	child_set_state(c, CHILD_DEAD);
	M.nchildren--;
	c->gnext = dead;
	dead = c;
}

/* SIGKILL, now or, for a child still starting, as soon as its pid comes. */
static void
child_sigkill(struct child *c)
{
	c->killed = true;
	if (c->pid != 0 && kill(c->pid, SIGKILL) == -1 && errno != ESRCH)
		log_panic("kill(%ld, SIGKILL) failed: %s", (long)c->pid,
		    strerror(errno));
}

/* The forker's answer to our oldest request: a pid, or -errno. */
static void
spawn_started(int32_t answer)
{
	struct child *c = TAILQ_FIRST(&M.starting);
	int status;

	if (c == NULL)
		log_panic("the forker answered a request we did not make");
	if (answer <= 0) {
		spawn_failed(answer < 0 ? -answer : EPROTO);
		child_discard(c);
		return;
	}
	if (spawn_failing)
		log_notice("forking spare workers works again");
	spawn_failing = false;
	c->pid = answer;
	c->hnext = *pid_bucket(c->pid);
	*pid_bucket(c->pid) = c;
	M.stats.forked++;
	log_debug("forked spare worker %ld", (long)c->pid);
	if (early_take(c->pid, &status)) {
		/* Reaped already: its pid may be another's now; no kill. */
		child_set_state(c, CHILD_SPARE);
		M.nspares++;
		child_unhash(c);
		child_exited(c, status);
	} else if (c->killed) {
		/* Killed while starting: never a spare anyone could take. */
		child_set_state(c, CHILD_LEAVING);
		child_sigkill(c);
		if (M.phase == PHASE_KILLING)
			M.stats.killed++;
	} else {
		child_set_state(c, CHILD_SPARE);
		M.nspares++;
	}
}

/* The forker is gone: requests it did not answer never will be. */
static void
spawn_forker_lost(void)
{
	struct child *c;
	unsigned lost = 0;

	forker_lost();
	while ((c = TAILQ_FIRST(&M.starting)) != NULL) {
		child_discard(c);	/* a worker it forked sees EOF, exits */
		lost++;
	}
	if (lost > 0)
		log_warning("the forker went away with %u request%s "
		    "unanswered", lost, lost == 1 ? "" : "s");
	early_flush();
}

/* The forker's socket is readable: its answers, or its end. */
void
spawn_forker_ready(void)
{
	int32_t answer;
	int r;

	while ((r = forker_reply(&answer)) == 1)
		spawn_started(answer);
	if (r == -1)
		spawn_forker_lost();
	else if (M.nstarting == 0)
		early_flush();
}

/* Take an idle spare off the pool to serve a client, or NULL. */
struct child *
spawn_take_spare(void)
{
	struct child *c = TAILQ_FIRST(&M.spares);

	if (c == NULL)
		return NULL;
	TAILQ_REMOVE(&M.spares, c, entry);
	M.nspares--;
	TAILQ_INSERT_TAIL(&M.clients, c, entry);
	M.nclients++;
	c->state = CHILD_CLIENT;
	return c;
}

/*
 * Fork spares until the pool is full again (not while shutting down).
 * A forker that went away, or that a reload retired, is replaced once
 * it has been reaped.
 */
void
spawn_refill(int64_t now)
{
	unsigned want = M.cfg.spare_workers;

	if (M.phase != PHASE_RUNNING || now < M.spawn_retry)
		return;
	if (!forker_running() && forker_start() == -1) {
		spawn_failed(errno);
		return;
	}
	if (!forker_ready())
		return;			/* the old one is still leaving */
	/* A spare for each client waiting, the pool on top; no more than
	 * could ever be handed a client. */
	want += M.nwaiting;
	if (M.nclients >= M.cfg.max_clients)
		want = 0;
	else if (M.cfg.max_clients - M.nclients < want)
		want = M.cfg.max_clients - M.nclients;
	while (M.nspares + M.nstarting < want) {
		if (spawn_worker() == NULL) {
			spawn_failed(errno);
			return;
		}
	}
}

/* Move a child from its list to another state's list. */
void
child_set_state(struct child *c, enum child_state state)
{
	if (c->state == CHILD_STARTING)
		M.nstarting--;
	else if (c->state == CHILD_SPARE)
		M.nspares--;
	else if (c->state == CHILD_CLIENT)
		M.nclients--;
	TAILQ_REMOVE(child_list(c->state), c, entry);
	c->state = state;
	if (state != CHILD_DEAD)
		TAILQ_INSERT_TAIL(child_list(state), c, entry);
}

/* Kill a worker now; its client's leaving is told when it is reaped. */
void
spawn_kill(struct child *c, const char *why)
{
	if (c->killed || c->state == CHILD_DEAD)
		return;
	child_sigkill(c);
	if (c->state == CHILD_STARTING)
		return;			/* it must keep its place in line */
	/* No broadcast from here: we may be inside one.  See child_exited. */
	if (c->state == CHILD_CLIENT)
		c->why = why;
	if (c->state != CHILD_LEAVING)
		child_set_state(c, CHILD_LEAVING);
}

/* SIGKILL every child not yet killed (shutdown past its grace). */
void
spawn_kill_all(void)
{
	struct childq *lists[] = { &M.starting, &M.spares, &M.clients,
	    &M.leaving };
	struct child *c;

	forker_kill();
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		TAILQ_FOREACH(c, lists[i], entry) {
			if (c->killed)
				continue;
			child_sigkill(c);
			if (c->pid != 0)
				M.stats.killed++;
		}
	}
}

/* Ask every child to say goodbye and exit; no new ones. */
void
spawn_signal_all(void)
{
	struct childq *lists[] = { &M.starting, &M.spares, &M.clients,
	    &M.leaving };
	struct child *c;

	forker_stop();
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		TAILQ_FOREACH(c, lists[i], entry)
			relay_control(c, MSG_SHUTDOWN);
}

/* "signal 9" or "status 3": how a process ended. */
const char *
exit_text(int status, char *buf, size_t size)
{
	if (WIFSIGNALED(status))
		(void)snprintf(buf, size, "signal %d", WTERMSIG(status));
	else
		(void)snprintf(buf, size, "status %d", WEXITSTATUS(status));
	return buf;
}

/* A worker died with its pipe job alive: the job is ours to reap now. */
void
spawn_adopt(struct child *c)
{
	struct orphan *o;

	/* PR_SET_PDEATHSIG has sent it SIGKILL; its group may need one. */
	if (kill(-c->job_pid, SIGKILL) == -1 && errno != ESRCH)
		log_warning("kill(-%ld): %s", (long)c->job_pid, strerror(errno));
	if ((o = calloc(1, sizeof(*o))) == NULL) {
		log_warning("out of memory tracking orphaned job %ld",
		    (long)c->job_pid);
		return;
	}
	o->pid = c->job_pid;
	o->id = c->id;
	o->since_ms = c->job_ms;
	memcpy(o->name, c->job_name, sizeof(o->name));
	o->next = M.orphans;
	M.orphans = o;
	M.norphans++;
	c->job_pid = 0;
}

/* Pipe jobs we adopted and have not reaped yet. */
const struct orphan *
spawn_orphans(void)
{
	return M.orphans;
}

/* Reap an adopted job if pid is one; true if it was. */
static bool
spawn_reap_orphan(pid_t pid, int status)
{
	struct orphan **pp, *o;
	char how[32];

	for (pp = &M.orphans; (o = *pp) != NULL; pp = &o->next) {
		if (o->pid != pid)
			continue;
		*pp = o->next;
		M.norphans--;
		log_info("reaped pipe job %ld (%s) of client #%u after its "
		    "worker died: %s", (long)pid, o->name, o->id,
		    exit_text(status, how, sizeof(how)));
		free(o);
		return true;
	}
	return false;
}

/* Account for one reaped child and tell whoever needs to know. */
static void
child_exited(struct child *c, int status)
{
	char how[32], why[64];
	bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;

	relay_drain(c);			/* its last words come first */
	if (c->job_pid != 0)
		spawn_adopt(c);
	M.stats.reaped++;
	(void)exit_text(status, how, sizeof(how));
	if (!clean && !c->killed) {
		M.stats.crashed++;
		if (c->state == CHILD_CLIENT)
			log_warning("worker %ld of client #%u (%s) died: %s",
			    (long)c->pid, c->id, c->nick, how);
		else
			log_warning("%s worker %ld died: %s",
			    c->state == CHILD_SPARE ? "spare" : "leaving",
			    (long)c->pid, how);
	} else {
		log_debug("reaped worker %ld: %s", (long)c->pid, how);
	}
	if (c->state == CHILD_CLIENT) {
		(void)snprintf(why, sizeof(why), "worker died: %s", how);
		relay_leave(c, !clean ? why : M.phase == PHASE_RUNNING ?
		    "connection closed" : "server shutting down");
	} else if (c->why != NULL) {
		relay_left(c, c->why);
	}
	child_discard(c);
}

/* Unhook a child from the pid hash. */
static void
child_unhash(struct child *c)
{
	struct child **pp;

	for (pp = pid_bucket(c->pid); *pp != NULL; pp = &(*pp)->hnext) {
		if (*pp == c) {
			*pp = c->hnext;
			return;
		}
	}
	log_panic("worker %ld is not in the pid hash", (long)c->pid);
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
		} else if (M.nstarting > 0) {
			/*
			 * Maybe a worker whose pid the forker has yet to
			 * send: kept until every answer is in.
			 */
			early_add(pid, status);
		} else {
			/*
			 * We are a subreaper: every orphaned descendant lands
			 * here (what a pipe job left behind when its group
			 * was killed).  Reaping it is all there is to do.
			 */
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
		dead = c->gnext;
		msgq_free(&c->out);
		msgin_free(&c->in);
		free(c);
	}
}
