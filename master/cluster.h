/*
 * cluster.h - several servers, one chat: what the rest of the master
 * asks of the cluster (off unless `cluster` is set).
 *
 * main.c starts and stops it and drives its connections and deadlines;
 * reload.c keeps what cannot change; upgrade.c and takeover.c carry it
 * across a live upgrade; chat.c and admin.c hand it what
 * their clients do that other servers must see, and it answers /who and
 * adds to /stats.
 */
#ifndef FORKCHAT_CLUSTER_H
#define FORKCHAT_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "msg.h"
#include "snap.h"
#include "spawn.h"

bool	 cluster_on(void);
int	 cluster_start(const struct config *, char *, size_t);
void	 cluster_keep(struct config *);
void	 cluster_reloaded(const char *);
void	 cluster_stop(void);
bool	 cluster_busy(int64_t);
void	 cluster_close(void);
void	 cluster_event(struct src *, int);
int64_t	 cluster_deadline(void);
void	 cluster_tick(int64_t);
void	 cluster_end_turn(void);
int	 cluster_save(struct snap *);
int	 cluster_restore(uint32_t, struct msg *);
bool	 cluster_restored(void);
void	 cluster_resume(void);

void	 cluster_join(struct child *);
void	 cluster_leave(struct child *, const char *);
void	 cluster_say(struct child *, bool, const char *, size_t);
void	 cluster_nick(struct child *, const char *);
void	 cluster_privmsg(struct child *, const char *, const char *, size_t);
void	 cluster_kick(struct child *, const char *, const char *, size_t);
void	 cluster_timeout(struct child *, const char *, uint32_t);
void	 cluster_who(struct child *);
void	 cluster_stats(struct child *);

#endif
