/*
 * fuzz_command.c - libFuzzer target for worker/command.c, command_line().
 *
 * command.c queues its replies and frames in a struct out and returns
 * what the caller must do; this target gives it a real one and checks
 * the real bytes (command_check.c): frames decoded as the master decodes
 * them, lines for the client as a terminal shows them.  It also checks
 * what command_line() returns: /oper (and only /oper) sends MSG_OPER and
 * asks to hold input; a /quit reason is at most PROTO_REASON_MAX bytes,
 * never ends inside a character and is what MSG_BYE may carry; a /pipe
 * program is a configured one, never while a job runs, on text that is
 * the rest of the line, trimmed.
 *
 * Input: a flags byte (bit 0: raw lines; bit 1: a /pipe job is running;
 * bit 2: the program fails to start, so command_pipe_failed() answers;
 * bits 3-4: which configuration), two bytes of max_line (64..65536),
 * then the stream.  Realistic mode, as in the server, runs the stream
 * through line_feed() and gives command_line() each LINE_OK line; raw
 * mode cuts the stream at LF and gives it every piece as it is, NULs,
 * CRs and controls included, to check memory safety and framing on
 * bytes the line reader would never let through.  Each line is copied
 * into a buffer of exactly its length, so that a read past it is caught.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "command_check.h"
#include "config.h"
#include "line.h"

#define NCONFIGS	4
#define CLIENT_ID	7

/* One input's settings, from its first bytes. */
struct run {
	const struct config *cfg;
	bool	 realistic;
	bool	 job_running;
	bool	 start_fails;
};

static struct config configs[NCONFIGS];

/* Sets one key of a built-in configuration; it must take. */
static void
setup_set(struct config *cfg, const char *key, const char *value)
{
	char	 err[CONFIG_ERR_MAX];

	if (config_set(cfg, key, value, err, sizeof(err)) == -1)
		FAIL("setup: %s", err);
}

/* No pipes; three pipes; sixty-four with long names; one. */
static void
setup(void)
{
	char	 key[64];

	for (int i = 0; i < NCONFIGS; i++)
		config_defaults(&configs[i]);
	setup_set(&configs[1], "pipe.upper", "/usr/bin/tr a-z A-Z");
	setup_set(&configs[1], "pipe.rev", "/usr/bin/rev");
	setup_set(&configs[1], "pipe.Fortune_-1", "/usr/games/fortune -s");
	for (int i = 0; i < CONFIG_MAX_PIPES; i++) {
		(void)snprintf(key, sizeof(key), "pipe.p%015d", i);
		setup_set(&configs[2], key, "/bin/cat");
	}
	setup_set(&configs[3], "pipe.x", "/bin/true");
}

/* A /quit reason: what MSG_BYE carries, text the master takes. */
static void
check_quit(const struct check_line *l, const struct command_result *res)
{
	size_t n = strlen(res->reason);

	CHECK(n <= PROTO_REASON_MAX, "quit reason of %zu bytes", n);
	if (!l->realistic)
		return;		/* "/quit \0" gives "": only raw bytes can */
	CHECK(n >= 1, "empty quit reason");
	CHECK(check_clean(res->reason, n), "quit reason is not clean");
}

/* "/pipe NAME text": a configured program, the rest of the line. */
static void
check_pipe(const struct run *run, const struct check_line *l,
    const struct command_result *res)
{
	const char *t = res->text;
	size_t n = res->len;

	CHECK(!run->job_running, "/pipe while a job runs");
	CHECK(res->prog >= run->cfg->pipes &&
	    res->prog < run->cfg->pipes + run->cfg->npipes,
	    "/pipe with a program not configured");
	CHECK(t >= l->p && t + n <= l->p + l->len,
	    "/pipe text is not inside the line");
	for (const char *p = t + n; p < l->p + l->len; p++)
		CHECK(*p == ' ' || *p == '\t', "/pipe text is cut short");
	CHECK(n == 0 || (t[0] != ' ' && t[0] != '\t' &&
	    t[n - 1] != ' ' && t[n - 1] != '\t'), "/pipe text not trimmed");
	CHECK(!l->realistic || check_clean(t, n),
	    "/pipe text is not clean");
}

/*
 * A frame command.c could not build: only a raw line's NUL inside a str
 * field (a target, a nick) does that; the line reader drops NULs.
 */
static void
check_error(const struct check_line *l, const struct out *o)
{
	CHECK(o->error == 0 || (!l->realistic && o->error == EMSGSIZE &&
	    memchr(l->p, '\0', l->len) != NULL),
	    "a frame not queued: %s", strerror(o->error));
	CHECK(!o->full, "a reply refused by an unlimited queue");
}

/* What command_line() returned, against what it queued. */
static void
check_result(const struct run *run, const struct check_line *l,
    const struct command_ctx *ctx, enum command_do what,
    const struct command_result *res)
{
	int type = check_frames(l, &ctx->out->to_master);

	CHECK((what == COMMAND_HOLD) == (type == MSG_OPER),
	    "MSG_OPER without holding input, or the other way round");
	if (what == COMMAND_QUIT)
		check_quit(l, res);
	CHECK(what != COMMAND_PIPE_STOP || ctx->job_running,
	    "/pipe stop without a job to stop");
	if (what == COMMAND_PIPE) {
		check_pipe(run, l, res);
		if (run->start_fails)
			command_pipe_failed(ctx, res->prog);
	}
	check_error(l, ctx->out);
	check_replies(l, &ctx->out->to_client);
}

/* One line, copied so that reading past its end is caught. */
static void
one_line(const struct run *run, const char *s, size_t len)
{
	struct check_line l = { .len = len, .realistic = run->realistic,
	    .id = CLIENT_ID };
	struct command_result res;
	struct command_ctx ctx;
	struct out o;
	char	*copy;

	if ((copy = malloc(len)) == NULL && len > 0)
		FAIL("out of memory");
	if (len > 0)
		memcpy(copy, s, len);
	l.p = copy;
	out_init(&o, 0, 0);
	out_open_client(&o, CLIENT_ID, 0);
	ctx.cfg = run->cfg;
	ctx.out = &o;
	ctx.job_running = run->job_running;
	check_result(run, &l, &ctx, command_line(&ctx, copy, len, &res), &res);
	buf_free(&o.to_client);
	msgq_free(&o.to_master);
	free(copy);
}

/* The stream through the line reader, as the worker does. */
static void
realistic(const struct run *run, const uint8_t *d, size_t n, size_t max)
{
	struct line_reader lr;
	enum line_result rc;
	size_t	 used;

	line_init(&lr, max);
	while (n > 0) {
		rc = line_feed(&lr, (const char *)d, n, &used);
		CHECK(rc != LINE_NOMEM, "LINE_NOMEM");
		d += used;
		n -= used;
		if (rc == LINE_OK)
			one_line(run, lr.buf, lr.len);
	}
	line_free(&lr);
}

/* The stream cut at LF, each piece as it is. */
static void
raw(const struct run *run, const uint8_t *d, size_t n)
{
	const uint8_t *nl;

	while (n > 0) {
		nl = memchr(d, '\n', n);
		one_line(run, (const char *)d, nl ? (size_t)(nl - d) : n);
		if (nl == NULL)
			break;
		n -= (size_t)(nl - d) + 1;
		d = nl + 1;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct run run;
	size_t	 max;

	if (!ready) {
		setup();
		ready = 1;
	}
	if (size < 3)
		return 0;
	run.realistic = !(data[0] & 1);
	run.job_running = data[0] & 2;
	run.start_fails = data[0] & 4;
	run.cfg = &configs[(data[0] >> 3) % NCONFIGS];
	max = 64 + (size_t)(data[1] | data[2] << 8) % (65536 - 64 + 1);
	if (run.realistic)
		realistic(&run, data + 3, size - 3, max);
	else
		raw(&run, data + 3, size - 3);
	return 0;
}
