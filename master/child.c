/*
 * child.c - the child table: every worker the master has, by state and
 * by pid, with its channel, its client and its job; and the pipe jobs
 * adopted from workers that died.
 *
 * A child is on exactly one list, by state, and in a small hash by pid
 * once it has one.  A reaped child is marked dead and freed only at the
 * end of the loop's turn (child_collect), because this turn's events may
 * still point at it.  For a live upgrade the table is written to a
 * snapshot and read back by the binary that takes over.
 *
 * Public: children, child_init, child_new, child_hash, child_unhash,
 * child_find, child_set_state, child_close_channel, child_want_write,
 * child_discard, child_collect, child_dead_pending, child_adopt,
 * child_orphans, child_reap_orphan; child_save, child_inherit,
 * child_restore for a live upgrade.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "child.h"
#include "conf.h"
#include "ev.h"
#include "log.h"
#include "os.h"
#include "snap.h"

#define PID_HASH	4096		/* buckets; chains stay short */

struct children children;

static struct child *pid_hash[PID_HASH];
static struct child *dead;		/* reaped this turn, freed at its end */
static struct orphan *orphans;		/* adopted pipe jobs, not reaped */

/* Empty lists. */
void
child_init(void)
{
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
child_find(pid_t pid)
{
	struct child *c;

	for (c = *pid_bucket(pid); c != NULL; c = c->proc.hnext)
		if (c->pid == pid)
			return c;
	return NULL;
}

/* Unhook a child from the pid hash. */
void
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
child_set_state(struct child *c, enum child_state state)
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
child_close_channel(struct child *c)
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
child_want_write(struct child *c, bool on)
{
	if (c->chan.fd == -1 || c->chan.want_write == on)
		return;
	c->chan.want_write = on;
	if (ev_mod(server.ep, c->chan.fd, EV_READ | (on ? EV_WRITE : 0),
	    c) == -1)
		log_panic("epoll_ctl(MOD) failed for worker %ld: %s",
		    (long)c->pid, strerror(errno));
}

/*
 * Off every list, channel closed, freed at the end of the turn: a child
 * reaped, or one that never was or whose pid we will never learn.
 */
void
child_discard(struct child *c)
{
	child_close_channel(c);
	child_set_state(c, CHILD_DEAD);
	c->proc.gnext = dead;
	dead = c;
}

/* A worker died with its pipe job alive: the job is ours to reap now. */
void
child_adopt(struct child *c)
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
child_orphans(void)
{
	return orphans;
}

/* Reap an adopted job if pid is one; true if it was. */
bool
child_reap_orphan(pid_t pid, int status)
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

/* Free the children reaped this turn; no event points at them now. */
void
child_collect(void)
{
	struct child *c;

	while ((c = dead) != NULL) {
		dead = c->proc.gnext;
		msgq_free(&c->chan.out);
		msgin_free(&c->chan.in);
		free(c);
	}
}

/* One child, for the binary that takes over. */
static void
child_save_one(struct snap *s, const struct child *c)
{
	snap_begin(s, SNAP_CHILD);
	snap_u32(s, (uint32_t)c->pid);
	snap_u32(s, (uint32_t)c->state);
	snap_u32(s, (uint32_t)c->chan.fd);
	snap_u32(s, c->proc.killed);
	snap_u64(s, (uint64_t)c->proc.born_ms);
	snap_str(s, c->proc.why);
	snap_u32(s, c->client.id);
	snap_str(s, c->client.nick);
	snap_str(s, c->client.peer);
	snap_u32(s, c->client.oper);
	snap_u32(s, c->client.read_timeout);
	snap_u64(s, (uint64_t)c->client.since_ms);
	snap_u64(s, (uint64_t)c->client.active_ms);
	snap_u32(s, (uint32_t)c->job.pid);
	snap_str(s, c->job.name);
	snap_u64(s, (uint64_t)c->job.since_ms);
	snap_u32(s, c->bin.proto);
	snap_str(s, c->bin.version);
	snap_end(s);
}

/* What is queued for a child, and what it said that was not read. */
static void
child_save_queues(struct snap *s, const struct child *c)
{
	const struct msgq *q = &c->chan.out;

	if (msgq_pending(q) > 0) {
		snap_begin(s, SNAP_CHILD_OUT);
		snap_u32(s, (uint32_t)c->pid);
		snap_u32(s, (uint32_t)q->nfds);
		for (int i = 0; i < q->nfds; i++) {
			snap_u64(s, q->fds[i].pos - q->sent);
			snap_u32(s, (uint32_t)q->fds[i].fd);
		}
		snap_bytes(s, buf_head(&q->out), msgq_pending(q));
		snap_end(s);
	}
	if (c->chan.in.in.len > c->chan.in.taken) {
		snap_begin(s, SNAP_CHILD_IN);
		snap_u32(s, (uint32_t)c->pid);
		snap_bytes(s, buf_head(&c->chan.in.in) + c->chan.in.taken,
		    c->chan.in.in.len - c->chan.in.taken);
		snap_end(s);
	}
}

/* The child table and the adopted jobs (spawn_quiet() must hold). */
int
child_save(struct snap *s)
{
	const struct childq *lists[] = { &children.spares, &children.clients,
	    &children.leaving };
	const struct child *c;
	const struct orphan *o;

	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		TAILQ_FOREACH(c, lists[i], entry) {
			child_save_one(s, c);
			child_save_queues(s, c);
		}
	}
	for (o = orphans; o != NULL; o = o->next) {
		snap_begin(s, SNAP_ORPHAN);
		snap_u32(s, (uint32_t)o->pid);
		snap_u32(s, o->id);
		snap_str(s, o->name);
		snap_u64(s, (uint64_t)o->since_ms);
		snap_end(s);
	}
	return s->failed ? -1 : 0;
}

/* Let every channel, and every descriptor queued on one, cross an exec. */
void
child_inherit(bool on)
{
	const struct childq *lists[] = { &children.spares, &children.clients,
	    &children.leaving };
	const struct child *c;

	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		TAILQ_FOREACH(c, lists[i], entry) {
			if (c->chan.fd != -1 && os_cloexec(c->chan.fd, !on) == -1)
				log_panic("fcntl(F_SETFD) of a channel: %s",
				    strerror(errno));
			for (int j = 0; j < c->chan.out.nfds; j++)
				if (os_cloexec(c->chan.out.fds[j].fd, !on) == -1)
					log_panic("fcntl(F_SETFD) of a client: %s",
					    strerror(errno));
		}
	}
}

/* SNAP_CHILD's fields into c; -1 if malformed. */
static int
child_restore_fields(struct child *c, struct msg *m, uint32_t *fd)
{
	uint32_t pid, state, killed, oper, job;
	uint64_t born, since, active, jsince;

	if (msg_u32(m, &pid) == -1 || msg_u32(m, &state) == -1 ||
	    msg_u32(m, fd) == -1 || msg_u32(m, &killed) == -1 ||
	    msg_u64(m, &born) == -1 ||
	    msg_str(m, c->proc.why, sizeof(c->proc.why)) == -1 ||
	    msg_u32(m, &c->client.id) == -1 ||
	    msg_str(m, c->client.nick, sizeof(c->client.nick)) == -1 ||
	    msg_str(m, c->client.peer, sizeof(c->client.peer)) == -1 ||
	    msg_u32(m, &oper) == -1 || msg_u32(m, &c->client.read_timeout)
	    == -1 || msg_u64(m, &since) == -1 || msg_u64(m, &active) == -1 ||
	    msg_u32(m, &job) == -1 ||
	    msg_str(m, c->job.name, sizeof(c->job.name)) == -1 ||
	    msg_u64(m, &jsince) == -1 || msg_u32(m, &c->bin.proto) == -1 ||
	    msg_str(m, c->bin.version, sizeof(c->bin.version)) == -1 ||
	    msg_end(m) == -1 || pid == 0 || pid > INT32_MAX ||
	    job > INT32_MAX || (state != CHILD_SPARE && state !=
	    CHILD_CLIENT && state != CHILD_LEAVING))
		return -1;
	c->pid = (pid_t)pid;
	c->state = (enum child_state)state;
	c->proc.killed = killed != 0;
	c->proc.born_ms = (int64_t)born;
	c->client.oper = oper != 0;
	c->client.since_ms = (int64_t)since;
	c->client.active_ms = (int64_t)active;
	c->job.pid = (pid_t)job;
	c->job.since_ms = (int64_t)jsince;
	return 0;
}

/* SNAP_CHILD: a worker of the master before us, in its state. */
static int
child_restore_one(struct msg *m)
{
	struct childq *q;
	struct child *c;
	unsigned *n;
	uint32_t fd;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return -1;
	if (child_restore_fields(c, m, &fd) == -1 || child_find(c->pid) !=
	    NULL) {
		free(c);
		return -1;
	}
	c->src.kind = SRC_CHILD;
	c->chan.fd = (int32_t)fd;
	msgq_init(&c->chan.out, conf.max_output_queue + CHAN_HEADROOM);
	msgin_init(&c->chan.in);
	if (c->chan.fd != -1 && ev_add(server.ep, c->chan.fd, EV_READ, c) == -1)
		log_panic("epoll_ctl(ADD) failed for worker %ld: %s",
		    (long)c->pid, strerror(errno));
	q = child_list(c->state, &n);
	TAILQ_INSERT_TAIL(q, c, entry);
	(*n)++;
	children.nchildren++;
	child_hash(c);
	return 0;
}

/* SNAP_CHILD_OUT: what was queued for a worker, descriptors included. */
static int
child_restore_out(struct child *c, struct msg *m)
{
	struct msgq *q = &c->chan.out;
	uint32_t nfds, fd;
	uint64_t pos;
	const char *p;
	size_t len;

	if (msg_u32(m, &nfds) == -1 || nfds > MSGQ_MAXFD)
		return -1;
	for (uint32_t i = 0; i < nfds; i++) {
		if (msg_u64(m, &pos) == -1 || msg_u32(m, &fd) == -1 ||
		    fd > INT32_MAX)
			return -1;
		q->fds[q->nfds].pos = (size_t)pos;
		q->fds[q->nfds++].fd = (int)fd;
	}
	if (msg_rest(m, &p, &len) == -1 || msg_put_raw(q, p, len) == -1)
		return -1;
	return 0;
}

/* SNAP_CHILD_IN: what a worker said that was not read yet. */
static int
child_restore_in(struct child *c, struct msg *m)
{
	const char *p;
	size_t len;

	if (msg_rest(m, &p, &len) == -1 ||
	    buf_append(&c->chan.in.in, p, len) == -1)
		return -1;
	return 0;
}

/* SNAP_ORPHAN: a pipe job adopted by the master before us. */
static int
child_restore_orphan(struct msg *m)
{
	struct orphan *o;
	uint32_t pid;
	uint64_t since;

	if ((o = calloc(1, sizeof(*o))) == NULL)
		return -1;
	if (msg_u32(m, &pid) == -1 || msg_u32(m, &o->id) == -1 ||
	    msg_str(m, o->name, sizeof(o->name)) == -1 ||
	    msg_u64(m, &since) == -1 || msg_end(m) == -1 || pid == 0 ||
	    pid > INT32_MAX) {
		free(o);
		return -1;
	}
	o->pid = (pid_t)pid;
	o->since_ms = (int64_t)since;
	o->next = orphans;
	orphans = o;
	return 0;
}

/* A record of child_save()'s: take it over; -1 if malformed. */
int
child_restore(uint32_t type, struct msg *m)
{
	struct child *c;
	uint32_t pid;

	switch (type) {
	case SNAP_CHILD:
		return child_restore_one(m);
	case SNAP_ORPHAN:
		return child_restore_orphan(m);
	case SNAP_CHILD_OUT:
	case SNAP_CHILD_IN:
		if (msg_u32(m, &pid) == -1 || pid > INT32_MAX ||
		    (c = child_find((pid_t)pid)) == NULL)
			return -1;
		return type == SNAP_CHILD_OUT ? child_restore_out(c, m) :
		    child_restore_in(c, m);
	default:
		return -1;
	}
}

/*
 * A new child on channel fd, starting: watched, on the starting list,
 * no pid yet.  NULL with errno set if out of memory.
 */
struct child *
child_new(int fd)
{
	struct child *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->src.kind = SRC_CHILD;
	c->chan.fd = fd;
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
	return c;
}

/* Put a child that has its pid now in the hash. */
void
child_hash(struct child *c)
{
	c->proc.hnext = *pid_bucket(c->pid);
	*pid_bucket(c->pid) = c;
}

/* Is a child reaped this turn still to be freed? */
bool
child_dead_pending(void)
{
	return dead != NULL;
}
