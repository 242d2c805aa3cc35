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
 *            of -S PID (smaps_rollup), per client, and the root's RSS.
 *   -x       scale: hold -n clients, one client sends -m (default 1)
 *            broadcasts one after another; time until all others have
 *            each.  With -K, then SIGINT -S PID and time until it and
 *            every descendant are gone (pidfds) and every client closed.
 *
 * -p may list several ports, "-p 2001,2002,2003": client i connects to
 * the (i mod count)-th, so clients and senders spread over the servers
 * of a cluster (S6), which relay in one order all the same; -A adds the
 * other servers' trees to the server CPU, -R names one more process
 * (Redis) whose CPU is told apart.
 *
 * Output: one line of key=value on stdout, a summary on stderr.
 * Per message the work is O(1): sequence checks use a bitmap, flow
 * control a per-message receiver count.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
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

#define RBUF_SIZE	(256 * 1024)	/* one read() takes this much */
#define CARRY_MAX	8192		/* longest line we keep whole */
#define WBUF_MAX	(64 * 1024)	/* a sender formats this much at once */
#define MAX_EVENTS	1024
#define STALL_NS	(3 * NS)	/* no progress this long: give up */
#define NS		1000000000ULL
#define PIDFD_TAG	(1ULL << 32)	/* epoll data: pidfd, not a conn */
#define LOW_MEMORY_PCT	25		/* stop connecting below this */
#define PORTS_MAX	16		/* -p PORT,PORT,... */

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
	int	 port, n, s, P;
	uint32_t m, b, w;
	double	 r;
	enum mode mode;
	pid_t	 spid;
	bool	 kill;
	uint64_t deadline_ns, settle_ns;
	pid_t	 also[PORTS_MAX];	/* -A: more server trees (messages) */
	int	 nalso;
	pid_t	 rpid;		/* -R: a tree whose CPU is told apart */
} opt = { "127.0.0.1", NULL, 0, 10, 1, 0, 1000, 64, 64, 0, M_MSGS, 0,
	false, 60 * NS, NS, { 0 }, 0, 0 };

static struct conn *conns;
static struct sender *snd;
static int ep, npidfds, pidfds_open;
static int *pump_list, npump;
static struct sockaddr_in sa[PORTS_MAX];	/* client i: sa[i % nsa] */
static int nsa;

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
	c->t0 = mono_ns();
	if (connect(c->fd, (struct sockaddr *)&sa[i % nsa],
	    sizeof(sa[0])) == -1 &&
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

/* Our own CPU time so far (user + system), seconds. */
static double
cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* ---- the process tree of -S PID -------------------------------------- */

struct tree {
	pid_t	*pids;		/* root first */
	int	 n;
	uint64_t ticks;		/* utime+stime+cutime+cstime over the tree */
};

/* Parse /proc/PID/stat: ppid, pgrp, state and CPU ticks. */
static int
read_stat(pid_t pid, pid_t *ppid, pid_t *pgrp, char *state, uint64_t *ticks)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, stm, cut, cst;
	int fd, ppid_i, pgrp_i;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	(void)close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	/* ") S ppid pgrp session tty tpgid flags minflt cminflt majflt
	 *  cmajflt utime stime cutime cstime" */
	if (sscanf(p + 2, "%c %d %d %*s %*s %*s %*s %*s %*s %*s %*s "
	    "%llu %llu %llu %llu", state, &ppid_i, &pgrp_i, &ut, &stm, &cut,
	    &cst) != 7)
		return -1;
	*ppid = ppid_i;
	*pgrp = pgrp_i;
	*ticks = ut + stm + cut + cst;
	return 0;
}

struct ent {
	pid_t	 pid, ppid;
	uint64_t ticks;
	int8_t	 in;		/* 0 unknown, 1 in the tree, -1 not */
};

/* bsearch/qsort order of /proc entries: by pid. */
static int
cmp_ent(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

/* The /proc entry of pid, or NULL. */
static struct ent *
ent_find(struct ent *e, int ne, pid_t pid)
{
	struct ent key = { .pid = pid };

	return bsearch(&key, e, (size_t)ne, sizeof(*e), cmp_ent);
}

/* Is e[i] root or below it?  Walks up once, remembering the answer. */
static int
ent_in(struct ent *e, int ne, struct ent *x, pid_t root)
{
	struct ent *path[64];
	int np = 0, ans;

	while (x != NULL && x->in == 0 && x->pid != root && np < 64) {
		path[np++] = x;
		x = x->ppid > 1 ? ent_find(e, ne, x->ppid) : NULL;
	}
	if (x == NULL || np == 64)
		ans = -1;
	else if (x->pid == root)
		ans = x->in = 1;
	else
		ans = x->in;
	while (np > 0)
		path[--np]->in = (int8_t)ans;
	return ans;
}

/* Find root and all its descendants by scanning /proc. */
static void
tree_scan(pid_t root, struct tree *t)
{
	struct ent *e = NULL;
	int ne = 0, cap = 0;
	struct dirent *d;
	DIR *dir;

	memset(t, 0, sizeof(*t));
	if ((dir = opendir("/proc")) == NULL)
		return;
	while ((d = readdir(dir)) != NULL) {
		pid_t pid, ppid, pgrp;
		uint64_t ticks;
		char state;

		if (!isdigit((unsigned char)d->d_name[0]))
			continue;
		pid = atoi(d->d_name);
		if (read_stat(pid, &ppid, &pgrp, &state, &ticks) == -1)
			continue;
		if (ne == cap) {
			cap = cap ? cap * 2 : 4096;
			if ((e = realloc(e, (size_t)cap * sizeof(*e))) == NULL)
				die("out of memory scanning /proc");
		}
		e[ne++] = (struct ent){ pid, ppid, ticks, 0 };
	}
	closedir(dir);
	if (ne > 0)
		qsort(e, (size_t)ne, sizeof(*e), cmp_ent);
	t->pids = xcalloc((size_t)ne + 1, sizeof(pid_t));
	t->pids[t->n++] = root;
	for (int i = 0; i < ne; i++) {
		if (ent_in(e, ne, &e[i], root) != 1)
			continue;
		t->ticks += e[i].ticks;
		if (e[i].pid != root)
			t->pids[t->n++] = e[i].pid;
	}
	free(e);
}

/* Sum "Key:  N kB" from a /proc file; -1 if missing. */
static long
proc_kib(pid_t pid, const char *file, const char *key)
{
	char path[64], buf[4096], *p;
	size_t kl = strlen(key);
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	(void)close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	for (p = buf; p != NULL && *p; p = strchr(p, '\n'), p = p ? p + 1 : p)
		if (strncmp(p, key, kl) == 0 && p[kl] == ':')
			return strtol(p + kl + 1, NULL, 10);
	return -1;
}

/* Memory of the tree of -S PID. */
struct mem {
	int	 procs;
	long	 pss_kib, pte_kib, root_rss_kib;
};

/* PSS and page tables summed over the tree of -S PID. */
static void
mem_measure(struct mem *m)
{
	struct tree t;
	long v;

	memset(m, 0, sizeof(*m));
	tree_scan(opt.spid, &t);
	for (int i = 0; i < t.n; i++) {
		if ((v = proc_kib(t.pids[i], "smaps_rollup", "Pss")) < 0)
			continue;	/* gone, or a zombie */
		m->procs++;
		m->pss_kib += v;
		if ((v = proc_kib(t.pids[i], "status", "VmPTE")) > 0)
			m->pte_kib += v;
	}
	m->root_rss_kib = proc_kib(opt.spid, "status", "VmRSS");
	free(t.pids);
}

/* CPU ticks of the process tree of pid (0 for none). */
static uint64_t
pid_ticks(pid_t pid)
{
	struct tree t;

	if (pid <= 0)
		return 0;
	tree_scan(pid, &t);
	free(t.pids);
	return t.ticks;
}

/* CPU ticks used so far by the server tree (-S), 0 without -S. */
static uint64_t
tree_ticks(void)
{
	uint64_t ticks = pid_ticks(opt.spid);

	for (int i = 0; i < opt.nalso; i++)
		ticks += pid_ticks(opt.also[i]);
	return ticks;
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

static long mem_total, mem_avail;	/* KiB, from /proc/meminfo */

/*
 * The machine is running out of memory: a server whose memory grows
 * faster than linearly must not take the machine (and everyone on it)
 * down with it.  Below LOW_MEMORY_PCT of RAM available we stop.
 */
static bool
low_memory(void)
{
	char buf[4096], *p;
	ssize_t n;
	int fd;

	if ((fd = open("/proc/meminfo", O_RDONLY | O_CLOEXEC)) == -1)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	(void)close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	if ((p = strstr(buf, "MemTotal:")) != NULL)
		mem_total = strtol(p + 9, NULL, 10);
	if ((p = strstr(buf, "MemAvailable:")) != NULL)
		mem_avail = strtol(p + 13, NULL, 10);
	return mem_total > 0 && mem_avail < mem_total / 100 * LOW_MEMORY_PCT;
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
				    mem_avail >> 10, mem_total >> 10);
				return false;
			}
			check = now + NS / 4;
		}
		if (now >= report) {	/* a slow server: show how far */
			fprintf(stderr, "fcbench: %.0f s: %d ready, %d in "
			    "flight, %d failed, %ld MiB available\n",
			    (double)(now - t0) / 1e9, st.ready, st.inflight,
			    st.failed, mem_avail >> 10);
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
	else if (!barrier(mono_ns() + opt.deadline_ns))
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
	double	 other_pct;	/* the -R tree's CPU, % of one core; -1: no -R */
	double	 busy_pct;	/* whole machine busy, % of all CPUs */
};

/* Busy and total jiffies of all CPUs, from the "cpu" line of /proc/stat. */
static void
machine_jiffies(uint64_t *busy, uint64_t *total)
{
	unsigned long long v[8] = { 0 };
	FILE *f;

	*busy = *total = 0;
	if ((f = fopen("/proc/stat", "re")) == NULL)
		return;
	if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
	    &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) == 8) {
		for (int i = 0; i < 8; i++)
			*total += v[i];
		*busy = *total - v[3] - v[4];	/* all but idle, iowait */
	}
	fclose(f);
}

/* Send and receive until every message is everywhere or time is up. */
static void
msgs_measure(struct run *m)
{
	uint64_t t0, t1, deadline, ticks0, ticks1, b0, b1, j0, j1, r0, r1;
	double cpu0;

	ticks0 = tree_ticks();
	r0 = pid_ticks(opt.rpid);
	machine_jiffies(&b0, &j0);
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
	machine_jiffies(&b1, &j1);
	ticks1 = tree_ticks();
	r1 = pid_ticks(opt.rpid);
	m->elapsed = (double)(t1 - t0) / 1e9;
	m->other_pct = opt.rpid <= 0 ? -1 : 100.0 *
	    (double)(r1 - r0) / (double)sysconf(_SC_CLK_TCK) /
	    ((double)(mono_ns() - t0) / 1e9);
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
	if (m->other_pct >= 0)
		printf(" other_cpu_pct=%.1f", m->other_pct);
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

/* Memory of the tree: totals and per client. */
static void
out_mem(const struct mem *base, const struct mem *m)
{
	int n = st.ready > 0 ? st.ready : 1;

	printf(" procs=%d pss_total_kib=%ld pss_per_client_kib=%.1f "
	    "pss_marginal_kib=%.1f pte_per_client_kib=%.1f root_rss_kib=%ld "
	    "base_procs=%d base_pss_kib=%ld", m->procs, m->pss_kib,
	    (double)m->pss_kib / n, (double)(m->pss_kib - base->pss_kib) / n,
	    (double)m->pte_kib / n, m->root_rss_kib, base->procs,
	    base->pss_kib);
	fprintf(stderr, "memory: %d processes, PSS %ld KiB = %.1f KiB per "
	    "client (%.1f KiB above the idle server), page tables %.1f KiB "
	    "per client, root RSS %ld KiB\n", m->procs, m->pss_kib,
	    (double)m->pss_kib / n, (double)(m->pss_kib - base->pss_kib) / n,
	    (double)m->pte_kib / n, m->root_rss_kib);
}

/* -i: hold the clients, let things settle, measure memory. */
static int
run_idle(void)
{
	struct mem base, m;
	double setup_s;
	uint64_t until;

	if (opt.spid <= 0)
		die("-i needs -S PID");
	mem_measure(&base);
	if (!setup_clients("idle", true, &setup_s))
		return 1;
	until = mono_ns() + opt.settle_ns;
	while (mono_ns() < until)
		loop_once(until);
	mem_measure(&m);
	out_head("idle");
	out_mem(&base, &m);
	out_setup(setup_s);
	printf("\n");
	out_fail_why();
	return st.ready == opt.n ? 0 : 3;
}

/* Count processes still in the server's process group (but its root). */
static int
strays(pid_t pgrp)
{
	struct dirent *d;
	DIR *dir;
	int n = 0;

	if ((dir = opendir("/proc")) == NULL)
		return -1;
	while ((d = readdir(dir)) != NULL) {
		pid_t pid, ppid, pg;
		uint64_t ticks;
		char state;

		if (!isdigit((unsigned char)d->d_name[0]))
			continue;
		pid = atoi(d->d_name);
		if (pid != pgrp &&
		    read_stat(pid, &ppid, &pg, &state, &ticks) == 0 &&
		    pg == pgrp)
			n++;
	}
	closedir(dir);
	return n;
}

/* Processes we watch without a pidfd (out of descriptors): polled. */
static pid_t *polled;
static int *polled_k, npolled, polled_first;

/* Gone, or a zombie: exited either way. */
static bool
pid_exited(pid_t pid)
{
	pid_t ppid, pgrp;
	uint64_t ticks;
	char state;

	return read_stat(pid, &ppid, &pgrp, &state, &ticks) == -1 ||
	    state == 'Z' || state == 'X';
}

/* Check the polled processes in order, stopping at the first alive. */
static void
poll_pids(uint64_t now)
{
	while (polled_first < npolled && pid_exited(polled[polled_first]))
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
	struct tree t;
	pid_t ppid, pgrp = -1;
	uint64_t t0, deadline, ticks, now;
	int budget;
	char state;

	tree_scan(opt.spid, &t);
	if (read_stat(opt.spid, &ppid, &pgrp, &state, &ticks) == -1 ||
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
	out_shutdown(t.n, t0, pgrp > 0 ? strays(pgrp) : -1);
	free(t.pids);
}

/* -x: hold the clients, broadcast -m times, optionally shut down. */
static int
run_scale(void)
{
	struct mem base = { 0 }, m = { 0 };
	struct run r;
	double setup_s;

	opt.s = 1;
	opt.w = 1;		/* one broadcast at a time */
	opt.r = 0;
	msgs_alloc();
	if (opt.spid > 0)
		mem_measure(&base);
	if (!setup_clients("scale", true, &setup_s))
		return 1;
	msgs_measure(&r);
	if (opt.spid > 0)
		mem_measure(&m);
	out_head("scale");
	out_msgs(&r);
	if (opt.spid > 0)
		out_mem(&base, &m);
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
	    "usage: fcbench -p PORT[,PORT...] [-h HOST] [-n CLIENTS] [-L LABEL] [-T SECS]\n"
	    "         [-s SENDERS] [-m MSGS] [-b BYTES] [-r RATE] [-w WINDOW]\n"
	    "       fcbench -c -p PORT -n CONNECTS [-P PARALLEL]\n"
	    "       fcbench -i -p PORT -n CLIENTS -S PID [-W SETTLE_MS]\n"
	    "       fcbench -x -p PORT -n CLIENTS [-m BROADCASTS] [-S PID [-K]]\n"
	    "  -r 0: as fast as the window allows; -w 0: no window\n"
	    "  -P: connects in flight (default 1 with -c, else 64)\n"
	    "  -T: deadline of each phase (default 60 s)\n"
	    "  -p 1,2,3: client i connects to the (i mod 3)-th port\n"
	    "  -A PID: (messages) one more server tree in server_cpu_pct\n"
	    "  -R PID: (messages) that tree's CPU apart, other_cpu_pct\n");
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

/* "-p PORT[,PORT...]": every port, into sa[] (the address comes later). */
static void
ports(char *list)
{
	char *save = NULL, *p;

	for (p = strtok_r(list, ",", &save); p != NULL;
	    p = strtok_r(NULL, ",", &save)) {
		if (nsa == PORTS_MAX)
			die("-p: more than %d ports", PORTS_MAX);
		sa[nsa].sin_family = AF_INET;
		sa[nsa++].sin_port = htons((uint16_t)num(p, 1, 65535));
	}
	opt.port = nsa > 0 ? ntohs(sa[0].sin_port) : 0;
}

/* Options, limits, then the mode. */
int
main(int argc, char **argv)
{
	int o, rc;

	while ((o = getopt(argc, argv, "h:p:n:s:m:b:r:w:cP:iS:A:R:xKT:W:L:"))
	    != -1) {
		switch (o) {
		case 'h': opt.host = optarg; break;
		case 'p': ports(optarg); break;
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
		case 'A':
			if (opt.nalso == PORTS_MAX)
				die("-A: more than %d", PORTS_MAX);
			opt.also[opt.nalso++] = (pid_t)num(optarg, 1, 1 << 30);
			break;
		case 'R': opt.rpid = (pid_t)num(optarg, 1, 1 << 30); break;
		case 'x': opt.mode = M_SCALE; break;
		case 'K': opt.kill = true; break;
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
	for (int i = 0; i < nsa; i++)
		if (inet_pton(AF_INET, opt.host, &sa[i].sin_addr) != 1)
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
