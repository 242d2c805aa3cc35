/*
 * notify.c - sd_notify(3)'s protocol: datagrams to $NOTIFY_SOCKET.
 *
 * The socket is a path ("/run/systemd/notify") or an abstract name
 * ("@name", sent with a leading NUL).  Messages are "KEY=VALUE" lines in
 * one datagram.  The watchdog interval is half of $WATCHDOG_USEC, and
 * only when $WATCHDOG_PID, if set, names us.
 *
 * Public: notify_init, notify_enabled, notify_watchdog_ms, notify_send,
 * notify_reexport.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "notify.h"
#include "num.h"
#include "os.h"

#define NOTIFY_MAX	1024

static int notify_fd = -1;
static struct sockaddr_un notify_addr;
static socklen_t notify_len;
static int64_t watchdog_ms;
static char notify_path[sizeof(notify_addr.sun_path)];	/* as it came */
static long long watchdog_usec;

/* Watchdog: half the interval systemd expects, if it is ours. */
static void
notify_watchdog_init(void)
{
	long long usec = num_env("WATCHDOG_USEC", LLONG_MAX);
	long long pid = num_env("WATCHDOG_PID", LLONG_MAX);

	if (usec > 0 && (pid == -1 || pid == (long long)getpid())) {
		watchdog_ms = usec / 2000 > 0 ? usec / 2000 : 1;
		watchdog_usec = usec;
	}
	(void)os_unsetenv("WATCHDOG_USEC");
	(void)os_unsetenv("WATCHDOG_PID");
}

/* Read and unset the variables; open the socket if there is one. */
int
notify_init(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	size_t len;

	notify_watchdog_init();
	if (path == NULL || (path[0] != '/' && path[0] != '@') ||
	    (len = strlen(path)) >= sizeof(notify_addr.sun_path)) {
		(void)os_unsetenv("NOTIFY_SOCKET");
		return path == NULL ? 0 : (errno = EINVAL, -1);
	}
	memset(&notify_addr, 0, sizeof(notify_addr));
	notify_addr.sun_family = AF_UNIX;
	memcpy(notify_addr.sun_path, path, len);
	memcpy(notify_path, path, len + 1);
	if (path[0] == '@')
		notify_addr.sun_path[0] = '\0';		/* abstract */
	notify_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	(void)os_unsetenv("NOTIFY_SOCKET");
	notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	return notify_fd == -1 ? -1 : 0;
}

/* Is there a service manager to tell? */
int
notify_enabled(void)
{
	return notify_fd != -1;
}

/* How often to send WATCHDOG=1, in milliseconds; 0 for never. */
int64_t
notify_watchdog_ms(void)
{
	return notify_fd == -1 ? 0 : watchdog_ms;
}

/* Send one notification datagram; 0 if sent or nobody listens. */
int
notify_send(const char *fmt, ...)
{
	char msg[NOTIFY_MAX];
	va_list ap;
	ssize_t n;
	int len;

	if (notify_fd == -1)
		return 0;
	va_start(ap, fmt);
	len = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (len < 0 || (size_t)len >= sizeof(msg)) {
		errno = EMSGSIZE;
		return -1;
	}
	do {
		n = sendto(notify_fd, msg, (size_t)len, MSG_NOSIGNAL,
		    (struct sockaddr *)&notify_addr, notify_len);
	} while (n == -1 && errno == EINTR);
	return n == -1 ? -1 : 0;
}

/*
 * Put NOTIFY_SOCKET and the watchdog back into the environment, for the
 * program this process is about to become (a live upgrade): it reads
 * them and unsets them again as notify_init() does.
 */
int
notify_reexport(void)
{
	char n[32];

	if (notify_fd == -1)
		return 0;
	if (setenv("NOTIFY_SOCKET", notify_path, 1) == -1)
		return -1;
	if (watchdog_usec == 0)
		return 0;
	(void)snprintf(n, sizeof(n), "%lld", watchdog_usec);
	if (setenv("WATCHDOG_USEC", n, 1) == -1)
		return -1;
	(void)snprintf(n, sizeof(n), "%ld", (long)getpid());
	return setenv("WATCHDOG_PID", n, 1);
}
