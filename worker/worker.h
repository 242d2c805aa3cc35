/*
 * worker.h - the worker process: one client, one channel to the master.
 *
 * A worker is a fork of the master's forker (master/forker.c) that runs
 * worker_main() on its channel to the master; worker_main() never
 * returns.  It leaves with an exit status from exits.h: EX_OK when its
 * client is gone (or, a spare, when the server stops), EX_SOFTWARE when
 * the master broke the channel protocol, EX_NOSTART when it could not
 * set itself up.
 *
 * Inside, each module calls only the ones below it:
 *   worker.c   its life: spare, the channel and its routes, the loop
 *   client.c   the client's socket, flood bucket, timeouts, output
 *   command.c  what the client types, answered
 *   pipe.c     /pipe jobs
 *   out.c      the two output queues, to the client and to the master
 */
#ifndef FORKCHAT_WORKER_H
#define FORKCHAT_WORKER_H

#include "config.h"

_Noreturn void worker_main(int, const struct config *);

#endif
