/*
 * sock.c - TCP listening and accepted sockets, numeric addresses only.
 *
 * Public: sock_parse, sock_same, sock_listen, sock_accept, sock_name,
 * sock_format, sock_nonblock, sock_tune_client, sock_activated.  Every
 * descriptor made here is non-blocking and close-on-exec; errors are -1
 * with errno set.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "num.h"
#include "os.h"
#include "sock.h"

/* Seconds of silence before keepalive probes, probe interval, count. */
#define KEEPALIVE_IDLE	60
#define KEEPALIVE_INTVL	10
#define KEEPALIVE_CNT	6

/*
 * Parse the port after the last ':'; -1 unless it is 0..65535, with
 * errno ERANGE for a number past that, so that the caller can say so.
 */
static int
sock_port(const char *s)
{
	unsigned long long port;

	if (num_whole(s, &port) == -1) {
		if (errno != ERANGE)
			errno = EINVAL;
		return -1;
	}
	if (port > 65535) {
		errno = ERANGE;
		return -1;
	}
	return (int)port;
}

/*
 * "1.2.3.4:80", "*:80", "[::1]:80" into a sockaddr.  EINVAL if it is not
 * such an address, ERANGE if it is one but for a port past 65535.
 */
int
sock_parse(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	char host[SOCK_ADDR_MAX];
	const char *colon = strrchr(s, ':');
	size_t hlen;
	int port;

	memset(ss, 0, sizeof(*ss));
	if (colon == NULL || (hlen = (size_t)(colon - s)) >= sizeof(host))
		goto bad;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (hlen > 2 && host[0] == '[' && host[hlen - 1] == ']') {
		host[hlen - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &sin6->sin6_addr) != 1)
			goto bad;
		sin6->sin6_family = AF_INET6;
		*len = sizeof(*sin6);
	} else if (strcmp(host, "*") == 0 ||
	    inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		/* "*": INADDR_ANY is 0, which memset() put there. */
		sin->sin_family = AF_INET;
		*len = sizeof(*sin);
	} else {
		goto bad;
	}
	/* The host first: a port out of range is news only for a good one. */
	if ((port = sock_port(colon + 1)) == -1)
		return -1;
	if (ss->ss_family == AF_INET6)
		sin6->sin6_port = htons((uint16_t)port);
	else
		sin->sin_port = htons((uint16_t)port);
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

/*
 * Are two addresses sock_parse() made the same one?  Compared as parsed,
 * so "127.0.0.1:02000" is "127.0.0.1:2000" and "[0:0::1]:80" is "[::1]:80".
 */
bool
sock_same(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	const struct sockaddr_in *a4 = (const struct sockaddr_in *)a;
	const struct sockaddr_in *b4 = (const struct sockaddr_in *)b;
	const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)a;
	const struct sockaddr_in6 *b6 = (const struct sockaddr_in6 *)b;

	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return a4->sin_port == b4->sin_port &&
		    a4->sin_addr.s_addr == b4->sin_addr.s_addr;
	if (a->ss_family == AF_INET6)
		return a6->sin6_port == b6->sin6_port &&
		    memcmp(&a6->sin6_addr, &b6->sin6_addr,
		    sizeof(a6->sin6_addr)) == 0;
	return false;
}

/* Set or clear nothing but O_NONBLOCK. */
int
sock_nonblock(int fd)
{
	int fl;

	if ((fl = fcntl(fd, F_GETFL)) == -1)
		return -1;
	return (fl & O_NONBLOCK) ? 0 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* Bind and listen on an address; the new descriptor, or -1. */
int
sock_listen(const char *addr)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, on = 1, saved;

	if (sock_parse(addr, &ss, &len) == -1)
		return -1;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    (ss.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &on, sizeof(on)) == -1) ||
	    bind(fd, (struct sockaddr *)&ss, len) == -1 ||
	    listen(fd, SOMAXCONN) == -1) {
		saved = errno;
		(void)close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* "1.2.3.4:80" or "[::1]:80" for an address. */
int
sock_format(const struct sockaddr *sa, char *buf, size_t size)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
	char host[INET6_ADDRSTRLEN];
	int n;

	if (sa->sa_family == AF_INET) {
		if (inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host)) == NULL)
			return -1;
		n = snprintf(buf, size, "%s:%u", host, ntohs(sin->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		if (inet_ntop(AF_INET6, &sin6->sin6_addr, host,
		    sizeof(host)) == NULL)
			return -1;
		n = snprintf(buf, size, "[%s]:%u", host, ntohs(sin6->sin6_port));
	} else {
		errno = EAFNOSUPPORT;
		return -1;
	}
	if (n < 0 || (size_t)n >= size) {
		errno = ENOSPC;
		return -1;
	}
	return 0;
}

/* The local address a socket is bound to, as text. */
int
sock_name(int fd, char *buf, size_t size)
{
	struct sockaddr_storage ss = { .ss_family = AF_UNSPEC };
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return -1;
	return sock_format((struct sockaddr *)&ss, buf, size);
}

/* Accept one connection, non-blocking and close-on-exec; peer as text. */
int
sock_accept(int lfd, char *peer, size_t size)
{
	struct sockaddr_storage ss = { .ss_family = AF_UNSPEC };
	socklen_t len = sizeof(ss);
	int fd;

	fd = accept4(lfd, (struct sockaddr *)&ss, &len,
	    SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd == -1)
		return -1;
	if (sock_format((struct sockaddr *)&ss, peer, size) == -1)
		(void)snprintf(peer, size, "?");
	return fd;
}

/* Keepalive (a peer that vanishes without FIN), and no Nagle delay. */
int
sock_tune_client(int fd)
{
	int on = 1, idle = KEEPALIVE_IDLE, intvl = KEEPALIVE_INTVL;
	int cnt = KEEPALIVE_CNT;

	if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on)) == -1 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle)) == -1 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl,
	    sizeof(intvl)) == -1 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt)) == -1 ||
	    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) == -1)
		return -1;
	return 0;
}

#define LISTEN_FDS_START	3	/* sd_listen_fds(3): the first one */

/* Is fd a listening TCP-style stream socket? */
static int
sock_is_listener(int fd)
{
	int type = 0, listening = 0;
	socklen_t len = sizeof(type);

	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == -1)
		return 0;
	len = sizeof(listening);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == -1)
		return 0;
	return type == SOCK_STREAM && listening;
}

/*
 * Sockets passed by socket activation ($LISTEN_PID is us, $LISTEN_FDS
 * of them from fd 3): how many, put in fds[]; 0 if none.  Each must be
 * a listening stream socket (else -1, EINVAL, *bad = the fd).  They are
 * made close-on-exec and non-blocking, and the variables unset.
 */
int
sock_activated(int *fds, int max, int *bad)
{
	long long pid = num_env("LISTEN_PID", LONG_MAX),
	    n = num_env("LISTEN_FDS", INT_MAX);
	int fd;

	(void)os_unsetenv("LISTEN_PID");
	(void)os_unsetenv("LISTEN_FDS");
	(void)os_unsetenv("LISTEN_FDNAMES");
	if (pid != (long long)getpid() || n <= 0)
		return 0;
	if (n > max) {
		errno = EMFILE;
		return -1;
	}
	for (int i = 0; i < n; i++) {
		fd = LISTEN_FDS_START + i;
		if (!sock_is_listener(fd) ||
		    fcntl(fd, F_SETFD, FD_CLOEXEC) == -1 ||
		    sock_nonblock(fd) == -1) {
			*bad = fd;
			errno = EINVAL;
			return -1;
		}
		fds[i] = fd;
	}
	return (int)n;
}
