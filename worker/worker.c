/*
 * worker.c - a worker's life: wait as a spare, serve one client, exit.
 *
 * One poll() over two descriptors, the channel to the master and the
 * client's socket, with a timeout from the nearest deadline: the flood
 * bucket refilling, the client's read timeout, the end of a goodbye.
 * Lines the client types go through the line reader to command.c; what
 * the master relays goes to the client's output queue as it is.
 *
 * Flood control is a token bucket that stops reading the socket when it
 * is empty, so TCP pushes back on the sender and no line is dropped.  An
 * output queue that passes max_output_queue means the client is not
 * reading: it is dropped as too slow, and nobody else waits for it.
 *
 * Public: worker_main; worker_say, worker_tell, worker_send and
 * worker_quit for command.c.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "line.h"
#include "log.h"
#include "msg.h"
#include "os.h"
#include "proto.h"
#include "sock.h"
#include "worker.h"

#define CHAN_READ	((size_t)16 * 1024)	/* bytes read from the master at once */
#define CHAN_PAUSE	((size_t)64 * 1024)	/* stop reading the client past this */
#define CHAN_LIMIT	((size_t)1024 * 1024)	/* most queued for the master */
#define IDLE_NOTE_MS	1000		/* tell the master we are active */
#define OPER_FREE_TRIES	3		/* wrong passwords before a delay */
#define OPER_DELAY_MS	2000		/* per wrong password past those */
#define OPER_DELAY_MAX	30000
#define EX_SOFTWARE	70

enum wstate {
	W_SPARE,		/* waiting for MSG_CLIENT */
	W_ACTIVE,		/* serving the client */
	W_CLOSING		/* flushing a last line, then exit */
};

struct worker {
	const struct config *cfg;
	enum wstate state;
	int	 ch;			/* channel to the master */
	int	 cl;			/* the client's socket, -1 if none */
	uint32_t id;
	struct msgin chin;
	struct msgq chout;
	struct buf out;			/* for the client */
	struct line_reader lr;
	char	 in[4096];		/* read from the client, not parsed yet */
	size_t	 inoff, inlen;
	unsigned read_timeout;		/* seconds, 0 = none */
	int64_t	 last_line;		/* the client last sent a line */
	int64_t	 last_note;		/* we last sent the master anything */
	int64_t	 tokens;		/* flood bucket, in thousandths */
	int64_t	 tokens_at;		/* when it was last refilled */
	int64_t	 close_by;		/* W_CLOSING gives up then */
	int64_t	 hold_until;		/* wrong passwords: read nothing till */
	unsigned oper_failures;
	bool	 oper_pending;		/* /oper sent; read nothing till answered */
	struct config own;		/* from MSG_CONFIG, once reloaded */
};

static struct worker W;

/* Leave the process; _exit: the master's stdio buffers are not ours. */
static _Noreturn void
worker_exit(int status)
{
	_exit(status);
}

/* Queue a frame for the master. */
void
worker_send(struct worker *w, enum msg_type type, const struct iovec *iov,
    int n)
{
	if (msg_putv(&w->chout, type, w->id, iov, n) == -1) {
		log_error("worker for client #%u: cannot queue for the master: "
		    "%s", w->id, strerror(errno));
		worker_exit(EX_SOFTWARE);
	}
	w->last_note = os_now_ms();
}

/* Close the client's socket, once. */
static void
worker_drop_client(struct worker *w)
{
	if (w->cl != -1)
		(void)close(w->cl);
	w->cl = -1;
	buf_free(&w->out);
}

/* The client is leaving: tell the master why, flush, then exit. */
static void
worker_close(struct worker *w, const char *why, bool flush)
{
	struct iovec iov = { .iov_base = (void *)(uintptr_t)why,
	    .iov_len = strlen(why) };

	if (w->state != W_ACTIVE)
		return;
	if (why[0] != '\0')
		worker_send(w, MSG_BYE, &iov, 1);
	pipe_abort();			/* reaped before we exit */
	w->state = W_CLOSING;
	w->close_by = os_now_ms() + (int64_t)w->cfg->shutdown_grace * 1000;
	if (!flush)
		worker_drop_client(w);
}

/* Queue bytes for the client; a queue past its limit means too slow. */
void
worker_tell(struct worker *w, const char *data, size_t len)
{
	char why[80];

	if (w->cl == -1)
		return;
	if (buf_append(&w->out, data, len) == -1) {
		(void)snprintf(why, sizeof(why), "too slow: %zu bytes unread",
		    w->out.len);
		worker_close(w, why, false);
	}
}

/* Queue a formatted line, CRLF added, for the client. */
void
worker_say(struct worker *w, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 3)
		n = (int)sizeof(line) - 3;
	line[n++] = '\r';
	line[n++] = '\n';
	worker_tell(w, line, (size_t)n);
}

/* The configuration in force for this worker. */
const struct config *
worker_config(const struct worker *w)
{
	return w->cfg;
}

/* Tell the master a pipe job started or was reaped (for /ps, logs). */
void
worker_job(struct worker *w, enum msg_type type, pid_t pid, const char *name,
    int status)
{
	struct msg_build b;

	msg_b_init(&b);
	msg_b_u32(&b, (uint32_t)pid);
	if (type == MSG_JOB_END)
		msg_b_u32(&b, (uint32_t)status);
	msg_b_str(&b, name, strlen(name));
	if (msg_put_build(&w->chout, type, w->id, &b) == -1) {
		log_error("worker for client #%u: cannot queue for the master: "
		    "%s", w->id, strerror(errno));
		worker_exit(EX_SOFTWARE);
	}
	w->last_note = os_now_ms();
}

/* /oper went to the master: read nothing more until it answers. */
void
worker_oper_sent(struct worker *w)
{
	w->oper_pending = true;
}

/* "/quit": the client asked to go. */
void
worker_quit(struct worker *w, const char *why)
{
	worker_say(w, "*** goodbye");
	worker_close(w, why, true);
}

/* MSG_CLIENT: a spare becomes this client's worker. */
static int
worker_take_client(struct worker *w, struct msg *m)
{
	char name[16], nick[PROTO_NICK_MAX + 1], peer[PROTO_PEER_MAX];
	uint32_t tmo;

	if (m->fd == -1 || msg_u32(m, &tmo) == -1 ||
	    msg_str(m, nick, sizeof(nick)) == -1 ||
	    msg_str(m, peer, sizeof(peer)) == -1 || msg_end(m) == -1)
		return -1;
	w->cl = m->fd;
	m->fd = -1;
	w->id = m->h.id;
	w->read_timeout = tmo;
	w->state = W_ACTIVE;
	w->last_line = w->tokens_at = os_now_ms();
	w->tokens = (int64_t)w->cfg->flood_burst * 1000;
	buf_init(&w->out, w->cfg->max_output_queue);
	line_init(&w->lr, w->cfg->max_line);
	(void)snprintf(name, sizeof(name), "forkchatd #%u", w->id);
	(void)os_set_name(name);
	if (sock_tune_client(w->cl) == -1)
		log_debug("client #%u: setsockopt: %s", w->id, strerror(errno));
	worker_say(w, "*** welcome to forkchat, %s! You are client #%u. "
	    "Type /help for commands.", nick, w->id);
	/*
	 * From now on, being woken by the master does not preempt it: a
	 * broadcast goes out to every worker before they run.  Not before:
	 * a spare woken with its client greets it at once.
	 */
	if (os_sched_batch() == -1)
		log_debug("client #%u: SCHED_BATCH: %s", w->id, strerror(errno));
	return 0;
}

/* MSG_SHUTDOWN: the server is stopping. */
static int
worker_shutdown(struct worker *w, struct msg *m)
{
	(void)m;
	if (w->state == W_SPARE)
		worker_exit(0);
	worker_say(w, "*** server shutting down");
	worker_close(w, "", true);	/* no BYE: the master is not asking */
	return 0;
}

/* MSG_OPER_RESULT: granted, or one more wrong password. */
static int
worker_oper_result(struct worker *w, struct msg *m)
{
	int64_t delay;
	uint32_t ok;

	if (msg_u32(m, &ok) == -1 || msg_end(m) == -1 || ok > 1)
		return -1;
	w->oper_pending = false;
	if (ok) {
		w->oper_failures = 0;
		return 0;
	}
	worker_say(w, "ERR wrong password");
	if (++w->oper_failures < OPER_FREE_TRIES)
		return 0;
	/* Guessing gets slower: nothing more is read for a while. */
	delay = (int64_t)(w->oper_failures - OPER_FREE_TRIES + 1) * OPER_DELAY_MS;
	if (delay > OPER_DELAY_MAX)
		delay = OPER_DELAY_MAX;
	w->hold_until = os_now_ms() + delay;
	return 0;
}

/* MSG_SET_TIMEOUT: a new read timeout, counted from now. */
static int
worker_set_timeout(struct worker *w, struct msg *m)
{
	uint32_t secs;

	if (msg_u32(m, &secs) == -1 || msg_end(m) == -1 ||
	    secs > PROTO_TIMEOUT_MAX)
		return -1;
	w->read_timeout = secs;
	w->last_line = os_now_ms();
	return 0;
}

/* MSG_CONFIG: the master reloaded; take the new settings. */
static int
worker_reconfigure(struct worker *w, struct msg *m)
{
	struct config next;
	char err[CONFIG_ERR_MAX];
	const char *p;
	size_t len;

	(void)msg_rest(m, &p, &len);
	config_defaults(&next);
	if (config_parse(&next, p, len, "MSG_CONFIG", err, sizeof(err)) == -1) {
		log_error("worker for client #%u: bad MSG_CONFIG: %s", w->id,
		    err);
		config_free(&next);
		return -1;
	}
	config_free(&w->own);		/* zeroed before the first reload */
	w->own = next;
	w->cfg = &w->own;
	log_init(config_journal(w->cfg));
	log_set_level(w->cfg->log_level);
	w->lr.max = w->cfg->max_line;
	w->out.limit = w->cfg->max_output_queue;
	/* A bucket turned on by the reload starts from what it holds. */
	if (w->tokens > (int64_t)w->cfg->flood_burst * 1000)
		w->tokens = (int64_t)w->cfg->flood_burst * 1000;
	if (w->tokens < 0)
		w->tokens = 0;
	w->tokens_at = os_now_ms();
	return 0;
}

/* MSG_CLOSE: kicked; say the last line, close, no BYE needed. */
static int
worker_kicked(struct worker *w, struct msg *m)
{
	const char *p;
	size_t len;

	if (msg_text(m, &p, &len) == -1)
		return -1;
	if (w->state != W_ACTIVE)
		return 0;
	worker_tell(w, p, len);
	worker_tell(w, "\r\n", 2);
	worker_close(w, "", true);
	return 0;
}

/* MSG_LINE: bytes for the client, as they are. */
static int
worker_relayed(struct worker *w, struct msg *m)
{
	const char *p;
	size_t len;

	(void)msg_rest(m, &p, &len);
	worker_tell(w, p, len);
	return 0;
}

#define IN(s)		(1U << (s))
#define LIVE		(IN(W_ACTIVE) | IN(W_CLOSING))
#define ANY		(IN(W_SPARE) | LIVE)

/*
 * What the master may send: in which states, with how many payload
 * bytes, and who handles it.  A frame that breaks its row, or that a
 * handler finds malformed, is a protocol violation: a bug on one side,
 * so this worker stops rather than guess.
 */
static const struct route {
	enum msg_type type;
	unsigned states;
	size_t	 min, max;
	int	(*handle)(struct worker *, struct msg *);
} routes[] = {
	{ MSG_CLIENT,	   IN(W_SPARE), 8, 4 + PROTO_NICK_MAX + 1 +
	    PROTO_PEER_MAX,				worker_take_client },
	{ MSG_LINE,	   LIVE, 1, MSG_MAX_PAYLOAD,	worker_relayed },
	{ MSG_SHUTDOWN,	   ANY,  0, 0,			worker_shutdown },
	{ MSG_OPER_RESULT, LIVE, 4, 4,			worker_oper_result },
	{ MSG_CLOSE,	   LIVE, 1, 1024,		worker_kicked },
	{ MSG_SET_TIMEOUT, LIVE, 4, 4,			worker_set_timeout },
	{ MSG_CONFIG,	   ANY,  0, MSG_MAX_PAYLOAD,	worker_reconfigure },
};

/* Act on one frame from the master, by its row in routes[]. */
static void
worker_frame(struct worker *w, struct msg *m)
{
	const struct route *r = NULL;

	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (routes[i].type == m->h.type)
			r = &routes[i];
	if (r == NULL || !(r->states & IN(w->state)) || m->h.len < r->min ||
	    m->h.len > r->max || (m->fd != -1 && r->type != MSG_CLIENT) ||
	    r->handle(w, m) == -1) {
		log_error("worker for client #%u: bad message from the master "
		    "(type %u, %u bytes) in state %d", w->id, m->h.type,
		    m->h.len, w->state);
		worker_exit(EX_SOFTWARE);
	}
	msg_close_fd(m);
}

/* The master is gone (EOF): tell the client, exit at once. */
static _Noreturn void
worker_orphaned(struct worker *w)
{
	static const char bye[] = "*** server went away\r\n";

	if (w->cl != -1 && write(w->cl, bye, sizeof(bye) - 1) == -1)
		log_debug("client #%u: %s", w->id, strerror(errno));
	pipe_abort();			/* PR_SET_PDEATHSIG would, too */
	worker_exit(0);
}

/* The channel is readable: take every whole frame. */
static void
worker_read_channel(struct worker *w)
{
	struct msg m;
	long n;
	int r;

	n = msg_read(w->ch, &w->chin, CHAN_READ);
	if (n == 0 || (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK))
		worker_orphaned(w);
	/*
	 * Room for all of it in the client's queue at once: one allocation
	 * per read, not a doubling per line.  Past the limit it fails, and
	 * worker_tell finds the client too slow as it would anyway.
	 */
	if (n > 0 && w->cl != -1)
		(void)buf_reserve(&w->out, w->chin.in.len);
	while ((r = msg_get(&w->chin, &m)) == 1)
		worker_frame(w, &m);
	if (r == -1) {
		log_error("worker for client #%u: bad frame from the master",
		    w->id);
		worker_exit(EX_SOFTWARE);
	}
}

/* Add the tokens earned since the last refill. */
static void
worker_refill(struct worker *w, int64_t now)
{
	int64_t cap = (int64_t)w->cfg->flood_burst * 1000;

	w->tokens += (now - w->tokens_at) * (int64_t)w->cfg->flood_rate;
	if (w->tokens > cap)
		w->tokens = cap;
	w->tokens_at = now;
}

/* May the client send another line now? */
static bool
worker_may_read(const struct worker *w)
{
	return w->state == W_ACTIVE && msgq_pending(&w->chout) < CHAN_PAUSE &&
	    (w->cfg->flood_rate == 0 || w->tokens >= 1000) &&
	    !w->oper_pending &&
	    (w->hold_until == 0 || os_now_ms() >= w->hold_until);
}

/*
 * Is the client's silence its own?  Not while we hold its input back
 * (flood bucket, /oper pacing, a busy master) or have some unparsed:
 * the read timeout only runs while we are reading.
 */
static bool
worker_reading(const struct worker *w)
{
	return worker_may_read(w) && w->inoff == w->inlen;
}

/* One line from the client (or a too-long one): spend, then act. */
static void
worker_line(struct worker *w, enum line_result r, int64_t now)
{
	size_t before = w->chout.sent + msgq_pending(&w->chout);

	if (w->cfg->flood_rate != 0)
		w->tokens -= 1000;	/* no bucket: nothing to spend */
	w->last_line = now;
	if (r == LINE_TOOLONG)
		worker_say(w, "ERR line too long (max %zu bytes); the rest of "
		    "it is discarded", w->cfg->max_line);
	else
		command_line(w, w->lr.buf, w->lr.len);
	/* Keep the master's idea of "idle" honest, cheaply. */
	if (w->state == W_ACTIVE &&
	    w->chout.sent + msgq_pending(&w->chout) == before &&
	    now - w->last_note >= IDLE_NOTE_MS)
		worker_send(w, MSG_ACTIVE, NULL, 0);
}

/* Parse what was read, as far as the flood budget allows. */
static void
worker_parse(struct worker *w, int64_t now)
{
	enum line_result r;
	size_t used;

	while (w->inoff < w->inlen && worker_may_read(w)) {
		r = line_feed(&w->lr, w->in + w->inoff, w->inlen - w->inoff,
		    &used);
		w->inoff += used;
		if (r == LINE_OK || r == LINE_TOOLONG)
			worker_line(w, r, now);
		else if (r == LINE_NOMEM)
			worker_close(w, "out of memory", false);
	}
}

/* The client's socket is readable. */
static void
worker_read_client(struct worker *w, int64_t now)
{
	ssize_t n;

	do {
		n = read(w->cl, w->in, sizeof(w->in));
	} while (n == -1 && errno == EINTR);
	if (n > 0) {
		w->inoff = 0;
		w->inlen = (size_t)n;
		worker_parse(w, now);
	} else if (n == 0) {
		worker_close(w, "connection closed", false);
	} else if (errno != EAGAIN && errno != EWOULDBLOCK) {
		worker_close(w, errno == ECONNRESET ? "connection reset" :
		    strerror(errno), false);
	}
}

/* Write what the client's queue holds, as far as the socket takes. */
static void
worker_write_client(struct worker *w)
{
	ssize_t n;

	while (w->cl != -1 && w->out.len > 0) {
		n = write(w->cl, buf_head(&w->out), w->out.len);
		if (n > 0) {
			buf_consume(&w->out, (size_t)n);
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == 0 || errno == EAGAIN || errno == EWOULDBLOCK)
			return;			/* POLLOUT will tell */
		if (w->state == W_ACTIVE)
			worker_close(w, errno == EPIPE || errno == ECONNRESET ?
			    "connection reset" : strerror(errno), false);
		else
			worker_drop_client(w);
		return;
	}
}

/* The read timeout fired: tell the client, close, tell the master. */
static void
worker_expire(struct worker *w)
{
	char why[64];
	struct iovec iov = { .iov_base = why };

	worker_say(w, "*** read timeout (%u s)", w->read_timeout);
	(void)snprintf(why, sizeof(why), "read timeout after %u s",
	    w->read_timeout);
	iov.iov_len = strlen(why);
	worker_send(w, MSG_EXPIRED, &iov, 1);
	worker_close(w, "", true);
}

/* Deadlines due: the read timeout, a pipe job's, the end of a goodbye. */
static void
worker_deadlines(struct worker *w, int64_t now)
{
	if (worker_reading(w) && w->read_timeout != 0 &&
	    now - w->last_line >= (int64_t)w->read_timeout * 1000)
		worker_expire(w);
	pipe_tick(now);
	if (w->hold_until != 0 && now >= w->hold_until) {
		w->hold_until = 0;
		w->last_line = now;	/* it may have typed meanwhile */
	}
	if (w->state == W_CLOSING && (w->out.len == 0 || now >= w->close_by))
		worker_drop_client(w);
	if (w->state == W_CLOSING && w->cl == -1 && now >= w->close_by)
		worker_exit(0);		/* a stuck job: the master reaps it */
	if (w->state == W_CLOSING && w->cl == -1 && !pipe_busy() &&
	    msgq_pending(&w->chout) == 0)
		worker_exit(0);
}

/* Milliseconds until the nearest deadline, or -1 for none. */
static int
worker_timeout(const struct worker *w, int64_t now)
{
	int64_t d = -1, t;

	/* Input held back (say, for the channel) that may go on now. */
	if (w->inoff < w->inlen && worker_may_read(w))
		return 0;
	if (worker_reading(w) && w->read_timeout != 0)
		d = w->last_line + (int64_t)w->read_timeout * 1000;
	if (w->state == W_ACTIVE && w->cfg->flood_rate != 0 &&
	    w->tokens < 1000) {
		t = now + (1000 - w->tokens + w->cfg->flood_rate - 1) /
		    w->cfg->flood_rate;
		d = d == -1 || t < d ? t : d;
	}
	if (w->state == W_CLOSING)
		d = d == -1 || w->close_by < d ? w->close_by : d;
	if ((t = pipe_deadline()) != 0)
		d = d == -1 || t < d ? t : d;
	if (w->hold_until != 0)
		d = d == -1 || w->hold_until < d ? w->hold_until : d;
	if (d == -1)
		return -1;
	return d <= now ? 0 : (int)(d - now);
}

/* Wait for the channel, the client and a pipe job; handle what is ready. */
static void
worker_turn(struct worker *w)
{
	struct pollfd pfd[5];
	int64_t now = os_now_ms();
	int n, njob;

	/* The bucket fills with time, whether or not input is waiting. */
	if (w->state == W_ACTIVE && w->cfg->flood_rate != 0)
		worker_refill(w, now);
	pfd[0].fd = w->ch;
	pfd[0].events = POLLIN | (msgq_pending(&w->chout) ? POLLOUT : 0);
	pfd[1].fd = w->cl;		/* poll() skips a negative fd */
	pfd[1].events = (short)((worker_may_read(w) && w->inoff == w->inlen ?
	    POLLIN : 0) | (w->out.len > 0 ? POLLOUT : 0));
	njob = pipe_pollfds(&pfd[2]);
	for (int i = 0; i < 2 + njob; i++)
		pfd[i].revents = 0;
	n = poll(pfd, (nfds_t)2 + (nfds_t)njob, worker_timeout(w, now));
	if (n == -1 && errno != EINTR) {
		log_error("worker for client #%u: poll: %s", w->id,
		    strerror(errno));
		worker_exit(EX_SOFTWARE);
	}
	now = os_now_ms();
	if (w->state == W_ACTIVE && w->cfg->flood_rate != 0)
		worker_refill(w, now);
	if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))
		worker_read_channel(w);
	if (w->cl != -1 && pfd[1].revents & (POLLIN | POLLHUP | POLLERR) &&
	    w->state == W_ACTIVE)
		worker_read_client(w, now);
	if (n > 0)
		pipe_events(w, &pfd[2], njob);
	if (w->inoff < w->inlen)
		worker_parse(w, now);	/* lines held back by the bucket */
	worker_write_client(w);
	if (msgq_pending(&w->chout) > 0 && msg_flush(w->ch, &w->chout) == -1)
		worker_orphaned(w);
	worker_deadlines(w, now);
}

/*
 * The worker's whole life, from the moment the forker forked it, with
 * its channel to the master on ch and no other descriptor but stdio.
 * What reaches the whole process group (Ctrl-C, kill -TERM -PGID, a
 * service manager's control-group kill) is the master's to act on: it
 * shuts down in order.  One session ends with /kick or kill -9.
 */
void
worker_main(int ch, const struct config *cfg)
{
	static const int ignored[] = { SIGINT, SIGTERM, SIGQUIT, SIGHUP,
	    SIGPIPE };
	for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
		if (signal(ignored[i], SIG_IGN) == SIG_ERR)
			_exit(71);
	(void)os_set_name("forkchatd spare");
	/* Read, never written: the pages stay shared.  See MSG_CONFIG. */
	W.cfg = cfg;
	W.ch = ch;
	W.cl = -1;
	W.state = W_SPARE;
	msgin_init(&W.chin);
	msgq_init(&W.chout, CHAN_LIMIT);
	buf_init(&W.out, W.cfg->max_output_queue);
	for (;;)
		worker_turn(&W);
}
