/*
 * resp-probe - drive a real Redis with common/resp.c and redis.c, for
 * tests.
 *
 *   resp-probe [-t SECS] [-b BYTES] ADDRESS COMMAND...
 *
 * ADDRESS is "redis://HOST:PORT" or "unix:PATH".  Each COMMAND is one
 * argument, its words separated by single spaces; in a word "\xHH" is
 * the byte HH (a space, say) and "\\" a backslash.  The connect is
 * non-blocking and finished in a poll() loop; every command goes out in
 * one pipelined buffer, and replies are read as they come, at most
 * BYTES (default 16384) per read, so -b 1 splits them everywhere.  Each
 * reply is printed on one line: +status, -error, :integer, "bulk"
 * (odd bytes as \xHH), nil, [elements,...].
 *
 * Exit: 0 every reply read; 1 the connect failed (the reason on
 * stderr, e.g. "Connection refused"); 2 usage; 3 SECS (default 10) ran
 * out; 4 the connection ended or broke the protocol.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "num.h"
#include "os.h"
#include "redis.h"
#include "resp.h"

#define WORDS_MAX	64		/* in one command */

static const char *progname = "resp-probe";

/* Say what went wrong and exit with status rc. */
static void
die(int rc, const char *what, const char *detail)
{
	fprintf(stderr, "%s: %s%s%s\n", progname, what, detail ? ": " : "",
	    detail ? detail : "");
	exit(rc);
}

/* One hex digit's value, or -1. */
static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Undo the escapes of a word in place; its length. */
static size_t
unescape(char *w)
{
	char *o = w;
	int hi, lo;

	for (const char *p = w; *p != '\0'; p++) {
		if (p[0] == '\\' && p[1] == '\\') {
			*o++ = *++p;
		} else if (p[0] == '\\' && p[1] == 'x' &&
		    (hi = hexval(p[2])) >= 0 && (lo = hexval(p[3])) >= 0) {
			*o++ = (char)(hi << 4 | lo);
			p += 3;
		} else {
			*o++ = *p;
		}
	}
	return (size_t)(o - w);
}

/* Append one command, given as "WORD WORD ...", to out. */
static void
add_command(struct buf *out, char *text)
{
	const char *argv[WORDS_MAX];
	size_t lens[WORDS_MAX];
	char *save = NULL, *w;
	int argc = 0;

	for (w = strtok_r(text, " ", &save); w != NULL;
	    w = strtok_r(NULL, " ", &save)) {
		if (argc == WORDS_MAX)
			die(2, "too many words in a command", NULL);
		lens[argc] = unescape(w);
		argv[argc++] = w;
	}
	if (resp_cmdv(out, argc, argv, lens) == -1)
		die(2, "cannot encode a command", strerror(errno));
}

/* Print a string's bytes, odd ones as \xHH. */
static void
print_bytes(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			putchar(c);
		else
			printf("\\x%02x", c);
	}
}

/* Print a value that is not an array. */
static void
print_scalar(const struct resp_value *v)
{
	switch (resp_type(v)) {
	case RESP_STATUS:
	case RESP_ERROR:
		putchar(v->type == RESP_STATUS ? '+' : '-');
		print_bytes(v->str, v->len);
		break;
	case RESP_INTEGER:
		printf(":%lld", v->integer);
		break;
	case RESP_BULK:
		putchar('"');
		print_bytes(v->str, v->len);
		putchar('"');
		break;
	case RESP_NIL:
		printf("nil");
		break;
	default:
		break;
	}
}

/* Print a reply on the current line, arrays walked without recursion. */
static void
print_value(const struct resp_value *v)
{
	struct { const struct resp_value *a; size_t i; } open[RESP_DEPTH_CAP];
	size_t depth = 0;

	for (;;) {
		if (v->type == RESP_ARRAY && v->n > 0 && depth < RESP_DEPTH_CAP) {
			putchar('[');
			open[depth].a = v;
			open[depth++].i = 0;
			v = v->elem;
			continue;
		}
		if (v->type == RESP_ARRAY)
			printf("[]");
		else
			print_scalar(v);
		while (depth > 0 && ++open[depth - 1].i == open[depth - 1].a->n) {
			putchar(']');
			depth--;
		}
		if (depth == 0)
			break;
		putchar(',');
		v = &open[depth - 1].a->elem[open[depth - 1].i];
	}
}

/* Milliseconds left before the deadline, at least 0. */
static int
left_ms(int64_t deadline)
{
	int64_t left = deadline - os_now_ms();

	return left > 0 ? (int)left : 0;
}

/* Connect, driving the non-blocking connect with poll(). */
static int
connect_to(const char *address, int64_t deadline)
{
	struct redis_addr a;
	struct pollfd p;
	int fd, pending;

	if (redis_addr_parse(address, &a) == -1)
		die(2, "bad address", address);
	if ((fd = redis_connect(&a, &pending)) == -1)
		die(1, "connect", strerror(errno));
	p.fd = fd;
	p.events = POLLOUT;
	while (pending) {
		if (poll(&p, 1, left_ms(deadline)) == 0)
			die(3, "timed out connecting", NULL);
		if (redis_connect_done(fd) == 0)
			pending = 0;
		else if (errno != EINPROGRESS && errno != EINTR)
			die(1, "connect", strerror(errno));
	}
	return fd;
}

/* Feed what one read brings; 0 at EOF. */
static ssize_t
read_some(int fd, struct resp_reader *r, size_t max)
{
	char chunk[REDIS_READ_MAX];
	ssize_t n;

	if (max >= sizeof(chunk))
		return redis_read(fd, r);
	if ((n = read(fd, chunk, max)) > 0 && resp_feed(r, chunk,
	    (size_t)n) == -1)
		return -1;
	return n;
}

/* Print every whole reply read so far; how many. */
static size_t
print_replies(struct resp_reader *r)
{
	struct resp_value *v;
	size_t n = 0;
	int rc;

	while ((rc = resp_next(r, &v)) == 1) {
		print_value(v);
		putchar('\n');
		resp_free(v);
		n++;
	}
	if (rc == -1)
		die(4, "reading replies", strerror(errno));
	return n;
}

/* Send out and print want replies, within the deadline. */
static void
converse(int fd, struct buf *out, size_t want, size_t max, int64_t deadline)
{
	struct resp_reader r;
	struct pollfd p = { .fd = fd };
	size_t got = 0;
	ssize_t n;

	if (resp_reader_init(&r, NULL) == -1)
		die(2, "resp_reader_init", strerror(errno));
	while (got < want) {
		p.events = POLLIN | (out->len > 0 ? POLLOUT : 0);
		if (poll(&p, 1, left_ms(deadline)) == 0)
			die(3, "timed out", NULL);
		if ((p.revents & POLLOUT) && redis_flush(fd, out) == -1)
			die(4, "sending", strerror(errno));
		if (!(p.revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		if ((n = read_some(fd, &r, max)) == 0)
			die(4, "the server closed the connection", NULL);
		if (n == -1 && errno != EAGAIN && errno != EINTR)
			die(4, "reading", strerror(errno));
		got += print_replies(&r);
	}
	resp_reader_free(&r);
}

int
main(int argc, char **argv)
{
	unsigned long long secs = 10, max = REDIS_READ_MAX;
	struct buf out;
	int64_t deadline;
	int c, fd;

	while ((c = getopt(argc, argv, "t:b:")) != -1) {
		if (c == 't' && num_whole(optarg, &secs) == 0 && secs <= 3600)
			continue;
		if (c == 'b' && num_whole(optarg, &max) == 0 && max > 0)
			continue;
		die(2, "usage: resp-probe [-t SECS] [-b BYTES] ADDRESS "
		    "COMMAND...", NULL);
	}
	if (argc - optind < 2)
		die(2, "usage: resp-probe [-t SECS] [-b BYTES] ADDRESS "
		    "COMMAND...", NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	buf_init(&out, 0);
	for (int i = optind + 1; i < argc; i++)
		add_command(&out, argv[i]);
	deadline = os_now_ms() + (int64_t)secs * 1000;
	fd = connect_to(argv[optind], deadline);
	converse(fd, &out, (size_t)(argc - optind - 1), (size_t)max, deadline);
	buf_free(&out);
	(void)close(fd);
	return 0;
}
