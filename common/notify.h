/*
 * notify.h - the sd_notify protocol, spoken by hand (no libsystemd).
 *
 * notify_init() takes NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID from
 * the environment and unsets them, so no child inherits them.
 * notify_send() sends one datagram ("READY=1", "STATUS=..."); without a
 * NOTIFY_SOCKET it does nothing.  Errors: -1 with errno set.
 */
#ifndef FORKCHAT_NOTIFY_H
#define FORKCHAT_NOTIFY_H

#include <stdint.h>

int	notify_init(void);
int	notify_enabled(void);
int64_t	notify_watchdog_ms(void);	/* send WATCHDOG=1 this often; 0 = off */
int	notify_send(const char *, ...) __attribute__((format(printf, 1, 2)));
int	notify_reexport(void);

#endif
