/*
 * spawn.h - the workers' lives: starting spares through the forker,
 * reaping, killing.  The table of them is child.h's.
 */
#ifndef FORKCHAT_SPAWN_H
#define FORKCHAT_SPAWN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "child.h"

/* What spawn.c tells the module above about a child it reaped. */
struct spawn_hooks {
	void	(*drain)(struct child *);	/* read its last frames */
	void	(*gone)(struct child *, const char *);	/* its client left */
	bool	(*other)(pid_t, int);	/* a process not ours: claimed? */
};

void	 spawn_init(const struct spawn_hooks *);
void	 spawn_refill(int64_t, unsigned);
int64_t	 spawn_retry_at(void);
struct child *spawn_take_spare(void);
void	 spawn_kill(struct child *, const char *);
unsigned spawn_kill_all(void);
void	 spawn_forker_event(void);
void	 spawn_reap(void);
bool	 spawn_busy(void);
bool	 spawn_quiet(void);

#endif
