/*
 * sync.h - the handshake after each connect to Redis: where to read the
 * cluster's stream from, and whether the servers must announce their
 * clients again because entries were lost.
 */
#ifndef FORKCHAT_SYNC_H
#define FORKCHAT_SYNC_H

#include <stdbool.h>

#include "msg.h"
#include "redis.h"
#include "snap.h"

/* The handshake is over: read from where sync_start's pos now says. */
typedef void sync_done(bool);

void	 sync_init(const char *);
void	 sync_start(struct redis_id *, sync_done *);
int	 sync_save(struct snap *);
int	 sync_restore(struct msg *);

#endif
