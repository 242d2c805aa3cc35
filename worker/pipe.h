/*
 * pipe.h - a client's /pipe job: one configured program run on one line
 * of text, at most one at a time per worker.
 *
 * pipe_start() forks and execs it; its output lines and its end are
 * queued in the struct out it was given (which must outlive the job),
 * MSG_JOB and MSG_JOB_END for the master.  The worker's loop polls the
 * descriptors pipe_pollfds() fills in, hands the ready ones to
 * pipe_events(), and calls pipe_tick() at pipe_deadline() (0: none).
 * pipe_stop() ends it as a timeout would ("/pipe stop"); pipe_abort()
 * kills the job when its client leaves; it is reaped as usual, and
 * pipe_busy() is true until then.
 */
#ifndef FORKCHAT_PIPE_H
#define FORKCHAT_PIPE_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "out.h"

#define PIPE_MAXFDS	3	/* what pipe_pollfds() fills in, at most */

bool	pipe_busy(void);
int	pipe_start(struct out *, const struct config *,
	    const struct pipe_prog *, const char *, size_t);
int	pipe_pollfds(struct pollfd *);
void	pipe_events(const struct pollfd *, int);
int64_t	pipe_deadline(void);
void	pipe_tick(int64_t);
void	pipe_stop(int64_t);
void	pipe_abort(void);

#endif
