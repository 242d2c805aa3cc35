/*
 * limits.h - whether the system lets us serve max_clients.
 */
#ifndef FORKCHAT_LIMITS_H
#define FORKCHAT_LIMITS_H

#include <stddef.h>

#include "config.h"

int	 limits_check(const struct config *, char *, size_t);

#endif
