/*
 * service.h - running as a daemon: what the service manager is told,
 * the sockets it passes, the user we become.
 */
#ifndef FORKCHAT_SERVICE_H
#define FORKCHAT_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

void	 service_init(void);
int	 service_sockets(int *, int);
bool	 service_is_ready(void);
void	 service_ready(void);
void	 service_reloading(void);
void	 service_reloaded(const char *);
void	 service_upgrade_refused(const char *);
void	 service_upgraded(void);
void	 service_stopping(void);
int64_t	 service_deadline(void);
void	 service_tick(int64_t);
int	 service_check_account(const struct config *, char *, size_t);
void	 service_drop_privileges(const struct config *);

#endif
