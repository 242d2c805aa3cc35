/*
 * msg.h - typed, length-framed messages on a master/worker channel.
 *
 * A frame is a 12-byte header (payload length, type, client id) and the
 * payload.  Frames are queued with msg_put() and written with
 * msg_flush(); many frames share one write.  Frames built once for
 * many queues go with msg_send_raw(), copied only where a socket is full.  At most one descriptor
 * travels with a frame (SCM_RIGHTS) and the queue owns it until it is
 * sent.  msg_read() fills an input buffer, msg_get() takes one whole
 * frame out of it.  Every call returns -1 with errno set on failure.
 */
#ifndef FORKCHAT_MSG_H
#define FORKCHAT_MSG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "buf.h"

enum msg_type {
	/* master -> worker */
	MSG_CLIENT = 1,		/* your client: fd + struct msg_client */
	MSG_LINE,		/* bytes for the client, sent as they are */
	MSG_SHUTDOWN,		/* say goodbye, flush, exit */
	/* worker -> master */
	MSG_SAY,		/* text: a chat line for everyone else */
	MSG_ME,			/* text: an action for everyone else */
	MSG_PRIVMSG,		/* target NUL text: a private message */
	MSG_NICK,		/* name: please rename my client */
	MSG_WHO,		/* (empty): please list the clients */
	MSG_ACTIVE,		/* (empty): my client sent a line */
	MSG_BYE,		/* reason: my client is gone; I exit next */
	MSG_EXPIRED,		/* reason: like MSG_BYE, by read timeout */
	MSG_OPER,		/* password: make me an operator */
	MSG_KICK,		/* target NUL reason */
	MSG_TIMEOUT,		/* target NUL seconds */
	MSG_PS,			/* (empty): list the server's processes */
	MSG_STATS,		/* (empty): show the counters */
	MSG_JOB,		/* struct msg_job: a pipe job started */
	MSG_JOB_END,		/* struct msg_job: a pipe job was reaped */
	/* master -> worker, again */
	MSG_OPER_RESULT,	/* one byte: 1 granted, 0 refused */
	MSG_CLOSE,		/* a last line for the client, then close */
	MSG_SET_TIMEOUT,	/* uint32_t seconds: the new read timeout */
	MSG_CONFIG,		/* the configuration, as config text */
	MSG_TYPE_MAX
};

struct msg_hdr {
	uint32_t len;		/* payload bytes after the header */
	uint16_t type;		/* enum msg_type */
	uint16_t flags;		/* zero for now */
	uint32_t id;		/* client id the frame is about, or 0 */
};

#define MSG_HDR_LEN	 12
#define MSG_MAX_PAYLOAD	 ((size_t)128 * 1024)
#define MSG_NICK_MAX	 16
#define MSG_PEER_MAX	 64

/* MSG_CLIENT payload: fixed size, checked exactly. */
struct msg_client {
	uint32_t id;
	uint32_t read_timeout;		/* seconds, 0 = none */
	char	 nick[MSG_NICK_MAX + 1];
	char	 peer[MSG_PEER_MAX];
};

/* MSG_JOB and MSG_JOB_END payload: fixed size, checked exactly. */
struct msg_job {
	int32_t	 pid;
	int32_t	 status;		/* wait status, for MSG_JOB_END */
	char	 name[MSG_NICK_MAX + 1];
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
	int	 fds[MSGQ_MAXFD];	/* received, not yet taken */
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

void	msgin_init(struct msgin *);
void	msgin_free(struct msgin *);
long	msg_read(int, struct msgin *, size_t);
int	msg_get(struct msgin *, struct msg_hdr *, const char **);
int	msg_take_fd(struct msgin *);

#endif
