/*
 * fuzz_msg.c - libFuzzer target for common/msg.c, the channel frames.
 *
 * The first byte picks a mode.  Even: the decoder.  The rest of the
 * input is a script of writes (raw bytes, optionally with 1..5 /dev/null
 * descriptors attached by SCM_RIGHTS, or runs of filler bytes to reach
 * big lengths), reads of a chosen size, msg_get() calls and EOF,
 * played over a real non-blocking AF_UNIX stream socketpair.  A model
 * of the byte stream and of where descriptors came in says what
 * msg_get() must return: the same frames, each flagged one with a
 * descriptor, EBADMSG exactly at the first bad header, at a flagged
 * frame whose descriptor is not there, or at a descriptor no frame
 * claimed, and nothing past it.  Odd: the
 * round trip.  The script builds frames (any type, id, payload, split
 * into iovecs, some carrying a pipe's descriptor) with msg_put,
 * msg_putv and msg_put_fd into a queue with a chosen limit, flushes
 * them at chosen points, and every frame must come back whole and in
 * order, each descriptor with its own frame (compared by inode).
 * Either way the process must hold as many descriptors at the end as at
 * the start, and every descriptor received must be close-on-exec.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "msg.h"

#define FUZZ_NAME "fuzz_msg"
#include "fuzz.h"

#define MAXFRAMES	512		/* round trip: frames per input */
#define MAXSTREAM	((size_t)256 * 1024)	/* decoder: bytes in all */

/* The fuzzer's input, consumed from the front. */
struct input {
	const uint8_t *p;
	size_t	 n;
};

/* The next byte, or 0 once the input is used up. */
static uint8_t
in_byte(struct input *in)
{
	if (in->n == 0)
		return 0;
	in->n--;
	return *in->p++;
}

/* Up to want bytes from the input; how many in *got. */
static const uint8_t *
in_bytes(struct input *in, size_t want, size_t *got)
{
	const uint8_t *p = in->p;

	*got = want < in->n ? want : in->n;
	in->p += *got;
	in->n -= *got;
	return p;
}

/* Descriptors this process has open, counted in /proc/self/fd. */
static int
fd_count(void)
{
	struct dirent *de;
	DIR	*d;
	int	 n = 0;

	if ((d = opendir("/proc/self/fd")) == NULL)
		FAIL("opendir /proc/self/fd: %s", strerror(errno));
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* A received descriptor must be open and close-on-exec. */
static void
check_received(int fd)
{
	int	 fl;

	CHECK(fd >= 0, "msg_get gave descriptor %d", fd);
	CHECK((fl = fcntl(fd, F_GETFD)) != -1, "descriptor %d is not open",
	    fd);
	CHECK(fl & FD_CLOEXEC, "descriptor %d is not close-on-exec", fd);
}

/* sv[0] writes, sv[1] reads; both non-blocking. */
static void
pair(int sv[2])
{
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    sv) == -1)
		FAIL("socketpair: %s", strerror(errno));
}

/* A read size: mostly small, sometimes the real 64 KiB. */
static size_t
chunk_size(uint8_t b)
{
	if (b >= 0xF0)
		return 65536;
	return (size_t)b * (b & 7) + 1;
}

/* ---- the decoder ------------------------------------------------- */

#define MAXWRITES	256	/* writes that carried descriptors */

struct decoder {
	int	 sv[2];
	struct msgin in;
	unsigned char *stream;	/* every byte written, for the model */
	size_t	 slen, scap;
	size_t	 sent;		/* bytes the socket took */
	size_t	 got;		/* bytes msg_read() returned */
	size_t	 cons;		/* start of the next frame in stream */
	bool	 bad;		/* msg_get() said EBADMSG: reader stopped */
	bool	 eof_sent, eof_seen;
	dev_t	 null_rdev;
	struct {		/* sendmsg()s with descriptors, not read yet */
		size_t	at;	/* stream offset of their first byte */
		int	n;
	}	 wr[MAXWRITES];
	int	 nwr;
	struct {		/* descriptors the model says msgin holds */
		size_t	lo, hi;	/* the bytes of the read they came with */
	}	 fd[MSGQ_MAXFD];
	int	 nfd;
};

/* Whether the 12 bytes at h make a header msg_get() must accept. */
static bool
hdr_ok(const struct msg_hdr *h)
{
	return h->len <= MSG_MAX_PAYLOAD && h->type != 0 &&
	    h->type < MSG_TYPE_MAX && (h->flags & ~MSG_F_ALL) == 0;
}

/* What msg_get() must say at d->cons: 1, 0 or -1 (EBADMSG). */
static int
dec_expect(const struct decoder *d, struct msg_hdr *want)
{
	size_t	 avail = d->got - d->cons;

	if (d->nfd > 0 && d->fd[0].hi <= d->cons)
		return -1;		/* a descriptor no frame claimed */
	if (avail < MSG_HDR_LEN)
		return 0;
	memcpy(want, d->stream + d->cons, MSG_HDR_LEN);
	if (!hdr_ok(want))
		return -1;
	if (avail - MSG_HDR_LEN < want->len)
		return 0;
	if ((want->flags & MSG_F_FD) && (d->nfd == 0 ||
	    d->fd[0].lo > d->cons || d->fd[0].hi <= d->cons))
		return -1;		/* its descriptor is not there */
	return 1;
}

/* The frame's descriptor must be one of our /dev/null ones. */
static void
dec_check_fd(struct decoder *d, struct msg *m)
{
	struct stat st;

	if (!(m->h.flags & MSG_F_FD)) {
		CHECK(m->fd == -1, "a descriptor with an unflagged frame");
		return;
	}
	check_received(m->fd);
	CHECK(fstat(m->fd, &st) == 0 && S_ISCHR(st.st_mode) &&
	    st.st_rdev == d->null_rdev, "descriptor %d is not /dev/null",
	    m->fd);
	msg_close_fd(m);
	d->nfd--;
	memmove(&d->fd[0], &d->fd[1], (size_t)d->nfd * sizeof(d->fd[0]));
}

/* Take every whole frame out, checking each against the model. */
static void
dec_frames(struct decoder *d)
{
	struct msg_hdr want;
	struct msg m;
	int	 r, e;

	while (!d->bad) {
		e = dec_expect(d, &want);
		r = msg_get(&d->in, &m);
		CHECK(d->in.nfds >= 0 && d->in.nfds <= MSGQ_MAXFD,
		    "nfds %d", d->in.nfds);
		CHECK(r == e, "msg_get %d, the model says %d (at %zu of %zu)",
		    r, e, d->cons, d->got);
		if (r == 0)
			return;
		if (r == -1) {
			CHECK(errno == EBADMSG && d->in.nfds == 0, "refused "
			    "with %s, %d descriptors kept", strerror(errno),
			    d->in.nfds);
			d->bad = true;
			return;
		}
		CHECK(memcmp(&m.h, &want, MSG_HDR_LEN) == 0, "header differs");
		CHECK(m.left == m.h.len && (m.h.len == 0 || memcmp(m.p,
		    d->stream + d->cons + MSG_HDR_LEN, m.h.len) == 0),
		    "payload differs");
		dec_check_fd(d, &m);
		d->cons += MSG_HDR_LEN + m.h.len;
	}
}

/* A read brought bytes lo..hi: the descriptors sent with them arrive. */
static void
dec_arrive(struct decoder *d, size_t lo, size_t hi)
{
	int	 i = 0, k;

	while (i < d->nwr && d->wr[i].at < hi) {
		CHECK(d->wr[i].at >= lo, "descriptors sent at %zu were "
		    "skipped", d->wr[i].at);
		for (k = 0; k < d->wr[i].n && d->nfd < MSGQ_MAXFD; k++) {
			d->fd[d->nfd].lo = lo;
			d->fd[d->nfd++].hi = hi;
		}
		i++;
	}
	d->nwr -= i;
	memmove(&d->wr[0], &d->wr[i], (size_t)d->nwr * sizeof(d->wr[0]));
	CHECK(d->in.nfds == d->nfd, "msgin holds %d descriptors, the model "
	    "%d", d->in.nfds, d->nfd);
}

/* Read what the socket holds, at most 64 times, chunk bytes a time. */
static void
dec_read(struct decoder *d, size_t chunk)
{
	long	 n;

	for (int i = 0; i < 64 && !d->bad && !d->eof_seen; i++) {
		n = msg_read(d->sv[1], &d->in, chunk);
		if (n == -1) {
			CHECK(errno == EAGAIN || errno == EWOULDBLOCK,
			    "msg_read: %s", strerror(errno));
			return;
		}
		if (n == 0) {
			CHECK(d->eof_sent && d->got == d->sent,
			    "EOF before the end (%zu of %zu)", d->got,
			    d->sent);
			d->eof_seen = true;
			return;
		}
		CHECK((size_t)n <= chunk, "read %ld, chunk %zu", n, chunk);
		dec_arrive(d, d->got, d->got + (size_t)n);
		d->got += (size_t)n;
		CHECK(d->got <= d->sent, "read more than was sent");
		dec_frames(d);
	}
}

/* Remembers written bytes for the model. */
static void
dec_note(struct decoder *d, const void *p, size_t n)
{
	unsigned char *grown;
	size_t	 cap = d->scap ? d->scap : 4096;

	while (cap < d->slen + n)
		cap *= 2;
	if (cap != d->scap) {
		if ((grown = realloc(d->stream, cap)) == NULL)
			FAIL("out of memory");
		d->stream = grown;
		d->scap = cap;
	}
	memcpy(d->stream + d->slen, p, n);
	d->slen += n;
}

/* Send n bytes, nfd /dev/null descriptors with the first ones. */
static void
dec_write(struct decoder *d, const void *p, size_t n, int nfd)
{
	char	 cbuf[CMSG_SPACE(sizeof(int) * 5)];
	struct msghdr mh;
	struct iovec iov;
	struct cmsghdr *cm;
	int	 fds[5];
	ssize_t	 w;
	size_t	 off = 0;

	if (d->eof_sent || n == 0)
		return;
	if (d->nwr == MAXWRITES)
		nfd = 0;
	for (int i = 0; i < nfd; i++)
		if ((fds[i] = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1)
			FAIL("open /dev/null: %s", strerror(errno));
	while (off < n) {
		iov.iov_base = (char *)(uintptr_t)p + off;
		iov.iov_len = n - off;
		memset(&mh, 0, sizeof(mh));
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		if (nfd > 0) {
			memset(cbuf, 0, sizeof(cbuf));
			mh.msg_control = cbuf;
			mh.msg_controllen = CMSG_SPACE(sizeof(int) *
			    (size_t)nfd);
			cm = CMSG_FIRSTHDR(&mh);
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfd);
			memcpy(CMSG_DATA(cm), fds, sizeof(int) * (size_t)nfd);
		}
		w = sendmsg(d->sv[0], &mh, MSG_NOSIGNAL);
		if (w == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (d->bad)
				break;	/* nobody reads any more */
			dec_read(d, 65536);
			continue;
		}
		CHECK(w > 0, "sendmsg: %s", strerror(errno));
		if (nfd > 0) {
			d->wr[d->nwr].at = d->sent;
			d->wr[d->nwr++].n = nfd;
		}
		dec_note(d, (const char *)p + off, (size_t)w);
		d->sent += (size_t)w;
		off += (size_t)w;
		for (int i = 0; i < nfd; i++)
			(void)close(fds[i]);	/* the kernel holds them now */
		nfd = 0;
	}
	for (int i = 0; i < nfd; i++)
		(void)close(fds[i]);
}

/* Plays the decoder script. */
static void
decoder(struct input *in)
{
	static const uint8_t filler[4096];
	struct decoder d;
	struct stat st;
	const uint8_t *p;
	size_t	 n, k;
	uint8_t	 op;

	memset(&d, 0, sizeof(d));
	pair(d.sv);
	msgin_init(&d.in);
	if (stat("/dev/null", &st) == -1)
		FAIL("stat /dev/null: %s", strerror(errno));
	d.null_rdev = st.st_rdev;
	while (in->n > 0 && d.slen < MAXSTREAM) {
		op = in_byte(in);
		switch (op % 6) {
		case 0:		/* bytes */
		case 1:		/* bytes with descriptors */
			p = in_bytes(in, in_byte(in), &n);
			dec_write(&d, p, n, op % 6 == 1 ? 1 + op / 6 % 5 : 0);
			break;
		case 2:		/* filler: zero bytes, to reach big lengths */
			n = ((size_t)in_byte(in) << 8 | in_byte(in)) * 4;
			for (; n > 0; n -= k) {
				k = n < sizeof(filler) ? n : sizeof(filler);
				dec_write(&d, filler, k, 0);
			}
			break;
		case 3:
			dec_read(&d, chunk_size(in_byte(in)));
			break;
		case 4:
			dec_frames(&d);
			break;
		default:
			if (op & 0x80 && !d.eof_sent) {
				(void)shutdown(d.sv[0], SHUT_WR);
				d.eof_sent = true;
			}
			dec_read(&d, 65536);
			break;
		}
	}
	dec_read(&d, 65536);
	CHECK(d.bad || d.got == d.sent, "%zu bytes sent, %zu read", d.sent,
	    d.got);
	msgin_free(&d.in);
	CHECK(d.in.in.data == NULL && d.in.nfds == 0, "msgin_free left "
	    "state");
	(void)close(d.sv[0]);
	(void)close(d.sv[1]);
	free(d.stream);
}

/* ---- the round trip ---------------------------------------------- */

struct frame {
	uint16_t type;
	uint32_t id;
	const uint8_t *pat;	/* payload: pat[0..npat) over and over */
	size_t	 npat, len;
	ino_t	 ino;		/* the pipe sent with it, or 0 */
};

struct trip {
	int	 sv[2];
	struct msgq q;
	struct msgin in;
	size_t	 chunk;
	struct frame f[MAXFRAMES];
	int	 nput, nback;
};

/* A payload being built or checked: the largest a script can ask for. */
static unsigned char scratch[3 * 65535];

/* Fill len bytes at dst with p[0..n) over and over ('x' if n is 0). */
static void
fill(unsigned char *dst, size_t len, const uint8_t *p, size_t n)
{
	size_t	 done;

	if (len == 0)
		return;
	if (n == 0) {
		p = (const uint8_t *)"x";
		n = 1;
	}
	done = n < len ? n : len;
	memcpy(dst, p, done);
	for (; done < len; done *= 2)	/* double what is there */
		memcpy(dst + done, dst, done < len - done ? done : len - done);
}

/* Take every whole frame that came back and compare it. */
static void
trip_frames(struct trip *t)
{
	const struct frame *f;
	struct stat st;
	struct msg m;
	int	 r;

	while ((r = msg_get(&t->in, &m)) == 1) {
		CHECK(t->nback < t->nput, "frame %d was never sent", t->nback);
		f = &t->f[t->nback++];
		CHECK(m.h.type == f->type && m.h.id == f->id &&
		    m.h.flags == (f->ino ? MSG_F_FD : 0) && m.h.len == f->len,
		    "frame %d: header differs", t->nback - 1);
		fill(scratch, f->len, f->pat, f->npat);
		CHECK(f->len == 0 || memcmp(m.p, scratch, f->len) == 0,
		    "frame %d: payload differs", t->nback - 1);
		if (f->ino == 0) {
			CHECK(m.fd == -1, "frame %d: a descriptor it was not "
			    "sent with", t->nback - 1);
			continue;
		}
		check_received(m.fd);
		CHECK(fstat(m.fd, &st) == 0 && st.st_ino == f->ino,
		    "frame %d: not its own descriptor", t->nback - 1);
		msg_close_fd(&m);
	}
	CHECK(r == 0, "msg_get failed on our own frames: %s",
	    strerror(errno));
}

/*
 * Read what the socket holds, checking frames as they complete: 64 reads
 * of the chosen size, then 64 KiB ones, so tiny reads of big frames do
 * not take all the fuzzer's time.
 */
static void
trip_read(struct trip *t)
{
	long	 n;

	for (int i = 0;; i++) {
		n = msg_read(t->sv[1], &t->in, i < 64 ? t->chunk : 65536);
		if (n == -1) {
			CHECK(errno == EAGAIN || errno == EWOULDBLOCK,
			    "msg_read: %s", strerror(errno));
			return;
		}
		CHECK(n > 0, "EOF in the middle of a round trip");
		trip_frames(t);
	}
}

/* Flush the whole queue, reading whenever the socket is full. */
static void
trip_flush(struct trip *t)
{
	int	 r;

	while ((r = msg_flush(t->sv[0], &t->q)) == 1)
		trip_read(t);
	CHECK(r == 0, "msg_flush: %s", strerror(errno));
	CHECK(msgq_pending(&t->q) == 0 && t->q.nfds == 0,
	    "flushed, %zu bytes and %d descriptors left",
	    msgq_pending(&t->q), t->q.nfds);
}

/* A pipe whose write end goes with a frame; its inode, for the check. */
static int
trip_pipe(ino_t *ino)
{
	struct stat st;
	int	 p[2];

	if (pipe2(p, O_CLOEXEC) == -1 || fstat(p[0], &st) == -1)
		FAIL("pipe: %s", strerror(errno));
	(void)close(p[0]);
	*ino = st.st_ino;
	return p[1];
}

/* Queue one frame as the script says; flush first if the queue is full. */
static void
trip_put(struct trip *t, struct input *in, uint8_t op)
{
	struct frame *f = &t->f[t->nput];
	struct iovec iov[3];
	const uint8_t *p;
	size_t	 n, len, cut1, cut2;
	int	 fd = -1, r = -1, tries;

	f->type = (uint16_t)(1 + in_byte(in) % (MSG_TYPE_MAX - 1));
	f->id = op & 0x40 ? (uint32_t)in_byte(in) << 24 | in_byte(in) : 0;
	if (op & 0x20) {		/* big: repeat the bytes that follow */
		len = ((size_t)in_byte(in) << 8 | in_byte(in)) * 3;
		p = in_bytes(in, 8, &n);
	} else {
		p = in_bytes(in, in_byte(in), &n);
		len = n;
	}
	if (len > sizeof(scratch))
		len = sizeof(scratch);
	fill(scratch, len, p, n);
	f->pat = p;
	f->npat = n;
	f->len = len;
	f->ino = 0;
	if (op & 0x10)
		fd = trip_pipe(&f->ino);
	cut1 = len / 3;
	cut2 = len - len / 4;
	iov[0].iov_base = scratch;
	iov[0].iov_len = cut1;
	iov[1].iov_base = scratch + cut1;
	iov[1].iov_len = cut2 - cut1;
	iov[2].iov_base = scratch + cut2;
	iov[2].iov_len = len - cut2;
	for (tries = 0; tries < 2; tries++) {
		if (fd != -1)
			r = msg_put_fd(&t->q, f->type, f->id, scratch, len,
			    fd);
		else if (op & 0x08)
			r = msg_putv(&t->q, f->type, f->id, iov, 3);
		else
			r = msg_put(&t->q, f->type, f->id, scratch, len);
		if (r == 0 || errno != ENOBUFS)
			break;
		trip_flush(t);		/* the queue is full: make room */
		fill(scratch, len, p, n);	/* the reads used scratch */
	}
	if (len > MSG_MAX_PAYLOAD) {
		CHECK(r == -1 && errno == EMSGSIZE, "a %zu-byte payload: "
		    "%s", len, r == 0 ? "taken" : strerror(errno));
	} else if (r == -1) {
		/* only a queue limit below one frame may refuse it */
		CHECK(errno == ENOBUFS && t->q.out.limit != 0 &&
		    MSG_HDR_LEN + len > t->q.out.limit, "put refused a "
		    "%zu-byte frame: %s", len, strerror(errno));
	}
	if (r == -1) {
		if (fd != -1)
			(void)close(fd);	/* still ours */
		return;
	}
	t->nput++;
}

/* Plays the round-trip script. */
static void
round_trip(struct input *in)
{
	struct trip t;
	uint8_t	 op, lim;
	int	 r;

	memset(&t, 0, sizeof(t));
	pair(t.sv);
	lim = in_byte(in);
	msgq_init(&t.q, lim == 0 ? 0 : (size_t)lim * 1024);
	msgin_init(&t.in);
	t.chunk = chunk_size(in_byte(in));
	while (in->n > 0 && t.nput < MAXFRAMES) {
		op = in_byte(in);
		if (op & 0x80)
			trip_put(&t, in, op);
		else if (op & 0x40) {
			r = msg_flush(t.sv[0], &t.q);
			CHECK(r == 0 || r == 1, "msg_flush: %s",
			    strerror(errno));
		} else if (op & 0x20)
			trip_read(&t);
		else
			t.chunk = chunk_size(op);
	}
	trip_flush(&t);
	trip_read(&t);
	CHECK(t.nback == t.nput, "%d frames sent, %d came back", t.nput,
	    t.nback);
	CHECK(t.in.nfds == 0, "a descriptor nobody sent");
	(void)shutdown(t.sv[0], SHUT_WR);
	CHECK(msg_read(t.sv[1], &t.in, t.chunk) == 0, "no EOF at the end");
	CHECK(msg_get(&t.in, &(struct msg){ .fd = -1 }) == 0,
	    "bytes left over");
	msgq_free(&t.q);
	msgin_free(&t.in);
	(void)close(t.sv[0]);
	(void)close(t.sv[1]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	int	 before;

	if (size == 0)
		return 0;
	before = fd_count();
	if (in_byte(&in) & 1)
		round_trip(&in);
	else
		decoder(&in);
	CHECK(fd_count() == before, "descriptors: %d before, %d after",
	    before, fd_count());
	return 0;
}
