/*
 * confint.h - what the configuration's own files share: config.c (the
 * keys), confparse.c (text) and confpipe.c (pipe.NAME).  Nothing else
 * includes it; the rest of the server sees config.h only.  Calls go one
 * way: confparse.c -> config.c -> confpipe.c.
 */
#ifndef FORKCHAT_CONFINT_H
#define FORKCHAT_CONFINT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include "buf.h"
#include "config.h"

#define CONFIG_LINE_MAX	4096	/* longest line of a file, or key=value */
#define CONFIG_MAX_KEYS	32	/* rows in config.c's table, at most */
#define PIPE_PREFIX	"pipe."
#define PIPE_PREFIX_LEN	(sizeof(PIPE_PREFIX) - 1)

/* config_key_slot()'s range: a slot per key, then one per pipe. */
#define CONFIG_SLOTS	(CONFIG_MAX_KEYS + CONFIG_MAX_PIPES)

static inline int config_seterr(char *, size_t, const char *, ...)
	    __attribute__((format(printf, 3, 4)));

/* Write a one-line error message into the caller's buffer; return -1. */
static inline int
config_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		(void)vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* config.c */
int	config_key_slot(const struct config *, const char *);

/* confpipe.c */
int	config_pipe_set(struct config *, const char *, const char *, char *,
	    size_t);
int	config_pipe_index(const struct config *, const char *);
void	config_pipes_free(struct config *);
int	config_pipes_dump(const struct config *, struct buf *);

#endif
