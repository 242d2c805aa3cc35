/*
 * redis.c - the Redis link: address, non-blocking connect, I/O, ids.
 *
 * Public: redis_addr_parse, redis_addr_format, redis_connect,
 * redis_connect_done, redis_flush, redis_read, redis_id_parse,
 * redis_id_cmp, redis_id_format.  The protocol itself is resp.c's.
 *
 * Nothing here blocks: addresses are numeric (no DNS, which would stall
 * the loop), the connect is finished by the caller's loop, reads and
 * writes stop at EAGAIN.  Every socket is non-blocking and
 * close-on-exec.
 */
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "redis.h"
#include "sock.h"

#define URL_PREFIX	"redis://"
#define UNIX_PREFIX	"unix:"

/* "unix:PATH" after the prefix: any path that fits a sockaddr_un. */
static int
addr_unix(const char *path, struct redis_addr *a)
{
	struct sockaddr_un *un = (struct sockaddr_un *)&a->ss;
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(un->sun_path)) {
		errno = EINVAL;
		return -1;
	}
	un->sun_family = AF_UNIX;
	memcpy(un->sun_path, path, len + 1);
	a->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + 1);
	return 0;
}

/* "HOST:PORT" after "redis://"; "localhost" is 127.0.0.1. */
static int
addr_inet(const char *hostport, struct redis_addr *a)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&a->ss;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&a->ss;
	char tmp[SOCK_ADDR_MAX];
	int n;

	if (strncmp(hostport, "localhost:", 10) == 0) {
		n = snprintf(tmp, sizeof(tmp), "127.0.0.1:%s", hostport + 10);
		if (n < 0 || (size_t)n >= sizeof(tmp))
			goto bad;
		hostport = tmp;
	}
	/* "*" is sock_parse()'s "any address": one listens there, not dials */
	if (hostport[0] == '*' ||
	    sock_parse(hostport, &a->ss, &a->len) == -1)
		goto bad;
	if ((a->ss.ss_family == AF_INET && sin->sin_port == 0) ||
	    (a->ss.ss_family == AF_INET6 && sin6->sin6_port == 0))
		goto bad;
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

/* "redis://HOST:PORT" or "unix:PATH" into a; EINVAL if neither. */
int
redis_addr_parse(const char *s, struct redis_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (strncmp(s, UNIX_PREFIX, strlen(UNIX_PREFIX)) == 0)
		return addr_unix(s + strlen(UNIX_PREFIX), a);
	if (strncmp(s, URL_PREFIX, strlen(URL_PREFIX)) == 0)
		return addr_inet(s + strlen(URL_PREFIX), a);
	errno = EINVAL;
	return -1;
}

/* The address as the configuration spells it, for messages. */
int
redis_addr_format(const struct redis_addr *a, char *buf, size_t size)
{
	const struct sockaddr_un *un = (const struct sockaddr_un *)&a->ss;
	char inet[SOCK_ADDR_MAX];
	int n;

	if (a->ss.ss_family == AF_UNIX)
		n = snprintf(buf, size, "%s%s", UNIX_PREFIX, un->sun_path);
	else if (sock_format((const struct sockaddr *)&a->ss, inet,
	    sizeof(inet)) == 0)
		n = snprintf(buf, size, "%s%s", URL_PREFIX, inet);
	else
		return -1;
	if (n < 0 || (size_t)n >= size) {
		errno = ENOSPC;
		return -1;
	}
	return 0;
}

/*
 * Start connecting to a: the socket, and *pending 1 if the caller must
 * wait for it to be writable and call redis_connect_done().  A refused
 * or unreachable address may fail at once (ECONNREFUSED; EAGAIN for a
 * unix socket whose listener's backlog is full).
 */
int
redis_connect(const struct redis_addr *a, int *pending)
{
	int fd, saved;

	*pending = 0;
	fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	/* keepalive finds a Redis that vanished; no Nagle wait on commands */
	if (a->ss.ss_family != AF_UNIX && sock_tune_client(fd) == -1)
		goto fail;
	if (connect(fd, (const struct sockaddr *)&a->ss, a->len) == 0)
		return fd;
	/* EINTR: the connect goes on without us, as EINPROGRESS */
	if (errno == EINPROGRESS || errno == EINTR) {
		*pending = 1;
		return fd;
	}
fail:
	saved = errno;
	(void)close(fd);
	errno = saved;
	return -1;
}

/*
 * How the connect went, once the socket is writable: 0 connected, or -1
 * with its error (ECONNREFUSED, ETIMEDOUT...); EINPROGRESS if it is not
 * finished yet (called too early).
 */
int
redis_connect_done(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(int);
	int err = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		return -1;
	if (err != 0) {
		errno = err;
		return -1;
	}
	len = sizeof(ss);
	if (getpeername(fd, (struct sockaddr *)&ss, &len) == -1) {
		if (errno == ENOTCONN)
			errno = EINPROGRESS;
		return -1;
	}
	return 0;
}

/*
 * Write what b holds: 0 when it is all sent, 1 if the socket is full
 * (wait for POLLOUT, call again), -1 on an error (EPIPE: Redis is gone;
 * never SIGPIPE).
 */
int
redis_flush(int fd, struct buf *b)
{
	ssize_t n;

	while (b->len > 0) {
		n = send(fd, buf_head(b), b->len, MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 1;
			return -1;
		}
		buf_consume(b, (size_t)n);
	}
	return 0;
}

/*
 * One read of at most REDIS_READ_MAX bytes into r: how many (then call
 * resp_next() until it returns 0), 0 at EOF, -1 with errno (EAGAIN:
 * nothing more for now; or resp_feed()'s error).
 */
ssize_t
redis_read(int fd, struct resp_reader *r)
{
	char chunk[REDIS_READ_MAX];
	ssize_t n;

	do {
		n = read(fd, chunk, sizeof(chunk));
	} while (n == -1 && errno == EINTR);
	if (n > 0 && resp_feed(r, chunk, (size_t)n) == -1)
		return -1;
	return n;
}

/* A run of decimal digits (n bytes, at least one) that fits 64 bits. */
static int
parse_u64(const char *p, size_t n, uint64_t *out)
{
	uint64_t v = 0, d;

	if (n == 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		d = (uint64_t)(p[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* A whole stream id "MS-SEQ" (len bytes at s); EINVAL if it is not. */
int
redis_id_parse(const char *s, size_t len, struct redis_id *id)
{
	const char *dash = memchr(s, '-', len);
	struct redis_id t;

	if (dash == NULL || parse_u64(s, (size_t)(dash - s), &t.ms) == -1 ||
	    parse_u64(dash + 1, len - (size_t)(dash - s) - 1, &t.seq) == -1) {
		errno = EINVAL;
		return -1;
	}
	*id = t;
	return 0;
}

/* Stream order: <0, 0 or >0 as a comes before, with or after b. */
int
redis_id_cmp(const struct redis_id *a, const struct redis_id *b)
{
	if (a->ms != b->ms)
		return a->ms < b->ms ? -1 : 1;
	if (a->seq != b->seq)
		return a->seq < b->seq ? -1 : 1;
	return 0;
}

/* "MS-SEQ" into buf (REDIS_ID_MAX bytes is always enough): its length. */
int
redis_id_format(const struct redis_id *id, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%" PRIu64 "-%" PRIu64, id->ms, id->seq);

	if (n < 0 || (size_t)n >= size) {
		errno = ENOSPC;
		return -1;
	}
	return n;
}
