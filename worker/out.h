/*
 * out.h - what a worker has to say: bytes for its client, frames for
 * the master, each in its queue until its descriptor takes it.
 *
 * The modules below the loop only queue: command.c its replies and
 * requests, pipe.c a job's output and its start and end.  client.c
 * writes to_client to the socket; worker.c flushes to_master to the
 * channel.  Nothing here acts on a failure, it only records it for the
 * module that knows what it means:
 *   full   a line did not fit in max_output_queue: the client is not
 *          reading (client.c drops it as too slow);
 *   error  a frame could not be queued: a bug or no memory (worker.c
 *          stops the worker).
 * After either, that queue refuses everything, so that what does go out
 * has no hole in the middle.
 */
#ifndef FORKCHAT_OUT_H
#define FORKCHAT_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "buf.h"
#include "msg.h"

struct out {
	struct buf to_client;		/* bytes for the client, unwritten */
	struct msgq to_master;		/* frames for the master, unsent */
	uint32_t id;			/* the client's, in every frame */
	bool	 client_gone;		/* no socket (yet, or any more) */
	bool	 full;			/* a line did not fit: refusing */
	size_t	 unread;		/* to_client's length then */
	int	 error;			/* errno of a frame not queued, or 0 */
	uint64_t frames;		/* frames queued so far */
	int64_t	 sent_at;		/* when the last one was queued */
};

#define OUT_LINE_MAX	1024		/* a formatted line, CRLF included */

void	out_init(struct out *, size_t, size_t);
void	out_open_client(struct out *, uint32_t, size_t);
void	out_close_client(struct out *);
void	out_reserve(struct out *, size_t);
void	out_tell(struct out *, const char *, size_t);
void	out_say(struct out *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	out_send(struct out *, enum msg_type, const struct msg_build *);
void	out_sendv(struct out *, enum msg_type, const struct iovec *, int);
void	out_send_text(struct out *, enum msg_type, const char *, size_t);
void	out_send_str_text(struct out *, enum msg_type, const char *, size_t,
	    const char *, size_t);

#endif
