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
 * keeps any descriptors that came with it; msg_get() hands out one whole
 * frame at a time, refusing a length over MSG_MAX_PAYLOAD before
 * buffering it (EBADMSG).
 */
#include <errno.h>
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

/* Queue one frame whose payload is the concatenation of iov[]. */
int
msg_putv(struct msgq *q, enum msg_type type, uint32_t id,
    const struct iovec *iov, int iovcnt)
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
	h.flags = 0;
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

	if (q->nfds == MSGQ_MAXFD) {
		errno = ENOBUFS;
		return -1;
	}
	if (msg_put(q, type, id, data, len) == -1)
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
		(void)close(in->fds[i]);
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
		in->taken = 0;
	}
}

/* Keep received descriptors; close any beyond what we can hold. */
static void
msgin_keep_fds(struct msgin *in, struct msghdr *mh)
{
	struct cmsghdr *cm;
	int fd;

	for (cm = CMSG_FIRSTHDR(mh); cm != NULL; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		for (size_t off = 0; CMSG_LEN(off + sizeof(int)) <= cm->cmsg_len;
		    off += sizeof(int)) {
			memcpy(&fd, CMSG_DATA(cm) + off, sizeof(int));
			if (in->nfds < MSGQ_MAXFD)
				in->fds[in->nfds++] = fd;
			else
				(void)close(fd);
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
	msgin_keep_fds(in, &mh);
	buf_commit(&in->in, (size_t)n);
	if (in->in.len == 0)
		buf_free(&in->in);
	return (long)n;
}

/* Take one whole frame: 1 got one, 0 need more bytes, -1 bad frame. */
int
msg_get(struct msgin *in, struct msg_hdr *h, const char **payload)
{
	msgin_settle(in);
	if (in->in.len < MSG_HDR_LEN)
		return 0;
	memcpy(h, buf_head(&in->in), MSG_HDR_LEN);
	if (h->len > MSG_MAX_PAYLOAD || h->type == 0 ||
	    h->type >= MSG_TYPE_MAX || h->flags != 0) {
		errno = EBADMSG;
		return -1;
	}
	if (in->in.len - MSG_HDR_LEN < h->len)
		return 0;
	*payload = buf_head(&in->in) + MSG_HDR_LEN;
	in->taken = MSG_HDR_LEN + h->len;
	return 1;
}

/* The oldest descriptor received and not yet taken, or -1. */
int
msg_take_fd(struct msgin *in)
{
	int fd;

	if (in->nfds == 0)
		return -1;
	fd = in->fds[0];
	memmove(&in->fds[0], &in->fds[1], (size_t)(in->nfds - 1) * sizeof(int));
	in->nfds--;
	return fd;
}
