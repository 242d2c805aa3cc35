/*
 * upgrade.h - SIGUSR2: a new binary takes over the running master, in
 * place, keeping every client (a live upgrade).
 */
#ifndef FORKCHAT_UPGRADE_H
#define FORKCHAT_UPGRADE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define UPGRADE_CHECK_ENV	"FORKCHAT_UPGRADE_CHECK"

void	 upgrade_init(char **, const char *);
void	 upgrade_request(void);
bool	 upgrade_defer_stop(int);
bool	 upgrade_holding(void);
bool	 upgrade_reaped(pid_t, int);
void	 upgrade_event(void);
int64_t	 upgrade_deadline(void);
int	 upgrade_tick(int64_t);
void	 upgrade_check_report(void);

#endif
