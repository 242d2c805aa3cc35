/*
 * msg.h - typed, length-framed messages on a master/worker channel.
 *
 * A frame is a 12-byte header (payload length, type, flags, client id)
 * and the payload.  Frames are queued with msg_put() and written with
 * msg_flush(); many frames share one write.  Frames built once for many
 * queues go with msg_send_raw(), copied only where a socket is full.
 * At most one descriptor travels with a frame (SCM_RIGHTS, and the
 * MSG_F_FD flag in its header); the queue owns it until it is sent.
 *
 * msg_read() fills an input buffer; msg_get() takes one whole frame out
 * of it as a struct msg, with its descriptor if it carries one.  Its
 * payload is read front to back with typed getters (msg_u32, msg_u64, msg_str,
 * msg_text, msg_rest) and closed with msg_end(), which fails unless every
 * getter succeeded and nothing is left over: a malformed payload is
 * never half-used.  Small payloads are built field by field with the
 * msg_b_* calls, the getters' mirror.
 *
 * Every call returns -1 with errno set on failure.
 */
#ifndef FORKCHAT_MSG_H
#define FORKCHAT_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "buf.h"

/*
 * The channel protocol's version: the layout of every payload below.  A
 * worker says its version in MSG_HELLO, first thing; a master serves
 * workers of its own version and of the one before it, which is what a
 * live upgrade needs (workers of the old binary go on serving their
 * clients under the new master).  Build with -DMSG_VERSION=N to test.
 */
#ifndef MSG_VERSION
#define MSG_VERSION	2
#endif

enum msg_type {
	/* master -> worker */
	MSG_CLIENT = 1,		/* fd; u32 read timeout, str nick, str peer */
	MSG_LINE,		/* bytes for the client, sent as they are */
	MSG_SHUTDOWN,		/* (empty): say goodbye, flush, exit */
	/* worker -> master */
	MSG_SAY,		/* text: a chat line for everyone else */
	MSG_ME,			/* text: an action for everyone else */
	MSG_PRIVMSG,		/* str target, text: a private message */
	MSG_NICK,		/* str name: please rename my client */
	MSG_WHO,		/* (empty): please list the clients */
	MSG_ACTIVE,		/* (empty): my client sent a line */
	MSG_BYE,		/* text reason: my client is gone; I exit next */
	MSG_EXPIRED,		/* text reason: like MSG_BYE, by read timeout */
	MSG_OPER,		/* text password: make me an operator */
	MSG_KICK,		/* str target, text reason */
	MSG_TIMEOUT,		/* str target, u32 seconds */
	MSG_PS,			/* (empty): list the server's processes */
	MSG_STATS,		/* (empty): show the counters */
	MSG_JOB,		/* u32 pid, str name: a pipe job started */
	MSG_JOB_END,		/* u32 pid, u32 wait status, str name: reaped */
	/* master -> worker, again */
	MSG_OPER_RESULT,	/* u32: 1 granted, 0 refused */
	MSG_CLOSE,		/* text: a last line for the client, then close */
	MSG_SET_TIMEOUT,	/* u32 seconds: the new read timeout */
	MSG_CONFIG,		/* bytes: the configuration, as config text */
	MSG_PS_TABLE,		/* records (below): who is who, for /ps */
	MSG_PS_END,		/* u64 the master's uptime in ms: draw /ps */
	MSG_DONE,		/* (empty): after MSG_BYE or MSG_EXPIRED, all
				   that was for the client has been sent */
	/* worker -> master, again */
	MSG_HELLO,		/* u32 MSG_VERSION, str its forkchatd version */
	MSG_TYPE_MAX
};

/*
 * A MSG_PS_TABLE record: u32 pid, u32 role, u32 client id, str nick,
 * u32 its job's pid (its process group), str the job's name, str the
 * forkchatd version the process runs ("" if not known).  The
 * master's table of its processes, for the worker that draws /ps from
 * /proc: the master itself, the forker, every worker and spare, and the
 * pipe jobs it adopted from workers that died.
 */
enum msg_ps_role {
	MSG_PS_MASTER = 1,
	MSG_PS_FORKER,
	MSG_PS_SPARE,
	MSG_PS_WORKER,
	MSG_PS_LEAVING,		/* a worker whose client has left */
	MSG_PS_ADOPTED		/* a pipe job whose worker died */
};

struct msg_hdr {
	uint32_t len;		/* payload bytes after the header */
	uint16_t type;		/* enum msg_type */
	uint16_t flags;		/* MSG_F_* */
	uint32_t id;		/* client id the frame is about, or 0 */
};

#define MSG_F_FD	0x0001	/* a descriptor travels with this frame */
#define MSG_F_ALL	MSG_F_FD

#define MSG_HDR_LEN	 12
#define MSG_MAX_PAYLOAD	 ((size_t)128 * 1024)
#define MSG_BUILD_MAX	 512	/* a payload built with msg_b_* */

/* One frame taken with msg_get(); the getters read its payload. */
struct msg {
	struct msg_hdr h;
	const char *p;		/* payload not read yet */
	size_t	 left;		/* bytes of it */
	int	 fd;		/* came with the frame, or -1: the taker's */
	bool	 bad;		/* a getter found the payload malformed */
};

/* A small payload being built, field by field. */
struct msg_build {
	char	 data[MSG_BUILD_MAX];
	size_t	 len;
	bool	 over;		/* did not fit: msg_put_build() refuses */
};

#define MSGQ_MAXFD	 4

struct msgq {
	struct buf out;
	struct {
		size_t	pos;		/* offset of the frame in the stream */
		int	fd;
	}	 fds[MSGQ_MAXFD];
	int	 nfds;
	size_t	 sent;			/* bytes written since the start */
};

struct msgin {
	struct buf in;
	size_t	 taken;			/* frame handed out, consumed next call */
	size_t	 pos;			/* stream offset of the buffer's head */
	struct {
		size_t	lo, hi;		/* the bytes it came with */
		int	fd;
	}	 fds[MSGQ_MAXFD];	/* received, not yet taken */
	int	 nfds;
};

void	msgq_init(struct msgq *, size_t limit);
void	msgq_free(struct msgq *);
int	msg_put(struct msgq *, enum msg_type, uint32_t,
	    const void *, size_t);
int	msg_putv(struct msgq *, enum msg_type, uint32_t,
	    const struct iovec *, int);
int	msg_put_fd(struct msgq *, enum msg_type, uint32_t,
	    const void *, size_t, int);
int	msg_flush(int, struct msgq *);
int	msg_put_raw(struct msgq *, const void *, size_t);
int	msg_send_raw(int, struct msgq *, const void *, size_t);

static inline size_t
msgq_pending(const struct msgq *q)
{
	return q->out.len;
}

void	msg_b_init(struct msg_build *);
void	msg_b_u32(struct msg_build *, uint32_t);
void	msg_b_u64(struct msg_build *, uint64_t);
void	msg_b_str(struct msg_build *, const char *, size_t);
void	msg_b_text(struct msg_build *, const char *, size_t);
int	msg_put_build(struct msgq *, enum msg_type, uint32_t,
	    const struct msg_build *);

void	msgin_init(struct msgin *);
void	msgin_free(struct msgin *);
long	msg_read(int, struct msgin *, size_t);
int	msg_get(struct msgin *, struct msg *);
void	msg_close_fd(struct msg *);

int	msg_u32(struct msg *, uint32_t *);
int	msg_u64(struct msg *, uint64_t *);
int	msg_str(struct msg *, char *, size_t);
int	msg_text(struct msg *, const char **, size_t *);
int	msg_rest(struct msg *, const char **, size_t *);
int	msg_end(struct msg *);

#endif
