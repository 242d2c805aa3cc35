/*
 * config.h - forkchatd's configuration: defaults, the file, -o overrides.
 *
 * config.c knows the keys: config_defaults() fills in the built-in
 * values, config_set() sets one key, config_dump() writes them all as
 * text.  confparse.c reads text: config_load() a file, config_parse()
 * "key = value" lines, config_set_kv() one -o KEY=VALUE.  confpipe.c
 * keeps the pipe.NAME programs: config_pipe() finds one.  Errors go to
 * the caller's buffer as one line ("FILE:LINE: what is wrong"); nothing
 * here logs or exits.
 */
#ifndef FORKCHAT_CONFIG_H
#define FORKCHAT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "log.h"

#define CONFIG_MAX_LISTEN	16
#define CONFIG_MAX_PIPES	64
#define CONFIG_MAX_ARGS		32
#define CONFIG_NAME_MAX		16	/* pipe names, like nicks */
#define CONFIG_ERR_MAX		512
#define CONFIG_KEY_MAX		64	/* cluster_key: a Redis key prefix */

enum admin_policy {
	ADMIN_OPERATORS,	/* /oper first (the default) */
	ADMIN_EVERYONE		/* any client may /kick and /timeout */
};

enum log_format {
	LOG_FORMAT_AUTO,	/* journal if stderr is journald's stream */
	LOG_FORMAT_JOURNAL,	/* "<N>" priority prefixes, no timestamps */
	LOG_FORMAT_PLAIN	/* timestamps and level names */
};

struct pipe_prog {
	char	 name[CONFIG_NAME_MAX + 1];
	char	*argv[CONFIG_MAX_ARGS + 1];	/* argv[0] is an absolute path */
};

struct config {
	char	*listen[CONFIG_MAX_LISTEN];
	int	 nlisten;
	bool	 listen_default;	/* listen[] still holds the default */
	unsigned max_clients;
	unsigned spare_workers;
	enum admin_policy admin;
	char	*oper_password_file;	/* NULL: a random password at start */
	unsigned idle_timeout;		/* seconds, 0 = none */
	bool	 telnet_negotiation;	/* offer binary mode, answer IAC */
	size_t	 max_line;		/* bytes */
	size_t	 max_output_queue;	/* bytes */
	unsigned flood_rate;		/* lines per second, 0 = no limit */
	unsigned flood_burst;		/* lines */
	unsigned shutdown_grace;	/* seconds */
	unsigned pipe_timeout;		/* seconds */
	size_t	 pipe_max_output;	/* bytes */
	enum log_level log_level;
	enum log_format log_format;
	char	*user;			/* drop to this user; NULL: stay */
	char	*group;			/* and group; NULL: the user's */
	struct pipe_prog *pipes;		/* npipes of them, on the heap */
	int	 npipes;
	char	*cluster;		/* Redis: redis://HOST:PORT, unix:PATH */
	char	*cluster_password_file;	/* Redis AUTH; NULL: none */
	char	 cluster_key[CONFIG_KEY_MAX + 1];	/* the stream's key */
	char	 server_name[CONFIG_NAME_MAX + 1];	/* "": from the host */
	unsigned cluster_timeout;	/* seconds without a heartbeat */
};

/* config.c: the keys */
void	config_defaults(struct config *);
void	config_free(struct config *);
int	config_set(struct config *, const char *, const char *, char *,
	    size_t);
void	config_listen_clear(struct config *);
int	config_dump(const struct config *, struct buf *);
int	config_journal(const struct config *);

/* confpipe.c: pipe.NAME */
const struct pipe_prog *config_pipe(const struct config *, const char *);

/* confparse.c: text */
int	config_parse(struct config *, const char *, size_t, const char *,
	    char *, size_t);
int	config_load(struct config *, const char *, char *, size_t);
int	config_set_kv(struct config *, const char *, bool *, char *, size_t);

#endif
