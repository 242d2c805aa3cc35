/*
 * msg.c - framed messages on a master/worker channel (a socketpair).
 *
 * Output: msg_put() and friends append whole frames to a queue,
 * msg_flush() writes as much as the socket takes, many frames per
 * send(), and says whether bytes remain (the caller waits for POLLOUT).
 * A descriptor queued with msg_put_fd() goes out with the first byte of
 * its frame, and the queue closes its copy once it has gone.
 * msg_send_raw() sends frames built once for many queues (a broadcast)
 * straight from the caller's memory when a queue is empty, and copies
 * only what the socket does not take.
 *
 * Input: msg_read() appends what the socket has to an input buffer and
 * keeps any descriptors that came with it, with the stretch of the
 * stream they came with; msg_get() hands out one whole frame at a time,
 * refusing a length over MSG_MAX_PAYLOAD before buffering it (EBADMSG).
 * A descriptor is sent with the first byte of its frame, so a frame
 * flagged MSG_F_FD gets the oldest one received, which must have come
 * with bytes that include its start; a descriptor that came only with
 * earlier bytes belongs to no frame, and is refused the same way.
 *
 * Payloads: the getters take fields from the front of a frame's payload,
 * each a u32 or a u64 (host order: both ends are one machine), a str
 * (bytes and a NUL), or text (the rest: no CR, LF or NUL, so it cannot
 * break a line on the wire); msg_end() says whether the payload was
 * exactly that.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "msg.h"

/* An empty output queue holding at most limit bytes. */
void
msgq_init(struct msgq *q, size_t limit)
{
	memset(q, 0, sizeof(*q));
	buf_init(&q->out, limit);
}

/* Drop what is queued, closing descriptors that were never sent. */
void
msgq_free(struct msgq *q)
{
	for (int i = 0; i < q->nfds; i++)
		(void)close(q->fds[i].fd);
	q->nfds = 0;
	buf_free(&q->out);
}

/* Queue one frame, with these header flags, whose payload is iov[]. */
static int
msg_putv_flags(struct msgq *q, enum msg_type type, uint16_t flags,
    uint32_t id, const struct iovec *iov, int iovcnt)
{
	struct msg_hdr h;
	size_t len = 0;
	char *p;

	for (int i = 0; i < iovcnt; i++)
		len += iov[i].iov_len;
	if (len > MSG_MAX_PAYLOAD) {
		errno = EMSGSIZE;
		return -1;
	}
	if ((p = buf_reserve(&q->out, MSG_HDR_LEN + len)) == NULL)
		return -1;
	h.len = (uint32_t)len;
	h.type = (uint16_t)type;
	h.flags = flags;
	h.id = id;
	memcpy(p, &h, MSG_HDR_LEN);
	p += MSG_HDR_LEN;
	for (int i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > 0)
			memcpy(p, iov[i].iov_base, iov[i].iov_len);
		p += iov[i].iov_len;
	}
	buf_commit(&q->out, MSG_HDR_LEN + len);
	return 0;
}

/* Queue one frame whose payload is the concatenation of iov[]. */
int
msg_putv(struct msgq *q, enum msg_type type, uint32_t id,
    const struct iovec *iov, int iovcnt)
{
	return msg_putv_flags(q, type, 0, id, iov, iovcnt);
}

/* Queue one frame with a flat payload. */
int
msg_put(struct msgq *q, enum msg_type type, uint32_t id, const void *data,
    size_t len)
{
	struct iovec iov;

	iov.iov_base = (void *)(uintptr_t)data;	/* iovec is not const */
	iov.iov_len = len;
	return msg_putv(q, type, id, &iov, 1);
}

/* Queue a frame carrying fd; on success the queue owns fd. */
int
msg_put_fd(struct msgq *q, enum msg_type type, uint32_t id, const void *data,
    size_t len, int fd)
{
	size_t pos = q->sent + q->out.len;
	struct iovec iov;

	if (q->nfds == MSGQ_MAXFD) {
		errno = ENOBUFS;
		return -1;
	}
	iov.iov_base = (void *)(uintptr_t)data;
	iov.iov_len = len;
	if (msg_putv_flags(q, type, MSG_F_FD, id, &iov, 1) == -1)
		return -1;
	q->fds[q->nfds].pos = pos;
	q->fds[q->nfds].fd = fd;
	q->nfds++;
	return 0;
}

/* Send bytes from the head, up to the next frame that carries an fd. */
static ssize_t
msg_send_some(int sock, struct msgq *q)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct msghdr mh;
	struct iovec iov;
	struct cmsghdr *cm;
	size_t n = q->out.len;
	int with_fd = q->nfds > 0 && q->fds[0].pos == q->sent;
	int next = with_fd ? 1 : 0;

	if (next < q->nfds && q->fds[next].pos - q->sent < n)
		n = q->fds[next].pos - q->sent;
	iov.iov_base = (void *)(uintptr_t)buf_head(&q->out);
	iov.iov_len = n;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (with_fd) {
		memset(cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		/* memcpy, not a cast: CMSG_DATA need not be int-aligned. */
		memcpy(CMSG_DATA(cm), &q->fds[0].fd, sizeof(int));
	}
	return sendmsg(sock, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* Write queued frames: 0 all sent, 1 the socket is full, -1 error. */
int
msg_flush(int sock, struct msgq *q)
{
	ssize_t n;

	while (q->out.len > 0) {
		if ((n = msg_send_some(sock, q)) == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 1;
			return -1;
		}
		if (q->nfds > 0 && q->fds[0].pos == q->sent) {
			/* The kernel holds its own reference now. */
			(void)close(q->fds[0].fd);
			memmove(&q->fds[0], &q->fds[1],
			    (size_t)(q->nfds - 1) * sizeof(q->fds[0]));
			q->nfds--;
		}
		buf_consume(&q->out, (size_t)n);
		q->sent += (size_t)n;
	}
	return 0;
}

/* Queue bytes that already are whole frames (a shared broadcast). */
int
msg_put_raw(struct msgq *q, const void *frames, size_t len)
{
	return buf_append(&q->out, frames, len);
}

/*
 * Send whole frames behind what q holds: straight from frames when q is
 * empty (no copy), queueing whatever the socket does not take.  0 all
 * sent, 1 some queued (flush later), -1 the queue is full (ENOBUFS).
 * A socket error also queues: the next msg_flush() reports it.
 */
int
msg_send_raw(int sock, struct msgq *q, const void *frames, size_t len)
{
	const char *p = frames;
	ssize_t n = 0;

	if (q->out.len == 0) {
		do {
			n = send(sock, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		} while (n == -1 && errno == EINTR);
		if (n == -1)
			n = 0;
		q->sent += (size_t)n;
		if ((size_t)n == len)
			return 0;
	}
	if (msg_put_raw(q, p + n, len - (size_t)n) == -1)
		return -1;
	return 1;
}

/* An empty payload builder. */
void
msg_b_init(struct msg_build *b)
{
	b->len = 0;
	b->over = false;
}

/* Append n bytes, or mark the builder as overflowed. */
static void
msg_b_bytes(struct msg_build *b, const void *p, size_t n)
{
	if (b->over || n > sizeof(b->data) - b->len) {
		b->over = true;
		return;
	}
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
}

/* A u32 field. */
void
msg_b_u32(struct msg_build *b, uint32_t v)
{
	msg_b_bytes(b, &v, sizeof(v));
}

/* A u64 field. */
void
msg_b_u64(struct msg_build *b, uint64_t v)
{
	msg_b_bytes(b, &v, sizeof(v));
}

/* A str field: n bytes (no NUL among them) and a NUL. */
void
msg_b_str(struct msg_build *b, const char *s, size_t n)
{
	if (memchr(s, '\0', n) != NULL)
		b->over = true;
	msg_b_bytes(b, s, n);
	msg_b_bytes(b, "", 1);
}

/* A text field, the payload's last: n bytes as they are. */
void
msg_b_text(struct msg_build *b, const char *s, size_t n)
{
	msg_b_bytes(b, s, n);
}

/* Queue a built payload; EMSGSIZE if it did not fit the builder. */
int
msg_put_build(struct msgq *q, enum msg_type type, uint32_t id,
    const struct msg_build *b)
{
	if (b->over) {
		errno = EMSGSIZE;
		return -1;
	}
	return msg_put(q, type, id, b->data, b->len);
}

/* An empty input buffer. */
void
msgin_init(struct msgin *in)
{
	memset(in, 0, sizeof(*in));
	buf_init(&in->in, 0);
}

/* Free the buffer and close descriptors nobody took. */
void
msgin_free(struct msgin *in)
{
	for (int i = 0; i < in->nfds; i++)
		(void)close(in->fds[i].fd);
	in->nfds = 0;
	buf_free(&in->in);
	in->taken = 0;
}

/* Consume the frame msg_get() handed out last. */
static void
msgin_settle(struct msgin *in)
{
	if (in->taken > 0) {
		buf_consume(&in->in, in->taken);
		in->pos += in->taken;
		in->taken = 0;
	}
}

/*
 * Keep the descriptors a read of the stream's bytes lo..hi brought;
 * close any beyond what we can hold.
 */
static void
msgin_keep_fds(struct msgin *in, struct msghdr *mh, size_t lo, size_t hi)
{
	struct cmsghdr *cm;
	int fd;

	for (cm = CMSG_FIRSTHDR(mh); cm != NULL; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t off = 0; CMSG_LEN(off + sizeof(int)) <= cm->cmsg_len;
		    off += sizeof(int)) {
			memcpy(&fd, CMSG_DATA(cm) + off, sizeof(int));
			if (in->nfds == MSGQ_MAXFD) {
				(void)close(fd);
				continue;
			}
			in->fds[in->nfds].lo = lo;
			in->fds[in->nfds].hi = hi;
			in->fds[in->nfds++].fd = fd;
		}
	}
}

/* Read up to chunk bytes: bytes read, 0 at EOF, -1 with errno. */
long
msg_read(int sock, struct msgin *in, size_t chunk)
{
	char cbuf[CMSG_SPACE(sizeof(int) * MSGQ_MAXFD)];
	struct msghdr mh;
	struct iovec iov;
	size_t at;
	ssize_t n;

	msgin_settle(in);
	if ((iov.iov_base = buf_reserve(&in->in, chunk)) == NULL)
		return -1;
	iov.iov_len = chunk;
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof(cbuf);
	do {
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	} while (n == -1 && errno == EINTR);
	if (n == -1) {
		if (in->in.len == 0)
			buf_free(&in->in);
		return -1;
	}
	at = in->pos + in->in.len;
	msgin_keep_fds(in, &mh, at, at + (size_t)n);
	buf_commit(&in->in, (size_t)n);
	if (in->in.len == 0)
		buf_free(&in->in);
	return (long)n;
}

/* Close and forget every descriptor received; EBADMSG for the caller. */
static int
msgin_refuse(struct msgin *in)
{
	for (int i = 0; i < in->nfds; i++)
		(void)close(in->fds[i].fd);
	in->nfds = 0;
	errno = EBADMSG;
	return -1;
}

/* Give m the descriptor its frame, at stream offset at, came with. */
static int
msgin_take_fd(struct msgin *in, struct msg *m, size_t at)
{
	if (in->nfds == 0 || in->fds[0].lo > at || in->fds[0].hi <= at)
		return msgin_refuse(in);
	m->fd = in->fds[0].fd;
	memmove(&in->fds[0], &in->fds[1],
	    (size_t)(in->nfds - 1) * sizeof(in->fds[0]));
	in->nfds--;
	return 0;
}

/*
 * Take one whole frame: 1 got one, 0 need more bytes, -1 bad (EBADMSG:
 * a bad header, a descriptor missing or belonging to no frame).  The
 * frame stays valid until the next call; m->fd is the caller's.
 */
int
msg_get(struct msgin *in, struct msg *m)
{
	msgin_settle(in);
	m->fd = -1;
	m->bad = false;
	/* A descriptor that came only with bytes already taken: a stray. */
	if (in->nfds > 0 && in->fds[0].hi <= in->pos)
		return msgin_refuse(in);
	if (in->in.len < MSG_HDR_LEN)
		return 0;
	memcpy(&m->h, buf_head(&in->in), MSG_HDR_LEN);
	if (m->h.len > MSG_MAX_PAYLOAD || m->h.type == 0 ||
	    m->h.type >= MSG_TYPE_MAX || (m->h.flags & ~MSG_F_ALL) != 0)
		return msgin_refuse(in);
	if (in->in.len - MSG_HDR_LEN < m->h.len)
		return 0;
	if ((m->h.flags & MSG_F_FD) && msgin_take_fd(in, m, in->pos) == -1)
		return -1;
	m->p = buf_head(&in->in) + MSG_HDR_LEN;
	m->left = m->h.len;
	in->taken = MSG_HDR_LEN + m->h.len;
	return 1;
}

/* Close the frame's descriptor, if it had one nobody took. */
void
msg_close_fd(struct msg *m)
{
	if (m->fd != -1)
		(void)close(m->fd);
	m->fd = -1;
}

/* A getter's failure: the payload is malformed from here on. */
static int
msg_bad(struct msg *m)
{
	m->bad = true;
	m->left = 0;
	errno = EBADMSG;
	return -1;
}

/* True if p[0..n) could not break a line on the wire. */
static bool
msg_clean(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] == '\r' || p[i] == '\n' || p[i] == '\0')
			return false;
	return true;
}

/* A fixed-size field of n bytes into v. */
static int
msg_fixed(struct msg *m, void *v, size_t n)
{
	if (m->bad || m->left < n)
		return msg_bad(m);
	memcpy(v, m->p, n);
	m->p += n;
	m->left -= n;
	return 0;
}

/* A u32 field. */
int
msg_u32(struct msg *m, uint32_t *v)
{
	return msg_fixed(m, v, sizeof(*v));
}

/* A u64 field. */
int
msg_u64(struct msg *m, uint64_t *v)
{
	return msg_fixed(m, v, sizeof(*v));
}

/* A str field into buf: at most size - 1 bytes, no CR or LF, NUL-ended. */
int
msg_str(struct msg *m, char *buf, size_t size)
{
	const char *nul;
	size_t n;

	if (m->bad || (nul = memchr(m->p, '\0', m->left)) == NULL)
		return msg_bad(m);
	n = (size_t)(nul - m->p);
	if (n >= size || !msg_clean(m->p, n))
		return msg_bad(m);
	memcpy(buf, m->p, n);
	buf[n] = '\0';
	m->p += n + 1;
	m->left -= n + 1;
	return 0;
}

/* A text field: the rest of the payload, with no CR, LF or NUL. */
int
msg_text(struct msg *m, const char **p, size_t *n)
{
	if (m->bad || !msg_clean(m->p, m->left))
		return msg_bad(m);
	return msg_rest(m, p, n);
}

/* The rest of the payload as it is (config text, bytes for a client). */
int
msg_rest(struct msg *m, const char **p, size_t *n)
{
	if (m->bad)
		return msg_bad(m);
	*p = m->p;
	*n = m->left;
	m->p += m->left;
	m->left = 0;
	return 0;
}

/* 0 if every getter succeeded and the payload is used up; else -1. */
int
msg_end(struct msg *m)
{
	if (m->bad || m->left != 0)
		return msg_bad(m);
	return 0;
}
