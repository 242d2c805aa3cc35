/*
 * confpipe.c - the pipe.NAME keys: the programs /pipe may run.
 *
 * NAME is part of the key, so these are not rows of config.c's table:
 * config_set() hands "pipe.NAME" here.  A value is split on blanks into
 * an argument vector, whose first word is an absolute path.
 *
 * Public: config_pipe() (find one by name).  For config.c:
 * config_pipe_set(), config_pipe_index(), config_pipes_free(),
 * config_pipes_dump().  Errors are one line in the caller's buffer.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "confint.h"

#define seterr	config_seterr

/* True if name is a valid pipe name: 1-16 of [A-Za-z0-9_-]. */
static bool
pipe_name_ok(const char *name)
{
	size_t len = strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789_-");

	return len > 0 && len <= CONFIG_NAME_MAX && name[len] == '\0';
}

/* The index of the pipe called name in cfg->pipes, or -1. */
int
config_pipe_index(const struct config *cfg, const char *name)
{
	for (int i = 0; i < cfg->npipes; i++)
		if (strcmp(cfg->pipes[i].name, name) == 0)
			return i;
	return -1;
}

/* Free a pipe's argv and leave it empty (free(NULL) past its end). */
static void
pipe_clear(struct pipe_prog *pp)
{
	for (size_t i = 0; i < sizeof(pp->argv) / sizeof(pp->argv[0]); i++) {
		free(pp->argv[i]);
		pp->argv[i] = NULL;
	}
}

/* Split v on spaces and tabs into pp->argv; pp->argv must start empty. */
static int
pipe_split(struct pipe_prog *pp, const char *v, char *err, size_t errlen)
{
	size_t len;
	int argc = 0;

	for (v += strspn(v, " \t"); *v != '\0'; v += strspn(v, " \t")) {
		if (argc == CONFIG_MAX_ARGS)
			return seterr(err, errlen, "pipe.%s: more than %d "
			    "words", pp->name, CONFIG_MAX_ARGS);
		len = strcspn(v, " \t");
		if ((pp->argv[argc++] = strndup(v, len)) == NULL)
			return seterr(err, errlen, "pipe.%s: %s", pp->name,
			    strerror(errno));
		v += len;
	}
	if (argc == 0)
		return seterr(err, errlen, "pipe.%s: no command", pp->name);
	if (pp->argv[0][0] != '/')
		return seterr(err, errlen, "pipe.%s: '%s' is not an absolute "
		    "path", pp->name, pp->argv[0]);
	return 0;
}

/* Define pipe NAME (or replace its definition) as the command in v. */
int
config_pipe_set(struct config *cfg, const char *name, const char *v, char *err,
    size_t errlen)
{
	struct pipe_prog pp, *grown;
	int i;

	if (!pipe_name_ok(name))
		return seterr(err, errlen, "%s%s: pipe names are 1..%d of "
		    "A-Z a-z 0-9 _ -", PIPE_PREFIX, name, CONFIG_NAME_MAX);
	i = config_pipe_index(cfg, name);
	if (i == -1 && cfg->npipes == CONFIG_MAX_PIPES)
		return seterr(err, errlen, "%s%s: more than %d pipes",
		    PIPE_PREFIX, name, CONFIG_MAX_PIPES);
	memset(&pp, 0, sizeof(pp));
	(void)snprintf(pp.name, sizeof(pp.name), "%s", name);
	if (pipe_split(&pp, v, err, errlen) == -1) {
		pipe_clear(&pp);
		return -1;
	}
	if (i == -1) {
		/* Grown one at a time: a handful of pipes is the usual case. */
		grown = realloc(cfg->pipes, ((size_t)cfg->npipes + 1) *
		    sizeof(*grown));
		if (grown == NULL) {
			pipe_clear(&pp);
			return seterr(err, errlen, "%s%s: %s", PIPE_PREFIX, name,
			    strerror(errno));
		}
		cfg->pipes = grown;
		i = cfg->npipes++;
	} else {
		pipe_clear(&cfg->pipes[i]);
	}
	cfg->pipes[i] = pp;
	return 0;
}

/* Find a pipe by its exact name, or NULL. */
const struct pipe_prog *
config_pipe(const struct config *cfg, const char *name)
{
	int i = config_pipe_index(cfg, name);

	return i == -1 ? NULL : &cfg->pipes[i];
}

/* Free every pipe and the list. */
void
config_pipes_free(struct config *cfg)
{
	for (int i = 0; i < cfg->npipes; i++)
		pipe_clear(&cfg->pipes[i]);
	free(cfg->pipes);
	cfg->pipes = NULL;
	cfg->npipes = 0;
}

/* Every pipe as a "pipe.NAME=argv..." line, as a file would say it. */
int
config_pipes_dump(const struct config *cfg, struct buf *out)
{
	for (int i = 0; i < cfg->npipes; i++) {
		if (buf_printf(out, "%s%s=", PIPE_PREFIX,
		    cfg->pipes[i].name) == -1)
			return -1;
		for (char *const *a = cfg->pipes[i].argv; *a != NULL; a++)
			if (buf_printf(out, a == cfg->pipes[i].argv ? "%s" :
			    " %s", *a) == -1)
				return -1;
		if (buf_printf(out, "\n") == -1)
			return -1;
	}
	return 0;
}
