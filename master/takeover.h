/*
 * takeover.h - the new master's side of a live upgrade: taking the
 * running server over from a snapshot, or handing it back.
 */
#ifndef FORKCHAT_TAKEOVER_H
#define FORKCHAT_TAKEOVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct config;

void	 takeover_begin(char **);
bool	 takeover_pending(void);
int	 takeover_config(struct config *, const char *, char *, size_t);
const char *takeover_config_error(void);
int	 takeover_run(void);
const char *takeover_old_version(void);
const char *takeover_rolled_back(void);
int	 takeover_held_stop(void);
int64_t	 takeover_away_ms(void);
const char *takeover_path(void);
_Noreturn void takeover_rollback(const char *);

#endif
