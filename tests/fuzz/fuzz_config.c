/*
 * fuzz_config.c - libFuzzer target for common/config.c, confparse.c and
 * confpipe.c.
 *
 * Input is a configuration file's text, given to config_parse() on top
 * of the defaults; or, when it starts with a NUL, a list of NUL-ended
 * "-o key=value" arguments, applied with config_set_kv() the way
 * master/conf.c does.  Either way, a configuration that was accepted
 * holds only listen addresses sock_parse() reads (they are checked as
 * they are set); it is dumped with config_dump(), as the master does to
 * send MSG_CONFIG to its workers (at start and on reload), and the dump
 * must parse on the defaults, as a worker does, into the same settings,
 * which dump to the very same text.  A refused one must say why, naming
 * the file and line.  Everything is freed; LeakSanitizer checks that.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config.h"
#include "sock.h"

#define FUZZ_NAME "fuzz_config"
#include "fuzz.h"

/* One "-o key=value", as the master applies it (main.c refuses these). */
static int
override(struct config *cfg, const char *kv, bool *cleared, char *err,
    size_t errlen)
{
	const char *eq = strchr(kv, '=');

	if (eq == NULL || eq == kv || eq - kv >= 64)
		return 0;
	return config_set_kv(cfg, kv, cleared, err, errlen);
}

/* Every NUL-ended argument in d[0..n), as -o options in that order. */
static int
overrides(struct config *cfg, const uint8_t *d, size_t n, char *err,
    size_t errlen)
{
	const uint8_t *nul;
	bool	 cleared = false;

	for (int i = 0; i < 64 && n > 0; i++) {	/* main.c: max 64 */
		if ((nul = memchr(d, '\0', n)) == NULL)
			break;		/* not ended: not an argument */
		if (override(cfg, (const char *)d, &cleared, err,
		    errlen) == -1)
			return -1;
		n -= (size_t)(nul - d) + 1;
		d = nul + 1;
	}
	return 0;
}

/* Every listen address is one sock_parse() reads. */
static int
listen_ok(const struct config *cfg)
{
	struct sockaddr_storage ss;
	socklen_t len;

	for (int i = 0; i < cfg->nlisten; i++)
		if (sock_parse(cfg->listen[i], &ss, &len) == -1)
			return -1;
	return 0;
}

/* Two strings, either of which may be NULL, are the same. */
static bool
same_str(const char *x, const char *y)
{
	return x == y || (x != NULL && y != NULL && strcmp(x, y) == 0);
}

/*
 * Says which setting differs between a and b, or NULL.  listen_default
 * is left out: a dump names the default address, which is then given.
 */
static const char *
config_diff(const struct config *a, const struct config *b)
{
#define SAME(f)	if (a->f != b->f) return #f
	SAME(nlisten);
	for (int i = 0; i < a->nlisten; i++)
		if (!same_str(a->listen[i], b->listen[i]))
			return "listen";
	SAME(max_clients);
	SAME(spare_workers);
	SAME(admin);
	SAME(idle_timeout);
	SAME(telnet_negotiation);
	SAME(max_line);
	SAME(max_output_queue);
	SAME(flood_rate);
	SAME(flood_burst);
	SAME(shutdown_grace);
	SAME(pipe_timeout);
	SAME(pipe_max_output);
	SAME(log_level);
	SAME(log_format);
	SAME(npipes);
#undef SAME
	if (!same_str(a->oper_password_file, b->oper_password_file))
		return "oper_password_file";
	if (!same_str(a->user, b->user))
		return "user";
	if (!same_str(a->group, b->group))
		return "group";
	for (int i = 0; i < a->npipes; i++) {
		if (strcmp(a->pipes[i].name, b->pipes[i].name) != 0)
			return "pipe name";
		for (int j = 0; j <= CONFIG_MAX_ARGS; j++) {
			if (!same_str(a->pipes[i].argv[j], b->pipes[i].argv[j]))
				return "pipe argv";
			if (a->pipes[i].argv[j] == NULL)
				break;
		}
	}
	return NULL;
}

/* The text of cfg; config_dump() must not fail with no limit. */
static void
dump(const struct config *cfg, struct buf *b)
{
	buf_init(b, 0);
	CHECK(config_dump(cfg, b) == 0, "config_dump failed");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config a, b;
	struct buf one, two;
	char	 err[CONFIG_ERR_MAX];
	const char *what;
	int	 rc;

	memset(err, 0, sizeof(err));
	config_defaults(&a);
	if (size > 0 && data[0] == '\0') {
		rc = overrides(&a, data + 1, size - 1, err, sizeof(err));
	} else {
		rc = config_parse(&a, (const char *)data, size, "fuzz.conf",
		    err, sizeof(err));
		CHECK(rc == 0 || strncmp(err, "fuzz.conf:", 10) == 0,
		    "error without file and line: '%s'", err);
	}
	CHECK(rc == 0 || rc == -1, "returned %d", rc);
	CHECK(rc == -1 || listen_ok(&a) == 0,
	    "a listen address sock_parse() refuses was taken");
	CHECK(rc == 0 || (err[0] != '\0' && memchr(err, '\0', sizeof(err))),
	    "refused without a message");
	dump(&a, &one);		/* a refused one too: it must not crash */
	if (rc == 0) {
		config_defaults(&b);
		memset(err, 0, sizeof(err));
		rc = config_parse(&b, buf_head(&one), one.len, "dump", err,
		    sizeof(err));
		CHECK(rc == 0, "the dump does not parse: %s\n---\n%.*s---",
		    err, (int)one.len, buf_head(&one));
		what = config_diff(&a, &b);
		CHECK(what == NULL, "%s differs after the dump is parsed:"
		    "\n---\n%.*s---", what, (int)one.len, buf_head(&one));
		dump(&b, &two);
		CHECK(one.len == two.len && memcmp(buf_head(&one),
		    buf_head(&two), one.len) == 0, "the dump parses into "
		    "another configuration:\n---\n%.*s---\n%.*s---",
		    (int)one.len, buf_head(&one), (int)two.len,
		    buf_head(&two));
		buf_free(&two);
		config_free(&b);
	}
	buf_free(&one);
	config_free(&a);
	return 0;
}
