/*
 * relay.c - what workers tell the master, and what it fans out to them.
 *
 * Every line that more than one client sees is framed once, into the
 * broadcasts not yet fanned out (fan), and reaches every client's worker
 * in the same order, so all clients see one history (M.seq counts it).
 * At the end of a loop turn (relay_flush_dirty) each worker gets its
 * part of fan in one write, straight from fan: a burst of lines costs
 * one write per worker, not one per line, and no copy per worker unless
 * its channel is full.
 * Broadcasts that come faster than the workers can take them are held
 * a little, so that each worker wakes once for several of them: after a
 * fan-out to N clients the next one waits until N x 5 us have passed
 * (nothing below 200 clients, 5 ms at 1 000, 50 ms at 10 000).  Waking
 * a worker costs far more than the bytes it is given, so this bounds
 * the wake-ups per second whatever the number of clients; a line that
 * comes after a quiet spell goes out at once.
 * A frame for one client alone first copies that client's part of fan
 * so far into its own queue, which keeps the order.  A worker whose
 * queue passes its limit is not waited for: it is killed, and its client
 * told to the others.
 *
 * Public: relay_dispatch, relay_drain, relay_send, relay_to,
 * relay_notice, relay_notice_all, relay_control, relay_config,
 * relay_find, relay_flush, relay_flush_dirty,
 * relay_deadline, relay_join, relay_leave, relay_left.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ev.h"
#include "log.h"
#include "master.h"
#include "os.h"
#include "proto.h"

#define CHAN_READ	((size_t)64 * 1024)	/* bytes read from a worker per turn */
#define NOTICE_MAX	1024

static struct child *dirty;		/* children with output to flush */

/*
 * The broadcasts not yet fanned out, each framed once (zeroed: an empty
 * queue with no limit); fan_gen counts fan-outs.  A joined client's part
 * of it starts at c->fan_at if c->fan_gen is this one (it joined, or was
 * caught up, since the last fan-out), else at 0; it ends at the end of
 * fan.
 */
static struct msgq fan;
static uint64_t fan_gen = 1;
static int64_t fan_next;		/* fan waits until then (ms) */

#define FAN_NS_PER_CLIENT	5000	/* hold after a fan-out, per client */

/* Where c's part of fan starts. */
static size_t
relay_fan_start(const struct child *c)
{
	return c->fan_gen == fan_gen ? c->fan_at : 0;
}

/* Put c on the list of queues to flush at the end of this turn. */
static void
relay_mark(struct child *c)
{
	if (!c->dirty) {
		c->dirty = true;
		c->dnext = dirty;
		dirty = c;
	}
}

/* c's queue would pass its limit: its worker is not reading. */
static void
relay_stuck(struct child *c)
{
	if (errno != ENOBUFS)
		log_panic("queueing for worker %ld: %s", (long)c->pid,
		    strerror(errno));
	log_warning("worker %ld of client #%u (%s) is not reading its "
	    "channel (%zu bytes queued): killing it", (long)c->pid,
	    c->id, c->nick, msgq_pending(&c->out));
	spawn_kill(c, "too slow: worker stuck");
}

/* Copy c's part of fan so far into its own queue. */
static void
relay_catch_up(struct child *c)
{
	size_t from = relay_fan_start(c), end = msgq_pending(&fan);

	c->fan_gen = fan_gen;
	c->fan_at = end;
	if (from == end || c->state != CHILD_CLIENT || c->fd == -1 ||
	    c->killed)
		return;
	if (msg_put_raw(&c->out, buf_head(&fan.out) + from, end - from) == -1)
		relay_stuck(c);
	else
		relay_mark(c);
}

/* Queue a frame for a child, to be written at the end of this turn. */
int
relay_send(struct child *c, enum msg_type type, const struct iovec *iov,
    int n)
{
	if (c->fd == -1 || c->killed)
		return -1;
	relay_catch_up(c);		/* this first: the order */
	if (c->killed)
		return -1;
	for (int i = 0; type == MSG_LINE && i < n; i++)
		M.stats.bytes_out += iov[i].iov_len;
	if (msg_putv(&c->out, type, c->id, iov, n) == -1) {
		relay_stuck(c);
		return -1;
	}
	relay_mark(c);
	return 0;
}

/* Queue text for one client, sent to it as it is. */
int
relay_to(struct child *c, const char *text, size_t len)
{
	struct iovec iov = { .iov_base = (void *)(uintptr_t)text,
	    .iov_len = len };

	return relay_send(c, MSG_LINE, &iov, 1);
}

/* Queue a frame without payload (MSG_SHUTDOWN). */
void
relay_control(struct child *c, enum msg_type type)
{
	(void)relay_send(c, type, NULL, 0);
}

/*
 * The same line to every joined client but one, in the global order:
 * framed once into fan (client id 0: it is about no one client).  The
 * one left out is caught up to here and its part starts after the line.
 */
static void
relay_fanout(struct child *except, const struct iovec *iov, int n)
{
	unsigned to = M.nclients;
	size_t len = 0;

	M.seq++;
	if (except != NULL) {
		relay_catch_up(except);
		if (except->state == CHILD_CLIENT)
			to--;
	}
	for (int i = 0; i < n; i++)
		len += iov[i].iov_len;
	if (msg_putv(&fan, MSG_LINE, 0, iov, n) == -1)
		log_panic("queueing a broadcast: %s", strerror(errno));
	M.stats.bytes_out += (uint64_t)len * to;
	if (except != NULL)
		except->fan_at = msgq_pending(&fan);
}

/* The fan-out: every joined client's part of fan, then fan empties. */
static void
relay_fan_deliver(void)
{
	const char *base = buf_head(&fan.out);
	size_t end = msgq_pending(&fan), from;
	struct child *c, *next;
	int r;

	if (end == 0)
		return;
	/* relay_stuck kills a child and moves it off this list. */
	for (c = TAILQ_FIRST(&M.clients); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		from = relay_fan_start(c);
		if (from == end || c->fd == -1 || c->killed)
			continue;
		if ((r = msg_send_raw(c->fd, &c->out, base + from,
		    end - from)) == -1)
			relay_stuck(c);
		else if (r == 1)
			relay_mark(c);
	}
	msgq_free(&fan);
	fan_gen++;			/* every part starts at 0 again */
	fan_next = os_now_ms() +
	    (int64_t)M.nclients * FAN_NS_PER_CLIENT / 1000000;
}

/* When the broadcasts held back are due, 0 if there are none. */
int64_t
relay_deadline(void)
{
	return msgq_pending(&fan) > 0 ? fan_next : 0;
}

/* Format a notice line ("*** ..." + CRLF) into buf; its length. */
static size_t relay_vformat(char *, size_t, const char *, va_list)
    __attribute__((format(printf, 3, 0)));

static size_t
relay_vformat(char *buf, size_t size, const char *fmt, va_list ap)
{
	int n = vsnprintf(buf, size - 2, fmt, ap);

	if (n < 0)
		n = 0;
	if ((size_t)n > size - 3)
		n = (int)(size - 3);
	buf[n++] = '\r';
	buf[n++] = '\n';
	return (size_t)n;
}

/* A formatted line (CRLF added) to every joined client but except. */
void
relay_notice_all(struct child *except, const char *fmt, ...)
{
	char line[NOTICE_MAX];
	struct iovec iov;
	va_list ap;

	va_start(ap, fmt);
	iov.iov_len = relay_vformat(line, sizeof(line), fmt, ap);
	va_end(ap);
	iov.iov_base = line;
	relay_fanout(except, &iov, 1);
}

/* A formatted line (CRLF added) to one client. */
void
relay_notice(struct child *c, const char *fmt, ...)
{
	char line[NOTICE_MAX];
	size_t len;
	va_list ap;

	va_start(ap, fmt);
	len = relay_vformat(line, sizeof(line), fmt, ap);
	va_end(ap);
	(void)relay_to(c, line, len);
}

/* A client has just been handed to its worker: tell the others. */
void
relay_join(struct child *c)
{
	log_info("client #%u (%s) connected from %s, worker %ld", c->id,
	    c->nick, c->peer, (long)c->pid);
	c->fan_gen = fan_gen;		/* earlier broadcasts are not its */
	c->fan_at = msgq_pending(&fan);
	relay_notice_all(c, "*** %s joined", c->nick);
}

/* Tell the others that c's client left (not during shutdown). */
void
relay_left(struct child *c, const char *why)
{
	log_info("client #%u (%s) from %s left: %s", c->id, c->nick, c->peer,
	    why);
	if (M.phase == PHASE_RUNNING)
		relay_notice_all(NULL, "*** %s left (%s)", c->nick, why);
}

/* c's client is gone (said its worker, or the worker died). */
void
relay_leave(struct child *c, const char *why)
{
	if (c->state != CHILD_CLIENT)
		return;
	relay_catch_up(c);		/* what it was sent before it left */
	child_set_state(c, CHILD_LEAVING);
	relay_left(c, why);
}

/* A chat line or an action: "<nick> text" or "* nick text". */
static void
relay_chat(struct child *c, enum msg_type type, const char *text,
    size_t len)
{
	char prefix[PROTO_NICK_MAX + 8];
	struct iovec iov[3];
	int n;

	n = snprintf(prefix, sizeof(prefix),
	    type == MSG_SAY ? "<%s> " : "* %s ", c->nick);
	iov[0].iov_base = prefix;
	iov[0].iov_len = n < 0 ? 0 : (size_t)n;
	iov[1].iov_base = (void *)(uintptr_t)text;
	iov[1].iov_len = len;
	iov[2].iov_base = (void *)(uintptr_t)"\r\n";
	iov[2].iov_len = 2;
	M.stats.broadcasts++;
	log_debug("broadcast %" PRIu64 " from client #%u", M.seq + 1, c->id);
	relay_fanout(c, iov, 3);
}

/* The joined client named by a nick or "#id", or NULL. */
struct child *
relay_find(const char *target)
{
	struct child *c;
	char *end;
	unsigned long id;

	if (target[0] == '#') {
		errno = 0;
		id = strtoul(target + 1, &end, 10);
		if (errno != 0 || end == target + 1 || *end != '\0')
			return NULL;
		TAILQ_FOREACH(c, &M.clients, entry)
			if (c->id == id)
				return c;
		return NULL;
	}
	TAILQ_FOREACH(c, &M.clients, entry)
		if (strcasecmp(c->nick, target) == 0)
			return c;
	return NULL;
}

/* "/msg target text": a str target and text. */
static int
relay_privmsg(struct child *c, struct msg *m)
{
	char target[PROTO_TARGET_MAX + 1], line[NOTICE_MAX];
	struct child *to;
	struct iovec iov[3];
	const char *text;
	size_t len;
	int n;

	if (msg_str(m, target, sizeof(target)) == -1 ||
	    msg_text(m, &text, &len) == -1 || target[0] == '\0' || len == 0)
		return -1;
	M.stats.bytes_in += len;
	if ((to = relay_find(target)) == NULL) {
		relay_notice(c, "ERR no such client: %s (see /who)", target);
		return 0;
	}
	n = snprintf(line, sizeof(line), "*%s* ", c->nick);
	iov[0].iov_base = line;
	iov[0].iov_len = n < 0 ? 0 : (size_t)n;
	iov[1].iov_base = (void *)(uintptr_t)text;
	iov[1].iov_len = len;
	iov[2].iov_base = (void *)(uintptr_t)"\r\n";
	iov[2].iov_len = 2;
	(void)relay_send(to, MSG_LINE, iov, 3);
	return 0;
}

/* "/nick NAME": unique, case-insensitively; everyone is told. */
static int
relay_nick(struct child *c, struct msg *m)
{
	char name[PROTO_NICK_MAX + 1], old[PROTO_NICK_MAX + 1];
	struct child *other;

	if (msg_str(m, name, sizeof(name)) == -1 || msg_end(m) == -1 ||
	    !nick_valid(name))
		return -1;		/* the worker checks the syntax */
	if (strcmp(name, c->nick) == 0) {
		relay_notice(c, "*** you are already known as %s", name);
	} else if (nick_reserved(name)) {
		relay_notice(c, "ERR nick %s is reserved: guestN names are "
		    "given out automatically", name);
	} else if ((other = relay_find(name)) != NULL && other != c) {
		relay_notice(c, "ERR nick %s is already in use; pick another",
		    name);
	} else {
		memcpy(old, c->nick, sizeof(old));
		memcpy(c->nick, name, sizeof(c->nick));
		log_info("client #%u (%s) is now known as %s", c->id, old, name);
		relay_notice_all(NULL, "*** %s is now known as %s", old, name);
	}
	return 0;
}

/* "/who": one line per client, then an end line. */
static void
relay_who(struct child *c)
{
	char since[16], idle[16], tmo[16];
	int64_t now = os_now_ms();
	struct child *o;

	TAILQ_FOREACH(o, &M.clients, entry) {
		(void)proto_duration(since, sizeof(since),
		    (now - o->since_ms) / 1000);
		(void)proto_duration(idle, sizeof(idle),
		    (now - o->active_ms) / 1000);
		if (o->read_timeout == 0)
			(void)snprintf(tmo, sizeof(tmo), "none");
		else
			(void)proto_duration(tmo, sizeof(tmo), o->read_timeout);
		relay_notice(c, "#%-5u %-16s pid %-7ld %-22s connected %-7s "
		    "idle %-7s timeout %s", o->id, o->nick, (long)o->pid,
		    o->peer, since, idle, tmo);
	}
	relay_notice(c, "*** end of /who (%u client%s)", M.nclients,
	    M.nclients == 1 ? "" : "s");
}

/* A worker broke the channel protocol: a bug, so it goes. */
static void
relay_violation(struct child *c, const struct msg_hdr *h)
{
	log_error("worker %ld sent a bad message (type %u, %u bytes) in "
	    "state %d: killing it", (long)c->pid, h->type, h->len, c->state);
	spawn_kill(c, "worker protocol error");
}

/* "/quit [message]" or how the client went: the worker's last word. */
static int
relay_bye(struct child *c, struct msg *m)
{
	char why[PROTO_REASON_MAX + 1];
	const char *p;
	size_t len;

	if (msg_text(m, &p, &len) == -1 || len > PROTO_REASON_MAX)
		return -1;
	if (m->h.type == MSG_EXPIRED)
		M.stats.timeouts++;
	memcpy(why, p, len);
	why[len] = '\0';
	relay_leave(c, len == 0 ? "quit" : why);
	return 0;
}

/* A chat line or an action from a client. */
static int
relay_say(struct child *c, struct msg *m)
{
	const char *p;
	size_t len;

	if (msg_text(m, &p, &len) == -1)
		return -1;
	M.stats.bytes_in += len;
	relay_chat(c, (enum msg_type)m->h.type, p, len);
	return 0;
}

/* A message that only a client's worker may send. */
static int
relay_client_frame(struct child *c, struct msg *m)
{
	switch (m->h.type) {
	case MSG_SAY:
	case MSG_ME:
		return relay_say(c, m);
	case MSG_PRIVMSG:
		return relay_privmsg(c, m);
	case MSG_NICK:
		return relay_nick(c, m);
	case MSG_WHO:
		relay_who(c);
		return 0;
	case MSG_ACTIVE:
		return 0;
	case MSG_BYE:
	case MSG_EXPIRED:
		return relay_bye(c, m);
	case MSG_OPER:
		return admin_oper(c, m);
	case MSG_KICK:
		return admin_kick(c, m);
	case MSG_TIMEOUT:
		return admin_timeout(c, m);
	case MSG_PS:
		ps_list(c);
		return 0;
	case MSG_STATS:
		admin_stats(c);
		return 0;
	default:
		return -1;
	}
}

/* Act on one frame from a worker, read at now; -1 if it broke a rule. */
static int
relay_frame(struct child *c, struct msg *m, int64_t now)
{
	if (c->state == CHILD_SPARE || m->h.id != c->id || m->fd != -1)
		return -1;
	/* A job outlives its client's leaving; its records may not. */
	if (m->h.type == MSG_JOB || m->h.type == MSG_JOB_END)
		return admin_job(c, m);
	if (c->state == CHILD_LEAVING)
		return 0;		/* a client already gone */
	c->active_ms = now;
	return relay_client_frame(c, m);
}

/* Act on every whole frame buffered from a worker (one clock read). */
static void
relay_frames(struct child *c)
{
	int64_t now = os_now_ms();
	struct msg m;
	int r;

	while (!c->killed && (r = msg_get(&c->in, &m)) != 0) {
		if (r == -1) {
			memset(&m, 0, sizeof(m));
			relay_violation(c, &m.h);
			return;
		}
		if (relay_frame(c, &m, now) == -1) {
			msg_close_fd(&m);
			relay_violation(c, &m.h);
			return;
		}
	}
}

/* Read from a worker's channel once; 0 if more may come, -1 if done. */
static int
relay_read(struct child *c)
{
	long n = msg_read(c->fd, &c->in, CHAN_READ);

	if (n > 0) {
		relay_frames(c);
		return 0;
	}
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return -1;
	if (n == -1 && errno != ECONNRESET)
		log_error("reading worker %ld's channel: %s", (long)c->pid,
		    strerror(errno));
	child_close_channel(c);		/* EOF: it is exiting; SIGCHLD next */
	return -1;
}

/* The channel is readable: handle what the worker says. */
void
relay_dispatch(struct child *c)
{
	if (c->fd != -1)
		(void)relay_read(c);
}

/* The worker has exited: take its last frames before reaping it. */
void
relay_drain(struct child *c)
{
	while (c->fd != -1 && relay_read(c) == 0)
		;
}

/* Write what is queued for one child; watch for room if it is full. */
void
relay_flush(struct child *c)
{
	int r;

	if (c->fd == -1) {
		msgq_free(&c->out);
		return;
	}
	r = msg_flush(c->fd, &c->out);
	if (r == -1) {
		/*
		 * EPIPE: the worker is gone, but what it said last (a BYE
		 * with its reason, chat lines) is still ours to read first.
		 */
		msgq_free(&c->out);
		relay_drain(c);
		child_close_channel(c);
		return;
	}
	if ((r == 1) != c->want_write) {
		c->want_write = r == 1;
		if (ev_mod(M.ep, c->fd, EV_READ | (r == 1 ? EV_WRITE : 0),
		    c) == -1)
			log_panic("epoll_ctl(MOD) failed for worker %ld: %s",
			    (long)c->pid, strerror(errno));
	}
}

/* Send the configuration (as config text) to every worker, spares too. */
void
relay_config(const struct buf *text)
{
	const struct childq *lists[] = { &M.starting, &M.spares, &M.clients };
	struct iovec iov;
	struct child *c, *next;

	iov.iov_base = (void *)(uintptr_t)buf_head(text);
	iov.iov_len = text->len;
	/* relay_send may kill a child and move it off its list. */
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		for (c = TAILQ_FIRST(lists[i]); c != NULL; c = next) {
			next = TAILQ_NEXT(c, entry);
			(void)relay_send(c, MSG_CONFIG, &iov, 1);
		}
	}
}

/*
 * End of a loop turn: the broadcasts, if they are due, then every queue
 * that grew during it.  A flush that finds a worker gone reads its last
 * words, which may broadcast again: go round until nothing due is left.
 */
void
relay_flush_dirty(void)
{
	struct child *c;
	bool due;

	do {
		due = os_now_ms() >= fan_next;
		if (due)
			relay_fan_deliver();
		while ((c = dirty) != NULL) {
			dirty = c->dnext;
			c->dirty = false;
			if (c->state != CHILD_DEAD)
				relay_flush(c);
		}
	} while (due && msgq_pending(&fan) > 0);
}
