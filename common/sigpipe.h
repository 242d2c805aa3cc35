/*
 * sigpipe.h - signals as events: the self-pipe.
 *
 * sigpipe_open() makes a non-blocking, close-on-exec pipe; the handler
 * installed by sigpipe_catch() only writes the signal number to it as
 * one byte, keeping errno.  The event loop polls sigpipe_fd() and takes
 * signals out with sigpipe_next().  A process forked from one that
 * caught signals this way sets its own dispositions (os_signals_default).
 */
#ifndef FORKCHAT_SIGPIPE_H
#define FORKCHAT_SIGPIPE_H

int	sigpipe_open(void);
int	sigpipe_catch(int);
int	sigpipe_fd(void);
int	sigpipe_next(void);

#endif
