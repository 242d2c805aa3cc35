/*
 * worker.h - the worker process: one client, one channel to the master.
 *
 * worker_main() runs in the child right after fork(); it never returns.
 * command.c parses what the client types and answers it, through the
 * worker_* calls below.
 */
#ifndef FORKCHAT_WORKER_H
#define FORKCHAT_WORKER_H

#include <stddef.h>
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

/* command.c */
void	command_line(struct worker *, const char *, size_t);

#endif
