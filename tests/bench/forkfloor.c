/*
 * forkfloor.c - the least a process per connection can cost, for the bench.
 *
 * Listens on an IPv4 address (-l ADDR:PORT, port 0 picks a free one and
 * "forkfloor: listening on ADDR:PORT" on stderr says which).  Every
 * accepted connection gets a child forked for it there and then, which
 * writes one greeting line ("*** welcome ...", so fcbench takes it as a
 * server's greeting), reads until the client goes away and exits.  The
 * parent reaps on SIGCHLD, which arrives as a readable signalfd in its
 * epoll loop.  No spare processes, no channel to a master, no notices to
 * anyone else: what is left is accept, fork, one write, exit and reap,
 * the floor under what forkchatd pays for a connection.
 *
 * SIGINT or SIGTERM: stop listening, SIGTERM every child, reap them all,
 * exit 0.
 *
 * Usage: forkfloor [-l 127.0.0.1:PORT]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_EVENTS	64

static const char greeting[] = "*** welcome to forkfloor\r\n";

static pid_t *kids;		/* children alive, in no order */
static int nkids, kids_cap;
static int lfd = -1, sfd = -1, ep = -1;
static sigset_t caught;		/* SIGCHLD, SIGINT, SIGTERM: via sfd */

/* Print a message and exit 1: broken setup only. */
_Noreturn static void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "forkfloor: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

/* Remember a child we forked. */
static void
kids_add(pid_t pid)
{
	pid_t *p;

	if (nkids == kids_cap) {
		kids_cap = kids_cap ? kids_cap * 2 : 64;
		if ((p = realloc(kids, (size_t)kids_cap * sizeof(*p))) == NULL)
			die("out of memory for %d children", kids_cap);
		kids = p;
	}
	kids[nkids++] = pid;
}

/* Forget a reaped child; one we never forked is a bug. */
static void
kids_remove(pid_t pid)
{
	for (int i = 0; i < nkids; i++) {
		if (kids[i] == pid) {
			kids[i] = kids[--nkids];
			return;
		}
	}
	fprintf(stderr, "forkfloor: reaped pid %d, not ours\n", (int)pid);
	abort();
}

/* The child: greet, wait for the client to leave, exit. */
_Noreturn static void
child(int fd)
{
	sigset_t none;
	char buf[4096];
	size_t off = 0;
	ssize_t n;

	(void)close(lfd);
	(void)close(sfd);
	(void)close(ep);
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) == -1)
		_exit(1);
	while (off < sizeof(greeting) - 1) {
		n = send(fd, greeting + off, sizeof(greeting) - 1 - off,
		    MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(0);	/* the client is gone already */
		off += (size_t)n;
	}
	while ((n = read(fd, buf, sizeof(buf))) != 0)
		if (n == -1 && errno != EINTR)
			break;		/* reset: gone just the same */
	_exit(0);
}

/* Take every waiting connection and fork a child for each. */
static void
accept_all(void)
{
	pid_t pid;
	int fd;

	while ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) != -1) {
		if ((pid = fork()) == -1) {
			fprintf(stderr, "forkfloor: fork: %s\n",
			    strerror(errno));
			(void)close(fd);	/* the client sees EOF */
			continue;
		}
		if (pid == 0)
			child(fd);
		(void)close(fd);
		kids_add(pid);
	}
	if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
	    errno != ECONNABORTED)
		fprintf(stderr, "forkfloor: accept: %s\n", strerror(errno));
}

/* Reap every child that has exited. */
static void
reap(void)
{
	pid_t pid;
	int status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		kids_remove(pid);
	if (pid == -1 && errno != ECHILD)
		die("waitpid: %s", strerror(errno));
}

/* Stop listening and ask every child to go. */
static void
shutdown_start(void)
{
	if (lfd == -1)
		return;		/* a second signal: already on the way */
	(void)close(lfd);	/* also leaves the epoll set */
	lfd = -1;
	for (int i = 0; i < nkids; i++)
		(void)kill(kids[i], SIGTERM);
}

/* Read the pending signals: reap, or start the shutdown. */
static void
on_signals(void)
{
	struct signalfd_siginfo si;
	ssize_t n;

	while ((n = read(sfd, &si, sizeof(si))) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGCHLD)
			reap();
		else
			shutdown_start();
	}
	if (n == -1 && errno != EAGAIN && errno != EINTR)
		die("read signalfd: %s", strerror(errno));
	reap();		/* SIGCHLDs merge: a reap per read is not enough */
}

/* Listen on ADDR:PORT (IPv4) and say where. */
static void
listen_on(const char *spec)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	const char *colon = strrchr(spec, ':');
	char host[64], *end;
	long port;
	int on = 1;

	if (colon == NULL || (size_t)(colon - spec) >= sizeof(host))
		die("-l wants IPV4:PORT, got '%s'", spec);
	memcpy(host, spec, (size_t)(colon - spec));
	host[colon - spec] = '\0';
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		die("bad IPv4 address '%s'", host);
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno != 0 || *end != '\0' || end == colon + 1 || port < 0 ||
	    port > 65535)
		die("bad port in '%s'", spec);
	sa.sin_port = htons((unsigned short)port);
	if ((lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1 ||
	    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    listen(lfd, SOMAXCONN) == -1 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &sl) == -1)
		die("cannot listen on %s: %s", spec, strerror(errno));
	if (inet_ntop(AF_INET, &sa.sin_addr, host, sizeof(host)) == NULL)
		die("inet_ntop: %s", strerror(errno));
	fprintf(stderr, "forkfloor: listening on %s:%u\n", host,
	    ntohs(sa.sin_port));
}

/* Watch fd for input in the epoll set, tagged by the fd itself. */
static void
watch(int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == -1)
		die("epoll_ctl: %s", strerror(errno));
}

int
main(int argc, char **argv)
{
	struct epoll_event evs[MAX_EVENTS];
	const char *addr = "127.0.0.1:0";
	int n, o;

	while ((o = getopt(argc, argv, "l:")) != -1) {
		if (o != 'l') {
			fprintf(stderr, "usage: forkfloor [-l IPV4:PORT]\n");
			return 2;
		}
		addr = optarg;
	}
	/* Signals are read from a descriptor in the loop, never handled. */
	sigemptyset(&caught);
	sigaddset(&caught, SIGCHLD);
	sigaddset(&caught, SIGINT);
	sigaddset(&caught, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &caught, NULL) == -1 ||
	    (sfd = signalfd(-1, &caught, SFD_NONBLOCK | SFD_CLOEXEC)) == -1)
		die("signalfd: %s", strerror(errno));
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		die("epoll_create1: %s", strerror(errno));
	listen_on(addr);
	watch(lfd);
	watch(sfd);
	while (lfd != -1 || nkids > 0) {
		if ((n = epoll_wait(ep, evs, MAX_EVENTS, -1)) == -1) {
			if (errno == EINTR)
				continue;
			die("epoll_wait: %s", strerror(errno));
		}
		/* Signals first: a shutdown closes the listener. */
		for (int i = 0; i < n; i++)
			if (evs[i].data.fd == sfd)
				on_signals();
		for (int i = 0; i < n; i++)
			if (evs[i].data.fd != sfd && lfd != -1)
				accept_all();
	}
	fprintf(stderr, "forkfloor: shut down\n");
	return 0;
}
