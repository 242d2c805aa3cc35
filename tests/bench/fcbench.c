/*
 * fcbench.c - benchmark client for forkchat-style line chat servers.
 *
 * One process, one epoll loop, non-blocking sockets.  Every mode first
 * opens -n connections (-P at a time) and waits for each greeting; all
 * but the connect mode then pass a barrier: one client sends a marker
 * and we wait until every other client has it, so the flood of "***
 * guestN joined" notices is behind us before anything is measured (the
 * server relays in one global order).
 *
 *   default  messages: -s senders (clients 0..s-1) send -m messages of
 *            -b bytes, "B <sender> <seq> <t_ns> xxx..", at -r msgs/s each
 *            (0: as fast as the window allows) with at most -w in flight
 *            behind the slowest receiver.  Reports deliveries/s, latency
 *            percentiles (receive time - embedded CLOCK_MONOTONIC send
 *            time), lost/dup/out-of-order, and our own CPU use.
 *   -c       connect: -n connects, -P at a time, each closed after its
 *            greeting; connections/s and connect->greeting latency.
 *   -i       idle: hold -n clients, then PSS summed over the process tree
 *            of -S PID (smaps_rollup), per client, and the root's RSS;
 *            and the machine's memory per client: how much MemAvailable
 *            fell since before we connected, less what we grew by
 *            ourselves, and how much PageTables, Slab and KernelStack
 *            grew.  With -B, then a burst of traffic as in the default
 *            mode (-s, -m, -b, -w), idle again (-W), and the same
 *            figures ("burst_" keys).  -N skips the barrier, for a
 *            server that relays nothing (the fork floor).
 *   -x       scale: hold -n clients, one client sends -m (default 1)
 *            broadcasts one after another; time until all others have
 *            each, and memory as with -i.  With -K, then SIGINT -S PID
 *            and time until it and every descendant are gone (pidfds)
 *            and every client closed.
 *
 * Every socket is closed with a reset (SO_LINGER 0), so that we leave
 * no TIME_WAIT behind to slow down later connects.  -D FILE writes the
 * latency distribution for a plot.
 *
 * Output: one line of key=value on stdout, a summary on stderr.
 * Per message the work is O(1): sequence checks use a bitmap, flow
 * control a per-message receiver count.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "fcproc.h"

#define RBUF_SIZE	(256 * 1024)	/* one read() takes this much */
#define CARRY_MAX	8192		/* longest line we keep whole */
#define WBUF_MAX	(64 * 1024)	/* a sender formats this much at once */
#define MAX_EVENTS	1024
#define STALL_NS	(3 * NS)	/* no progress this long: give up */
#define NS		1000000000ULL
#define PIDFD_TAG	(1ULL << 32)	/* epoll data: pidfd, not a conn */
#define LOW_MEMORY_PCT	25		/* stop connecting below this */
#define SYS_LOOKS	5		/* at the machine's memory, median */
#define SYS_GAP_NS	(50 * 1000000ULL)	/* between two looks */
#define QUIET_LOOKS	5		/* MemAvailable still over 5 looks, */
#define QUIET_GAP_NS	(100 * 1000000ULL)	/* 100 ms apart, */
#define QUIET_KIB	1024		/* moving less than this: quiet */
#define QUIET_MAX_NS	(5 * NS)	/* but wait no longer than this */

enum cstate { C_IDLE, C_CONNECTING, C_GREETING, C_READY, C_CLOSED };
enum mode { M_MSGS, M_CONNECT, M_IDLE, M_SCALE };

struct conn {
	int	 fd;
	uint8_t	 state;
	bool	 want_out;	/* EPOLLOUT armed */
	bool	 overlong;	/* carry overflowed: rest of line ignored */
	uint16_t carrylen;
	char	*carry;		/* partial line, CARRY_MAX, lazily */
	uint32_t barrier;	/* last barrier nonce seen */
	uint64_t t0;		/* connect() called */
};

struct sender {
	uint32_t next;		/* next sequence number to send */
	uint32_t acked;		/* every receiver has all seq < acked */
	uint32_t *got;		/* got[seq]: receivers that have it */
	bool	 queued;	/* on the pump list */
	char	*wbuf;		/* formatted, not yet written */
	size_t	 woff, wlen;
};

static struct {
	const char *host, *label;
	const char *dump;	/* -D: latency percentiles go there */
	int	 port, n, s, P;
	uint32_t m, b, w;
	double	 r;
	enum mode mode;
	pid_t	 spid;
	bool	 kill, burst;
	bool	 nobarrier;	/* -N: the server relays nothing */
	uint64_t deadline_ns, settle_ns;
} opt = { .host = "127.0.0.1", .n = 10, .s = 1, .m = 1000, .b = 64,
	.w = 64, .mode = M_MSGS, .deadline_ns = 60 * NS, .settle_ns = NS };

static struct conn *conns;
static struct sender *snd;
static int ep, npidfds, pidfds_open;
static int *pump_list, npump;
static struct sockaddr_in sa;

/* What the run saw; printed at the end. */
static struct {
	int	 started, ready, failed, closed, inflight;
	char	 fail_why[160];
	uint64_t notices, errs, other, echo, byes;
	uint64_t deliveries, dups, ooo, bad;
	uint64_t t_first_send, t_last_delivery, t_progress;
	uint32_t barrier_nonce, barrier_got;
	double	 connect_s;	/* time to connect everyone */
	bool	 partial;	/* connect deadline: fewer clients */
	bool	 low_memory;	/* stopped connecting: RAM running out */
	int	 ready0;	/* clients when the measurement began */
	uint64_t *lat;		/* latencies, ns */
	size_t	 nlat, latcap;
	uint64_t *seen;		/* bitmap [receiver][sender][seq] */
	uint32_t *rmax;		/* [receiver][sender]: highest seq + 1 */
	uint64_t *pids_gone_at;
	uint64_t t_root_gone, t_tree_gone, t_clients_closed;
	int	 pids_gone;
} st;

/* Now, CLOCK_MONOTONIC, in ns: the clock embedded in every message. */
static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

/* Print a message and exit 1: setup we cannot do without. */
_Noreturn static void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "fcbench: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

/* calloc or die. */
static void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (p == NULL)
		die("out of memory (%zu x %zu)", n, size);
	return p;
}

/* Remember why the first connection failed; count every failure. */
static void
note_failure(const char *fmt, ...)
{
	va_list ap;

	if (st.failed++ == 0) {
		va_start(ap, fmt);
		vsnprintf(st.fail_why, sizeof(st.fail_why), fmt, ap);
		va_end(ap);
	}
}

static void sender_advance(int);
static void pump_queue(int);

/* ---- connections ---------------------------------------------------- */

/* Watch connection i for input, and for output too if out. */
static void
conn_events(int i, bool out)
{
	struct epoll_event ev = { .events = EPOLLIN | (out ? EPOLLOUT : 0),
	    .data.u64 = (uint64_t)i };

	if (epoll_ctl(ep, EPOLL_CTL_MOD, conns[i].fd, &ev) == -1)
		die("epoll_ctl: %s", strerror(errno));
	conns[i].want_out = out;
}

/* Close a connection; an unexpected close while ready is counted. */
static void
conn_close(int i)
{
	struct conn *c = &conns[i];

	if (c->state == C_CLOSED || c->state == C_IDLE)
		return;
	if (c->state == C_CONNECTING || c->state == C_GREETING)
		st.inflight--;
	if (c->state == C_READY) {
		st.ready--;
		st.closed++;
	}
	(void)close(c->fd);
	c->fd = -1;
	c->state = C_CLOSED;
	free(c->carry);
	c->carry = NULL;
	if (st.ready == 0 && st.t_clients_closed == 0)
		st.t_clients_closed = mono_ns();
	/* One receiver fewer: windows may open. */
	for (int s = 0; snd != NULL && s < opt.s; s++)
		sender_advance(s), pump_queue(s);
}

/* Start a non-blocking connect for conns[i]. */
static void
conn_start(int i)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT,
	    .data.u64 = (uint64_t)i };
	static const struct linger abort_on_close = { 1, 0 };
	struct conn *c = &conns[i];
	int on = 1;

	st.started++;
	if ((c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1) {
		note_failure("socket: %s", strerror(errno));
		c->state = C_CLOSED;
		return;
	}
	/* Nagle would only measure our own batching, not the server. */
	(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	/*
	 * Our close (or exit) resets the connection: no TIME_WAIT is left
	 * on our side to slow down the next connect() (see ./run).
	 */
	if (setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &abort_on_close,
	    sizeof(abort_on_close)) == -1)
		die("setsockopt SO_LINGER: %s", strerror(errno));
	c->t0 = mono_ns();
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 &&
	    errno != EINPROGRESS) {
		note_failure("connect: %s", strerror(errno));
		(void)close(c->fd);
		c->state = C_CLOSED;
		return;
	}
	if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) == -1)
		die("epoll_ctl: %s", strerror(errno));
	c->want_out = true;
	c->state = C_CONNECTING;
	st.inflight++;
}

/* ---- measurements --------------------------------------------------- */

/* Record one latency sample (ns). */
static void
lat_add(uint64_t v)
{
	if (st.nlat == st.latcap) {
		st.latcap = st.latcap ? st.latcap * 2 : 65536;
		st.lat = realloc(st.lat, st.latcap * sizeof(*st.lat));
		if (st.lat == NULL)
			die("out of memory for latencies");
	}
	st.lat[st.nlat++] = v;
}

/* qsort order for latencies. */
static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* q-quantile of the sorted latencies, in microseconds. */
static double
pct_us(double q)
{
	if (st.nlat == 0)
		return -1;
	return (double)st.lat[(size_t)(q * (double)(st.nlat - 1) + 0.5)] /
	    1e3;
}

/*
 * -D: the latency distribution for a plot, as lines "x percentile us",
 * x = -log10(1 - percentile/100) in steps of 0.01 (so the tail gets as
 * many points as the body) up to the last sample, then the maximum at
 * x = log10(samples).  The latencies must be sorted.
 */
static void
lat_dump(void)
{
	const double step = 0.977237220955810;	/* 10^-0.01 */
	double tail = 1;			/* 1 - q */
	double xmax;
	size_t i;
	FILE *f;

	if (opt.dump == NULL || st.nlat == 0)
		return;
	xmax = log10((double)st.nlat);
	if ((f = fopen(opt.dump, "we")) == NULL) {
		fprintf(stderr, "fcbench: %s: %s\n", opt.dump, strerror(errno));
		return;
	}
	fprintf(f, "# %s: %zu samples\n# x percentile latency_us\n",
	    opt.label ? opt.label : "latency", st.nlat);
	for (int k = 0; k < 100 * xmax; k++) {
		i = (size_t)((1 - tail) * (double)(st.nlat - 1) + 0.5);
		fprintf(f, "%.2f %.5f %.1f\n", k / 100.0, 100 * (1 - tail),
		    (double)st.lat[i] / 1e3);
		tail *= step;
	}
	fprintf(f, "%.2f 100 %.1f\n", xmax,
	    (double)st.lat[st.nlat - 1] / 1e3);
	if (fclose(f) == EOF)
		fprintf(stderr, "fcbench: %s: %s\n", opt.dump, strerror(errno));
}

/* Our own CPU time so far (user + system), seconds. */
static double
cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* ---- senders ---------------------------------------------------------- */

/* Note that sender s may have room to send: pumped after the events. */
static void
pump_queue(int s)
{
	if (!snd[s].queued) {
		snd[s].queued = true;
		pump_list[npump++] = s;
	}
}

/* Receivers each sender waits for: every ready client but itself. */
static uint32_t
receivers_of(int s)
{
	return (uint32_t)(st.ready - (conns[s].state == C_READY));
}

/* Move acked past every message all receivers have. */
static void
sender_advance(int s)
{
	struct sender *x = &snd[s];
	uint32_t need = receivers_of(s);

	while (x->acked < x->next && x->got[x->acked] >= need)
		x->acked++;
}

/* When message seq of sender s is due (rate mode). */
static uint64_t
due_ns(int s, uint32_t seq)
{
	return st.t_first_send + (uint64_t)(((double)seq +
	    (double)s / opt.s) * 1e9 / opt.r);
}

/* Decimal digits of v at p; returns the end. */
static char *
put_u64(char *p, uint64_t v)
{
	char tmp[24];
	int n = 0;

	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (n > 0)
		*p++ = tmp[--n];
	return p;
}

/* Write what we have formatted; arm EPOLLOUT if the kernel is full. */
static void
sender_flush(int s)
{
	struct sender *x = &snd[s];
	ssize_t n;

	while (x->woff < x->wlen) {
		n = write(conns[s].fd, x->wbuf + x->woff, x->wlen - x->woff);
		if (n > 0) {
			x->woff += (size_t)n;
		} else if (n == -1 && errno == EINTR) {
			continue;
		} else if (n == -1 && errno == EAGAIN) {
			if (!conns[s].want_out)
				conn_events(s, true);
			return;
		} else {
			fprintf(stderr, "fcbench: sender %d: write: %s\n", s,
			    strerror(errno));
			conn_close(s);
			return;
		}
	}
	x->woff = x->wlen = 0;
	if (conns[s].want_out)
		conn_events(s, false);
}

/*
 * Send what sender s may send now: behind the window, on schedule.
 * Messages are formatted only when the socket took everything before,
 * so the timestamp is the moment the bytes go to the kernel.
 */
static void
sender_pump(int s, uint64_t now)
{
	struct sender *x = &snd[s];
	char *p;

	if (conns[s].state != C_READY || st.t_first_send == 0)
		return;		/* not connected, or not measuring yet */
	if (x->wlen > 0) {
		sender_flush(s);
		if (x->wlen > 0)
			return;
	}
	while (x->next < opt.m && (opt.w == 0 || x->next < x->acked + opt.w) &&
	    (opt.r == 0 || due_ns(s, x->next) <= now) &&
	    x->wlen + opt.b + 64 <= WBUF_MAX) {
		p = x->wbuf + x->wlen;
		*p++ = 'B';
		*p++ = ' ';
		p = put_u64(p, (uint64_t)s);
		*p++ = ' ';
		p = put_u64(p, x->next);
		*p++ = ' ';
		p = put_u64(p, now);
		*p++ = ' ';
		while ((uint32_t)(p - (x->wbuf + x->wlen)) < opt.b)
			*p++ = 'x';
		*p++ = '\n';
		x->wlen = (size_t)(p - x->wbuf);
		x->next++;
	}
	if (x->wlen > 0) {
		st.t_progress = now;
		sender_flush(s);
	}
}

/* ---- receiving -------------------------------------------------------- */

/* Parse a decimal number at *pp, advancing past one following space. */
static bool
get_u64(const char **pp, const char *end, uint64_t *v)
{
	const char *p = *pp;
	uint64_t x = 0;

	if (p >= end || *p < '0' || *p > '9')
		return false;
	while (p < end && *p >= '0' && *p <= '9')
		x = x * 10 + (uint64_t)(*p++ - '0');
	if (p < end && *p == ' ')
		p++;
	*pp = p;
	*v = x;
	return true;
}

/* Receiver r got "B s seq t": check order and count it once. */
static void
on_bench(int r, const char *p, const char *end, uint64_t now)
{
	uint64_t s, seq, t, bit;
	struct sender *x;

	if (!get_u64(&p, end, &s) || !get_u64(&p, end, &seq) ||
	    !get_u64(&p, end, &t) || s >= (uint64_t)opt.s || seq >= opt.m) {
		st.bad++;
		return;
	}
	if ((int)s == r) {
		st.echo++;
		return;
	}
	bit = ((uint64_t)r * (uint64_t)opt.s + s) * opt.m + seq;
	if (st.seen[bit / 64] & (1ULL << (bit % 64))) {
		st.dups++;
		return;
	}
	st.seen[bit / 64] |= 1ULL << (bit % 64);
	/* A later message of this sender already here?  Out of order. */
	if (seq < st.rmax[bit / opt.m])
		st.ooo++;
	else
		st.rmax[bit / opt.m] = (uint32_t)seq + 1;
	st.deliveries++;
	st.t_last_delivery = st.t_progress = now;
	lat_add(now - t);
	x = &snd[s];
	x->got[seq]++;
	if (seq == x->acked) {
		sender_advance((int)s);
		pump_queue((int)s);
	}
}

/* A barrier marker "S nonce". */
static void
on_barrier(int r, const char *p, const char *end)
{
	uint64_t nonce;

	if (get_u64(&p, end, &nonce) && nonce == st.barrier_nonce &&
	    conns[r].barrier != nonce) {
		conns[r].barrier = (uint32_t)nonce;
		st.barrier_got++;
	}
}

/* The greeting arrived: the client is in. */
static void
on_greeting(int i, uint64_t now)
{
	conns[i].state = C_READY;
	st.ready++;
	st.inflight--;
	if (opt.mode == M_CONNECT) {
		lat_add(now - conns[i].t0);
		conn_close(i);
		st.closed--;	/* that close was ours */
	}
}

/* One line (without LF) from connection i. */
static void
on_line(int i, const char *p, size_t n, uint64_t now)
{
	const char *end = p + n, *q;

	if (n > 0 && end[-1] == '\r')
		end--;
	if (end - p >= 4 && memcmp(p, "*** ", 4) == 0) {
		if (conns[i].state == C_GREETING)
			on_greeting(i, now);
		else if (end - p >= 24 && memcmp(p + 4, "server shutting down",
		    20) == 0)
			st.byes++;
		else
			st.notices++;
	} else if (end - p >= 4 && memcmp(p, "ERR ", 4) == 0) {
		if (conns[i].state == C_GREETING) {
			note_failure("server said: %.*s", (int)(end - p), p);
			conn_close(i);
		} else {
			st.errs++;
		}
	} else if (p < end && *p == '<' &&
	    (q = memchr(p, '>', (size_t)(end - p))) != NULL &&
	    q + 3 < end && q[1] == ' ' && q[3] == ' ') {
		if (q[2] == 'B')
			on_bench(i, q + 4, end, now);
		else if (q[2] == 'S')
			on_barrier(i, q + 4, end);
		else
			st.other++;
	} else {
		st.other++;
	}
}

/* Keep a partial line for the next read. */
static void
carry_add(struct conn *c, const char *p, size_t n)
{
	if (c->carry == NULL && (c->carry = malloc(CARRY_MAX)) == NULL)
		die("out of memory");
	if (c->carrylen + n > CARRY_MAX) {
		c->overlong = true;	/* keep the head; the tail is lost */
		n = CARRY_MAX - c->carrylen;
	}
	memcpy(c->carry + c->carrylen, p, n);
	c->carrylen = (uint16_t)(c->carrylen + n);
}

/* Connection i is readable: one big read, split into lines. */
static void
conn_read(int i)
{
	static char buf[RBUF_SIZE];
	struct conn *c = &conns[i];
	const char *p = buf, *end, *nl;
	uint64_t now;
	ssize_t n;

	n = read(c->fd, buf, sizeof(buf));
	now = mono_ns();
	if (n <= 0) {
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (c->state == C_GREETING || c->state == C_CONNECTING)
			note_failure("%s before the greeting", n == 0 ?
			    "end of file" : strerror(errno));
		conn_close(i);
		return;
	}
	end = buf + n;
	if (c->carrylen > 0) {
		if ((nl = memchr(p, '\n', (size_t)n)) == NULL) {
			carry_add(c, p, (size_t)n);
			return;
		}
		carry_add(c, p, (size_t)(nl - p));
		if (c->overlong)
			st.other++;
		else
			on_line(i, c->carry, c->carrylen, now);
		c->carrylen = 0;
		c->overlong = false;
		p = nl + 1;
	}
	while (p < end && c->state != C_CLOSED &&
	    (nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		on_line(i, p, (size_t)(nl - p), now);
		p = nl + 1;
	}
	if (p < end && c->state != C_CLOSED)
		carry_add(c, p, (size_t)(end - p));
}

/* Connection i is writable: connected, or a sender may go on. */
static void
conn_writable(int i, uint64_t now)
{
	struct conn *c = &conns[i];
	int err = 0;
	socklen_t len = sizeof(err);

	if (c->state == C_CONNECTING) {
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
			err = errno;
		if (err != 0) {
			note_failure("connect: %s", strerror(err));
			conn_close(i);
			return;
		}
		c->state = C_GREETING;
		conn_events(i, false);
	} else if (c->state == C_READY && i < opt.s && snd != NULL) {
		sender_flush(i);
		if (snd[i].wlen == 0)
			sender_pump(i, now);
	} else {
		conn_events(i, false);
	}
}

/* A pidfd fired: that process of the server tree has exited. */
static void
on_pidfd(int k, uint64_t now)
{
	if (st.pids_gone_at[k] != 0)
		return;
	st.pids_gone_at[k] = now;
	st.pids_gone++;
	if (k == 0)
		st.t_root_gone = now;
	if (st.pids_gone == npidfds)
		st.t_tree_gone = now;
}

/* ---- the loop --------------------------------------------------------- */

/* Nearest time a rate-limited sender has something due, or 0. */
static uint64_t
next_due(void)
{
	uint64_t best = 0, d;

	if (opt.r == 0 || snd == NULL || st.t_first_send == 0)
		return 0;
	for (int s = 0; s < opt.s; s++) {
		if (snd[s].next >= opt.m || snd[s].wlen > 0 ||
		    (opt.w != 0 && snd[s].next >= snd[s].acked + opt.w))
			continue;
		d = due_ns(s, snd[s].next);
		if (best == 0 || d < best)
			best = d;
	}
	return best;
}

/* Wait for events until deadline (or the next send), handle them. */
static void
loop_once(uint64_t deadline)
{
	static struct epoll_event evs[MAX_EVENTS];
	uint64_t now = mono_ns(), until = deadline, due = next_due();
	int n, ms;

	if (due != 0 && due < until)
		until = due;
	ms = until <= now ? 0 : (int)((until - now + 999999) / 1000000);
	if ((n = epoll_wait(ep, evs, MAX_EVENTS, ms)) == -1) {
		if (errno == EINTR)
			return;
		die("epoll_wait: %s", strerror(errno));
	}
	now = mono_ns();
	for (int k = 0; k < n; k++) {
		uint64_t tag = evs[k].data.u64;
		int i = (int)(tag & 0xffffffffu);

		if (tag & PIDFD_TAG) {
			on_pidfd(i, now);
			continue;
		}
		if (conns[i].state == C_CLOSED)
			continue;
		if (evs[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR) &&
		    conns[i].state != C_CONNECTING)
			conn_read(i);
		else if (evs[k].events & (EPOLLHUP | EPOLLERR))
			conn_writable(i, now);	/* reports the error */
		if (conns[i].state != C_CLOSED && (evs[k].events & EPOLLOUT))
			conn_writable(i, now);
	}
	/* Senders whose window opened, then those whose time came. */
	for (int k = 0; k < npump; k++) {
		snd[pump_list[k]].queued = false;
		sender_pump(pump_list[k], now);
	}
	npump = 0;
	if (opt.r != 0 && snd != NULL && st.t_first_send != 0)
		for (int s = 0; s < opt.s; s++)
			if (snd[s].wlen == 0)
				sender_pump(s, now);
}

static struct proc_sys sys_now;	/* the machine's memory, last look */

/*
 * The machine is running out of memory: a server whose memory grows
 * faster than linearly must not take the machine (and everyone on it)
 * down with it.  Below LOW_MEMORY_PCT of RAM available we stop.
 */
static bool
low_memory(void)
{
	if (proc_meminfo(&sys_now) == -1)
		return false;
	return sys_now.avail < sys_now.total / 100 * LOW_MEMORY_PCT;
}

/* Open total connections, par at a time; false if the deadline hit. */
static bool
connect_all(int total, int par, uint64_t deadline)
{
	uint64_t t0 = mono_ns(), report = t0 + 5 * NS, check = t0, now;
	int next = 0;

	while ((now = mono_ns()) < deadline) {
		while (st.inflight < par && next < total)
			conn_start(next++);
		if (next == total && st.inflight == 0)
			return true;
		if (now >= check) {
			if (low_memory()) {
				st.low_memory = true;
				fprintf(stderr, "fcbench: only %ld of %ld MiB "
				    "memory available: no more connections\n",
				    sys_now.avail >> 10, sys_now.total >> 10);
				return false;
			}
			check = now + NS / 4;
		}
		if (now >= report) {	/* a slow server: show how far */
			fprintf(stderr, "fcbench: %.0f s: %d ready, %d in "
			    "flight, %d failed, %ld MiB available\n",
			    (double)(now - t0) / 1e9, st.ready, st.inflight,
			    st.failed, sys_now.avail >> 10);
			report += 5 * NS;
		}
		loop_once(report < check ? report : check);
	}
	return false;
}

/* A marker from the first ready client; wait until all others have it. */
static bool
barrier(uint64_t deadline)
{
	uint64_t t0, now, report;
	char line[32];
	int from = -1, len;

	for (int i = 0; i < opt.n && from == -1; i++)
		if (conns[i].state == C_READY)
			from = i;
	if (from == -1)
		return false;
	st.barrier_nonce++;
	st.barrier_got = 0;
	len = snprintf(line, sizeof(line), "S %u\n", st.barrier_nonce);
	if (write(conns[from].fd, line, (size_t)len) != len)
		return false;
	t0 = mono_ns();
	report = t0 + 5 * NS;
	while (st.barrier_got < (uint32_t)(st.ready - 1)) {
		if ((now = mono_ns()) >= deadline)
			return false;
		if (now >= report) {
			fprintf(stderr, "fcbench: barrier: %u of %d clients "
			    "after %.0f s\n", st.barrier_got, st.ready - 1,
			    (double)(now - t0) / 1e9);
			report += 5 * NS;
		}
		loop_once(report < deadline ? report : deadline);
	}
	return true;
}

/* ---- modes ------------------------------------------------------------ */

/* Start of the output line, common to every mode. */
static void
out_head(const char *mode)
{
	printf("scenario=%s mode=%s clients_wanted=%d clients=%d failed=%d",
	    opt.label ? opt.label : mode, mode, opt.n, st.ready, st.failed);
}

/* Say why connections failed, if any did. */
static void
out_fail_why(void)
{
	if (st.failed > 0)
		fprintf(stderr, "fcbench: %d connection(s) failed; first: %s\n",
		    st.failed, st.fail_why);
}

/* Senders' state, the bitmap, and the latency array. */
static void
msgs_alloc(void)
{
	uint64_t bits = (uint64_t)opt.n * (uint64_t)opt.s * opt.m;

	if (opt.s > opt.n || opt.s < 1)
		die("-s must be 1..-n");
	if (bits > 8ULL * 1024 * 1024 * 1024)
		die("-n x -s x -m too large for the sequence bitmap");
	st.seen = xcalloc((size_t)(bits / 64 + 2), sizeof(uint64_t));
	st.rmax = xcalloc((size_t)opt.n * (size_t)opt.s, sizeof(uint32_t));
	snd = xcalloc((size_t)opt.s, sizeof(*snd));
	pump_list = xcalloc((size_t)opt.s, sizeof(int));
	for (int s = 0; s < opt.s; s++) {
		snd[s].got = xcalloc(opt.m, sizeof(uint32_t));
		snd[s].wbuf = xcalloc(1, WBUF_MAX);
	}
	st.latcap = (size_t)opt.s * opt.m * (size_t)(opt.n - 1) + 1;
	st.lat = xcalloc(st.latcap, sizeof(uint64_t));
}

/* Has every receiver got every message of every sender? */
static bool
msgs_done(void)
{
	for (int s = 0; s < opt.s; s++)
		if (snd[s].acked < opt.m)
			return false;
	return true;
}

/* How long the setup took and whether it was cut short. */
static void
out_setup(double setup_s)
{
	printf(" setup_s=%.2f connect_s=%.2f partial=%d low_memory=%d", setup_s,
	    st.connect_s, st.partial, st.low_memory);
}

/* Give up on connections still in flight at the connect deadline. */
static void
drop_inflight(void)
{
	for (int i = 0; i < opt.n; i++)
		if (conns[i].state == C_CONNECTING ||
		    conns[i].state == C_GREETING)
			conn_close(i);
}

/*
 * Clients connected and past the barrier; false (and a line) if not.
 * With partial_ok, a connect deadline leaves us with the clients we have.
 */
static bool
setup_clients(const char *mode, bool partial_ok, double *setup_s)
{
	uint64_t t0 = mono_ns();
	const char *err = NULL;
	bool ok;

	ok = connect_all(opt.n, opt.P, t0 + opt.deadline_ns);
	st.connect_s = (double)(mono_ns() - t0) / 1e9;
	if (!ok && partial_ok && st.ready >= 2) {
		fprintf(stderr, "fcbench: %s after %.1f s: going on with %d "
		    "of %d clients (%d in flight dropped)\n", st.low_memory ?
		    "low memory" : "connect deadline", st.connect_s, st.ready,
		    opt.n, st.inflight);
		drop_inflight();
		st.partial = ok = true;
	}
	if (!ok)
		err = st.ready < 2 ? "too_few_clients" : "connect_timeout";
	else if (!partial_ok && st.ready < opt.n)
		err = "not_all_connected";
	else if (conns[0].state != C_READY)
		err = "first_client_not_connected";
	else if (!opt.nobarrier && !barrier(mono_ns() + opt.deadline_ns))
		err = "barrier_timeout";
	*setup_s = (double)(mono_ns() - t0) / 1e9;
	if (err == NULL)
		return true;
	out_head(mode);
	printf(" setup_s=%.2f connect_s=%.2f error=%s\n", *setup_s,
	    st.connect_s, err);
	out_fail_why();
	fprintf(stderr, "fcbench: setup failed (%s): %d of %d clients ready, "
	    "%d in flight, barrier %u of %d, after %.1f s\n", err, st.ready,
	    opt.n, st.inflight, st.barrier_got, st.ready - 1, *setup_s);
	return false;
}

/* What a messages run measured besides the counters in st. */
struct run {
	double	 elapsed;	/* first send to last delivery, s */
	double	 cpu;		/* our CPU time, s */
	double	 srv_pct;	/* server tree CPU, % of one core; -1: no -S */
	double	 busy_pct;	/* whole machine busy, % of all CPUs */
};

/* Send and receive until every message is everywhere or time is up. */
static void
msgs_measure(struct run *m)
{
	uint64_t t0, t1, deadline, ticks0, ticks1, b0, b1, j0, j1;
	double cpu0;

	ticks0 = proc_tree_ticks(opt.spid);
	proc_jiffies(&b0, &j0);
	cpu0 = cpu_s();
	t0 = mono_ns();
	deadline = t0 + opt.deadline_ns;
	st.t_first_send = st.t_progress = t0;
	st.nlat = 0;
	st.ready0 = st.ready;
	for (int s = 0; s < opt.s; s++)
		sender_pump(s, t0);
	while (!msgs_done()) {
		uint64_t now = mono_ns(), stall = st.t_progress + STALL_NS;

		if (now >= deadline || now >= stall)
			break;
		loop_once(stall < deadline ? stall : deadline);
	}
	t1 = st.t_last_delivery > t0 ? st.t_last_delivery : mono_ns();
	m->cpu = cpu_s() - cpu0;
	proc_jiffies(&b1, &j1);
	ticks1 = proc_tree_ticks(opt.spid);
	m->elapsed = (double)(t1 - t0) / 1e9;
	m->srv_pct = opt.spid <= 0 ? -1 : 100.0 *
	    (double)(ticks1 - ticks0) / (double)sysconf(_SC_CLK_TCK) /
	    ((double)(mono_ns() - t0) / 1e9);
	m->busy_pct = j1 > j0 ? 100.0 * (double)(b1 - b0) /
	    (double)(j1 - j0) : -1;
}

/* Latency, loss and rate figures of a messages run. */
static void
out_msgs(const struct run *m)
{
	double elapsed = m->elapsed, cpu = m->cpu, srv_cpu_pct = m->srv_pct;
	uint64_t expected = (uint64_t)opt.s * opt.m * (uint64_t)(st.ready0 - 1);
	uint64_t sent = 0;

	for (int s = 0; s < opt.s; s++)
		sent += snd[s].next;
	qsort(st.lat, st.nlat, sizeof(*st.lat), cmp_u64);
	lat_dump();
	printf(" senders=%d msgs=%u bytes=%u rate=%g window=%u sent=%" PRIu64
	    " expected=%" PRIu64 " deliveries=%" PRIu64 " lost=%" PRIu64
	    " dup=%" PRIu64 " ooo=%" PRIu64 " bad=%" PRIu64 " echo=%" PRIu64
	    " closed=%d elapsed_s=%.3f deliveries_per_s=%.0f msgs_per_s=%.0f",
	    opt.s, opt.m, opt.b, opt.r, opt.w, sent, expected, st.deliveries,
	    expected - st.deliveries, st.dups, st.ooo, st.bad, st.echo,
	    st.closed, elapsed, (double)st.deliveries / elapsed,
	    (double)sent / elapsed);
	if (st.nlat > 0)	/* no samples, no latency keys */
		printf(" p50_us=%.1f p90_us=%.1f p99_us=%.1f p999_us=%.1f "
		    "max_us=%.1f", pct_us(0.5), pct_us(0.9), pct_us(0.99),
		    pct_us(0.999), pct_us(1.0));
	printf(" client_cpu_s=%.3f client_cpu_pct=%.1f", cpu,
	    100 * cpu / elapsed);
	if (srv_cpu_pct >= 0)
		printf(" server_cpu_pct=%.1f", srv_cpu_pct);
	if (m->busy_pct >= 0)
		printf(" machine_busy_pct=%.1f", m->busy_pct);
	printf(" notices=%" PRIu64 " errs=%" PRIu64 " other=%" PRIu64,
	    st.notices, st.errs, st.other);
	fprintf(stderr, "%s: %d clients, %d sender(s) x %u msgs of %u B: "
	    "%.0f deliveries/s, latency p50 %.0f us p99 %.0f us max %.0f us "
	    "(-1: none), lost %" PRIu64 " dup %" PRIu64 " ooo %" PRIu64
	    "; our CPU %.0f%%, server tree CPU %.0f%%, machine %.0f%% busy\n",
	    opt.label ? opt.label : "msgs", st.ready, opt.s, opt.m, opt.b,
	    (double)st.deliveries / elapsed, pct_us(0.5), pct_us(0.99),
	    pct_us(1.0), expected - st.deliveries, st.dups, st.ooo,
	    100 * cpu / elapsed, srv_cpu_pct, m->busy_pct);
}

/* Default mode: senders, window, rate. */
static int
run_msgs(void)
{
	struct run m;
	double setup_s;

	msgs_alloc();
	if (!setup_clients("msgs", false, &setup_s))
		return 1;
	msgs_measure(&m);
	out_head("msgs");
	out_msgs(&m);
	out_setup(setup_s);
	printf("\n");
	return st.deliveries == (uint64_t)opt.s * opt.m * (uint64_t)(opt.n - 1)
	    && st.dups == 0 && st.ooo == 0 && st.bad == 0 ? 0 : 3;
}

/* -c: connect, wait for the greeting, close; P at a time. */
static int
run_connect(void)
{
	uint64_t t0, t1;
	double el;
	bool ok;

	t0 = mono_ns();
	ok = connect_all(opt.n, opt.P, t0 + opt.deadline_ns);
	t1 = mono_ns();
	el = (double)(t1 - t0) / 1e9;
	qsort(st.lat, st.nlat, sizeof(*st.lat), cmp_u64);
	lat_dump();
	printf("scenario=%s mode=connect connects=%d parallel=%d ok=%zu "
	    "failed=%d complete=%d elapsed_s=%.3f conn_per_s=%.0f p50_us=%.1f "
	    "p90_us=%.1f p99_us=%.1f max_us=%.1f client_cpu_pct=%.1f\n",
	    opt.label ? opt.label : "connect", opt.n, opt.P, st.nlat,
	    st.failed, ok, el, (double)st.nlat / el, pct_us(0.5), pct_us(0.9),
	    pct_us(0.99), pct_us(1.0), 100 * cpu_s() / el);
	fprintf(stderr, "%s: %zu of %d connects (%d at a time): %.0f/s, "
	    "connect->greeting p50 %.0f us p99 %.0f us max %.0f us\n",
	    opt.label ? opt.label : "connect", st.nlat, opt.n, opt.P,
	    (double)st.nlat / el, pct_us(0.5), pct_us(0.99), pct_us(1.0));
	out_fail_why();
	return ok && st.failed == 0 ? 0 : 3;
}

/* qsort order for longs. */
static int
cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

/* The median of n longs (reordered). */
static long
median_long(long *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_long);
	return v[n / 2];
}

/*
 * Memory of the server tree, and of the machine as the median of
 * SYS_LOOKS looks SYS_GAP_NS apart, events handled meanwhile: someone
 * else's process that lives for a moment shows in one look, not in the
 * median.  What the machine has is shared: others' work moves it.
 */
static void
mem_measure(struct proc_mem *m)
{
	long av[SYS_LOOKS], pt[SYS_LOOKS], sl[SYS_LOOKS], ks[SYS_LOOKS];
	struct proc_sys sys;
	uint64_t until;

	proc_mem(opt.spid, m);
	for (int k = 0; k < SYS_LOOKS; k++) {
		until = mono_ns() + SYS_GAP_NS;
		while (k > 0 && mono_ns() < until)
			loop_once(until);
		if (proc_meminfo(&sys) == -1)
			sys = m->sys;
		av[k] = sys.avail;
		pt[k] = sys.pagetables;
		sl[k] = sys.slab;
		ks[k] = sys.kstack;
	}
	m->sys.avail = median_long(av, SYS_LOOKS);
	m->sys.pagetables = median_long(pt, SYS_LOOKS);
	m->sys.slab = median_long(sl, SYS_LOOKS);
	m->sys.kstack = median_long(ks, SYS_LOOKS);
}

/*
 * Before the baseline, wait until the machine's memory holds still
 * (MemAvailable within QUIET_KIB over QUIET_LOOKS looks), QUIET_MAX_NS
 * at most: a server stopped just before goes on giving memory back for
 * a while (what waited for an RCU grace period, emptied slabs), which
 * would otherwise count against the next.  Returns the seconds waited,
 * negative if the memory never settled.
 */
static double
machine_quiet(void)
{
	uint64_t t0 = mono_ns(), until;
	long v[QUIET_LOOKS], lo, hi;
	struct proc_sys sys;

	for (int k = 0; mono_ns() < t0 + QUIET_MAX_NS; k++) {
		if (proc_meminfo(&sys) == -1)
			return 0;
		v[k % QUIET_LOOKS] = sys.avail;
		if (k + 1 >= QUIET_LOOKS) {
			lo = hi = v[0];
			for (int j = 1; j < QUIET_LOOKS; j++) {
				lo = v[j] < lo ? v[j] : lo;
				hi = v[j] > hi ? v[j] : hi;
			}
			if (hi - lo <= QUIET_KIB)
				return (double)(mono_ns() - t0) / 1e9;
		}
		until = mono_ns() + QUIET_GAP_NS;
		while (mono_ns() < until)
			loop_once(until);
	}
	fprintf(stderr, "fcbench: MemAvailable did not settle in %.0f s: "
	    "the machine's figures will be noisy\n", (double)QUIET_MAX_NS / 1e9);
	return -(double)(mono_ns() - t0) / 1e9;
}

/* One figure of the output line: " PREFIXKEY=V". */
static void
out_kv(const char *pfx, const char *key, double v)
{
	if (v == (double)(long)v)
		printf(" %s%s=%ld", pfx, key, (long)v);
	else
		printf(" %s%s=%.1f", pfx, key, v);
}

/*
 * Memory of the tree and of the machine, totals and per client, keys
 * named with prefix pfx.  The machine's figures are what it lost since
 * base, less what we grew by ourselves: the server's processes and
 * every kernel structure the clients cost, ours included (sockets).
 */
static void
out_mem(const char *pfx, const struct proc_mem *base,
    const struct proc_mem *m)
{
	double n = st.ready > 0 ? st.ready : 1;
	long self = m->self_kib - base->self_kib;
	long drop = base->sys.avail - m->sys.avail;

	out_kv(pfx, "procs", m->procs);
	out_kv(pfx, "pss_total_kib", (double)m->pss_kib);
	out_kv(pfx, "pss_per_client_kib", (double)m->pss_kib / n);
	out_kv(pfx, "pss_marginal_kib", (double)(m->pss_kib - base->pss_kib) /
	    n);
	out_kv(pfx, "pte_per_client_kib", (double)m->pte_kib / n);
	out_kv(pfx, "root_rss_kib", (double)m->root_rss_kib);
	out_kv(pfx, "memavail_drop_kib", (double)drop);
	out_kv(pfx, "bench_growth_kib", (double)self);
	out_kv(pfx, "sys_per_client_kib", (double)(drop - self) / n);
	out_kv(pfx, "pagetables_per_client_kib", (double)(m->sys.pagetables -
	    base->sys.pagetables) / n);
	out_kv(pfx, "slab_per_client_kib", (double)(m->sys.slab -
	    base->sys.slab) / n);
	out_kv(pfx, "kstack_per_client_kib", (double)(m->sys.kstack -
	    base->sys.kstack) / n);
	/* The same from its parts: what each grew by since base. */
	out_kv(pfx, "parts_per_client_kib", ((double)(m->pss_kib -
	    base->pss_kib) +
	    (double)(m->sys.pagetables - base->sys.pagetables) +
	    (double)(m->sys.slab - base->sys.slab) +
	    (double)(m->sys.kstack - base->sys.kstack)) / n);
	fprintf(stderr, "memory%s%s: %d processes, PSS %ld KiB = %.1f KiB per "
	    "client (%.1f KiB above the idle server), page tables %.1f KiB "
	    "per client, root RSS %ld KiB; machine: %.1f KiB per client "
	    "(MemAvailable -%ld KiB, of it ours %ld KiB), PageTables %.1f, "
	    "Slab %.1f, KernelStack %.1f KiB per client\n", *pfx ? " " : "",
	    pfx, m->procs, m->pss_kib, (double)m->pss_kib / n,
	    (double)(m->pss_kib - base->pss_kib) / n, (double)m->pte_kib / n,
	    m->root_rss_kib, (double)(drop - self) / n, drop, self,
	    (double)(m->sys.pagetables - base->sys.pagetables) / n,
	    (double)(m->sys.slab - base->sys.slab) / n,
	    (double)(m->sys.kstack - base->sys.kstack) / n);
}

/* Handle events for the settling time (-W): let the server go idle. */
static void
settle(void)
{
	uint64_t until = mono_ns() + opt.settle_ns;

	while (mono_ns() < until)
		loop_once(until);
}

/*
 * -i -B: a burst of traffic to idle clients (-s senders x -m lines,
 * window -w), then idle again: what the burst left in memory.
 */
static void
idle_burst(const struct proc_mem *base)
{
	struct proc_mem m;
	struct run r;
	uint64_t expected = (uint64_t)opt.s * opt.m * (uint64_t)(st.ready - 1);

	msgs_measure(&r);
	out_kv("burst_", "deliveries_per_s", (double)st.deliveries /
	    r.elapsed);
	out_kv("burst_", "lost", (double)(expected - st.deliveries));
	settle();
	mem_measure(&m);
	out_mem("burst_", base, &m);
}

/* -i: hold the clients, let things settle, measure memory. */
static int
run_idle(void)
{
	struct proc_mem base, m;
	double setup_s, quiet;

	if (opt.spid <= 0)
		die("-i needs -S PID");
	if (opt.burst && opt.nobarrier)
		die("-B needs a server that relays: not with -N");
	if (opt.burst)
		msgs_alloc();
	quiet = machine_quiet();
	mem_measure(&base);
	if (!setup_clients("idle", true, &setup_s))
		return 1;
	settle();
	mem_measure(&m);
	out_head("idle");
	out_kv("", "mem_quiet_s", quiet);
	out_mem("", &base, &m);
	out_setup(setup_s);
	if (opt.burst)
		idle_burst(&base);
	printf("\n");
	out_fail_why();
	return st.ready == opt.n ? 0 : 3;
}

/* Processes we watch without a pidfd (out of descriptors): polled. */
static pid_t *polled;
static int *polled_k, npolled, polled_first;

/* Check the polled processes in order, stopping at the first alive. */
static void
poll_pids(uint64_t now)
{
	while (polled_first < npolled && proc_exited(polled[polled_first]))
		on_pidfd(polled_k[polled_first++], now);
}

/* Watch process k of the tree: a pidfd while descriptors last. */
static void
watch_pid(int k, pid_t pid, int budget)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int fd;

	if (pidfds_open < budget) {
		if ((fd = (int)syscall(SYS_pidfd_open, pid, 0)) == -1) {
			on_pidfd(k, mono_ns());		/* already gone */
			return;
		}
		ev.data.u64 = PIDFD_TAG | (uint64_t)k;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == -1)
			die("epoll_ctl pidfd: %s", strerror(errno));
		pidfds_open++;
		return;
	}
	polled[npolled] = pid;
	polled_k[npolled++] = k;
}

/* Print the shutdown figures. */
static void
out_shutdown(int procs, uint64_t t0, int stray)
{
	double root = st.t_root_gone ? (double)(st.t_root_gone - t0) / 1e6 :
	    -1.0;
	double tree = st.t_tree_gone ? (double)(st.t_tree_gone - t0) / 1e6 :
	    -1.0;
	double cl = st.t_clients_closed ?
	    (double)(st.t_clients_closed - t0) / 1e6 : -1.0;

	printf(" procs_at_sigint=%d shutdown_ms=%.1f tree_gone_ms=%.1f "
	    "clients_closed_ms=%.1f procs_left=%d clients_left=%d stray=%d "
	    "byes=%" PRIu64 " polled_pids=%d", procs, root, tree, cl,
	    npidfds - st.pids_gone, st.ready, stray, st.byes, npolled);
	fprintf(stderr, "shutdown: SIGINT to a tree of %d processes; root "
	    "gone after %.0f ms, all after %.0f ms, clients closed after "
	    "%.0f ms; %d processes and %d clients left, %d strays, %" PRIu64
	    " goodbyes\n", procs, root, tree, cl, npidfds - st.pids_gone,
	    st.ready, stray, st.byes);
}

/* -K: SIGINT the server; time until it, its tree and our clients end. */
static void
shutdown_measure(void)
{
	struct rlimit rl;
	struct proc_tree t;
	pid_t ppid, pgrp = -1;
	uint64_t t0, deadline, ticks, now;
	int budget;
	char state;

	if (proc_tree(opt.spid, &t) == -1)
		die("cannot scan /proc for the tree of %d", (int)opt.spid);
	if (proc_stat(opt.spid, &ppid, &pgrp, &state, &ticks) == -1 ||
	    pgrp != opt.spid)
		pgrp = -1;	/* not a group leader: no stray check */
	getrlimit(RLIMIT_NOFILE, &rl);
	budget = (int)rl.rlim_cur - opt.n - 32;
	npidfds = t.n;
	st.pids_gone_at = xcalloc((size_t)t.n, sizeof(uint64_t));
	polled = xcalloc((size_t)t.n, sizeof(pid_t));
	polled_k = xcalloc((size_t)t.n, sizeof(int));
	for (int k = 0; k < t.n; k++)
		watch_pid(k, t.pids[k], budget);
	st.t_clients_closed = 0;
	t0 = mono_ns();
	if (kill(opt.spid, SIGINT) == -1)
		die("kill %d: %s", (int)opt.spid, strerror(errno));
	deadline = t0 + opt.deadline_ns;
	while ((st.pids_gone < npidfds || st.ready > 0) &&
	    (now = mono_ns()) < deadline) {
		/* Polled ones are looked at every 5 ms; pidfds wake us. */
		loop_once(polled_first < npolled && now + 5000000 < deadline ?
		    now + 5000000 : deadline);
		poll_pids(mono_ns());
	}
	out_shutdown(t.n, t0, pgrp > 0 ? proc_strays(pgrp) : -1);
	free(t.pids);
}

/* -x: hold the clients, broadcast -m times, optionally shut down. */
static int
run_scale(void)
{
	struct proc_mem base = { 0 }, m = { 0 };
	struct run r;
	double setup_s, quiet = 0;

	opt.s = 1;
	opt.w = 1;		/* one broadcast at a time */
	opt.r = 0;
	msgs_alloc();
	if (opt.spid > 0) {
		quiet = machine_quiet();
		mem_measure(&base);
	}
	if (!setup_clients("scale", true, &setup_s))
		return 1;
	msgs_measure(&r);
	if (opt.spid > 0)
		mem_measure(&m);
	out_head("scale");
	out_msgs(&r);
	if (opt.spid > 0) {
		out_kv("", "mem_quiet_s", quiet);
		out_mem("", &base, &m);
	}
	out_setup(setup_s);
	if (opt.kill && opt.spid > 0)
		shutdown_measure();
	printf("\n");
	out_fail_why();
	return 0;
}

/* Descriptors: need is a must, want (pidfds too) is nice to have. */
static void
raise_nofile(rlim_t need, rlim_t want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		die("getrlimit: %s", strerror(errno));
	if (rl.rlim_cur >= want)
		return;
	if (rl.rlim_max < want) {	/* root may raise the hard limit */
		struct rlimit up = { want, want };

		if (setrlimit(RLIMIT_NOFILE, &up) == 0)
			return;
	}
	rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
	if (rl.rlim_cur < need || setrlimit(RLIMIT_NOFILE, &rl) == -1)
		die("cannot raise RLIMIT_NOFILE to %llu (hard limit %llu); "
		    "try ulimit -n", (unsigned long long)need,
		    (unsigned long long)rl.rlim_max);
}

/* Print usage and exit 2. */
_Noreturn static void
usage(void)
{
	fprintf(stderr,
	    "usage: fcbench -p PORT [-h HOST] [-n CLIENTS] [-L LABEL] [-T SECS]\n"
	    "         [-s SENDERS] [-m MSGS] [-b BYTES] [-r RATE] [-w WINDOW]\n"
	    "       fcbench -c -p PORT -n CONNECTS [-P PARALLEL]\n"
	    "       fcbench -i -p PORT -n CLIENTS -S PID [-W SETTLE_MS]\n"
	    "         [-B [-s SENDERS] [-m MSGS] [-b BYTES] [-w WINDOW] | -N]\n"
	    "       fcbench -x -p PORT -n CLIENTS [-m BROADCASTS] [-S PID [-K]]\n"
	    "  -r 0: as fast as the window allows; -w 0: no window\n"
	    "  -P: connects in flight (default 1 with -c, else 64)\n"
	    "  -T: deadline of each phase (default 60 s)\n"
	    "  -D FILE: latency percentiles to FILE (all but -i)\n"
	    "  -N: no barrier, for a server that relays nothing\n");
	exit(2);
}

/* A decimal option value in lo..hi, or exit 2. */
static long
num(const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "fcbench: '%s' is not a number in %ld..%ld\n",
		    s, lo, hi);
		exit(2);
	}
	return v;
}

/* Options, limits, then the mode. */
int
main(int argc, char **argv)
{
	int o, rc;

	while ((o = getopt(argc, argv, "h:p:n:s:m:b:r:w:cP:iS:xKBND:T:W:L:"))
	    != -1) {
		switch (o) {
		case 'h': opt.host = optarg; break;
		case 'p': opt.port = (int)num(optarg, 1, 65535); break;
		case 'n': opt.n = (int)num(optarg, 1, 1000000); break;
		case 's': opt.s = (int)num(optarg, 1, 100000); break;
		case 'm': opt.m = (uint32_t)num(optarg, 1, 100000000); break;
		case 'b': opt.b = (uint32_t)num(optarg, 1, 4000); break;
		case 'r': opt.r = strtod(optarg, NULL); break;
		case 'w': opt.w = (uint32_t)num(optarg, 0, 100000000); break;
		case 'c': opt.mode = M_CONNECT; break;
		case 'P': opt.P = (int)num(optarg, 1, 100000); break;
		case 'i': opt.mode = M_IDLE; break;
		case 'S': opt.spid = (pid_t)num(optarg, 1, 1 << 30); break;
		case 'x': opt.mode = M_SCALE; break;
		case 'K': opt.kill = true; break;
		case 'B': opt.burst = true; break;
		case 'N': opt.nobarrier = true; break;
		case 'D': opt.dump = optarg; break;
		case 'T': opt.deadline_ns = (uint64_t)num(optarg, 1, 86400) * NS;
			break;
		case 'W': opt.settle_ns = (uint64_t)num(optarg, 0, 3600000) *
			1000000ULL; break;
		case 'L': opt.label = optarg; break;
		default: usage();
		}
	}
	if (opt.port == 0 || optind != argc || opt.r < 0)
		usage();
	if (opt.P == 0)
		opt.P = opt.mode == M_CONNECT ? 1 : 64;
	if (opt.mode == M_SCALE && opt.m == 1000)
		opt.m = 1;		/* the -m default means one broadcast */
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)opt.port);
	if (inet_pton(AF_INET, opt.host, &sa.sin_addr) != 1)
		die("-h wants an IPv4 address, got '%s'", opt.host);
	raise_nofile((rlim_t)opt.n + 64, (rlim_t)opt.n * (opt.kill ? 2 : 1) + 64);
	signal(SIGPIPE, SIG_IGN);
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		die("epoll_create1: %s", strerror(errno));
	conns = xcalloc((size_t)opt.n, sizeof(*conns));
	switch (opt.mode) {
	case M_CONNECT: rc = run_connect(); break;
	case M_IDLE: rc = run_idle(); break;
	case M_SCALE: rc = run_scale(); break;
	default: rc = run_msgs(); break;
	}
	fflush(stdout);
	return rc;
}
