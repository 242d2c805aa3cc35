/*
 * conf.h - the configuration in force, how it is built (defaults, the
 * file, -o, -l), the operator password and the cluster's Redis one.
 */
#ifndef FORKCHAT_CONF_H
#define FORKCHAT_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

#define PASSWORD_MAX	128

extern struct config conf;

void	 conf_sources(const char *, char **, int, char **, int);
const char *conf_path(void);
int	 conf_build(struct config *, char *, size_t);
int	 conf_password_for(const struct config *, char *, size_t, bool *,
	     char *, size_t);
void	 conf_password_set(const char *, bool);
bool	 conf_password_ok(const char *, size_t);
int	 conf_cluster_password(const struct config *, char *, size_t, char *,
	     size_t);

struct snap;
struct msg;
int	 conf_save(struct snap *);
int	 conf_restore(struct msg *);
int	 conf_restore_config(struct msg *, struct config *, char *, size_t);

#endif
