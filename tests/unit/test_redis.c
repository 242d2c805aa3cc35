/*
 * test_redis.c - unit tests for common/redis.c, the Redis link.
 *
 * Addresses good and bad, and back to text; stream ids parsed,
 * compared and formatted; a non-blocking connect that succeeds (TCP and
 * unix socket) and one that is refused, finished with poll() as an
 * event loop would; a command flushed and a reply read over a
 * socketpair.  Real sockets on 127.0.0.1 and in /tmp; no Redis here
 * (tests/resp.bats has one).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "redis.h"
#include "resp.h"
#include "sock.h"
#include "unit.h"

/* s parses, and formats back as want. */
static void
addr_good(const char *s, const char *want, int family)
{
	struct redis_addr a;
	char text[REDIS_ADDR_MAX] = "";

	CHECK(redis_addr_parse(s, &a) == 0 && a.ss.ss_family == family &&
	    redis_addr_format(&a, text, sizeof(text)) == 0 &&
	    strcmp(text, want) == 0, "address %s: %s", s, text);
}

/* s is refused with EINVAL. */
static void
addr_bad(const char *s)
{
	struct redis_addr a;

	errno = 0;
	CHECK(redis_addr_parse(s, &a) == -1 && errno == EINVAL,
	    "bad address '%s'", s);
}

/* redis://HOST:PORT and unix:PATH, and what is not one of them. */
static void
test_addr(void)
{
	char longpath[200];
	struct redis_addr a;
	char small[12];

	addr_good("redis://127.0.0.1:6379", "redis://127.0.0.1:6379", AF_INET);
	addr_good("redis://localhost:6380", "redis://127.0.0.1:6380", AF_INET);
	addr_good("redis://[::1]:7000", "redis://[::1]:7000", AF_INET6);
	addr_good("redis://10.1.2.3:65535", "redis://10.1.2.3:65535",
	    AF_INET);
	addr_good("unix:/run/redis/redis.sock", "unix:/run/redis/redis.sock",
	    AF_UNIX);
	addr_good("unix:redis.sock", "unix:redis.sock", AF_UNIX);
	addr_bad("");
	addr_bad("127.0.0.1:6379");
	addr_bad("http://127.0.0.1:6379");
	addr_bad("redis://");
	addr_bad("redis://127.0.0.1");
	addr_bad("redis://127.0.0.1:");
	addr_bad("redis://127.0.0.1:0");
	addr_bad("redis://127.0.0.1:65536");
	addr_bad("redis://127.0.0.1:-1");
	addr_bad("redis://127.0.0.1:6379/0");
	addr_bad("redis://user:pw@127.0.0.1:6379");
	addr_bad("redis://redis.example.com:6379");
	addr_bad("redis://localhost");
	addr_bad("redis://*:6379");
	addr_bad("redis://::1:6379");
	addr_bad("redis://[::1]");
	addr_bad("redis://256.0.0.1:6379");
	addr_bad("unix:");
	memset(longpath, 'p', sizeof(longpath));
	memcpy(longpath, "unix:/", 6);
	longpath[sizeof(longpath) - 1] = '\0';
	addr_bad(longpath);
	redis_addr_parse("unix:/run/redis/redis.sock", &a);
	CHECK(redis_addr_format(&a, small, sizeof(small)) == -1 &&
	    errno == ENOSPC, "format into a small buffer: ENOSPC");
	redis_addr_parse("redis://127.0.0.1:6379", &a);
	CHECK(redis_addr_format(&a, small, 8) == -1, "even a tiny one");
}

/* Stream ids: "MS-SEQ", strictly. */
static void
test_id(void)
{
	static const char *const bad[] = {
		"", "-", "1", "1-", "-1", "1-2-3", "a-1", "1-b", " 1-2", "1-2 ",
		"+1-2", "1--2", "18446744073709551616-0", "0-18446744073709551616",
		"*", "$",
	};
	struct redis_id a, b;
	char text[REDIS_ID_MAX];

	CHECK(redis_id_parse("1526919030474-55", 16, &a) == 0 &&
	    a.ms == 1526919030474ULL && a.seq == 55, "an id");
	CHECK(redis_id_parse("0-0", 3, &a) == 0 && a.ms == 0 && a.seq == 0,
	    "0-0");
	CHECK(redis_id_parse("18446744073709551615-18446744073709551615", 41,
	    &a) == 0 && a.ms == UINT64_MAX && a.seq == UINT64_MAX, "the largest");
	CHECK(redis_id_format(&a, text, sizeof(text)) == 41 && strcmp(text,
	    "18446744073709551615-18446744073709551615") == 0,
	    "REDIS_ID_MAX holds the largest: %s", text);
	CHECK(redis_id_format(&a, text, 41) == -1 && errno == ENOSPC,
	    "one byte short: ENOSPC");
	CHECK(redis_id_parse("12-3xyz", 4, &a) == 0 && a.ms == 12 && a.seq == 3,
	    "only len bytes are read");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		CHECK(redis_id_parse(bad[i], strlen(bad[i]), &a) == -1 &&
		    errno == EINVAL, "bad id '%s'", bad[i]);
	}
	redis_id_parse("5-1", 3, &a);
	redis_id_parse("5-1", 3, &b);
	CHECK(redis_id_cmp(&a, &b) == 0, "5-1 = 5-1");
	redis_id_parse("5-2", 3, &b);
	CHECK(redis_id_cmp(&a, &b) < 0 && redis_id_cmp(&b, &a) > 0,
	    "5-1 < 5-2");
	redis_id_parse("4-99", 4, &b);
	CHECK(redis_id_cmp(&a, &b) > 0 && redis_id_cmp(&b, &a) < 0,
	    "5-1 > 4-99: the ms first");
	redis_id_parse("10-0", 4, &b);
	CHECK(redis_id_cmp(&a, &b) < 0, "5-1 < 10-0: numbers, not text");
}

/* Finish a connect as a loop would: poll for POLLOUT, then ask. */
static int
finish(int fd, int pending)
{
	struct pollfd p = { .fd = fd, .events = POLLOUT };

	if (!pending)
		return 0;
	if (poll(&p, 1, 5000) != 1)
		return -1;
	return redis_connect_done(fd);
}

/* Connects that work (TCP, unix) and one that is refused. */
static void
test_connect(void)
{
	struct redis_addr a;
	char name[SOCK_ADDR_MAX], url[SOCK_ADDR_MAX + 8], path[64];
	int lfd, fd, pending, rc;

	lfd = sock_listen("127.0.0.1:0");
	sock_name(lfd, name, sizeof(name));
	snprintf(url, sizeof(url), "redis://%s", name);
	redis_addr_parse(url, &a);
	fd = redis_connect(&a, &pending);
	CHECK(fd >= 0 && finish(fd, pending) == 0, "TCP connect to %s", url);
	CHECK(fd >= 0 && redis_connect_done(fd) == 0,
	    "asked again: still connected");
	if (fd >= 0)
		close(fd);
	close(lfd);		/* nobody listens there now */
	fd = redis_connect(&a, &pending);
	if (fd >= 0) {
		rc = finish(fd, pending);
		close(fd);
	} else {
		rc = -1;
	}
	CHECK(rc == -1 && errno == ECONNREFUSED, "a closed port: ECONNREFUSED "
	    "(%s)", strerror(errno));

	snprintf(path, sizeof(path), "/tmp/test_redis.%d.sock", (int)getpid());
	snprintf(url, sizeof(url), "unix:%s", path);
	redis_addr_parse(url, &a);
	fd = redis_connect(&a, &pending);
	CHECK(fd == -1 && errno == ENOENT, "unix: no such socket: ENOENT");
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (bind(lfd, (struct sockaddr *)&a.ss, a.len) == 0 &&
	    listen(lfd, 4) == 0) {
		fd = redis_connect(&a, &pending);
		CHECK(fd >= 0 && finish(fd, pending) == 0, "unix connect");
		if (fd >= 0)
			close(fd);
	} else {
		CHECK(0, "cannot listen on %s: %s", path, strerror(errno));
	}
	close(lfd);
	unlink(path);
}

/* A command flushed through a socket, a reply read back in pieces. */
static void
test_io(void)
{
	struct resp_reader r;
	struct resp_value *v = NULL;
	struct buf out;
	char got[64];
	int sv[2];
	ssize_t n;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    sv) == -1) {
		CHECK(0, "socketpair: %s", strerror(errno));
		return;
	}
	buf_init(&out, 0);
	resp_cmd(&out, "PING", (char *)NULL);
	CHECK(redis_flush(sv[0], &out) == 0 && out.len == 0, "flushed");
	n = read(sv[1], got, sizeof(got));
	CHECK(n == 14 && memcmp(got, "*1\r\n$4\r\nPING\r\n", 14) == 0,
	    "the peer got the command");
	resp_reader_init(&r, NULL);
	CHECK(redis_read(sv[0], &r) == -1 && errno == EAGAIN,
	    "nothing to read: EAGAIN");
	(void)write(sv[1], "+PO", 3);
	CHECK(redis_read(sv[0], &r) == 3 && resp_next(&r, &v) == 0,
	    "half a reply: nothing yet");
	(void)write(sv[1], "NG\r\n", 4);
	CHECK(redis_read(sv[0], &r) == 4 && resp_next(&r, &v) == 1 &&
	    resp_is(v, "PONG"), "the reply");
	resp_free(v);
	close(sv[1]);
	CHECK(redis_read(sv[0], &r) == 0, "EOF");
	resp_cmd(&out, "PING", (char *)NULL);
	CHECK(redis_flush(sv[0], &out) == -1 && errno == EPIPE,
	    "writing to a closed peer: EPIPE, no SIGPIPE");
	buf_free(&out);
	resp_reader_free(&r);
	close(sv[0]);
}

int
main(void)
{
	test_addr();
	test_id();
	test_connect();
	test_io();
	return unit_done();
}
