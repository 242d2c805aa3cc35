/*
 * test_msg.c - unit tests for common/msg.c, the master/worker frames.
 *
 * Everything goes through a real non-blocking AF_UNIX socketpair:
 * round trips, batching, frames split into 1-byte writes, the payload
 * limit and bad headers, the queue limit, a full socket, descriptor
 * passing (ownership, order, close-on-exec), EOF, msg_putv, and frames
 * built once for many queues (msg_send_raw, msg_put_raw).  The
 * program ends by checking that it holds as many descriptors as it
 * started with.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "msg.h"
#include "unit.h"

#define CHUNK	65536

/* Descriptors this process has open, counted in /proc/self/fd. */
static int
fd_count(void)
{
	struct dirent	*de;
	DIR		*d;
	int		 n = 0;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* Setup that cannot go on without: bail out of the whole run. */
static void
must(int ok, const char *what)
{
	if (!ok) {
		printf("Bail out! %s failed\n", what);
		exit(1);
	}
}

/* A non-blocking stream socketpair; sv[0] writes, sv[1] reads. */
static void
pair(int sv[2])
{
	must(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == 0,
	    "socketpair()");
}

/* The descriptor the last frame taken with get() came with, or -1. */
static int got_fd = -1;

/* msg_get, for tests written against the header and payload: it keeps
 * the frame's descriptor for take_fd(), closing one nobody took. */
static int
get(struct msgin *in, struct msg_hdr *h, const char **p)
{
	struct msg m;
	int r;

	if (got_fd != -1)
		(void)close(got_fd);
	got_fd = -1;
	if ((r = msg_get(in, &m)) == 1) {
		*h = m.h;
		*p = m.p;
		got_fd = m.fd;
	}
	return r;
}

/* The descriptor of the frame get() returned last, once. */
static int
take_fd(void)
{
	int fd = got_fd;

	got_fd = -1;
	return fd;
}

/* Cap the bytes in flight from fd, so "full" does not hang on sysctls. */
static void
small_sndbuf(int fd)
{
	int n = 64 * 1024;

	must(setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &n, sizeof(n)) == 0,
	    "setsockopt(SO_SNDBUF)");
}

/* A pipe: p[0] the read end, p[1] the write end. */
static void
mkpipe(int p[2])
{
	must(pipe(p) == 0, "pipe()");
}

/* Close both ends of a pair or pipe. */
static void
close2(int fd[2])
{
	(void)close(fd[0]);
	(void)close(fd[1]);
}

/* True if fd is not an open descriptor. */
static int
is_closed(int fd)
{
	errno = 0;
	return fcntl(fd, F_GETFD) == -1 && errno == EBADF;
}

/* The payload byte j of frame i: shows loss, mixing and reordering. */
static char
pat(unsigned i, size_t j)
{
	return (char)(i * 131 + j * 7 + j / 253);
}

/* Fill p with frame i's first n payload bytes. */
static void
fill(char *p, unsigned i, size_t n)
{
	for (size_t j = 0; j < n; j++)
		p[j] = pat(i, j);
}

/* True if p holds frame i's first n payload bytes. */
static int
same(const char *p, unsigned i, size_t n)
{
	for (size_t j = 0; j < n; j++)
		if (p[j] != pat(i, j))
			return 0;
	return 1;
}

/*
 * Flush q into wfd and read rfd into in until the queue is empty and
 * the socket has nothing more: 0, or -1 on an error or EOF.
 */
static int
pump(int wfd, struct msgq *q, int rfd, struct msgin *in)
{
	long	n;
	int	r;

	for (int i = 0; i < 100000; i++) {
		if ((r = msg_flush(wfd, q)) == -1)
			return -1;
		n = msg_read(rfd, in, CHUNK);
		if (n == 0 || (n == -1 && errno != EAGAIN))
			return -1;
		if (r == 0 && n == -1)
			return 0;
	}
	return -1;
}

/* Write n raw bytes to fd in one write(2). */
static int
raw(int fd, const void *p, size_t n)
{
	return write(fd, p, n) == (ssize_t)n ? 0 : -1;
}

/* A raw frame header. */
static struct msg_hdr
hdr(uint32_t len, uint16_t type, uint32_t id)
{
	struct msg_hdr h;

	memset(&h, 0, sizeof(h));
	h.len = len;
	h.type = type;
	h.id = id;
	return h;
}

/* One frame there and back: type, id, payload; memory given back. */
static void
test_roundtrip(void)
{
	struct msgq	 q;
	struct msgin	 in;
	struct msg_hdr	 h;
	const char	*p = NULL;
	int		 sv[2];

	CHECK(sizeof(struct msg_hdr) == MSG_HDR_LEN, "header is 12 bytes");
	pair(sv);
	msgq_init(&q, 0);
	msgin_init(&in);
	CHECK(msg_put(&q, MSG_SAY, 42, "hello", 5) == 0 &&
	    msgq_pending(&q) == MSG_HDR_LEN + 5, "msg_put queues 17 bytes");
	CHECK(msg_flush(sv[0], &q) == 0 && msgq_pending(&q) == 0 &&
	    q.out.data == NULL, "msg_flush: all sent, queue memory freed");
	CHECK(msg_flush(sv[0], &q) == 0, "msg_flush of an empty queue: 0");
	CHECK(msg_read(sv[1], &in, CHUNK) == MSG_HDR_LEN + 5,
	    "msg_read gets the 17 bytes");
	CHECK(get(&in, &h, &p) == 1 && h.type == MSG_SAY && h.id == 42 &&
	    h.len == 5 && h.flags == 0 && p != NULL &&
	    memcmp(p, "hello", 5) == 0, "msg_get: type, id, payload");
	CHECK(get(&in, &h, &p) == 0 && in.in.len == 0 &&
	    in.in.data == NULL, "then nothing; input memory given back");
	errno = 0;
	CHECK(msg_read(sv[1], &in, CHUNK) == -1 && errno == EAGAIN &&
	    in.in.data == NULL, "msg_read on an empty socket: -1 EAGAIN");

	CHECK(msg_put(&q, MSG_WHO, 7, NULL, 0) == 0 &&
	    msg_put(&q, MSG_LINE, 8, "x", 1) == 0 &&
	    pump(sv[0], &q, sv[1], &in) == 0, "empty payload sent");
	CHECK(get(&in, &h, &p) == 1 && h.type == MSG_WHO && h.id == 7 &&
	    h.len == 0, "empty payload received");
	CHECK(get(&in, &h, &p) == 1 && h.type == MSG_LINE && h.id == 8 &&
	    h.len == 1 && p[0] == 'x', "frame after an empty one");
	CHECK(get(&in, &h, &p) == 0, "no more frames");
	msgq_free(&q);
	msgin_free(&in);
	close2(sv);
}

/* Many frames in one flush, one read, msg_get hands them out in order. */
static void
test_batch(void)
{
	enum { N = 60 };
	struct msgq	 q;
	struct msgin	 in;
	struct msg_hdr	 h;
	const char	*p;
	char		 buf[N * 11];
	size_t		 total = 0;
	unsigned	 i, got = 0;
	int		 sv[2], bad = 0;
	long		 n;

	pair(sv);
	msgq_init(&q, 0);
	msgin_init(&in);
	for (i = 0; i < N; i++) {
		fill(buf, i, i * 11);
		if (msg_put(&q, (enum msg_type)(1 + i % (MSG_TYPE_MAX - 1)),
		    1000 + i, buf, i * 11) == -1)
			bad++;
		total += MSG_HDR_LEN + i * 11;
	}
	CHECK(bad == 0 && msgq_pending(&q) == total,
	    "%d frames queued, %zu bytes", N, total);
	CHECK(msg_flush(sv[0], &q) == 0 && msgq_pending(&q) == 0,
	    "one msg_flush sends them all");
	n = msg_read(sv[1], &in, CHUNK);
	CHECK(n == (long)total, "one msg_read gets all %zu bytes", total);
	while (get(&in, &h, &p) == 1) {
		if (h.type != 1 + got % (MSG_TYPE_MAX - 1) ||
		    h.id != 1000 + got || h.len != got * 11 ||
		    !same(p, got, h.len))
			bad++;
		got++;
	}
	CHECK(got == N && bad == 0, "msg_get returns all %u in order, intact",
	    got);
	CHECK(in.in.data == NULL, "input memory given back after the last");
	msgq_free(&q);
	msgin_free(&in);
	close2(sv);
}

/* A frame written one byte at a time is returned only when whole. */
static void
test_split(void)
{
	struct msgin	 in;
	struct msg_hdr	 h, w[2];
	const char	*p;
	char		 frame[2 * MSG_HDR_LEN + 300];
	size_t		 len, k;
	int		 sv[2], early = 0, bad = 0, r;

	pair(sv);
	msgin_init(&in);
	w[0] = hdr(200, MSG_NICK, 5);
	w[1] = hdr(100, MSG_BYE, 6);
	memcpy(frame, &w[0], MSG_HDR_LEN);
	fill(frame + MSG_HDR_LEN, 5, 200);
	memcpy(frame + MSG_HDR_LEN + 200, &w[1], MSG_HDR_LEN);
	fill(frame + 2 * MSG_HDR_LEN + 200, 6, 100);
	len = sizeof(frame);
	for (k = 0; k < len; k++) {
		if (raw(sv[0], frame + k, 1) == -1 ||
		    msg_read(sv[1], &in, CHUNK) != 1)
			bad++;
		r = get(&in, &h, &p);
		if (k == MSG_HDR_LEN + 200 - 1) {
			CHECK(r == 1 && h.type == MSG_NICK && h.id == 5 &&
			    h.len == 200 && same(p, 5, 200),
			    "first frame returned at its last byte");
		} else if (k == len - 1) {
			CHECK(r == 1 && h.type == MSG_BYE && h.id == 6 &&
			    h.len == 100 && same(p, 6, 100),
			    "second frame returned at its last byte");
		} else if (r != 0) {
			early++;
		}
	}
	CHECK(bad == 0, "%zu 1-byte writes, each read back", len);
	CHECK(early == 0, "no frame returned before it was complete");
	CHECK(get(&in, &h, &p) == 0 && in.in.data == NULL,
	    "nothing left over");
	msgin_free(&in);
	close2(sv);
}

/* MSG_MAX_PAYLOAD exactly works; one more is EMSGSIZE on either side. */
static void
test_max_payload(void)
{
	static char	 big[MSG_MAX_PAYLOAD + 1];
	struct msgq	 q;
	struct msgin	 in;
	struct msg_hdr	 h;
	struct iovec	 iov[2];
	const char	*p;
	int		 sv[2];

	pair(sv);
	msgq_init(&q, 0);
	msgin_init(&in);
	fill(big, 9, sizeof(big));
	CHECK(msg_put(&q, MSG_LINE, 9, big, MSG_MAX_PAYLOAD) == 0 &&
	    msgq_pending(&q) == MSG_HDR_LEN + MSG_MAX_PAYLOAD,
	    "msg_put of exactly MSG_MAX_PAYLOAD bytes");
	errno = 0;
	CHECK(msg_put(&q, MSG_LINE, 10, big, MSG_MAX_PAYLOAD + 1) == -1 &&
	    errno == EMSGSIZE &&
	    msgq_pending(&q) == MSG_HDR_LEN + MSG_MAX_PAYLOAD,
	    "msg_put of MSG_MAX_PAYLOAD + 1: EMSGSIZE, queue unchanged");
	iov[0].iov_base = big;
	iov[0].iov_len = MSG_MAX_PAYLOAD / 2;
	iov[1].iov_base = big;
	iov[1].iov_len = MSG_MAX_PAYLOAD / 2 + 1;
	errno = 0;
	CHECK(msg_putv(&q, MSG_LINE, 11, iov, 2) == -1 && errno == EMSGSIZE &&
	    msgq_pending(&q) == MSG_HDR_LEN + MSG_MAX_PAYLOAD,
	    "msg_putv summing to MSG_MAX_PAYLOAD + 1: EMSGSIZE");
	CHECK(pump(sv[0], &q, sv[1], &in) == 0, "the big frame goes through");
	CHECK(get(&in, &h, &p) == 1 && h.len == MSG_MAX_PAYLOAD &&
	    h.id == 9 && h.type == MSG_LINE && same(p, 9, MSG_MAX_PAYLOAD),
	    "received whole and intact");
	CHECK(get(&in, &h, &p) == 0, "and only it");
	msgq_free(&q);
	msgin_free(&in);
	close2(sv);
}

/* msg_get on a fresh reader of this header: its result and errno. */
static int
bad_header(struct msg_hdr h, int with_payload, int *err)
{
	struct msgin	 in;
	struct msg_hdr	 got;
	const char	*p;
	char		 pay[16];
	int		 sv[2], r = -2;

	memset(pay, 'p', sizeof(pay));
	pair(sv);
	msgin_init(&in);
	if (raw(sv[0], &h, MSG_HDR_LEN) == 0 &&
	    (!with_payload || raw(sv[0], pay, sizeof(pay)) == 0) &&
	    msg_read(sv[1], &in, CHUNK) > 0) {
		errno = 0;
		r = get(&in, &got, &p);
		*err = errno;
	}
	msgin_free(&in);
	close2(sv);
	return r;
}

/* Bad lengths and types are refused, before any payload is buffered. */
static void
test_bad_header(void)
{
	struct msgin	 in;
	struct msg_hdr	 h;
	const char	*p;
	int		 err = 0, sv[2];

	CHECK(bad_header(hdr(MSG_MAX_PAYLOAD + 1, MSG_LINE, 1), 0, &err) ==
	    -1 && err == EBADMSG,
	    "length MSG_MAX_PAYLOAD + 1, header only: -1 EBADMSG");
	CHECK(bad_header(hdr(0xffffffffu, MSG_SAY, 1), 1, &err) == -1 &&
	    err == EBADMSG, "length 0xffffffff: EBADMSG");
	CHECK(bad_header(hdr(4, 0, 1), 1, &err) == -1 && err == EBADMSG,
	    "type 0: EBADMSG");
	CHECK(bad_header(hdr(4, MSG_TYPE_MAX, 1), 1, &err) == -1 &&
	    err == EBADMSG, "type MSG_TYPE_MAX: EBADMSG");
	CHECK(bad_header(hdr(4, 0xffff, 1), 1, &err) == -1 && err == EBADMSG,
	    "type 0xffff: EBADMSG");
	CHECK(bad_header(hdr(4, MSG_TYPE_MAX - 1, 1), 1, &err) == 1,
	    "type MSG_TYPE_MAX - 1 is fine");
	CHECK(bad_header(hdr(MSG_MAX_PAYLOAD, MSG_LINE, 1), 1, &err) == 0,
	    "length MSG_MAX_PAYLOAD, payload not there yet: 0, wait");

	/* A good frame, then a bad one: the good one still comes out. */
	pair(sv);
	msgin_init(&in);
	h = hdr(3, MSG_SAY, 1);
	raw(sv[0], &h, MSG_HDR_LEN);
	raw(sv[0], "abc", 3);
	h = hdr(3, 0, 2);
	raw(sv[0], &h, MSG_HDR_LEN);
	raw(sv[0], "def", 3);
	CHECK(msg_read(sv[1], &in, CHUNK) == 2 * (MSG_HDR_LEN + 3),
	    "good and bad frame read together");
	CHECK(get(&in, &h, &p) == 1 && h.id == 1 && memcmp(p, "abc", 3)
	    == 0, "the good frame first");
	errno = 0;
	CHECK(get(&in, &h, &p) == -1 && errno == EBADMSG,
	    "then EBADMSG for the bad one");
	errno = 0;
	CHECK(get(&in, &h, &p) == -1 && errno == EBADMSG,
	    "and again: a bad frame stays bad");
	msgin_free(&in);
	CHECK(in.in.data == NULL && in.nfds == 0, "msgin_free clears");
	close2(sv);
}

/* The queue limit: ENOBUFS, the queue unchanged, fds not taken. */
static void
test_queue_limit(void)
{
	struct msgq	 q;
	struct msgin	 in;
	struct msg_hdr	 h;
	const char	*p;
	char		 buf[100];
	int		 sv[2], pp[2];

	pair(sv);
	mkpipe(pp);
	msgq_init(&q, 100);
	msgin_init(&in);
	fill(buf, 1, 50);
	CHECK(msg_put(&q, MSG_SAY, 1, buf, 50) == 0 && msgq_pending(&q) == 62,
	    "62 of 100 bytes queued");
	fill(buf, 2, 50);
	errno = 0;
	CHECK(msg_put(&q, MSG_SAY, 2, buf, 50) == -1 && errno == ENOBUFS,
	    "another 62: -1 ENOBUFS");
	CHECK(msgq_pending(&q) == 62 && same(buf_head(&q.out) + MSG_HDR_LEN,
	    1, 50), "queue unchanged after ENOBUFS");
	errno = 0;
	CHECK(msg_put_fd(&q, MSG_CLIENT, 3, buf, 50, pp[0]) == -1 &&
	    errno == ENOBUFS && q.nfds == 0 && !is_closed(pp[0]),
	    "msg_put_fd over the limit: ENOBUFS, fd still the caller's");
	fill(buf, 4, 26);
	CHECK(msg_put(&q, MSG_ME, 4, buf, 26) == 0 && msgq_pending(&q) == 100,
	    "a frame filling the queue to exactly the limit");
	errno = 0;
	CHECK(msg_put(&q, MSG_WHO, 5, NULL, 0) == -1 && errno == ENOBUFS,
	    "even an empty frame is refused now");
	CHECK(pump(sv[0], &q, sv[1], &in) == 0, "flushed");
	CHECK(get(&in, &h, &p) == 1 && h.id == 1 && h.len == 50 &&
	    same(p, 1, 50), "first frame arrives");
	CHECK(get(&in, &h, &p) == 1 && h.id == 4 && h.len == 26 &&
	    same(p, 4, 26), "then the one that fit");
	CHECK(get(&in, &h, &p) == 0, "and nothing refused was sent");
	CHECK(msg_put(&q, MSG_SAY, 6, buf, 88) == 0,
	    "after the flush the limit has room again");
	msgq_free(&q);
	CHECK(q.out.data == NULL && msgq_pending(&q) == 0,
	    "msgq_free drops the queue");
	msgin_free(&in);
	close2(pp);
	close2(sv);
}

/* Check frames as they come in: order, type, id, contents. */
struct expect {
	unsigned	 next;		/* index of the next frame */
	unsigned	 bad;
	size_t		 size;		/* payload size of every frame */
};

/* Take every whole frame out of in and check it against e. */
static void
drain(struct msgin *in, struct expect *e)
{
	struct msg_hdr	 h;
	const char	*p;
	int		 r;

	while ((r = get(in, &h, &p)) == 1) {
		if (h.id != e->next || h.len != e->size ||
		    h.type != MSG_LINE || !same(p, e->next, e->size))
			e->bad++;
		e->next++;
	}
	if (r == -1)
		e->bad++;
}

/* A full socket: flush says 1, then finishes once the reader drains. */
static void
test_full_socket(void)
{
	enum { N = 300, SIZE = 9000 };
	static char	 buf[SIZE];
	struct msgq	 q;
	struct msgin	 in;
	struct expect	 e = { 0, 0, SIZE };
	struct msg_hdr	 h;
	const char	*p;
	size_t		 before;
	long		 n;
	int		 sv[2], r = -1, rounds = 0, again = 0, bad = 0;

	pair(sv);
	small_sndbuf(sv[0]);
	msgq_init(&q, 0);
	msgin_init(&in);
	for (unsigned i = 0; i < N; i++) {
		fill(buf, i, SIZE);
		if (msg_put(&q, MSG_LINE, i, buf, SIZE) == -1)
			bad++;
	}
	CHECK(bad == 0 && msgq_pending(&q) == N * (MSG_HDR_LEN + SIZE),
	    "%d frames, %d bytes queued", N, N * (MSG_HDR_LEN + SIZE));
	CHECK(msg_flush(sv[0], &q) == 1 && msgq_pending(&q) > 0 &&
	    msgq_pending(&q) < N * (MSG_HDR_LEN + SIZE),
	    "msg_flush on a full socket: 1, part sent, rest kept");
	before = msgq_pending(&q);
	CHECK(msg_flush(sv[0], &q) == 1 && msgq_pending(&q) == before,
	    "again without the reader: still 1, nothing lost");
	while (rounds++ < 100000) {
		while ((n = msg_read(sv[1], &in, CHUNK)) > 0)
			drain(&in, &e);
		if (n == 0 || errno != EAGAIN) {
			bad++;
			break;
		}
		if (r == 0)
			break;
		if ((r = msg_flush(sv[0], &q)) == -1) {
			bad++;
			break;
		}
		if (r == 1)
			again++;
	}
	CHECK(bad == 0 && r == 0 && msgq_pending(&q) == 0 &&
	    q.out.data == NULL, "after the reader drains, msg_flush completes "
	    "with 0 (%d more times 1 first)", again);
	CHECK(e.next == N && e.bad == 0,
	    "all %u frames arrived intact and in order", e.next);
	CHECK(get(&in, &h, &p) == 0 && in.in.data == NULL,
	    "nothing left over, input memory given back");
	msgq_free(&q);
	msgin_free(&in);
	close2(sv);
}

/* True if fd is the read end of the pipe whose write end is wfd. */
static int
same_pipe(int fd, int wfd, const char *word)
{
	struct stat	 a, b;
	char		 got[16];
	size_t		 n = strlen(word);

	if (fstat(fd, &a) == -1 || fstat(wfd, &b) == -1 ||
	    a.st_dev != b.st_dev || a.st_ino != b.st_ino)
		return 0;
	if (write(wfd, word, n) != (ssize_t)n)
		return 0;
	return read(fd, got, sizeof(got)) == (ssize_t)n &&
	    memcmp(got, word, n) == 0;
}

/* One descriptor between ordinary frames. */
static void
test_fd_pass(void)
{
	struct msgq	 q;
	struct msgin	 in;
	struct msg_hdr	 h;
	const char	*p;
	int		 sv[2], pp[2], fd, flags;

	pair(sv);
	mkpipe(pp);
	msgq_init(&q, 0);
	msgin_init(&in);
	CHECK(msg_put(&q, MSG_LINE, 1, "before", 6) == 0 &&
	    msg_put_fd(&q, MSG_CLIENT, 77, "payload", 7, pp[0]) == 0 &&
	    msg_put(&q, MSG_LINE, 2, "after", 5) == 0 && q.nfds == 1,
	    "frame, frame with fd, frame queued");
	CHECK(!is_closed(pp[0]), "the queue holds the fd until it is sent");
	CHECK(msg_flush(sv[0], &q) == 0 && msgq_pending(&q) == 0 &&
	    q.nfds == 0, "flushed");
	CHECK(is_closed(pp[0]),
	    "sender's copy closed after the flush (F_GETFD: EBADF)");
	CHECK(pump(sv[0], &q, sv[1], &in) == 0 && in.nfds == 1,
	    "receiver holds one fd");
	CHECK(get(&in, &h, &p) == 1 && h.type == MSG_LINE && h.id == 1 &&
	    h.len == 6 && memcmp(p, "before", 6) == 0, "frame before");
	CHECK(get(&in, &h, &p) == 1 && h.type == MSG_CLIENT &&
	    h.id == 77 && h.len == 7 && h.flags == MSG_F_FD &&
	    memcmp(p, "payload", 7) == 0,
	    "the fd's frame, flagged MSG_F_FD, payload intact");
	fd = take_fd();
	CHECK(fd >= 0, "msg_take_fd gives a descriptor");
	CHECK(take_fd() == -1, "exactly one");
	flags = fcntl(fd, F_GETFD);
	CHECK(flags != -1 && (flags & FD_CLOEXEC),
	    "received fd has FD_CLOEXEC");
	CHECK(same_pipe(fd, pp[1], "ping"),
	    "received fd is the pipe's read end: write end -> it");
	CHECK(get(&in, &h, &p) == 1 && h.type == MSG_LINE && h.id == 2 &&
	    h.len == 5 && memcmp(p, "after", 5) == 0, "frame after");
	CHECK(get(&in, &h, &p) == 0, "nothing more");
	(void)close(fd);
	(void)close(pp[1]);
	msgq_free(&q);
	msgin_free(&in);
	close2(sv);
}

/* Two and more descriptors in one queue, each with its own frame. */
static void
test_two_fds(void)
{
	struct msgq	 q;
	struct msgin	 in;
	struct msg_hdr	 h;
	const char	*p;
	int		 sv[2], p1[2], p2[2], fd[2] = { -1, -1 }, got = 0;
	int		 order = 0, early = 0, r;

	pair(sv);
	mkpipe(p1);
	mkpipe(p2);
	msgq_init(&q, 0);
	msgin_init(&in);
	CHECK(msg_put_fd(&q, MSG_CLIENT, 1, "one", 3, p1[0]) == 0 &&
	    msg_put(&q, MSG_LINE, 2, "mid", 3) == 0 &&
	    msg_put_fd(&q, MSG_CLIENT, 3, "two", 3, p2[0]) == 0 &&
	    msg_put(&q, MSG_LINE, 4, "end", 3) == 0 && q.nfds == 2,
	    "fd frame, frame, fd frame, frame queued");
	CHECK(msg_flush(sv[0], &q) == 0 && q.nfds == 0 &&
	    is_closed(p1[0]) && is_closed(p2[0]),
	    "one flush sends both; both sender copies closed");
	for (int i = 0; i < 10; i++) {
		if (msg_read(sv[1], &in, CHUNK) <= 0)
			break;
		while ((r = get(&in, &h, &p)) == 1) {
			if (h.id != (uint32_t)got + 1)
				order++;
			got++;
			if (h.type != MSG_CLIENT || (h.id != 1 && h.id != 3))
				continue;
			if ((fd[h.id / 2] = take_fd()) < 0)
				early++;
		}
	}
	CHECK(got == 4 && order == 0, "all four frames, in order");
	CHECK(early == 0 && fd[0] >= 0 && fd[1] >= 0,
	    "each fd is there when its frame is returned");
	CHECK(take_fd() == -1, "no extra fd");
	CHECK(same_pipe(fd[0], p1[1], "first") &&
	    same_pipe(fd[1], p2[1], "second"),
	    "fds arrive in order: first frame's fd is the first pipe");
	for (int i = 0; i < 2; i++)
		if (fd[i] >= 0)
			(void)close(fd[i]);
	(void)close(p1[1]);
	(void)close(p2[1]);
	msgq_free(&q);
	msgin_free(&in);
	close2(sv);
}

/* Unsent fds closed by msgq_free; untaken ones by msgin_free. */
static void
test_fd_cleanup(void)
{
	struct msgq	 q;
	struct msgin	 in;
	int		 sv[2], pp[MSGQ_MAXFD + 1][2], extra[2];
	int		 ok = 0, open_before, i, flushed = 0;

	pair(sv);
	msgq_init(&q, 0);
	msgin_init(&in);
	for (i = 0; i < MSGQ_MAXFD + 1; i++)
		mkpipe(pp[i]);
	for (i = 0; i < MSGQ_MAXFD; i++)
		ok += msg_put_fd(&q, MSG_CLIENT, (uint32_t)i, "x", 1,
		    pp[i][0]) == 0;
	CHECK(ok == MSGQ_MAXFD && q.nfds == MSGQ_MAXFD,
	    "%d fd frames queued", MSGQ_MAXFD);
	errno = 0;
	CHECK(msg_put_fd(&q, MSG_CLIENT, 9, "x", 1, pp[MSGQ_MAXFD][0]) ==
	    -1 && errno == ENOBUFS && !is_closed(pp[MSGQ_MAXFD][0]) &&
	    msgq_pending(&q) == MSGQ_MAXFD * (MSG_HDR_LEN + 1),
	    "one more fd frame: ENOBUFS, queue and fd untouched");
	msgq_free(&q);
	ok = 0;
	for (i = 0; i < MSGQ_MAXFD; i++)
		ok += is_closed(pp[i][0]);
	CHECK(ok == MSGQ_MAXFD && q.nfds == 0 && msgq_pending(&q) == 0,
	    "msgq_free closes the unsent fds");
	CHECK(!is_closed(pp[MSGQ_MAXFD][0]), "but not the refused one");
	for (i = 0; i < MSGQ_MAXFD + 1; i++)
		(void)close(pp[i][1]);
	(void)close(pp[MSGQ_MAXFD][0]);

	/* Received and never taken: msgin_free closes them. */
	open_before = fd_count();
	mkpipe(extra);
	msg_put_fd(&q, MSG_CLIENT, 1, "a", 1, extra[0]);
	msg_put_fd(&q, MSG_CLIENT, 2, "b", 1, extra[1]);
	CHECK(pump(sv[0], &q, sv[1], &in) == 0 && in.nfds == 2 &&
	    fd_count() == open_before + 2, "two fds received, not taken");
	msgin_free(&in);
	CHECK(in.nfds == 0 && fd_count() == open_before,
	    "msgin_free closes fds nobody took");

	/* More fds arrive than the reader holds: the extras are closed. */
	for (int round = 0; round < 2; round++) {
		for (i = 0; i < 3; i++) {
			int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

			must(fd != -1, "open(/dev/null)");
			if (msg_put_fd(&q, MSG_CLIENT, 1, "c", 1, fd) == -1)
				(void)close(fd);
		}
		flushed += msg_flush(sv[0], &q) == 0 && q.nfds == 0;
	}
	CHECK(flushed == 2 && pump(sv[0], &q, sv[1], &in) == 0 &&
	    in.nfds == MSGQ_MAXFD && fd_count() == open_before + MSGQ_MAXFD,
	    "6 fds sent without taking: %d kept, the rest closed", in.nfds);
	msgin_free(&in);
	CHECK(fd_count() == open_before, "and msgin_free closes those");
	msgq_free(&q);
	close2(sv);
}

/* A descriptor frame while the socket is full goes out in its turn. */
static void
test_fd_full_socket(void)
{
	enum { N = 200, SIZE = 8000 };
	static char	 buf[SIZE];
	struct msgq	 q;
	struct msgin	 in;
	struct msg_hdr	 h;
	const char	*p;
	unsigned	 got = 0;
	int		 sv[2], pp[2], fd = -1, r = 1, bad = 0, rounds = 0;
	int		 sent = 0;

	pair(sv);
	small_sndbuf(sv[0]);
	mkpipe(pp);
	msgq_init(&q, 0);
	msgin_init(&in);
	for (unsigned i = 0; i < N; i++) {
		fill(buf, i, SIZE);
		if (i == N / 2)
			bad += msg_put_fd(&q, MSG_CLIENT, i, buf, SIZE,
			    pp[0]) == -1;
		else
			bad += msg_put(&q, MSG_LINE, i, buf, SIZE) == -1;
	}
	CHECK(bad == 0 && msg_flush(sv[0], &q) == 1 && q.nfds == 1 &&
	    !is_closed(pp[0]), "socket full before the fd frame: fd kept");
	while (rounds++ < 100000) {
		while (msg_read(sv[1], &in, 5000) > 0) {
			while (get(&in, &h, &p) == 1) {
				if (h.id != got || !same(p, got, SIZE) ||
				    h.type != (got == N / 2 ? MSG_CLIENT :
				    MSG_LINE))
					bad++;
				if (h.type == MSG_CLIENT &&
				    (fd = take_fd()) < 0)
					bad++;
				got++;
			}
		}
		if (r == 0 || (r = msg_flush(sv[0], &q)) == -1)
			break;
		/* Check at once: a received fd may reuse the number. */
		if (!sent && q.nfds == 0) {
			sent = 1;
			bad += !is_closed(pp[0]);
		}
	}
	CHECK(r == 0 && got == N && bad == 0 && sent,
	    "all %u frames in order; the fd came with its frame; sender's "
	    "copy closed when sent", got);
	CHECK(fd >= 0 && same_pipe(fd, pp[1], "late"),
	    "and it is the pipe");
	if (fd >= 0)
		(void)close(fd);
	(void)close(pp[1]);
	msgq_free(&q);
	msgin_free(&in);
	close2(sv);
}

/* EOF: msg_read returns 0, and what came before is still there. */
static void
test_eof(void)
{
	struct msgq	 q;
	struct msgin	 in;
	struct msg_hdr	 h;
	const char	*p;
	int		 sv[2];

	pair(sv);
	msgq_init(&q, 0);
	msgin_init(&in);
	msg_put(&q, MSG_BYE, 3, "quit", 4);
	CHECK(msg_flush(sv[0], &q) == 0, "last frame sent");
	(void)close(sv[0]);
	CHECK(msg_read(sv[1], &in, CHUNK) == MSG_HDR_LEN + 4,
	    "msg_read: the frame");
	CHECK(msg_read(sv[1], &in, CHUNK) == 0, "then 0 at EOF");
	CHECK(get(&in, &h, &p) == 1 && h.type == MSG_BYE && h.id == 3 &&
	    memcmp(p, "quit", 4) == 0, "the frame survives the EOF read");
	CHECK(msg_read(sv[1], &in, CHUNK) == 0 && in.in.data == NULL,
	    "EOF again, empty buffer freed");
	msgin_free(&in);
	(void)close(sv[1]);

	/* A partial frame at EOF is not handed out. */
	pair(sv);
	msgin_init(&in);
	h = hdr(10, MSG_SAY, 1);
	raw(sv[0], &h, MSG_HDR_LEN);
	raw(sv[0], "abc", 3);
	(void)close(sv[0]);
	CHECK(msg_read(sv[1], &in, CHUNK) == MSG_HDR_LEN + 3 &&
	    msg_read(sv[1], &in, CHUNK) == 0 && get(&in, &h, &p) == 0,
	    "partial frame then EOF: 0 from msg_read, msg_get waits");
	msgin_free(&in);
	(void)close(sv[1]);

	/* The writer sees the reader gone: -1, no SIGPIPE. */
	pair(sv);
	(void)close(sv[1]);
	msg_put(&q, MSG_SAY, 1, "x", 1);
	errno = 0;
	CHECK(msg_flush(sv[0], &q) == -1 && errno == EPIPE,
	    "msg_flush to a closed peer: -1 EPIPE, no signal");
	msgq_free(&q);
	(void)close(sv[0]);
}

/* msg_putv concatenates; ids round-trip across their whole range. */
static void
test_putv_ids(void)
{
	static const uint32_t ids[] = { 0, 1, 255, 256, 65535, 65536,
	    0x12345678u, 0x7fffffffu, 0x80000000u, 0xfffffffeu, 0xffffffffu };
	struct msgq	 q;
	struct msgin	 in;
	struct msg_hdr	 h;
	struct iovec	 iov[4];
	const char	*p;
	char		 a[] = "ab", c[] = "cde", d[] = "f";
	size_t		 i;
	int		 sv[2], bad = 0;

	pair(sv);
	msgq_init(&q, 0);
	msgin_init(&in);
	iov[0].iov_base = a;
	iov[0].iov_len = 2;
	iov[1].iov_base = NULL;
	iov[1].iov_len = 0;
	iov[2].iov_base = c;
	iov[2].iov_len = 3;
	iov[3].iov_base = d;
	iov[3].iov_len = 1;
	CHECK(msg_putv(&q, MSG_PRIVMSG, 5, iov, 4) == 0 &&
	    msgq_pending(&q) == MSG_HDR_LEN + 6, "msg_putv of 4 iovecs");
	CHECK(msg_putv(&q, MSG_ACTIVE, 6, NULL, 0) == 0,
	    "msg_putv of no iovecs");
	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		bad += msg_put(&q, MSG_SAY, ids[i], &ids[i], sizeof(ids[i]))
		    == -1;
	CHECK(bad == 0 && pump(sv[0], &q, sv[1], &in) == 0, "all sent");
	CHECK(get(&in, &h, &p) == 1 && h.type == MSG_PRIVMSG &&
	    h.id == 5 && h.len == 6 && memcmp(p, "abcdef", 6) == 0,
	    "msg_putv payload is the concatenation");
	CHECK(get(&in, &h, &p) == 1 && h.type == MSG_ACTIVE &&
	    h.id == 6 && h.len == 0, "no iovecs: empty payload");
	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		uint32_t v;

		if (get(&in, &h, &p) != 1 || h.len != sizeof(v)) {
			bad++;
			continue;
		}
		memcpy(&v, p, sizeof(v));
		bad += h.id != ids[i] || v != ids[i];
	}
	CHECK(bad == 0, "ids 0 .. 0xffffffff round-trip");
	CHECK(get(&in, &h, &p) == 0, "nothing more");
	msgq_free(&q);
	msgin_free(&in);
	close2(sv);
}

/*
 * Frames built once (a broadcast) sent to several queues: straight from
 * the caller's memory when a queue is empty, behind what a queue holds
 * otherwise, the rest queued when the socket is full, the limit kept.
 */
static void
test_send_raw(void)
{
	enum { N = 300, SIZE = 9000 };
	static char	 buf[SIZE];
	struct msgq	 fan, q, small;
	struct msgin	 in;
	struct expect	 e = { 0, 0, SIZE };
	struct msg_hdr	 h;
	const char	*p;
	size_t		 total, sent;
	long		 n;
	int		 sv[2], r, bad = 0;

	pair(sv);
	msgq_init(&fan, 0);
	msgq_init(&q, 0);
	msgin_init(&in);
	for (unsigned i = 0; i < 3; i++) {
		fill(buf, i, 10);
		bad += msg_put(&fan, MSG_LINE, i, buf, 10) == -1;
	}
	total = msgq_pending(&fan);
	CHECK(bad == 0 && msg_send_raw(sv[0], &q, buf_head(&fan.out),
	    total) == 0 && msgq_pending(&q) == 0 && q.out.data == NULL &&
	    q.sent == total, "empty queue: sent at once, nothing copied");
	n = msg_read(sv[1], &in, CHUNK);
	e.size = 10;
	drain(&in, &e);
	CHECK(n == (long)total && e.next == 3 && e.bad == 0,
	    "the 3 frames arrive intact, in order");

	fill(buf, 3, 10);
	CHECK(msg_put(&q, MSG_LINE, 3, buf, 10) == 0 &&
	    msg_send_raw(sv[0], &q, buf_head(&fan.out), total) == 1 &&
	    msgq_pending(&q) == MSG_HDR_LEN + 10 + total,
	    "a queue holding a frame: the raw frames go behind it");
	CHECK(pump(sv[0], &q, sv[1], &in) == 0 &&
	    get(&in, &h, &p) == 1 && h.id == 3 && same(p, 3, 10),
	    "its own frame comes first");
	e.next = 0;
	drain(&in, &e);
	CHECK(e.next == 3 && e.bad == 0, "then the raw frames");
	msgq_free(&fan);

	small_sndbuf(sv[0]);
	for (unsigned i = 0; i < N; i++) {
		fill(buf, i, SIZE);
		bad += msg_put(&fan, MSG_LINE, i, buf, SIZE) == -1;
	}
	total = msgq_pending(&fan);
	sent = q.sent;
	r = msg_send_raw(sv[0], &q, buf_head(&fan.out), total);
	CHECK(bad == 0 && r == 1 && msgq_pending(&q) > 0 &&
	    msgq_pending(&q) < total &&
	    q.sent - sent + msgq_pending(&q) == total,
	    "full socket: part sent, the rest (%zu of %zu) queued",
	    msgq_pending(&q), total);
	msgq_free(&fan);	/* the queue holds its own copy */
	e.next = 0;
	e.size = SIZE;
	for (int i = 0; i < 10000 && (msgq_pending(&q) > 0 || e.next < N);
	    i++) {
		if (msg_flush(sv[0], &q) == -1)
			break;
		if (msg_read(sv[1], &in, CHUNK) > 0)
			drain(&in, &e);
	}
	CHECK(e.next == N && e.bad == 0 && msgq_pending(&q) == 0,
	    "all %d frames arrive intact, in order", N);

	msgq_init(&small, 100);
	fill(buf, 0, SIZE);
	CHECK(msg_put(&fan, MSG_LINE, 0, buf, SIZE) == 0, "one big frame");
	CHECK(msg_put(&small, MSG_LINE, 1, buf, 10) == 0, "a queue of 100 "
	    "holding 22");
	errno = 0;
	CHECK(msg_send_raw(sv[0], &small, buf_head(&fan.out),
	    msgq_pending(&fan)) == -1 && errno == ENOBUFS &&
	    msgq_pending(&small) == MSG_HDR_LEN + 10,
	    "past its limit: -1 ENOBUFS, the queue unchanged");
	errno = 0;
	CHECK(msg_put_raw(&small, buf_head(&fan.out), 79) == -1 &&
	    errno == ENOBUFS && msg_put_raw(&small, buf_head(&fan.out),
	    78) == 0 && msgq_pending(&small) == 100,
	    "msg_put_raw: up to the limit exactly");
	msgq_free(&small);
	msgq_free(&fan);
	msgq_free(&q);
	msgin_free(&in);
	close2(sv);
}

/* Queue raw bytes of one frame with a chosen header, fd optional. */
static void
send_frame(int sock, uint16_t type, uint16_t flags, const void *pay,
    uint32_t len, int fd)
{
	struct msgq	 q;
	struct msg_hdr	 h = hdr(len, type, 9);

	h.flags = flags;
	msgq_init(&q, 0);
	must(msg_put_raw(&q, &h, MSG_HDR_LEN) == 0 &&
	    msg_put_raw(&q, pay, len) == 0, "msg_put_raw");
	if (fd != -1) {
		q.fds[0].pos = 0;
		q.fds[0].fd = fd;
		q.nfds = 1;
	}
	must(msg_flush(sock, &q) == 0, "msg_flush");
	msgq_free(&q);
}

/* A frame's descriptor comes with it, and only with a frame flagged so. */
static void
test_fd_rules(void)
{
	struct msgin	 in;
	struct msg	 m;
	int		 sv[2], pp[2];

	pair(sv);
	msgin_init(&in);
	send_frame(sv[0], MSG_CLIENT, MSG_F_FD, "abc", 3, -1);
	CHECK(msg_read(sv[1], &in, CHUNK) > 0 && msg_get(&in, &m) == -1 &&
	    errno == EBADMSG, "MSG_F_FD with no descriptor: EBADMSG");
	msgin_free(&in);
	close2(sv);

	pair(sv);
	mkpipe(pp);
	msgin_init(&in);
	send_frame(sv[0], MSG_LINE, 0, "abc", 3, pp[0]);
	send_frame(sv[0], MSG_LINE, 0, "def", 3, -1);
	CHECK(msg_read(sv[1], &in, 3) > 0 && msg_read(sv[1], &in, CHUNK) > 0,
	    "a descriptor sent with an unflagged frame, then another frame");
	CHECK(msg_get(&in, &m) == 1 && m.fd == -1,
	    "the first frame: no descriptor handed out with it");
	CHECK(msg_get(&in, &m) == -1 && errno == EBADMSG && in.nfds == 0,
	    "the next: EBADMSG, the stray descriptor closed");
	msgin_free(&in);
	close2(sv);

	pair(sv);
	msgin_init(&in);
	send_frame(sv[0], MSG_CLIENT, 0x8000, "abc", 3, -1);
	CHECK(msg_read(sv[1], &in, CHUNK) > 0 && msg_get(&in, &m) == -1 &&
	    errno == EBADMSG, "an unknown flag: EBADMSG");
	msgin_free(&in);
	close2(sv);
	(void)close(pp[1]);
}

/* Read back one frame built with the msg_b_* calls. */
static int
build_trip(const struct msg_build *b, struct msgin *in, struct msg *m)
{
	struct msgq	 q;
	int		 sv[2], r;

	pair(sv);
	msgq_init(&q, 0);
	r = msg_put_build(&q, MSG_TIMEOUT, 5, b);
	if (r == 0 && (msg_flush(sv[0], &q) != 0 ||
	    msg_read(sv[1], in, CHUNK) <= 0 || msg_get(in, m) != 1))
		r = -1;
	msgq_free(&q);
	close2(sv);
	return r;
}

/* The getters take what the builders put, and refuse anything else. */
static void
test_getters(void)
{
	struct msg_build b;
	struct msgin	 in;
	struct msg	 m;
	char		 small[4], big[32];
	const char	*p;
	size_t		 n;
	uint32_t	 v = 0;

	msgin_init(&in);
	msg_b_init(&b);
	msg_b_u32(&b, 0xdeadbeef);
	msg_b_str(&b, "alice", 5);
	msg_b_text(&b, "hello there", 11);
	CHECK(build_trip(&b, &in, &m) == 0 && m.h.len == 4 + 6 + 11,
	    "u32, str, text: 21 bytes");
	CHECK(msg_u32(&m, &v) == 0 && v == 0xdeadbeef, "msg_u32");
	CHECK(msg_str(&m, big, sizeof(big)) == 0 && strcmp(big, "alice") == 0,
	    "msg_str");
	CHECK(msg_text(&m, &p, &n) == 0 && n == 11 &&
	    memcmp(p, "hello there", 11) == 0, "msg_text: the rest");
	CHECK(msg_end(&m) == 0, "msg_end: all of it read");
	CHECK(msg_u32(&m, &v) == -1 && errno == EBADMSG && msg_end(&m) == -1,
	    "a getter past the end: EBADMSG, and msg_end fails after it");
	msgin_free(&in);

	msgin_init(&in);
	msg_b_init(&b);
	msg_b_str(&b, "toolong", 7);
	CHECK(build_trip(&b, &in, &m) == 0 &&
	    msg_str(&m, small, sizeof(small)) == -1 && m.bad,
	    "msg_str: a str longer than the buffer is refused");
	msgin_free(&in);

	msgin_init(&in);
	msg_b_init(&b);
	msg_b_u32(&b, 1);
	CHECK(build_trip(&b, &in, &m) == 0 && msg_end(&m) == -1,
	    "msg_end: bytes left over fail");
	msgin_free(&in);

	msgin_init(&in);
	msg_b_init(&b);
	msg_b_text(&b, "two\r\nlines", 10);
	CHECK(build_trip(&b, &in, &m) == 0 && msg_text(&m, &p, &n) == -1,
	    "msg_text refuses CR and LF");
	msgin_free(&in);

	msgin_init(&in);
	msg_b_init(&b);
	msg_b_text(&b, "a\nb", 3);
	CHECK(build_trip(&b, &in, &m) == 0 && msg_rest(&m, &p, &n) == 0 &&
	    n == 3 && msg_end(&m) == 0, "msg_rest takes any bytes");
	msgin_free(&in);

	msgin_init(&in);
	msg_b_init(&b);
	msg_b_text(&b, "no nul here", 11);
	CHECK(build_trip(&b, &in, &m) == 0 &&
	    msg_str(&m, big, sizeof(big)) == -1,
	    "msg_str without a NUL fails");
	msgin_free(&in);

	msg_b_init(&b);
	for (int i = 0; i < MSG_BUILD_MAX / 4 + 1; i++)
		msg_b_u32(&b, (uint32_t)i);
	CHECK(b.over && build_trip(&b, &in, &m) == -1 && errno == EMSGSIZE,
	    "a builder that overflowed is refused: EMSGSIZE");
	msg_b_init(&b);
	msg_b_str(&b, "a\0b", 3);
	CHECK(b.over, "a str holding a NUL cannot be built");
}

int
main(void)
{
	int start = fd_count();

	test_roundtrip();
	test_batch();
	test_split();
	test_max_payload();
	test_bad_header();
	test_queue_limit();
	test_full_socket();
	test_fd_pass();
	test_two_fds();
	test_fd_cleanup();
	test_fd_full_socket();
	test_eof();
	test_putv_ids();
	test_send_raw();
	test_fd_rules();
	test_getters();
	CHECK(start > 0 && fd_count() == start,
	    "no descriptor leaked (%d open at start and end)", start);
	return unit_done();
}
