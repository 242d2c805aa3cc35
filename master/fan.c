/*
 * fan.c - the ordered fan-out: what the master sends its workers.
 *
 * Every line that more than one client sees is framed once, into the
 * broadcasts not yet fanned out (fan), and reaches every client's worker
 * in the same order, so all clients see one history (server.seq counts
 * it).  At the end of a loop turn (fan_end_turn) each worker gets its
 * part of fan in one write, straight from fan: a burst of lines costs
 * one write per worker, not one per line, and no copy per worker unless
 * its channel is full.
 *
 * Broadcasts that come faster than the workers can take them are held
 * a little, so that each worker wakes once for several of them: after a
 * fan-out to N clients the next one waits until N x 5 us have passed
 * (nothing below 200 clients, 5 ms at 1 000, 50 ms at 10 000).  Waking
 * a worker costs far more than the bytes it is given, so this bounds
 * the wake-ups per second whatever the number of clients; a line that
 * comes after a quiet spell goes out at once.
 *
 * A frame for one worker alone first copies that worker's part of fan
 * so far into its own queue (fan_catch_up), which keeps the order.  A
 * worker whose queue passes its limit is not waited for: it is killed,
 * and its client told to the others when it is reaped.  A worker whose
 * channel fails on write is left for dispatch.c to read to its end.
 *
 * Public: fan_send, fan_control, fan_line, fan_all, fan_all_line,
 * fan_join, fan_catch_up, fan_flush, fan_end_turn, fan_release,
 * fan_deadline.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fan.h"
#include "log.h"
#include "os.h"
#include "proto.h"

#define LINE_MAX_LEN		1024	/* a formatted line, CRLF included */
#define FAN_NS_PER_CLIENT	5000	/* hold after a fan-out, per client */

/*
 * The broadcasts not yet fanned out, each framed once (zeroed: an empty
 * queue with no limit); fan_gen counts fan-outs.  A joined client's part
 * of it starts at c->chan.fan_at if c->chan.fan_gen is this one (it
 * joined, or was caught up, since the last fan-out), else at 0; it ends
 * at the end of fan.
 */
static struct msgq fan;
static uint64_t fan_gen = 1;
static int64_t fan_next;		/* fan waits until then (ms) */
static struct child *dirty;		/* children with output to flush */

/* Where c's part of fan starts. */
static size_t
fan_start(const struct child *c)
{
	return c->chan.fan_gen == fan_gen ? c->chan.fan_at : 0;
}

/* May anything still be queued for c? */
static bool
fan_open(const struct child *c)
{
	return c->chan.fd != -1 && !c->chan.broken && !c->proc.killed;
}

/* Put c on the list of queues to flush at the end of this turn. */
static void
fan_mark(struct child *c)
{
	if (!c->chan.dirty) {
		c->chan.dirty = true;
		c->chan.dnext = dirty;
		dirty = c;
	}
}

/* c's queue would pass its limit: its worker is not reading. */
static void
fan_stuck(struct child *c)
{
	if (errno != ENOBUFS)
		log_panic("queueing for worker %ld: %s", (long)c->pid,
		    strerror(errno));
	log_warning("worker %ld of client #%u (%s) is not reading its "
	    "channel (%zu bytes queued): killing it", (long)c->pid,
	    c->client.id, c->client.nick, msgq_pending(&c->chan.out));
	spawn_kill(c, "too slow: worker stuck");
}

/* Copy c's part of fan so far into its own queue. */
void
fan_catch_up(struct child *c)
{
	size_t from = fan_start(c), end = msgq_pending(&fan);

	c->chan.fan_gen = fan_gen;
	c->chan.fan_at = end;
	if (from == end || c->state != CHILD_CLIENT || !fan_open(c))
		return;
	if (msg_put_raw(&c->chan.out, buf_head(&fan.out) + from,
	    end - from) == -1)
		fan_stuck(c);
	else
		fan_mark(c);
}

/* A client has just joined: broadcasts before now are not its. */
void
fan_join(struct child *c)
{
	c->chan.fan_gen = fan_gen;
	c->chan.fan_at = msgq_pending(&fan);
}

/* Queue a frame for one worker, after every broadcast before it. */
int
fan_send(struct child *c, enum msg_type type, const struct iovec *iov,
    int n)
{
	if (!fan_open(c))
		return -1;
	fan_catch_up(c);		/* this first: the order */
	if (!fan_open(c))
		return -1;
	for (int i = 0; type == MSG_LINE && i < n; i++)
		server.stats.bytes_out += iov[i].iov_len;
	if (msg_putv(&c->chan.out, type, c->client.id, iov, n) == -1) {
		fan_stuck(c);
		return -1;
	}
	fan_mark(c);
	return 0;
}

/* Queue a frame without payload (MSG_SHUTDOWN). */
void
fan_control(struct child *c, enum msg_type type)
{
	(void)fan_send(c, type, NULL, 0);
}

/*
 * The same line to every joined client but one, in the global order:
 * framed once into fan (client id 0: it is about no one client).  The
 * one left out is caught up to here and its part starts after the line.
 */
void
fan_all(struct child *except, const struct iovec *iov, int n)
{
	unsigned to = children.nclients;
	size_t len = 0;

	server.seq++;
	if (except != NULL) {
		fan_catch_up(except);
		if (except->state == CHILD_CLIENT)
			to--;
	}
	for (int i = 0; i < n; i++)
		len += iov[i].iov_len;
	if (msg_putv(&fan, MSG_LINE, 0, iov, n) == -1)
		log_panic("queueing a broadcast: %s", strerror(errno));
	server.stats.bytes_out += (uint64_t)len * to;
	if (except != NULL)
		except->chan.fan_at = msgq_pending(&fan);
}

/* The fan-out: every joined client's part of fan, then fan empties. */
static void
fan_deliver(void)
{
	const char *base = buf_head(&fan.out);
	size_t end = msgq_pending(&fan), from;
	struct child *c, *next;
	int r;

	if (end == 0)
		return;
	/* fan_stuck kills a child and moves it off this list. */
	for (c = TAILQ_FIRST(&children.clients); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		from = fan_start(c);
		if (from == end || !fan_open(c))
			continue;
		if ((r = msg_send_raw(c->chan.fd, &c->chan.out, base + from,
		    end - from)) == -1)
			fan_stuck(c);
		else if (r == 1)
			fan_mark(c);
	}
	msgq_free(&fan);
	fan_gen++;			/* every part starts at 0 again */
	fan_next = os_now_ms() +
	    (int64_t)children.nclients * FAN_NS_PER_CLIENT / 1000000;
}

/* When the broadcasts held back are due; OS_NO_DEADLINE if none are. */
int64_t
fan_deadline(void)
{
	return msgq_pending(&fan) > 0 ? fan_next : OS_NO_DEADLINE;
}

/* Format a line ("..." + CRLF) into buf; its length. */
static size_t fan_vformat(char *, size_t, const char *, va_list)
    __attribute__((format(printf, 3, 0)));

static size_t
fan_vformat(char *buf, size_t size, const char *fmt, va_list ap)
{
	int n = vsnprintf(buf, size - 2, fmt, ap);

	if (n < 0)
		n = 0;
	if ((size_t)n > size - 3)	/* cut, never inside a character */
		n = (int)proto_cut(buf, (size_t)n, size - 3);
	buf[n++] = '\r';
	buf[n++] = '\n';
	return (size_t)n;
}

/* A formatted line (CRLF added) to every joined client but except. */
void
fan_all_line(struct child *except, const char *fmt, ...)
{
	char line[LINE_MAX_LEN];
	struct iovec iov;
	va_list ap;

	va_start(ap, fmt);
	iov.iov_len = fan_vformat(line, sizeof(line), fmt, ap);
	va_end(ap);
	iov.iov_base = line;
	fan_all(except, &iov, 1);
}

/* A formatted line (CRLF added) to one client. */
void
fan_line(struct child *c, const char *fmt, ...)
{
	char line[LINE_MAX_LEN];
	struct iovec iov;
	va_list ap;

	va_start(ap, fmt);
	iov.iov_len = fan_vformat(line, sizeof(line), fmt, ap);
	va_end(ap);
	iov.iov_base = line;
	(void)fan_send(c, MSG_LINE, &iov, 1);
}

/*
 * Write what is queued for one worker; watch for room if it is full.
 * A write that fails (the worker is gone) drops the queue; what the
 * worker said last is still to be read, and dispatch.c reads it.
 */
void
fan_flush(struct child *c)
{
	int r;

	if (c->chan.fd == -1 || c->chan.broken) {
		msgq_free(&c->chan.out);
		return;
	}
	if ((r = msg_flush(c->chan.fd, &c->chan.out)) == -1) {
		msgq_free(&c->chan.out);
		c->chan.broken = true;
		child_want_write(c, false);
		return;
	}
	child_want_write(c, r == 1);
}

/* The broadcasts held back go now, and every queue is written. */
void
fan_release(void)
{
	fan_next = 0;
	fan_end_turn();
}

/* End of a loop turn: the broadcasts, if they are due, then every queue. */
void
fan_end_turn(void)
{
	struct child *c;

	if (os_now_ms() >= fan_next)
		fan_deliver();
	while ((c = dirty) != NULL) {
		dirty = c->chan.dnext;
		c->chan.dirty = false;
		if (c->state != CHILD_DEAD)
			fan_flush(c);
	}
}
