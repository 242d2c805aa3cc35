/*
 * spawn.c - the child table: forking workers, finding them, reaping them.
 *
 * Every child is a struct child, looked up by pid in a small hash and
 * kept on exactly one list by state: spares, clients or leaving.  A
 * reaped child is marked dead and freed only at the end of the loop's
 * turn (spawn_collect), because this turn's events may still point at it.
 *
 * Public: spawn_init, spawn_worker, spawn_take_spare, spawn_refill,
 * spawn_reap, spawn_kill, spawn_kill_all, spawn_signal_all,
 * spawn_collect, spawn_adopt, spawn_orphans, spawn_find,
 * child_close_channel,
 * child_set_state.
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
static bool spawn_failing;		/* log a failure streak once */

/* Empty lists. */
void
spawn_init(void)
{
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

/*
 * The child: become "forkchatd -W", the channel on WORKER_FD.  A fresh
 * image, not a copy of the master: a forked master's heap, which the
 * master goes on changing, would become every worker's private copy
 * (copy-on-write copies the page for whoever writes, and the old one is
 * left to the other).  fexecve() of the binary the master runs, opened
 * at start, also keeps workers and master the same version.
 */
static _Noreturn void
spawn_child(int ch, const sigset_t *oldmask)
{
	static char arg0[] = "forkchatd", arg1[] = WORKER_FLAG;
	char *const argv[] = { arg0, arg1, NULL };
	int exe = M.exe_fd;

	/*
	 * No handler of ours may run here.  Ignoring survives exec, so the
	 * worker is deaf to group signals from the first instant (it sets
	 * the same itself, for clarity).
	 */
	if (os_signals_default() == -1 || signal(SIGINT, SIG_IGN) == SIG_ERR ||
	    signal(SIGTERM, SIG_IGN) == SIG_ERR ||
	    signal(SIGQUIT, SIG_IGN) == SIG_ERR ||
	    signal(SIGHUP, SIG_IGN) == SIG_ERR)
		_exit(71);
	if (exe == WORKER_FD &&
	    (exe = fcntl(exe, F_DUPFD_CLOEXEC, WORKER_FD + 1)) == -1)
		_exit(71);
	/* dup2() leaves the copy without close-on-exec: it stays open. */
	if (ch != WORKER_FD ? dup2(ch, WORKER_FD) == -1 :
	    fcntl(ch, F_SETFD, 0) == -1)
		_exit(71);
	if (os_close_except(WORKER_FD, exe) == -1 ||
	    sigprocmask(SIG_SETMASK, oldmask, NULL) == -1)
		_exit(71);
	fexecve(exe, argv, environ);
	log_error("worker %ld: fexecve() failed: %s", (long)getpid(),
	    strerror(errno));
	_exit(71);
}

/* Fork a spare worker; NULL with errno set if we cannot. */
struct child *
spawn_worker(void)
{
	struct child *c;
	struct iovec iov;
	sigset_t all, old;
	int sv[2], saved;
	pid_t pid;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    sv) == -1)
		goto fail;
	/* No handler of ours may run in the child before it resets them. */
	sigfillset(&all);
	if (sigprocmask(SIG_BLOCK, &all, &old) == -1)
		goto fail_pair;
	if ((pid = fork()) == 0)
		spawn_child(sv[1], &old);
	saved = errno;
	if (sigprocmask(SIG_SETMASK, &old, NULL) == -1)
		log_panic("sigprocmask() failed after fork: %s", strerror(errno));
	errno = saved;
	if (pid == -1)
		goto fail_pair;
	(void)close(sv[1]);
	c->src.kind = SRC_CHILD;
	c->pid = pid;
	c->fd = sv[0];
	c->state = CHILD_SPARE;
	c->born_ms = os_now_ms();
	msgq_init(&c->out, M.cfg.max_output_queue + CHAN_HEADROOM);
	msgin_init(&c->in);
	/* Its first message: the configuration, before any client. */
	iov.iov_base = (void *)(uintptr_t)buf_head(&M.config_text);
	iov.iov_len = M.config_text.len;
	if (relay_send(c, MSG_CONFIG, &iov, 1) == -1)
		log_panic("queueing the configuration for worker %ld",
		    (long)pid);
	if (ev_add(M.ep, c->fd, EV_READ, c) == -1)
		log_panic("epoll_ctl(ADD) failed for worker %ld: %s", (long)pid,
		    strerror(errno));
	c->hnext = *pid_bucket(pid);
	*pid_bucket(pid) = c;
	TAILQ_INSERT_TAIL(&M.spares, c, entry);
	M.nspares++;
	M.nchildren++;
	M.stats.forked++;
	log_debug("forked spare worker %ld", (long)pid);
	return c;
fail_pair:
	saved = errno;
	(void)close(sv[0]);
	(void)close(sv[1]);
	errno = saved;
fail:
	saved = errno;
	free(c);
	errno = saved;
	return NULL;
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

/* Fork spares until the pool is full again (not while shutting down). */
void
spawn_refill(int64_t now)
{
	unsigned want = M.cfg.spare_workers;

	if (M.phase != PHASE_RUNNING || now < M.spawn_retry)
		return;
	/* No point in spares nobody could be handed to. */
	if (M.nclients >= M.cfg.max_clients)
		want = 0;
	else if (M.cfg.max_clients - M.nclients < want)
		want = M.cfg.max_clients - M.nclients;
	while (M.nspares < want) {
		if (spawn_worker() == NULL) {
			if (!spawn_failing)
				log_warning("cannot fork a spare worker: %s; "
				    "retrying every %d ms", strerror(errno),
				    SPAWN_RETRY_MS);
			spawn_failing = true;
			M.spawn_retry = now + SPAWN_RETRY_MS;
			return;
		}
		if (spawn_failing)
			log_notice("forking spare workers works again");
		spawn_failing = false;
	}
}

/* Move a child from its list to another state's list. */
void
child_set_state(struct child *c, enum child_state state)
{
	if (c->state == CHILD_SPARE)
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
	if (kill(c->pid, SIGKILL) == -1 && errno != ESRCH)
		log_panic("kill(%ld, SIGKILL) failed: %s", (long)c->pid,
		    strerror(errno));
	c->killed = true;
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
	struct childq *lists[] = { &M.spares, &M.clients, &M.leaving };
	struct child *c;

	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		TAILQ_FOREACH(c, lists[i], entry) {
			if (c->killed)
				continue;
			if (kill(c->pid, SIGKILL) == -1 && errno != ESRCH)
				log_panic("kill(%ld, SIGKILL) failed: %s",
				    (long)c->pid, strerror(errno));
			c->killed = true;
			M.stats.killed++;
		}
	}
}

/* Ask every child to say goodbye and exit. */
void
spawn_signal_all(void)
{
	struct childq *lists[] = { &M.spares, &M.clients, &M.leaving };
	struct child *c;

	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		TAILQ_FOREACH(c, lists[i], entry)
			relay_control(c, MSG_SHUTDOWN);
}

/* "signal 9" or "status 3": how a process ended. */
static const char *
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
	child_close_channel(c);
	child_set_state(c, CHILD_DEAD);
	M.nchildren--;
	c->gnext = dead;
	dead = c;
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
		if ((c = spawn_find(pid)) == NULL &&
		    spawn_reap_orphan(pid, status))
			continue;
		if (c == NULL) {
			/*
			 * We are a subreaper: every orphaned descendant lands
			 * here (what a pipe job left behind when its group
			 * was killed).  Reaping it is all there is to do.
			 */
			log_info("reaped orphaned process %ld", (long)pid);
			continue;
		}
		child_unhash(c);
		child_exited(c, status);
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
