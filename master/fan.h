/*
 * fan.h - the ordered fan-out: every frame the master sends a worker,
 * and every broadcast to all clients, in one global order.
 *
 * fan_send() and fan_line() queue for one worker; fan_all() and
 * fan_all_line() frame a broadcast once for every joined client.  Queues
 * are written at the end of the loop's turn (fan_end_turn), when the
 * broadcasts held back are due (fan_deadline).  A frame for one worker
 * always comes after the broadcasts queued before it.
 */
#ifndef FORKCHAT_FAN_H
#define FORKCHAT_FAN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include "msg.h"
#include "spawn.h"

int	 fan_send(struct child *, enum msg_type, const struct iovec *, int);
void	 fan_control(struct child *, enum msg_type);
void	 fan_line(struct child *, const char *, ...)
	     __attribute__((format(printf, 2, 3)));
void	 fan_all(struct child *, const struct iovec *, int);
void	 fan_all_line(struct child *, const char *, ...)
	     __attribute__((format(printf, 2, 3)));
void	 fan_join(struct child *);
void	 fan_catch_up(struct child *);
void	 fan_flush(struct child *);
void	 fan_end_turn(void);
void	 fan_release(void);
int64_t	 fan_deadline(void);

#endif
