/*
 * client.c - the worker's one client: its socket, what it types, what it
 * is told.
 *
 * Bytes read from the socket go through the line reader; each line is
 * paid for from the flood bucket and handed to command.c, whose answer
 * is acted on here: close on /quit, read nothing more until the master
 * answers an /oper, start a /pipe job.  The bucket stops reading the
 * socket when it is empty, so TCP pushes back on the sender and no line
 * is dropped; wrong /oper passwords past the first few hold input back
 * a little longer each time.  A client silent for its read timeout is
 * told and closed; that timeout only runs while we are reading.
 *
 * What the client is told waits in out->to_client until the socket
 * takes it.  A line that does not fit there means the client is not
 * reading: it is dropped as too slow, and nobody else waits for it.
 *
 * Public: client_init, client_start, client_relay, client_kicked,
 * client_shutdown, client_oper_result, client_set_timeout,
 * client_reconfigure, client_orphaned, client_master_done; for the poll
 * loop client_refill, client_pollfd, client_read, client_parse,
 * client_check_queue, client_write, client_deadline, client_tick,
 * client_gone, client_overdue; pure: client_flood_refill, client_flood_due,
 * client_timeout_due, client_oper_delay.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "command.h"
#include "log.h"
#include "msg.h"
#include "os.h"
#include "pipe.h"
#include "sock.h"

#define CHAN_PAUSE	((size_t)64 * 1024) /* for the master: stop reading */
#define IDLE_NOTE_MS	1000		/* tell the master we are active */
#define OPER_FREE_TRIES	3		/* wrong passwords before a delay */
#define OPER_DELAY_MS	2000		/* per wrong password past those */
#define OPER_DELAY_MAX	30000

/* The nearer of two deadlines, 0 meaning none. */
static int64_t
nearer(int64_t a, int64_t b)
{
	if (a == 0)
		return b;
	return b != 0 && b < a ? b : a;
}

/* Tokens after elapsed ms at rate lines a second, capped at burst lines. */
int64_t
client_flood_refill(int64_t tokens, int64_t elapsed, unsigned rate,
    unsigned burst)
{
	int64_t cap = (int64_t)burst * 1000;

	tokens += elapsed * (int64_t)rate;
	return tokens > cap ? cap : tokens;
}

/* When a bucket short of a line holds one again; 0 if it is not short. */
int64_t
client_flood_due(int64_t tokens, unsigned rate, int64_t now)
{
	if (rate == 0 || tokens >= 1000)
		return 0;
	return now + (1000 - tokens + rate - 1) / rate;	/* rounded up */
}

/* When a client silent since last_line times out; 0 for no timeout. */
int64_t
client_timeout_due(unsigned read_timeout, int64_t last_line)
{
	if (read_timeout == 0)
		return 0;
	return last_line + (int64_t)read_timeout * 1000;
}

/* How long input is held after this many wrong passwords in a row. */
int64_t
client_oper_delay(unsigned failures)
{
	int64_t delay;

	if (failures < OPER_FREE_TRIES)
		return 0;
	delay = (int64_t)(failures - OPER_FREE_TRIES + 1) * OPER_DELAY_MS;
	return delay > OPER_DELAY_MAX ? OPER_DELAY_MAX : delay;
}

/* No client yet: a spare's. */
void
client_init(struct client *c, const struct config *cfg, struct out *out)
{
	memset(c, 0, sizeof(*c));
	c->cfg = cfg;
	c->out = out;
	c->state = CLIENT_NONE;
	c->fd = -1;
}

/* Say the last line now: what is queued goes out, then the socket closes. */
static void
client_closing(struct client *c, int64_t now)
{
	c->state = CLIENT_CLOSING;
	c->close_by = now + (int64_t)c->cfg->shutdown_grace * 1000;
}

/*
 * Close the socket, once; what is queued for it is thrown away, and a
 * job still running has nobody to tell (it is reaped before we exit).
 */
static void
client_drop(struct client *c)
{
	if (c->fd != -1)
		(void)close(c->fd);
	c->fd = -1;
	out_close_client(c->out);
	if (c->state != CLIENT_ACTIVE)
		pipe_abort();
	if (c->state == CLIENT_ANSWERING)	/* time to reap the job */
		client_closing(c, os_now_ms());
}

/* The client is leaving: tell the master why, flush or not, then exit. */
static void
client_close(struct client *c, const char *why, bool flush)
{
	if (c->state != CLIENT_ACTIVE)
		return;
	if (why[0] != '\0')		/* "": the master knows already */
		out_send_text(c->out, MSG_BYE, why, strlen(why));
	pipe_abort();			/* reaped before we exit */
	client_closing(c, os_now_ms());
	if (!flush)
		client_drop(c);
}

/*
 * The client leaves by itself: the master hears why, and the answers
 * to what it sent before still reach it (client_tick says goodbye once
 * they have, or once waiting for them is past shutdown_grace).
 */
static void
client_leave(struct client *c, const char *why, int64_t now)
{
	if (c->state != CLIENT_ACTIVE)
		return;
	out_send_text(c->out, MSG_BYE, why, strlen(why));
	c->state = CLIENT_ANSWERING;
	c->master_done = false;
	c->answer_by = now + (int64_t)c->cfg->shutdown_grace * 1000;
}

/* Answered: every answer is queued, the goodbye after them. */
static void
client_answered(struct client *c, int64_t now)
{
	if (c->state != CLIENT_ANSWERING || pipe_busy() ||
	    (!c->master_done && now < c->answer_by))
		return;
	out_say(c->out, "*** goodbye");
	client_closing(c, now);
	client_check_queue(c);
}

/* A line that did not fit in the client's queue: it is too slow. */
void
client_check_queue(struct client *c)
{
	char why[80];

	if (!c->out->full || c->state == CLIENT_NONE)
		return;
	if (c->state != CLIENT_ACTIVE) {	/* the master has heard */
		client_drop(c);
		return;
	}
	(void)snprintf(why, sizeof(why), "too slow: %zu bytes unread",
	    c->out->unread);
	client_close(c, why, false);
}

/* What the line reader owes the client in telnet, queued for it. */
static void
client_answer(struct client *c)
{
	const char *p;
	size_t len;

	p = line_replies(&c->lr, &len);
	if (len > 0)
		out_tell(c->out, p, len);
}

/*
 * The master handed us the client on fd: greet it.  With telnet
 * negotiation, IAC DO TIMING-MARK goes first (a telnet client answers,
 * and is then asked for binary mode); the CR after it sends a raw
 * client's cursor back, so that the greeting hides the two bytes a
 * terminal shows for it.
 */
void
client_start(struct client *c, int fd, uint32_t id, unsigned read_timeout,
    const char *nick, int64_t now)
{
	c->fd = fd;
	c->state = CLIENT_ACTIVE;
	c->read_timeout = read_timeout;
	c->last_line = c->flood.at = now;
	c->flood.tokens = (int64_t)c->cfg->flood_burst * 1000;
	line_init(&c->lr, c->cfg->max_line);
	line_answer(&c->lr, c->cfg->telnet_negotiation);
	out_open_client(c->out, id, c->cfg->max_output_queue);
	if (sock_tune_client(fd) == -1)
		log_debug("client #%u: setsockopt: %s", id, strerror(errno));
	client_answer(c);
	if (c->cfg->telnet_negotiation)
		out_tell(c->out, "\r", 1);
	out_say(c->out, "*** welcome to forkchat, %s! You are client #%u. "
	    "Type /help for commands.", nick, id);
	client_check_queue(c);
}

/* Bytes the master relays (chat, replies), as they are. */
void
client_relay(struct client *c, const char *p, size_t len)
{
	out_tell(c->out, p, len);
	client_check_queue(c);
}

/* Kicked: say the last line, close; the master knows why. */
void
client_kicked(struct client *c, const char *p, size_t len)
{
	if (c->state == CLIENT_ANSWERING)
		c->master_done = true;	/* it will not answer our MSG_BYE */
	if (c->state != CLIENT_ACTIVE)
		return;
	out_tell(c->out, p, len);
	out_tell(c->out, "\r\n", 2);
	client_check_queue(c);
	client_close(c, "", true);
}

/* The server is stopping: say so and close; the master is not asking. */
void
client_shutdown(struct client *c)
{
	if (c->state == CLIENT_ANSWERING) {	/* no more waiting */
		c->master_done = true;
		pipe_abort();
	}
	out_say(c->out, "*** server shutting down");
	client_check_queue(c);
	client_close(c, "", true);
}

/* The master's answer to /oper: granted, or one more wrong password. */
void
client_oper_result(struct client *c, bool granted, int64_t now)
{
	int64_t delay;

	c->oper_pending = false;
	if (granted) {
		c->oper_failures = 0;
		return;
	}
	out_say(c->out, "ERR wrong password");
	client_check_queue(c);
	/* Guessing gets slower: nothing more is read for a while. */
	if ((delay = client_oper_delay(++c->oper_failures)) != 0)
		c->hold_until = now + delay;
}

/* A new read timeout (seconds, 0 = none), counted from now. */
void
client_set_timeout(struct client *c, unsigned secs, int64_t now)
{
	c->read_timeout = secs;
	c->last_line = now;
}

/* The master reloaded: take the new limits. */
void
client_reconfigure(struct client *c, const struct config *cfg, int64_t now)
{
	int64_t cap = (int64_t)cfg->flood_burst * 1000;

	c->cfg = cfg;
	c->lr.max = cfg->max_line;
	c->out->to_client.limit = cfg->max_output_queue;
	/* A bucket turned on by the reload starts from what it holds. */
	if (c->flood.tokens > cap)
		c->flood.tokens = cap;
	if (c->flood.tokens < 0)
		c->flood.tokens = 0;
	c->flood.at = now;
}

/* MSG_DONE: the master has sent everything for this client. */
void
client_master_done(struct client *c)
{
	c->master_done = true;
}

/* The master is gone: one last line, straight to the socket. */
void
client_orphaned(struct client *c)
{
	static const char bye[] = "*** server went away\r\n";

	if (c->fd != -1 && write(c->fd, bye, sizeof(bye) - 1) == -1)
		log_debug("client #%u: %s", c->out->id, strerror(errno));
}

/* The bucket fills with time, whether or not input is waiting. */
void
client_refill(struct client *c, int64_t now)
{
	if (c->state != CLIENT_ACTIVE || c->cfg->flood_rate == 0)
		return;
	c->flood.tokens = client_flood_refill(c->flood.tokens,
	    now - c->flood.at, c->cfg->flood_rate, c->cfg->flood_burst);
	c->flood.at = now;
	if (c->flood.tokens >= (int64_t)c->cfg->flood_burst * 1000)
		c->flood_told = false;	/* full again: the burst is over */
}

/* May the client send another line now? */
static bool
client_may_read(const struct client *c, int64_t now)
{
	return c->state == CLIENT_ACTIVE &&
	    msgq_pending(&c->out->to_master) < CHAN_PAUSE &&
	    (c->cfg->flood_rate == 0 || c->flood.tokens >= 1000) &&
	    !c->oper_pending &&
	    (c->hold_until == 0 || now >= c->hold_until);
}

/*
 * Is the client's silence its own?  Not while we hold its input back
 * (flood bucket, /oper pacing, a busy master) or have some unparsed:
 * the read timeout only runs while we are reading.
 */
static bool
client_reading(const struct client *c, int64_t now)
{
	return client_may_read(c, now) && c->inoff == c->inlen;
}

/* What the socket is polled for: input we would read, output queued. */
void
client_pollfd(const struct client *c, struct pollfd *pfd, int64_t now)
{
	pfd->fd = c->fd;		/* poll() skips a negative fd */
	pfd->events = (short)((client_reading(c, now) ? POLLIN : 0) |
	    (c->out->to_client.len > 0 ? POLLOUT : 0));
	pfd->revents = 0;
}

/*
 * A /pipe program that could not start: the operator's to fix, so the
 * log gets the path and the reason, at warning once per client (it may
 * try again and again), and the client only that it failed.
 */
static void
client_pipe_failed(struct client *c, const struct command_ctx *ctx,
    const struct pipe_prog *prog, int err)
{
	log_msg(c->pipe_warned ? LL_DEBUG : LL_WARNING, "client #%u: /pipe "
	    "%s: cannot run %s: %s", c->out->id, prog->name, prog->argv[0],
	    strerror(err));
	c->pipe_warned = true;
	command_pipe_failed(ctx, prog);
}

/* Run one line through command.c and do what it asks. */
static void
client_command(struct client *c, const char *line, size_t len, int64_t now)
{
	struct command_ctx ctx = { .cfg = c->cfg, .out = c->out,
	    .job_running = pipe_busy() };
	struct command_result res;

	switch (command_line(&ctx, line, len, &res)) {
	case COMMAND_DONE:
		break;
	case COMMAND_QUIT:
		client_leave(c, res.reason, now);
		break;
	case COMMAND_HOLD:
		c->oper_pending = true;	/* one guess at a time */
		break;
	case COMMAND_PIPE:
		if (pipe_start(c->out, c->cfg, res.prog, res.text,
		    res.len) == -1)
			client_pipe_failed(c, &ctx, res.prog, errno);
		break;
	case COMMAND_PIPE_STOP:
		pipe_stop(now);
		break;
	}
}

/* One line from the client (or a too-long one): spend, then act. */
static void
client_line(struct client *c, enum line_result r, int64_t now)
{
	uint64_t before = c->out->frames;

	if (c->cfg->flood_rate != 0)	/* no bucket: nothing to spend */
		c->flood.tokens -= 1000;
	c->last_line = now;
	if (r == LINE_TOOLONG)
		out_say(c->out, "ERR line too long (max %zu bytes); none of "
		    "it was sent", c->cfg->max_line);
	else
		client_command(c, c->lr.buf, c->lr.len, now);
	client_check_queue(c);
	/* Keep the master's idea of "idle" honest, cheaply. */
	if (c->state == CLIENT_ACTIVE && c->out->frames == before &&
	    now - c->out->sent_at >= IDLE_NOTE_MS)
		out_send_text(c->out, MSG_ACTIVE, NULL, 0);
}

/*
 * Lines are waiting and the bucket is empty: say so, once a burst, so
 * that a paste of many lines is not met with silence.
 */
static void
client_flood_note(struct client *c)
{
	if (c->flood_told || c->state != CLIENT_ACTIVE ||
	    c->inoff == c->inlen || c->cfg->flood_rate == 0 ||
	    c->flood.tokens >= 1000)
		return;
	c->flood_told = true;
	out_say(c->out, "*** slow down: more than %u lines at once; the rest "
	    "are read at %u a second, and none is lost", c->cfg->flood_burst,
	    c->cfg->flood_rate);
	client_check_queue(c);
}

/* Parse what was read, as far as the flood budget allows. */
void
client_parse(struct client *c, int64_t now)
{
	enum line_result r;
	size_t used;

	client_flood_note(c);
	while (c->inoff < c->inlen && client_may_read(c, now)) {
		r = line_feed(&c->lr, c->in + c->inoff, c->inlen - c->inoff,
		    &used);
		c->inoff += used;
		client_answer(c);	/* before the line: in order */
		if (r == LINE_OK || r == LINE_TOOLONG)
			client_line(c, r, now);
		else if (r == LINE_NOMEM)
			client_close(c, "out of memory", false);
	}
	client_flood_note(c);
}

/* The socket is ready (revents from poll): read, then parse. */
void
client_read(struct client *c, short revents, int64_t now)
{
	ssize_t n;

	/* Not read any more, but reset: nobody is left to answer. */
	if (c->fd != -1 && c->state != CLIENT_ACTIVE &&
	    (revents & (POLLERR | POLLHUP))) {
		client_drop(c);
		return;
	}
	if (c->fd == -1 || c->state != CLIENT_ACTIVE ||
	    !(revents & (POLLIN | POLLHUP | POLLERR)))
		return;
	do {
		n = read(c->fd, c->in, sizeof(c->in));
	} while (n == -1 && errno == EINTR);
	if (n > 0) {
		c->inoff = 0;
		c->inlen = (size_t)n;
		client_parse(c, now);
	} else if (n == 0) {		/* it may still read: answer it */
		client_leave(c, "connection closed", now);
	} else if (errno != EAGAIN && errno != EWOULDBLOCK) {
		client_close(c, errno == ECONNRESET ? "connection reset" :
		    strerror(errno), false);
	}
}

/* Write what the client's queue holds, as far as the socket takes. */
void
client_write(struct client *c)
{
	struct buf *q = &c->out->to_client;
	ssize_t n;

	while (c->fd != -1 && q->len > 0) {
		n = write(c->fd, buf_head(q), q->len);
		if (n > 0) {
			buf_consume(q, (size_t)n);
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == 0 || errno == EAGAIN || errno == EWOULDBLOCK)
			return;			/* POLLOUT will tell */
		if (c->state == CLIENT_ACTIVE)
			client_close(c, errno == EPIPE || errno == ECONNRESET ?
			    "connection reset" : strerror(errno), false);
		else
			client_drop(c);
		return;
	}
}

/* The read timeout fired: tell the client, close, tell the master. */
static void
client_expire(struct client *c)
{
	char why[64];

	out_say(c->out, "*** read timeout (%u s): you sent no line for %u "
	    "s, so the server is closing your connection", c->read_timeout,
	    c->read_timeout);
	client_check_queue(c);
	(void)snprintf(why, sizeof(why), "read timeout after %u s",
	    c->read_timeout);
	out_send_text(c->out, MSG_EXPIRED, why, strlen(why));
	client_close(c, "", true);
}

/* The client's nearest deadline, now if held input may go on; 0: none. */
int64_t
client_deadline(const struct client *c, int64_t now)
{
	int64_t d = 0;

	if (c->inoff < c->inlen && client_may_read(c, now))
		return now;
	if (client_reading(c, now))
		d = client_timeout_due(c->read_timeout, c->last_line);
	if (c->state == CLIENT_ACTIVE)
		d = nearer(d, client_flood_due(c->flood.tokens,
		    c->cfg->flood_rate, now));
	if (c->state == CLIENT_ANSWERING && !c->master_done)
		d = nearer(d, c->answer_by);
	if (c->state == CLIENT_CLOSING)
		d = nearer(d, c->close_by);
	return nearer(d, c->hold_until);
}

/* Deadlines due: the read timeout, the end of a hold, of a goodbye. */
void
client_tick(struct client *c, int64_t now)
{
	int64_t due = client_timeout_due(c->read_timeout, c->last_line);

	if (client_reading(c, now) && due != 0 && now >= due)
		client_expire(c);
	if (c->hold_until != 0 && now >= c->hold_until) {
		c->hold_until = 0;
		c->last_line = now;	/* it may have typed meanwhile */
	}
	client_answered(c, now);
	if (c->state == CLIENT_CLOSING &&
	    (c->out->to_client.len == 0 || now >= c->close_by))
		client_drop(c);
}

/* Closed and its socket gone: only the worker's exit is left. */
bool
client_gone(const struct client *c)
{
	return c->state == CLIENT_CLOSING && c->fd == -1;
}

/* Gone, and past its goodbye's deadline: exit, job or no job. */
bool
client_overdue(const struct client *c, int64_t now)
{
	return client_gone(c) && now >= c->close_by;
}
