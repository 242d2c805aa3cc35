/*
 * worker.h - the worker process: one client, one channel to the master.
 *
 * A worker is a fork of the master's forker (master/forker.c) that runs
 * worker_main() on its channel to the master; worker_main() never
 * returns.
 * command.c parses what the client types and answers it, through the
 * worker_* calls below; pipe.c runs its /pipe jobs.
 */
#ifndef FORKCHAT_WORKER_H
#define FORKCHAT_WORKER_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "config.h"
#include "msg.h"

struct worker;

_Noreturn void worker_main(int, const struct config *);

/* worker.c, for command.c */
void	worker_say(struct worker *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	worker_tell(struct worker *, const char *, size_t);
void	worker_send(struct worker *, enum msg_type, const struct iovec *, int);
void	worker_quit(struct worker *, const char *);
void	worker_oper_sent(struct worker *);
void	worker_job(struct worker *, enum msg_type, pid_t, const char *, int);
const struct config *worker_config(const struct worker *);

/* pipe.c */
bool	pipe_busy(void);
int	pipe_start(struct worker *, const struct config *,
	    const struct pipe_prog *, const char *, size_t);
int	pipe_pollfds(struct pollfd *);
void	pipe_events(struct worker *, const struct pollfd *, int);
int64_t	pipe_deadline(void);
void	pipe_tick(int64_t);
void	pipe_abort(void);

/* command.c */
void	command_line(struct worker *, const char *, size_t);

#endif
