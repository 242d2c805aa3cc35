/*
 * sigpipe.c - the self-pipe: a signal becomes one byte the loop reads.
 *
 * Public: sigpipe_open, sigpipe_catch, sigpipe_fd, sigpipe_next.  The
 * handler does one thing, async-signal-safely: write
 * the signal number.  A full pipe drops the byte, which is harmless:
 * enough bytes are already waiting to wake the loop, and the loop reaps
 * with WNOHANG until nothing is left, whatever the count.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "sigpipe.h"

static int sigpipe_fds[2] = { -1, -1 };

/* The handler: keep errno, write one byte, nothing else. */
static void
sigpipe_handler(int signo)
{
	int saved = errno;
	unsigned char b = (unsigned char)signo;

	(void)write(sigpipe_fds[1], &b, 1);
	errno = saved;
}

/* Make the pipe: non-blocking, close-on-exec at both ends. */
int
sigpipe_open(void)
{
	return pipe2(sigpipe_fds, O_NONBLOCK | O_CLOEXEC);
}

/* Route signo to the pipe. */
int
sigpipe_catch(int signo)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sigpipe_handler;
	sa.sa_flags = SA_RESTART;
	sigfillset(&sa.sa_mask);
	return sigaction(signo, &sa, NULL);
}

/* The end to poll for POLLIN. */
int
sigpipe_fd(void)
{
	return sigpipe_fds[0];
}

/* The next signal that arrived: its number, 0 if none, -1 on error. */
int
sigpipe_next(void)
{
	unsigned char b;
	ssize_t n;

	do {
		n = read(sigpipe_fds[0], &b, 1);
	} while (n == -1 && errno == EINTR);
	if (n == 1)
		return b;
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	if (n == 0)
		errno = EPIPE;
	return -1;
}
