/*
 * dispatch.c - what workers tell the master.
 *
 * A worker's channel is read when it is readable, at most CHAN_READ
 * bytes a turn (fairness), and every whole frame goes through one table
 * of routes: {type, the child states it may arrive in, whether it still
 * counts once the client has left, the payload's size, its handler}.
 * The size is checked here, the shape by the handler's getters; a frame
 * that breaks its row, or that its handler finds malformed, is a
 * protocol violation, never ignored: the worker is killed and its
 * client told.  A frame that is legal but comes from a worker whose
 * client has already left (a kick crossing a line in flight) is
 * dropped.  When a worker has exited, what it said last is read before
 * it is reaped (dispatch_drain).
 *
 * Public: dispatch_event, dispatch_drain.
 */
#include <errno.h>
#include <string.h>

#include "admin.h"
#include "chat.h"
#include "dispatch.h"
#include "log.h"
#include "oper.h"
#include "os.h"
#include "proto.h"
#include "ps.h"

#define CHAN_READ	((size_t)64 * 1024)	/* bytes read from a worker per turn */

#define IN(s)		(1U << (s))
#define JOINED		(IN(CHILD_CLIENT) | IN(CHILD_LEAVING))
#define TARGET		(PROTO_TARGET_MAX + 1)	/* a str target */
#define JOB_MAX		(8 + PROTO_NICK_MAX + 1)

typedef int handler(struct child *, struct msg *);

/* One row of the table: what a worker may send, and who handles it. */
struct route {
	unsigned states;	/* where it may arrive: IN(CHILD_...) */
	bool	 late;		/* acted on after its client has left */
	size_t	 min, max;	/* payload bytes */
	handler	*handle;
};

static handler dispatch_active;
static handler dispatch_hello;

#define ANY		(IN(CHILD_STARTING) | IN(CHILD_SPARE) | JOINED)

static const struct route routes[MSG_TYPE_MAX] = {
	/* type		   states  late   min  max			handler */
	[MSG_SAY]	= { JOINED, false, 1, MSG_MAX_PAYLOAD,		chat_say },
	[MSG_ME]	= { JOINED, false, 1, MSG_MAX_PAYLOAD,		chat_say },
	[MSG_PRIVMSG]	= { JOINED, false, 3, TARGET + MSG_MAX_PAYLOAD,	chat_privmsg },
	[MSG_NICK]	= { JOINED, false, 2, PROTO_NICK_MAX + 1,	chat_nick },
	[MSG_WHO]	= { JOINED, false, 0, 0,			chat_who },
	[MSG_ACTIVE]	= { JOINED, false, 0, 0,			dispatch_active },
	[MSG_BYE]	= { JOINED, false, 0, PROTO_REASON_MAX,		chat_bye },
	[MSG_EXPIRED]	= { JOINED, false, 0, PROTO_REASON_MAX,		chat_bye },
	[MSG_OPER]	= { JOINED, false, 1, PROTO_PASSWORD_MAX,	oper_request },
	[MSG_KICK]	= { JOINED, false, 2, TARGET + PROTO_REASON_MAX, admin_kick },
	[MSG_TIMEOUT]	= { JOINED, false, 6, TARGET + 4,		admin_timeout },
	[MSG_PS]	= { JOINED, false, 0, 0,			ps_list },
	[MSG_STATS]	= { JOINED, false, 0, 0,			admin_stats },
	[MSG_JOB]	= { JOINED, true,  6, JOB_MAX,			admin_job },
	[MSG_JOB_END]	= { JOINED, true, 10, JOB_MAX,			admin_job },
	[MSG_HELLO]	= { ANY,    true,  6, 4 + 32,			dispatch_hello },
};

/*
 * MSG_HELLO: a new worker says which protocol and which forkchatd it
 * speaks, once, first thing (a busy master may read it only after it
 * has handed the spare a client).  Ours, or the one before (a live
 * upgrade keeps the workers of the old binary): anything else cannot be
 * served.
 */
static int
dispatch_hello(struct child *c, struct msg *m)
{
	if (c->bin.version[0] != '\0')
		return -1;			/* said twice */
	if (msg_u32(m, &c->bin.proto) == -1 ||
	    msg_str(m, c->bin.version, sizeof(c->bin.version)) == -1 ||
	    msg_end(m) == -1 || c->bin.version[0] == '\0')
		return -1;
	if (c->bin.proto != MSG_VERSION && c->bin.proto + 1 != MSG_VERSION) {
		log_error("worker %ld speaks protocol %u; this master speaks "
		    "%u and %u", (long)c->pid, c->bin.proto, MSG_VERSION - 1,
		    MSG_VERSION);
		return -1;
	}
	return 0;
}

/* MSG_ACTIVE: the client typed a line; being read is all it asks. */
static int
dispatch_active(struct child *c, struct msg *m)
{
	(void)c;
	(void)m;
	return 0;
}

/* A worker broke the channel protocol: a bug, so it goes. */
static void
dispatch_violation(struct child *c, const struct msg_hdr *h)
{
	log_error("worker %ld sent a bad message (type %u, %u bytes) in "
	    "state %d: killing it", (long)c->pid, h->type, h->len, c->state);
	spawn_kill(c, "worker protocol error");
}

/* Act on one frame from a worker, read at now; -1 if it broke its row. */
static int
dispatch_frame(struct child *c, struct msg *m, int64_t now)
{
	const struct route *r = &routes[m->h.type];

	/* A frame carries its worker's client id, or 0 if it was sent
	 * while a spare (the master may read it only after the hand-off). */
	if (r->handle == NULL || !(r->states & IN(c->state)) ||
	    m->h.len < r->min || m->h.len > r->max || m->fd != -1 ||
	    (m->h.id != c->client.id && !(m->h.id == 0 &&
	    (r->states & IN(CHILD_SPARE)))))
		return -1;
	if (r->late)
		return r->handle(c, m);
	if (c->state != CHILD_CLIENT)
		return 0;		/* a client already gone */
	c->client.active_ms = now;
	return r->handle(c, m);
}

/* Act on every whole frame buffered from a worker (one clock read). */
static void
dispatch_frames(struct child *c)
{
	int64_t now = os_now_ms();
	struct msg m;
	int r;

	while (!c->proc.killed && (r = msg_get(&c->chan.in, &m)) != 0) {
		if (r == -1) {
			memset(&m.h, 0, sizeof(m.h));
			dispatch_violation(c, &m.h);
			return;
		}
		if (dispatch_frame(c, &m, now) == -1) {
			msg_close_fd(&m);
			dispatch_violation(c, &m.h);
			return;
		}
	}
}

/* Read from a worker's channel once; 0 if more may come, -1 if done. */
static int
dispatch_read(struct child *c)
{
	long n = msg_read(c->chan.fd, &c->chan.in, CHAN_READ);

	if (n > 0) {
		dispatch_frames(c);
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

/* The worker has exited: take its last frames before reaping it. */
void
dispatch_drain(struct child *c)
{
	while (c->chan.fd != -1 && dispatch_read(c) == 0)
		;
}

/*
 * The channel is readable (or failed): handle what the worker says.  A
 * channel that failed on write is read to its end and closed.
 */
void
dispatch_event(struct child *c)
{
	if (c->chan.fd == -1)
		return;
	if (!c->chan.broken) {
		(void)dispatch_read(c);
		return;
	}
	dispatch_drain(c);
	child_close_channel(c);
}
