/*
 * worker.c - a worker's life: wait as a spare, serve one client, exit.
 *
 * One poll() over the channel to the master, the client's socket and a
 * /pipe job's descriptors, with a timeout from the nearest deadline:
 * the client's (client.c) or the job's (pipe.c).  Frames from the
 * master go through one table, routes[]; what the worker has to tell
 * the master waits in its queue (out.c) until the channel takes it.
 * The worker exits when its client is gone and everything is said, when
 * the master goes away, or, a spare, when the server stops.
 *
 * Public: worker_main.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "exits.h"
#include "log.h"
#include "msg.h"
#include "os.h"
#include "out.h"
#include "pipe.h"
#include "proto.h"
#include "psview.h"
#include "worker.h"

#define CHAN_READ	((size_t)16 * 1024)	/* one read from the master */
#define CHAN_LIMIT	((size_t)1024 * 1024)	/* most queued for the master */
#define TRIM_AT		(2 * CHAN_READ)		/* a burst's buffer, not a read's */
#define TRIM_IDLE_MS	1000			/* quiet this long, then trim */

struct worker {
	int	 chan_fd;		/* the channel to the master */
	struct msgin from_master;	/* read from it, not handled yet */
	struct out out;			/* for the client and the master */
	struct client client;
	struct config own;		/* from MSG_CONFIG, once reloaded */
	int64_t	 trim_at;		/* give the heap back then; 0: no need */
};

/*
 * This process: a worker has one client in its life.  On pages of its
 * own (4 KiB ones, as on x86-64), which every worker writes: not
 * straddling a page of the data it shares with the forker.
 */
static _Alignas(4096) struct worker worker;

/* Leave the process; _exit: the master's stdio buffers are not ours. */
static _Noreturn void
worker_exit(int status)
{
	_exit(status);
}

/* First thing: which protocol and which forkchatd this worker speaks. */
static void
worker_hello(struct out *o)
{
	struct msg_build b;

	msg_b_init(&b);
	msg_b_u32(&b, MSG_VERSION);
	msg_b_str(&b, FORKCHAT_VERSION, strlen(FORKCHAT_VERSION));
	out_send(o, MSG_HELLO, &b);
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
	client_start(&w->client, m->fd, m->h.id, tmo, nick, os_now_ms());
	m->fd = -1;
	(void)snprintf(name, sizeof(name), "forkchatd #%u", m->h.id);
	(void)os_set_name(name);
	/*
	 * From now on, being woken by the master does not preempt it: a
	 * broadcast goes out to every worker before they run.  Not before:
	 * a spare woken with its client greets it at once.
	 */
	if (os_sched_batch() == -1)
		log_debug("client #%u: SCHED_BATCH: %s", m->h.id,
		    strerror(errno));
	return 0;
}

/* MSG_SHUTDOWN: the server is stopping. */
static int
worker_shutdown(struct worker *w, struct msg *m)
{
	(void)m;
	if (w->client.state == CLIENT_NONE)
		worker_exit(EX_OK);
	client_shutdown(&w->client);
	return 0;
}

/* MSG_OPER_RESULT: granted, or one more wrong password. */
static int
worker_oper_result(struct worker *w, struct msg *m)
{
	uint32_t ok;

	if (msg_u32(m, &ok) == -1 || msg_end(m) == -1 || ok > 1)
		return -1;
	client_oper_result(&w->client, ok == 1, os_now_ms());
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
	client_set_timeout(&w->client, secs, os_now_ms());
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
		log_error("worker for client #%u: bad MSG_CONFIG: %s",
		    w->out.id, err);
		config_free(&next);
		return -1;
	}
	config_free(&w->own);		/* zeroed before the first reload */
	w->own = next;
	log_init(config_journal(&w->own));
	log_set_level(w->own.log_level);
	client_reconfigure(&w->client, &w->own, os_now_ms());
	return 0;
}

/* MSG_CLOSE: kicked; the client is told the last line. */
static int
worker_kicked(struct worker *w, struct msg *m)
{
	const char *p;
	size_t len;

	if (msg_text(m, &p, &len) == -1)
		return -1;
	client_kicked(&w->client, p, len);
	return 0;
}

/* MSG_PS_TABLE: the master's table of who is who, for /ps. */
static int
worker_ps_table(struct worker *w, struct msg *m)
{
	(void)w;
	return psview_add(m);
}

/* MSG_PS_END: the table is whole: draw /ps for the client. */
static int
worker_ps_end(struct worker *w, struct msg *m)
{
	if (psview_draw(&w->out, m) == -1)
		return -1;
	client_relay(&w->client, "", 0);	/* as any line: too slow? */
	return 0;
}

/* MSG_DONE: the master has answered everything the client sent. */
static int
worker_done(struct worker *w, struct msg *m)
{
	(void)m;
	client_master_done(&w->client);
	return 0;
}

/* MSG_LINE: bytes for the client, as they are. */
static int
worker_relayed(struct worker *w, struct msg *m)
{
	const char *p;
	size_t len;

	(void)msg_rest(m, &p, &len);
	client_relay(&w->client, p, len);
	return 0;
}

#define IN(s)		(1U << (s))
#define SPARE		IN(CLIENT_NONE)
#define LEFT		(IN(CLIENT_ANSWERING) | IN(CLIENT_CLOSING))
#define LIVE		(IN(CLIENT_ACTIVE) | LEFT)
#define ANY		(SPARE | LIVE)

/*
 * What the master may send: in which states (a spare is a worker with
 * no client yet), with how many payload bytes, and who handles it.  A
 * frame that breaks its row, or that a handler finds malformed, is a
 * protocol violation: a bug on one side, so this worker stops rather
 * than guess.
 */
static const struct route {
	enum msg_type type;
	unsigned states;
	size_t	 min, max;
	int	(*handle)(struct worker *, struct msg *);
} routes[] = {
	{ MSG_CLIENT,	   SPARE, 8, 4 + PROTO_NICK_MAX + 1 +
	    PROTO_PEER_MAX,				worker_take_client },
	{ MSG_LINE,	   LIVE, 1, MSG_MAX_PAYLOAD,	worker_relayed },
	{ MSG_SHUTDOWN,	   ANY,  0, 0,			worker_shutdown },
	{ MSG_OPER_RESULT, LIVE, 4, 4,			worker_oper_result },
	{ MSG_CLOSE,	   LIVE, 1, 1024,		worker_kicked },
	{ MSG_SET_TIMEOUT, LIVE, 4, 4,			worker_set_timeout },
	{ MSG_CONFIG,	   ANY,  0, MSG_MAX_PAYLOAD,	worker_reconfigure },
	{ MSG_PS_TABLE,	   LIVE, 0, MSG_MAX_PAYLOAD,	worker_ps_table },
	{ MSG_PS_END,	   LIVE, 8, 8,			worker_ps_end },
	{ MSG_DONE,	   LEFT, 0, 0,			worker_done },
};

/* The row for a frame's type, or NULL. */
static const struct route *
worker_route(unsigned type)
{
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (routes[i].type == type)
			return &routes[i];
	return NULL;
}

/* Act on one frame from the master, by its row in routes[]. */
static void
worker_frame(struct worker *w, struct msg *m)
{
	const struct route *r = worker_route(m->h.type);
	enum client_state state = w->client.state;

	if (r == NULL || !(r->states & IN(state)) || m->h.len < r->min ||
	    m->h.len > r->max || (m->fd != -1 && r->type != MSG_CLIENT) ||
	    r->handle(w, m) == -1) {
		log_error("worker for client #%u: bad message from the master "
		    "(type %u, %u bytes) in state %d", w->out.id, m->h.type,
		    m->h.len, (int)state);
		worker_exit(EX_SOFTWARE);
	}
	msg_close_fd(m);
}

/* The master is gone (EOF): tell the client, exit at once. */
static _Noreturn void
worker_orphaned(struct worker *w)
{
	client_orphaned(&w->client);
	pipe_abort();			/* PR_SET_PDEATHSIG would, too */
	worker_exit(EX_OK);
}

/* The channel is readable: take every whole frame. */
static void
worker_read_channel(struct worker *w)
{
	struct msg m;
	long n;
	int r;

	n = msg_read(w->chan_fd, &w->from_master, CHAN_READ);
	if (n == 0 || (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK))
		worker_orphaned(w);
	if (n > 0)			/* room for all of it at once */
		out_reserve(&w->out, w->from_master.in.len);
	while ((r = msg_get(&w->from_master, &m)) == 1)
		worker_frame(w, &m);
	if (r == -1) {
		log_error("worker for client #%u: bad frame from the master",
		    w->out.id);
		worker_exit(EX_SOFTWARE);
	}
}

/*
 * A frame that could not be queued leaves a hole in what the master
 * reads: stop before sending any more (a bug, or no memory).
 */
static void
worker_check_queue(const struct worker *w)
{
	if (w->out.error == 0)
		return;
	log_error("worker for client #%u: cannot queue for the master: %s",
	    w->out.id, strerror(w->out.error));
	worker_exit(EX_SOFTWARE);
}

/* Deadlines due; exit once the client is gone and all is said. */
static void
worker_deadlines(struct worker *w, int64_t now)
{
	client_tick(&w->client, now);
	pipe_tick(now);
	if (!client_gone(&w->client))
		return;
	worker_check_queue(w);
	if (client_overdue(&w->client, now))
		worker_exit(EX_OK);	/* a stuck job: the master reaps it */
	if (!pipe_busy() && msgq_pending(&w->out.to_master) == 0)
		worker_exit(EX_OK);
}

/* Milliseconds until the nearest deadline, or -1 for none. */
static int
worker_timeout(const struct worker *w, int64_t now)
{
	int64_t d = client_deadline(&w->client, now), t = pipe_deadline();

	if (t != 0 && (d == 0 || t < d))
		d = t;
	if (w->trim_at != 0 && (d == 0 || w->trim_at < d))
		d = w->trim_at;
	if (d == 0)
		return -1;
	return d <= now ? 0 : (int)(d - now);
}

/*
 * Wait for the channel (pfd[0]), the client (pfd[1]) and a pipe job
 * (*njob more) until the nearest deadline; poll()'s result.
 */
static int
worker_wait(struct worker *w, struct pollfd *pfd, int *njob)
{
	int64_t now = os_now_ms();
	int n;

	client_refill(&w->client, now);
	pfd[0].fd = w->chan_fd;
	pfd[0].events = POLLIN |
	    (msgq_pending(&w->out.to_master) > 0 ? POLLOUT : 0);
	pfd[0].revents = 0;
	client_pollfd(&w->client, &pfd[1], now);
	*njob = pipe_pollfds(&pfd[2]);
	for (int i = 2; i < 2 + *njob; i++)
		pfd[i].revents = 0;
	n = poll(pfd, (nfds_t)2 + (nfds_t)*njob, worker_timeout(w, now));
	if (n == -1 && errno != EINTR) {
		log_error("worker for client #%u: poll: %s", w->out.id,
		    strerror(errno));
		worker_exit(EX_SOFTWARE);
	}
	return n;
}

/*
 * A burst (a backlog for a slow client, many lines at once) grows
 * buffers past one read's; freed, their pages stay dirty in the heap,
 * and an idle worker would pay for them for the rest of its life.  Once
 * the worker has been quiet for a while, give them back: never on a
 * busy worker's path, where the next burst would take them again.
 */
static void
worker_trim(struct worker *w, int64_t now)
{
	if (buf_freed_peak() >= TRIM_AT) {
		buf_freed_reset();
		w->trim_at = now + TRIM_IDLE_MS;
	} else if (w->trim_at != 0 && now >= w->trim_at) {
		w->trim_at = 0;
		os_heap_trim();
	}
}

/* One turn of the loop: wait, then handle what is ready, in order. */
static void
worker_turn(struct worker *w)
{
	struct pollfd pfd[2 + PIPE_MAXFDS];
	int64_t now;
	int n, njob;

	n = worker_wait(w, pfd, &njob);
	now = os_now_ms();
	client_refill(&w->client, now);
	if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))
		worker_read_channel(w);
	client_read(&w->client, pfd[1].revents, now);
	if (n > 0) {
		pipe_events(&pfd[2], njob);
		client_check_queue(&w->client);
	}
	client_parse(&w->client, now);	/* lines held back by the bucket */
	client_write(&w->client);
	worker_check_queue(w);
	if (msgq_pending(&w->out.to_master) > 0 &&
	    msg_flush(w->chan_fd, &w->out.to_master) == -1)
		worker_orphaned(w);
	worker_trim(w, now);
	worker_deadlines(w, now);
}

/*
 * The worker's whole life, from the moment the forker forked it, with
 * its channel to the master on chan_fd and no other descriptor but
 * stdio.  What reaches the whole process group (Ctrl-C, kill -TERM
 * -PGID, a service manager's control-group kill) is the master's to act
 * on: it shuts down in order.  One session ends with /kick or kill -9.
 * The configuration is read, never written: its pages stay shared with
 * every other worker (MSG_CONFIG brings a copy of our own).
 */
void
worker_main(int chan_fd, const struct config *cfg)
{
	static const int ignored[] = { SIGINT, SIGTERM, SIGQUIT, SIGHUP,
	    SIGUSR2, SIGPIPE };

	for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
		if (signal(ignored[i], SIG_IGN) == SIG_ERR)
			worker_exit(EX_NOSTART);
	(void)os_set_name("forkchatd spare");
	worker.chan_fd = chan_fd;
	msgin_init(&worker.from_master);
	out_init(&worker.out, cfg->max_output_queue, CHAN_LIMIT);
	client_init(&worker.client, cfg, &worker.out);
	worker_hello(&worker.out);
	for (;;)
		worker_turn(&worker);
}
