/*
 * refchat.c - single-process epoll reference chat server for benchmarks.
 *
 * The yardstick forkchatd is measured against: one process, one epoll
 * loop, non-blocking sockets, a growable output buffer per client.  It
 * speaks the basics of the forkchat protocol: a greeting naming guestN,
 * "<guestN> text" relayed to every other client, "*** guestN joined" and
 * "*** guestN left (why)" notices, LF or CRLF in, CRLF out, lines of at
 * most MAX_LINE bytes, C0 controls stripped.  Output is appended to
 * buffers while events are handled and written once per client per loop
 * turn (like redis' handleClientsWithPendingWrites); what the kernel does
 * not take waits for EPOLLOUT.  A client whose buffer passes MAX_OUTPUT
 * is dropped.  SIGINT/SIGTERM: say goodbye, close everyone, exit 0.
 *
 * Usage: refchat [-l 127.0.0.1:PORT]    (port 0 picks a free one)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_LINE	4096		/* longest input line, without EOL */
#define MAX_OUTPUT	(1024 * 1024UL)	/* drop a client queueing more */
#define READ_SIZE	(64 * 1024)
#define SHRINK_OVER	(64 * 1024UL)	/* free a drained buffer this big */
#define MAX_EVENTS	1024

struct client {
	int	 fd;
	unsigned id;
	int	 live_ix;		/* index in live[] */
	bool	 pending;		/* on the pending-write list */
	bool	 want_out;		/* EPOLLOUT armed */
	bool	 dead;			/* dropped this turn, freed later */
	bool	 skipping;		/* discarding the rest of a long line */
	char	 nick[24];
	char	 why[64];		/* reason it was dropped */
	size_t	 inlen;			/* partial line bytes in in[] */
	char	 in[MAX_LINE + 1];
	char	*out;			/* output queue: out[off..len) */
	size_t	 off, len, cap;
};

static struct client **live;		/* every client, dense */
static int nlive, live_cap;
static struct client **pending;		/* clients with output to write */
static int npending, pending_cap;
static struct client **graveyard;	/* dropped, buried at end of turn */
static int ngrave, grave_cap;
static unsigned last_id;
static int ep;
static char tok_listen, tok_signal;	/* epoll tags that are not clients */

/* Print a message and exit 1: broken setup only. */
_Noreturn static void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "refchat: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

/* Grow an array of pointers to hold at least want entries. */
static void *
grow(void *p, int *cap, int want)
{
	void *q;

	if (want <= *cap)
		return p;
	*cap = want < 64 ? 64 : want * 2;
	if ((q = realloc(p, (size_t)*cap * sizeof(void *))) == NULL)
		die("out of memory");
	return q;
}

static void client_drop(struct client *, const char *);

/* Queue bytes for a client; the write happens at the end of the turn. */
static void
client_queue(struct client *c, const char *s, size_t n)
{
	size_t need;

	if (c->dead)
		return;
	if (c->len - c->off + n > MAX_OUTPUT) {
		client_drop(c, "too slow");
		return;
	}
	if (c->off > 0 && c->off == c->len)
		c->off = c->len = 0;
	need = c->len + n;
	if (need > c->cap) {
		if (c->off > 0) {	/* compact before growing */
			memmove(c->out, c->out + c->off, c->len - c->off);
			c->len -= c->off;
			c->off = 0;
			need = c->len + n;
		}
		if (need > c->cap) {
			size_t cap = c->cap ? c->cap : 512;
			char *out;

			while (cap < need)
				cap *= 2;
			if ((out = realloc(c->out, cap)) == NULL)
				die("out of memory");
			c->out = out;
			c->cap = cap;
		}
	}
	memcpy(c->out + c->len, s, n);
	c->len += n;
	if (!c->pending) {
		c->pending = true;
		pending = grow(pending, &pending_cap, npending + 1);
		pending[npending++] = c;
	}
}

/* printf into a client's queue. */
static void
client_printf(struct client *c, const char *fmt, ...)
{
	char buf[MAX_LINE + 128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0)
		client_queue(c, buf, (size_t)n < sizeof(buf) ? (size_t)n :
		    sizeof(buf) - 1);
}

/* Send one line to every live client except one (NULL: all). */
static void
broadcast(const struct client *except, const char *s, size_t n)
{
	for (int i = 0; i < nlive; i++)
		if (live[i] != except)
			client_queue(live[i], s, n);
}

/* Write what the kernel takes; arm or disarm EPOLLOUT to match. */
static void
client_flush(struct client *c)
{
	struct epoll_event ev = { .data.ptr = c };
	ssize_t n;

	while (c->off < c->len) {
		n = write(c->fd, c->out + c->off, c->len - c->off);
		if (n > 0) {
			c->off += (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		client_drop(c, n == -1 ? strerror(errno) : "write failed");
		return;
	}
	if (c->off == c->len) {
		c->off = c->len = 0;
		if (c->cap > SHRINK_OVER) {	/* give a burst's memory back */
			free(c->out);
			c->out = NULL;
			c->cap = 0;
		}
	}
	if ((c->off < c->len) != c->want_out) {
		c->want_out = !c->want_out;
		ev.events = EPOLLIN | (c->want_out ? EPOLLOUT : 0);
		if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) == -1)
			client_drop(c, "epoll_ctl failed");
	}
}

/*
 * Drop a client: close it now, but leave live[] and the "left" notice to
 * end_of_turn(), so a broadcast loop never sees live[] change under it.
 */
static void
client_drop(struct client *c, const char *why)
{
	if (c->dead)
		return;
	c->dead = true;
	(void)close(c->fd);		/* also removes it from epoll */
	snprintf(c->why, sizeof(c->why), "%s", why);
	graveyard = grow(graveyard, &grave_cap, ngrave + 1);
	graveyard[ngrave++] = c;
}

/* Take a dropped client out of live[] and tell the others. */
static void
client_bury(struct client *c)
{
	char line[128];
	int n;

	live[c->live_ix] = live[--nlive];
	live[c->live_ix]->live_ix = c->live_ix;
	n = snprintf(line, sizeof(line), "*** %s left (%s)\r\n", c->nick,
	    c->why);
	broadcast(NULL, line, (size_t)n);
}

/* One complete input line (EOL removed, controls stripped). */
static void
client_line(struct client *c, char *s, size_t n)
{
	char out[MAX_LINE + 64];
	int hl;

	if (n == 0)
		return;
	if (s[0] == '/' && (n < 2 || s[1] != '/')) {
		if (n >= 5 && strncmp(s, "/quit", 5) == 0 &&
		    (n == 5 || s[5] == ' '))
			client_drop(c, n > 6 ? s + 6 : "quit");
		else
			client_printf(c, "ERR unknown command; refchat knows "
			    "only /quit (use //text to send /text)\r\n");
		return;
	}
	if (s[0] == '/') {		/* "//text" sends "/text" */
		s++;
		n--;
	}
	hl = snprintf(out, sizeof(out), "<%s> ", c->nick);
	memcpy(out + hl, s, n);
	out[hl + n] = '\r';
	out[hl + n + 1] = '\n';
	broadcast(c, out, (size_t)hl + n + 2);
}

/* Split freshly read bytes into lines, keeping a partial one in in[]. */
static void
client_input(struct client *c, const char *p, size_t n)
{
	for (size_t i = 0; i < n && !c->dead; i++) {
		unsigned char ch = (unsigned char)p[i];

		if (ch == '\n') {
			if (!c->skipping) {
				c->in[c->inlen] = '\0';
				client_line(c, c->in, c->inlen);
			}
			c->inlen = 0;
			c->skipping = false;
		} else if (c->skipping || (ch < 0x20 && ch != '\t') ||
		    ch == 0x7f) {
			continue;	/* CR, other controls: stripped */
		} else if (c->inlen == MAX_LINE) {
			client_printf(c, "ERR line too long (max %d bytes)\r\n",
			    MAX_LINE);
			c->inlen = 0;
			c->skipping = true;
		} else {
			c->in[c->inlen++] = (char)ch;
		}
	}
}

/* The socket is readable: read one chunk (level-triggered, fair). */
static void
client_read(struct client *c)
{
	static char buf[READ_SIZE];
	ssize_t n;

	n = read(c->fd, buf, sizeof(buf));
	if (n > 0)
		client_input(c, buf, (size_t)n);
	else if (n == 0)
		client_drop(c, "end of file");
	else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		client_drop(c, strerror(errno));
}

/* Take every waiting connection: greet it, tell the others. */
static void
accept_all(int lfd)
{
	struct epoll_event ev;
	struct client *c;
	char line[128];
	int fd, on = 1, n;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC))
	    != -1) {
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
		(void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
		if ((c = calloc(1, sizeof(*c))) == NULL)
			die("out of memory");
		c->fd = fd;
		c->id = ++last_id;
		snprintf(c->nick, sizeof(c->nick), "guest%u", c->id);
		ev.events = EPOLLIN;
		ev.data.ptr = c;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == -1)
			die("epoll_ctl: %s", strerror(errno));
		n = snprintf(line, sizeof(line), "*** %s joined\r\n", c->nick);
		broadcast(NULL, line, (size_t)n);
		live = grow(live, &live_cap, nlive + 1);
		c->live_ix = nlive;
		live[nlive++] = c;
		client_printf(c, "*** welcome to refchat, %s! You are client "
		    "#%u. Type /help for commands.\r\n", c->nick, c->id);
	}
	if (errno == EMFILE || errno == ENFILE)
		fprintf(stderr, "refchat: accept: %s\n", strerror(errno));
}

/* End of a loop turn: bury the dropped, write pending output, free. */
static void
end_of_turn(void)
{
	int buried = 0;

	/* A notice can drop a slow client, a write can drop one: repeat. */
	while (buried < ngrave || npending > 0) {
		while (buried < ngrave)
			client_bury(graveyard[buried++]);
		for (int i = 0; i < npending; i++) {
			pending[i]->pending = false;
			if (!pending[i]->dead)
				client_flush(pending[i]);
		}
		npending = 0;
	}
	for (int i = 0; i < ngrave; i++) {
		free(graveyard[i]->out);
		free(graveyard[i]);
	}
	ngrave = 0;
}

/* Listen on ADDR:PORT (IPv4), print where, return the socket. */
static int
listen_on(const char *spec)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	char host[64];
	const char *colon = strrchr(spec, ':');
	char *end;
	long port;
	int fd, on = 1;

	if (colon == NULL || (size_t)(colon - spec) >= sizeof(host))
		die("-l wants IPV4:PORT, got '%s'", spec);
	memcpy(host, spec, (size_t)(colon - spec));
	host[colon - spec] = '\0';
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		die("bad IPv4 address '%s'", host);
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno != 0 || end == colon + 1 || *end != '\0' || port < 0 ||
	    port > 65535)
		die("bad port '%s'", colon + 1);
	sa.sin_port = htons((unsigned short)port);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    listen(fd, SOMAXCONN) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) == -1)
		die("cannot listen on %s: %s", spec, strerror(errno));
	inet_ntop(AF_INET, &sa.sin_addr, host, sizeof(host));
	fprintf(stderr, "refchat: listening on %s:%u\n", host,
	    ntohs(sa.sin_port));
	return fd;
}

/* Descriptors: as many as the hard limit allows (root may raise it). */
static void
raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return;
	if (rl.rlim_max < 1048576) {
		struct rlimit want = { 1048576, 1048576 };
		if (setrlimit(RLIMIT_NOFILE, &want) == 0)
			return;
	}
	rl.rlim_cur = rl.rlim_max;
	(void)setrlimit(RLIMIT_NOFILE, &rl);
}

/* Say goodbye to everyone (best effort), close, and exit 0. */
_Noreturn static void
shutdown_all(void)
{
	static const char bye[] = "*** server shutting down\r\n";

	for (int i = 0; i < nlive; i++) {
		client_queue(live[i], bye, sizeof(bye) - 1);
		if (!live[i]->dead)
			client_flush(live[i]);
	}
	for (int i = 0; i < nlive; i++)
		(void)close(live[i]->fd);
	fprintf(stderr, "refchat: shut down, %d clients closed\n", nlive);
	exit(0);
}

/* One epoll event: a signal, the listener, or a client. */
static void
dispatch(const struct epoll_event *ev, int lfd)
{
	struct client *c = ev->data.ptr;

	if (ev->data.ptr == &tok_signal) {
		shutdown_all();
	} else if (ev->data.ptr == &tok_listen) {
		accept_all(lfd);
	} else if (!c->dead) {	/* a client dropped earlier this turn */
		if (ev->events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			client_read(c);
		if ((ev->events & EPOLLOUT) && !c->dead)
			client_flush(c);
	}
}

int
main(int argc, char **argv)
{
	struct epoll_event evs[MAX_EVENTS], ev;
	const char *addr = "127.0.0.1:2000";
	sigset_t mask;
	int lfd, sfd, n, opt;

	while ((opt = getopt(argc, argv, "l:")) != -1) {
		if (opt != 'l') {
			fprintf(stderr, "usage: refchat [-l IPV4:PORT]\n");
			return 2;
		}
		addr = optarg;
	}
	raise_nofile();
	signal(SIGPIPE, SIG_IGN);
	/* Signals arrive as a readable descriptor, handled in the loop. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) == -1 ||
	    (sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) == -1)
		die("signalfd: %s", strerror(errno));
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		die("epoll_create1: %s", strerror(errno));
	lfd = listen_on(addr);
	ev.events = EPOLLIN;
	ev.data.ptr = &tok_listen;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	ev.data.ptr = &tok_signal;
	epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
	for (;;) {
		if ((n = epoll_wait(ep, evs, MAX_EVENTS, -1)) == -1) {
			if (errno == EINTR)
				continue;
			die("epoll_wait: %s", strerror(errno));
		}
		for (int i = 0; i < n; i++)
			dispatch(&evs[i], lfd);
		end_of_turn();
	}
}
