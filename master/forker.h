/*
 * forker.h - the forker: the small process, forked once, that forks
 * every worker for the master (see forker.c for why).
 */
#ifndef FORKCHAT_FORKER_H
#define FORKCHAT_FORKER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"

int	 forker_start(const struct config *);
void	 forker_attach(int, pid_t, const char *);
const char *forker_version(void);
int	 forker_request(int);
int	 forker_flush(void);
int	 forker_reply(int32_t *);
void	 forker_lost(void);
void	 forker_stop(void);
void	 forker_kill(void);
void	 forker_reaped(int);
pid_t	 forker_pid(void);
bool	 forker_accepting(void);
bool	 forker_running(void);

struct snap;
struct msg;
bool	 forker_busy(void);
int	 forker_save(struct snap *);
void	 forker_inherit(bool);
int	 forker_restore(struct msg *);

#endif
