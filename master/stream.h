/*
 * stream.h - the cluster's Redis stream as this server writes and reads
 * it: entries out in order (and kept until read back), entries in, in
 * stream order, to apply.c; the handshake that finds where to read
 * from; heartbeats; declaring silent servers gone.
 */
#ifndef FORKCHAT_STREAM_H
#define FORKCHAT_STREAM_H

#include <stdbool.h>
#include <stdint.h>

#include "clmsg.h"
#include "config.h"
#include "msg.h"
#include "snap.h"
#include "state.h"

enum stream_state {
	STREAM_OFF,		/* no cluster */
	STREAM_DOWN,		/* no link: chat is local, lines kept */
	STREAM_SYNCING,		/* link up; finding where to read from */
	STREAM_UP		/* every entry goes through Redis */
};

/* Counters for /stats. */
struct stream_stats {
	uint64_t read;			/* entries read */
	uint64_t written;		/* entries sent */
	uint64_t skipped;		/* not ours to read, or malformed */
	unsigned queued;		/* kept until read back */
	uint64_t ups;			/* times the link came up */
};

int	 stream_start(const struct config *, const char *, const char *,
	     uint64_t);
void	 stream_set(const struct config *, const char *);
void	 stream_publish(struct clmsg *);
void	 stream_stop(void);
bool	 stream_busy(int64_t);
void	 stream_close(void);
int64_t	 stream_deadline(void);
void	 stream_tick(int64_t);
void	 stream_end_turn(void);
enum stream_state stream_state(void);
const char *stream_position(char *, size_t);
void	 stream_stats(struct stream_stats *);
int	 stream_save(struct snap *);
int	 stream_restore(uint32_t, struct msg *);
bool	 stream_restored(void);
int	 stream_resume(const struct config *);

#endif
