/*
 * link.c - the cluster's link to Redis (see link.h).
 *
 * Two connections, each a socket in the master's epoll set (SRC_CLUSTER)
 * with its output buffer, its reply reader and the queue of functions
 * owed a reply, oldest first.  Everything here is non-blocking: the
 * connect is finished when the socket turns writable, commands are
 * written at the end of the loop's turn (one write for a burst), replies
 * are read as they come.  After connecting, a connection says AUTH (if
 * there is a password) and PING; the link is up once both have had
 * their PONG.
 *
 * Every wait has a deadline: a connect, and each reply, must come
 * within the link's timeout (a blocking XREAD gets its block time on
 * top).  Whatever goes wrong (a refused connect, a broken or closed
 * connection, a late reply, an error in the handshake, a reply nobody
 * asked for) drops both connections and tells the module above once;
 * the link then waits out its backoff (100 ms, doubling to 2 s, back to
 * 100 ms once up) on a deadline of the main loop, never a sleep, and
 * connects again.  The log says the first failure of a streak at
 * warning, a new reason at info, the same one again at debug.
 *
 * All its state is the one struct below, lk.  A live upgrade does not
 * hand the connections over: they close with the exec, and the new
 * binary connects anew (link_reopen) with the password, backoff and
 * last failure the old one wrote (SNAP_CL_LINK).  Everything the stream
 * sends is kept or made again until Redis is seen to have it (stream.c),
 * so nothing is lost with a reply that was on its way; and handing
 * over a connection would mean handing over its replies owed, what was
 * read of one, and the functions they go to.
 *
 * Public: link_init, link_open, link_set, link_out, link_expect,
 * link_drop, link_event, link_deadline, link_tick, link_flush,
 * link_close, link_state, link_address, link_why, link_ups, link_save,
 * link_restore, link_reopen.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "ev.h"
#include "link.h"
#include "log.h"
#include "os.h"
#include "redis.h"

#define RETRY_FIRST_MS	100		/* the first reconnect, after a drop */
#define RETRY_MAX_MS	2000		/* the backoff doubles up to this */
#define OUT_MAX		((size_t)64 * 1024 * 1024)	/* queued for Redis */
#define READS_MAX	64		/* reads per event: fairness */
#define WHY_MAX		200

/* A reply owed: where it goes, and by when it must come. */
struct pending {
	link_reply *fn;
	uintptr_t arg;
	int64_t	 due;
};

/* One connection to Redis. */
struct conn {
	struct src src;			/* first: events point here */
	int	 fd;			/* -1: closed */
	bool	 connecting;		/* connect() not finished */
	bool	 ready;			/* its PING answered */
	bool	 want_write;		/* EV_WRITE watched */
	int64_t	 connect_due;
	struct buf out;
	struct resp_reader in;
	struct pending *q;		/* a ring of qcap */
	size_t	 qhead, qlen, qcap;
};

/* The link as a whole. */
static struct {
	enum link_state state;
	struct link_hooks hooks;
	struct redis_addr addr;
	char	 addr_text[REDIS_ADDR_MAX];
	char	 password[PASSWORD_MAX + 2];
	unsigned timeout_ms;		/* a reply or a connect, at most */
	struct conn c[LINK_NCONN];
	int64_t	 retry_at;		/* LINK_WAITING: connect then */
	unsigned backoff_ms;		/* the next wait after a drop */
	uint64_t gen;			/* drops so far */
	uint64_t ups;			/* times the link came up */
	bool	 failing;		/* a failure logged, not yet up */
	char	 why[WHY_MAX];		/* why it went down last */
} lk = { .state = LINK_OFF, .backoff_ms = RETRY_FIRST_MS };

static void conn_write(struct conn *);

/* The hooks that hear of the link going up and down. */
void
link_init(const struct link_hooks *h)
{
	lk.hooks = *h;
	for (int i = 0; i < LINK_NCONN; i++) {
		lk.c[i].src.kind = SRC_CLUSTER;
		lk.c[i].fd = -1;
	}
}

/* Close one connection and forget what it owed. */
static void
conn_close(struct conn *c)
{
	if (c->fd != -1) {
		if (ev_del(server.ep, c->fd) == -1)
			log_panic("epoll_ctl(DEL) for Redis: %s",
			    strerror(errno));
		(void)close(c->fd);
	}
	c->fd = -1;
	c->connecting = c->ready = c->want_write = false;
	buf_free(&c->out);
	resp_reader_free(&c->in);
	free(c->q);
	c->q = NULL;
	c->qhead = c->qlen = c->qcap = 0;
}

/* Say why the link is down: once a streak at warning, then quieter. */
static void
link_log_down(const char *why, bool was_up)
{
	if (was_up)
		log_warning("cluster: lost the link to Redis at %s: %s; "
		    "connecting again", lk.addr_text, why);
	else if (!lk.failing)
		log_warning("cluster: cannot reach Redis at %s: %s; retrying "
		    "(every %d s at most)", lk.addr_text, why,
		    RETRY_MAX_MS / 1000);
	else if (strcmp(why, lk.why) != 0)
		log_info("cluster: cannot reach Redis at %s: %s",
		    lk.addr_text, why);
	else
		log_debug("cluster: cannot reach Redis at %s: %s",
		    lk.addr_text, why);
}

/*
 * Something went wrong: close both connections, wait out the backoff,
 * tell the module above.  Replies owed are never delivered.
 */
void
link_drop(const char *fmt, ...)
{
	char why[WHY_MAX];
	bool was_up = lk.state == LINK_UP;
	va_list ap;

	if (lk.state == LINK_OFF || lk.state == LINK_WAITING)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	/* Redis's words reach the log and clients: no control characters. */
	for (char *p = why; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p == 0x7f)
			*p = '?';
	link_log_down(why, was_up);
	(void)snprintf(lk.why, sizeof(lk.why), "%s", why);
	lk.failing = true;
	for (int i = 0; i < LINK_NCONN; i++)
		conn_close(&lk.c[i]);
	lk.gen++;
	lk.state = LINK_WAITING;
	lk.retry_at = os_now_ms() + lk.backoff_ms;
	lk.backoff_ms = lk.backoff_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS :
	    lk.backoff_ms * 2;
	lk.hooks.down(lk.why);
}

/* Watch a connection for what it waits for. */
static void
conn_watch(struct conn *c, bool write)
{
	if (c->want_write == write)
		return;
	c->want_write = write;
	if (ev_mod(server.ep, c->fd, write ? EV_READ | EV_WRITE : EV_READ,
	    &c->src) == -1)
		log_panic("epoll_ctl(MOD) for Redis: %s", strerror(errno));
}

/* The reply to AUTH: an error means the password is wrong. */
static void
link_auth_reply(const struct resp_value *v, uintptr_t arg)
{
	(void)arg;
	if (resp_type(v) == RESP_ERROR)
		link_drop("Redis refused the password: %s", v->str);
}

/* The reply to PING: the connection works; both do: the link is up. */
static void
link_ping_reply(const struct resp_value *v, uintptr_t i)
{
	if (resp_type(v) == RESP_ERROR && strncmp(v->str, "NOAUTH", 6) == 0) {
		link_drop("Redis wants a password (set cluster_password_file)");
		return;
	}
	if (resp_is(v, "PONG") != 1) {
		link_drop("Redis answered PING with %s",
		    resp_type(v) == RESP_ERROR ? v->str : "something else");
		return;
	}
	lk.c[i].ready = true;
	for (int k = 0; k < LINK_NCONN; k++)
		if (!lk.c[k].ready)
			return;
	lk.state = LINK_UP;
	lk.ups++;
	lk.backoff_ms = RETRY_FIRST_MS;
	lk.failing = false;
	log_notice("cluster: link to Redis at %s up", lk.addr_text);
	lk.hooks.up();
}

/* Connected: say who we are, and check that Redis answers. */
static void
conn_connected(struct conn *c)
{
	struct resp_cmd cmd;
	enum link_conn i = (enum link_conn)(c - lk.c);

	c->connecting = false;
	c->want_write = true;		/* as it was watched while connecting */
	if (lk.password[0] != '\0') {
		resp_begin(&cmd, &c->out);
		resp_arg_str(&cmd, "AUTH");
		resp_arg_str(&cmd, lk.password);
		if (resp_end(&cmd) == -1)
			log_panic("queueing AUTH: %s", strerror(errno));
		link_expect(i, link_auth_reply, 0, 0);
	}
	if (resp_cmd(&c->out, "PING", (char *)NULL) == -1)
		log_panic("queueing PING: %s", strerror(errno));
	link_expect(i, link_ping_reply, (uintptr_t)i, 0);
	conn_write(c);
}

/* Start connecting one connection; 0, or -1 (the link dropped). */
static int
conn_start(struct conn *c)
{
	int pending;

	buf_init(&c->out, OUT_MAX);
	if (resp_reader_init(&c->in, NULL) == -1)
		log_panic("resp_reader_init: %s", strerror(errno));
	if ((c->fd = redis_connect(&lk.addr, &pending)) == -1) {
		link_drop("%s", strerror(errno));
		return -1;
	}
	c->connecting = pending != 0;
	c->connect_due = os_now_ms() + lk.timeout_ms;
	c->want_write = true;
	if (ev_add(server.ep, c->fd, EV_READ | EV_WRITE, &c->src) == -1)
		log_panic("epoll_ctl(ADD) for Redis: %s", strerror(errno));
	if (!c->connecting)
		conn_connected(c);
	return 0;
}

/* Connect both connections. */
static void
link_connect(void)
{
	uint64_t gen = lk.gen;

	lk.state = LINK_CONNECTING;
	for (int i = 0; i < LINK_NCONN && gen == lk.gen; i++)
		if (conn_start(&lk.c[i]) == -1)
			return;
}

/*
 * Start the link to address (as redis_addr_parse() reads it), with
 * this password ("" for none) and timeout; -1 (EINVAL) for a bad
 * address.  It goes up later, or down and retries, by itself.
 */
int
link_open(const char *address, const char *password, unsigned timeout_ms)
{
	if (redis_addr_parse(address, &lk.addr) == -1)
		return -1;
	(void)snprintf(lk.addr_text, sizeof(lk.addr_text), "%s", address);
	link_set(password, timeout_ms);
	link_connect();
	return 0;
}

/* A new password (for the next connect) and timeout (from now). */
void
link_set(const char *password, unsigned timeout_ms)
{
	(void)snprintf(lk.password, sizeof(lk.password), "%s", password);
	lk.timeout_ms = timeout_ms;
}

/* Where to append a command for a connection (then link_expect). */
struct buf *
link_out(enum link_conn i)
{
	return &lk.c[i].out;
}

/*
 * The command just appended to connection i owes a reply: to fn with
 * arg, within the link's timeout and block_ms more.
 */
void
link_expect(enum link_conn i, link_reply *fn, uintptr_t arg,
    unsigned block_ms)
{
	struct conn *c = &lk.c[i];
	struct pending *q;
	size_t cap;

	if (c->qlen == c->qcap) {
		cap = c->qcap == 0 ? 16 : c->qcap * 2;
		if ((q = calloc(cap, sizeof(*q))) == NULL)
			log_panic("out of memory queueing for Redis");
		for (size_t k = 0; k < c->qlen; k++)
			q[k] = c->q[(c->qhead + k) % c->qcap];
		free(c->q);
		c->q = q;
		c->qhead = 0;
		c->qcap = cap;
	}
	q = &c->q[(c->qhead + c->qlen++) % c->qcap];
	q->fn = fn;
	q->arg = arg;
	q->due = os_now_ms() + lk.timeout_ms + block_ms;
}

/* Write what is queued; watch for room if the socket is full. */
static void
conn_write(struct conn *c)
{
	int r;

	if (c->fd == -1 || c->connecting)
		return;
	if ((r = redis_flush(c->fd, &c->out)) == -1) {
		link_drop("writing to Redis: %s", strerror(errno));
		return;
	}
	conn_watch(c, r == 1);
}

/* Hand every whole reply read to the function owed it. */
static void
conn_replies(struct conn *c)
{
	uint64_t gen = lk.gen;
	struct resp_value *v;
	struct pending p;
	int r;

	while ((r = resp_next(&c->in, &v)) == 1) {
		if (c->qlen == 0) {
			resp_free(v);
			link_drop("Redis sent a reply nobody asked for");
			return;
		}
		p = c->q[c->qhead];
		c->qhead = (c->qhead + 1) % c->qcap;
		c->qlen--;
		p.fn(v, p.arg);
		resp_free(v);
		if (gen != lk.gen)
			return;		/* the function dropped the link */
	}
	if (r == -1)
		link_drop("reading Redis's replies: %s", strerror(errno));
}

/* Read what Redis sent, a bounded number of times. */
static void
conn_read(struct conn *c)
{
	uint64_t gen = lk.gen;
	ssize_t n;

	for (int i = 0; i < READS_MAX && gen == lk.gen; i++) {
		n = redis_read(c->fd, &c->in);
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n == 0) {
			link_drop("Redis closed the connection");
			return;
		}
		if (n == -1) {
			link_drop("reading from Redis: %s", errno == EPROTO ?
			    "not the Redis protocol" : strerror(errno));
			return;
		}
		conn_replies(c);
	}
}

/* A connection's socket is ready: finish the connect, read, write. */
void
link_event(struct src *s, int events)
{
	struct conn *c = (struct conn *)(void *)s;
	uint64_t gen = lk.gen;

	if (c->fd == -1)
		return;			/* closed earlier this turn */
	if (c->connecting) {
		if (redis_connect_done(c->fd) == 0)
			conn_connected(c);
		else if (errno != EINPROGRESS)
			link_drop("%s", strerror(errno));
		return;
	}
	if (events & (EV_READ | EV_ERROR))
		conn_read(c);
	if (gen == lk.gen && (events & EV_WRITE))
		conn_write(c);
}

/* The nearest time something is due: a reply, a connect, a retry. */
int64_t
link_deadline(void)
{
	int64_t d = OS_NO_DEADLINE;
	const struct conn *c;

	if (lk.state == LINK_WAITING)
		return lk.retry_at;
	for (int i = 0; i < LINK_NCONN; i++) {
		c = &lk.c[i];
		if (c->fd != -1 && c->connecting)
			d = os_nearer(d, c->connect_due);
		if (c->fd != -1 && c->qlen > 0)
			d = os_nearer(d, c->q[c->qhead].due);
	}
	return d;
}

/*
 * Connect again once the backoff is over; give up on a late reply.  A
 * reply that looks late may be waiting in the socket (epoll_wait says
 * EINTR after a SIGSTOP and SIGCONT, before any event): read first.
 */
void
link_tick(int64_t now)
{
	struct conn *c;
	uint64_t gen = lk.gen;

	if (lk.state == LINK_WAITING && now >= lk.retry_at) {
		link_connect();
		return;
	}
	for (int i = 0; i < LINK_NCONN && gen == lk.gen; i++) {
		c = &lk.c[i];
		if (c->fd != -1 && c->connecting && now >= c->connect_due) {
			link_drop("no connection within %u ms", lk.timeout_ms);
			return;
		}
		if (c->fd != -1 && !c->connecting && c->qlen > 0 &&
		    now >= c->q[c->qhead].due)
			conn_read(c);
		if (gen == lk.gen && c->fd != -1 && c->qlen > 0 &&
		    now >= c->q[c->qhead].due) {
			link_drop("no answer from Redis within %u ms",
			    lk.timeout_ms);
			return;
		}
	}
}

/* End of a loop turn: write what was queued during it. */
void
link_flush(void)
{
	for (int i = 0; i < LINK_NCONN; i++)
		if (lk.c[i].out.len > 0)
			conn_write(&lk.c[i]);
}

/* Close the link for good (the server is stopping). */
void
link_close(void)
{
	for (int i = 0; i < LINK_NCONN; i++)
		conn_close(&lk.c[i]);
	lk.state = LINK_OFF;
}

/* How the link is. */
enum link_state
link_state(void)
{
	return lk.state;
}

/* The Redis address, as configured. */
const char *
link_address(void)
{
	return lk.addr_text;
}

/* Why the link went down last ("" if it never did). */
const char *
link_why(void)
{
	return lk.why;
}

/* How many times the link has come up. */
uint64_t
link_ups(void)
{
	return lk.ups;
}

/* A live upgrade: the password, the backoff, the last failure. */
int
link_save(struct snap *s)
{
	snap_begin(s, SNAP_CL_LINK);
	snap_u32(s, lk.backoff_ms);
	snap_u32(s, lk.failing);
	snap_str(s, lk.why);		/* no control characters: link_drop */
	snap_bytes(s, lk.password, strlen(lk.password));
	snap_end(s);
	return s->failed ? -1 : 0;
}

/* SNAP_CL_LINK: for link_reopen(); -1 if it does not read. */
int
link_restore(struct msg *m)
{
	uint32_t backoff, failing;
	const char *pw;
	size_t len;

	if (msg_u32(m, &backoff) == -1 || msg_u32(m, &failing) == -1 ||
	    msg_str(m, lk.why, sizeof(lk.why)) == -1 ||
	    msg_rest(m, &pw, &len) == -1 || len >= sizeof(lk.password) ||
	    memchr(pw, '\0', len) != NULL || backoff > RETRY_MAX_MS)
		return -1;
	lk.backoff_ms = backoff < RETRY_FIRST_MS ? RETRY_FIRST_MS : backoff;
	lk.failing = failing != 0;
	memcpy(lk.password, pw, len);
	lk.password[len] = '\0';
	return 0;
}

/*
 * After a live upgrade: connect to address, with the password the
 * snapshot gave, as link_open() does.
 */
int
link_reopen(const char *address, unsigned timeout_ms)
{
	char pw[sizeof(lk.password)];
	int r;

	memcpy(pw, lk.password, sizeof(pw));
	r = link_open(address, pw, timeout_ms);
	explicit_bzero(pw, sizeof(pw));
	return r;
}
