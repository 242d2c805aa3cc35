/*
 * fcclient.c - one benchmark client: its connection (non-blocking, reset
 * on close so that no TIME_WAIT is left), the lines it reads (greeting,
 * notices, errors, the senders' "B" lines checked for loss, duplicates
 * and order, the barrier's "S" marker), and, for clients 0..s-1, what
 * they send: "B <sender> <seq> <t_ns> xxx..", behind a window of
 * messages in flight and on a schedule of -r lines per second.
 * Per message the work is O(1): sequence checks use a bitmap, flow
 * control a per-message receiver count.
 */
#include <errno.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fcbench.h"

struct conn *conns;
struct sender *snd;
int ep;
struct sockaddr_in sa[PORTS_MAX];
int nsa;

#define TELNET_IAC	255
#define TELNET_WILL	251	/* WILL, WONT, DO, DONT: then an option */
#define TELNET_DONT	254

static int *pump_list, npump;	/* senders that may have room to send */

static void sender_advance(int);
static void pump_queue(int);

/* ---- the connection ----------------------------------------------------- */

/* Watch connection i for input, and for output too if out. */
void
conn_events(int i, bool out)
{
	struct epoll_event ev = { .events = EPOLLIN | (out ? EPOLLOUT : 0),
	    .data.u64 = (uint64_t)i };

	if (epoll_ctl(ep, EPOLL_CTL_MOD, conns[i].fd, &ev) == -1)
		die("epoll_ctl: %s", strerror(errno));
	conns[i].want_out = out;
}

/* Close a connection; an unexpected close while ready is counted. */
void
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
void
conn_start(int i)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT,
	    .data.u64 = (uint64_t)i };
	static const struct linger abort_on_close = { 1, 0 };
	const struct sockaddr_in *addr = &sa[i % nsa];	/* spread over -p */
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
	if (connect(c->fd, (const struct sockaddr *)addr, sizeof(*addr)) ==
	    -1 && errno != EINPROGRESS) {
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

/* ---- senders ------------------------------------------------------------ */

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
void
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
void
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

/* The senders' state: -s senders, each -m sequence numbers. */
void
sender_alloc(void)
{
	snd = xcalloc((size_t)opt.s, sizeof(*snd));
	pump_list = xcalloc((size_t)opt.s, sizeof(int));
	for (int s = 0; s < opt.s; s++) {
		snd[s].got = xcalloc(opt.m, sizeof(uint32_t));
		snd[s].wbuf = xcalloc(1, WBUF_MAX);
	}
}

/* After the events: senders whose window opened, then those now due. */
void
sender_pump_due(uint64_t now)
{
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

/* Nearest time a rate-limited sender has something due, or 0. */
uint64_t
sender_next_due(void)
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

/* ---- what a client reads ------------------------------------------------ */

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

/*
 * Past what a telnet server may put before a line: commands (IAC and a
 * byte; IAC DO, DONT, WILL or WONT and an option) and CRs.  forkchatd
 * begins with IAC DO TIMING-MARK and a CR before its greeting, to find
 * out whether its client speaks telnet.  We answer nothing, as nc
 * would, and are served as a raw client.
 */
static const char *
skip_telnet(const char *p, const char *end)
{
	while (p < end && (*p == '\r' || (unsigned char)*p == TELNET_IAC)) {
		if (*p == '\r' || end - p < 2)
			p++;
		else if ((unsigned char)p[1] >= TELNET_WILL &&
		    (unsigned char)p[1] <= TELNET_DONT)
			p += end - p < 3 ? end - p : 3;
		else
			p += 2;
	}
	return p;
}

/* One line (without LF) from connection i. */
void
client_line(int i, const char *p, size_t n, uint64_t now)
{
	const char *end = p + n, *q;

	if (n > 0 && end[-1] == '\r')
		end--;
	p = skip_telnet(p, end);
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
