/*
 * ps.c - "/ps": who the server's processes are, for the worker that
 * draws them.
 *
 * Reading /proc for every process of a server with thousands of clients
 * takes tens of milliseconds, which the master's loop must never spend:
 * it sends the asking worker its table of who is who (MSG_PS_TABLE
 * records, then MSG_PS_END), and the worker reads /proc and draws the
 * tree itself.  Even so each /ps costs a snapshot here and a pass over
 * /proc there, so a client gets two at once and then one every 5 s,
 * and all clients together two a second; past that, the client is told
 * when to try again.
 *
 * Public: ps_list.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bucket.h"
#include "fan.h"
#include "forker.h"
#include "os.h"
#include "ps.h"

#define PS_CLIENT_BURST	2		/* /ps a client gets at once */
#define PS_CLIENT_MS	5000		/* then one per this */
#define PS_ALL_BURST	4		/* all clients together at once */
#define PS_ALL_MS	500		/* then one per this */
#define PS_FRAME	((size_t)60 * 1024)	/* records per frame, in bytes */

static struct bucket all;
static bool all_ready;

/* Who a process is, for a MSG_PS_TABLE record. */
struct ps_who {
	pid_t	 pid;
	enum msg_ps_role role;
	uint32_t id;
	const char *nick;
	pid_t	 job;
	const char *job_name;
	const char *version;
};

/* Append one record to b. */
static int
ps_record(struct buf *b, const struct ps_who *w)
{
	uint32_t v[3] = { (uint32_t)w->pid, (uint32_t)w->role, w->id };
	uint32_t j = (uint32_t)w->job;

	if (buf_append(b, v, sizeof(v)) == -1 ||
	    buf_append(b, w->nick, strlen(w->nick) + 1) == -1 ||
	    buf_append(b, &j, sizeof(j)) == -1 ||
	    buf_append(b, w->job_name, strlen(w->job_name) + 1) == -1 ||
	    buf_append(b, w->version, strlen(w->version) + 1) == -1)
		return -1;
	return 0;
}

/* Send what b holds as one MSG_PS_TABLE frame, and empty it. */
static int
ps_send(struct child *to, struct buf *b)
{
	struct iovec iov;

	iov.iov_base = (void *)(uintptr_t)buf_head(b);
	iov.iov_len = b->len;
	if (b->len > 0 && fan_send(to, MSG_PS_TABLE, &iov, 1) == -1)
		return -1;
	buf_free(b);
	return 0;
}

/* One child's record; the frame goes once it is big enough. */
static int
ps_child(struct child *to, struct buf *b, const struct child *c)
{
	static const enum msg_ps_role roles[] = {
		[CHILD_SPARE] = MSG_PS_SPARE,
		[CHILD_CLIENT] = MSG_PS_WORKER,
		[CHILD_LEAVING] = MSG_PS_LEAVING,
	};

	struct ps_who w = { c->pid, roles[c->state], c->client.id,
	    c->client.nick, c->job.pid, c->job.name, c->bin.version };

	if (c->pid == 0)
		return 0;		/* not forked yet */
	if (ps_record(b, &w) == -1)
		return -1;
	return b->len >= PS_FRAME ? ps_send(to, b) : 0;
}

/* The whole table, in frames, then the end. */
static int
ps_table(struct child *to)
{
	const struct childq *lists[] = { &children.spares, &children.clients,
	    &children.leaving };
	const struct orphan *o;
	const struct child *c;
	struct buf b;
	uint64_t up = (uint64_t)(os_now_ms() - server.started_ms);
	struct iovec iov = { .iov_base = &up, .iov_len = sizeof(up) };

	struct ps_who master = { getpid(), MSG_PS_MASTER, 0, "", 0, "",
	    FORKCHAT_VERSION }, forker = { forker_pid(), MSG_PS_FORKER, 0, "",
	    0, "", forker_version() }, job = { 0, MSG_PS_ADOPTED, 0, "", 0, "",
	    "" };

	buf_init(&b, 0);
	if (ps_record(&b, &master) == -1 ||
	    (forker.pid != 0 && ps_record(&b, &forker) == -1))
		goto fail;
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		TAILQ_FOREACH(c, lists[i], entry)
			if (ps_child(to, &b, c) == -1)
				goto fail;
	for (o = child_orphans(); o != NULL; o = o->next) {
		job.pid = job.job = o->pid;
		job.id = o->id;
		job.job_name = o->name;
		if (ps_record(&b, &job) == -1)
			goto fail;
	}
	if (ps_send(to, &b) == -1)
		goto fail;
	return fan_send(to, MSG_PS_END, &iov, 1);
fail:
	buf_free(&b);
	return -1;
}

/* May c have a /ps now?  If not, it is told when it may. */
static bool
ps_allowed(struct child *c, int64_t now)
{
	int64_t when;

	if (!all_ready) {
		bucket_init(&all, PS_ALL_MS, PS_ALL_BURST, now);
		all_ready = true;
	}
	if (c->client.ps.every_ms == 0)
		bucket_init(&c->client.ps, PS_CLIENT_MS, PS_CLIENT_BURST, now);
	when = bucket_next(&c->client.ps, now);
	if (bucket_next(&all, now) > when)
		when = bucket_next(&all, now);
	if (when > now) {
		fan_line(c, "ERR /ps is busy; try again in %lld s",
		    (long long)((when - now + 999) / 1000));
		return false;
	}
	return bucket_take(&c->client.ps, now) && bucket_take(&all, now);
}

/* MSG_PS "/ps": the asking worker gets the table, to draw it. */
int
ps_list(struct child *to, struct msg *m)
{
	(void)m;
	if (ps_allowed(to, os_now_ms()))
		(void)ps_table(to);
	return 0;
}
