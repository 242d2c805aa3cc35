/*
 * fuzz_command.c - libFuzzer target for worker/command.c, command_line().
 *
 * Linked with worker_stub.c, whose worker_* and pipe_* calls check what
 * command.c hands them (see there).  Input: a flags byte (bit 0: raw
 * lines; bit 1: a /pipe job is running; bit 2: pipe_start() fails; bits
 * 3-4: which configuration), two bytes of max_line (64..65536), then
 * the stream.  Realistic mode, as in the server, runs the stream through
 * line_feed() and gives command_line() each LINE_OK line; raw mode cuts
 * the stream at LF and gives it every piece as it is, NULs, CRs and
 * controls included, to check memory safety and framing on bytes the
 * line reader would never let through.  Each line is copied into a
 * buffer of exactly its length, so that a read past it is caught.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "line.h"
#include "worker.h"
#include "worker_stub.h"

#define NCONFIGS	4

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct config configs[NCONFIGS];

/* Sets one key of a built-in configuration; it must take. */
static void
setup_set(struct config *cfg, const char *key, const char *value)
{
	char	 err[CONFIG_ERR_MAX];

	if (config_set(cfg, key, value, err, sizeof(err)) == -1)
		STUB_FAIL("setup: %s", err);
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

/* One line, copied so that reading past its end is caught. */
static void
one_line(struct worker *w, const char *s, size_t len)
{
	char	*copy;

	if ((copy = malloc(len)) == NULL && len > 0)
		STUB_FAIL("out of memory");
	if (len > 0)
		memcpy(copy, s, len);
	w->line = copy;
	w->len = len;
	w->calls = 0;
	w->oper_sends = 0;
	command_line(w, copy, len);
	STUB_CHECK(w->oper_sends == 0, "MSG_OPER without worker_oper_sent");
	free(copy);
}

/* The stream through the line reader, as the worker does. */
static void
realistic(struct worker *w, const uint8_t *d, size_t n, size_t max)
{
	struct line_reader lr;
	enum line_result rc;
	size_t	 used;

	line_init(&lr, max);
	while (n > 0) {
		rc = line_feed(&lr, (const char *)d, n, &used);
		STUB_CHECK(rc != LINE_NOMEM, "LINE_NOMEM");
		d += used;
		n -= used;
		if (rc == LINE_OK)
			one_line(w, lr.buf, lr.len);
	}
	line_free(&lr);
}

/* The stream cut at LF, each piece as it is. */
static void
raw(struct worker *w, const uint8_t *d, size_t n)
{
	const uint8_t *nl;

	while (n > 0) {
		nl = memchr(d, '\n', n);
		one_line(w, (const char *)d, nl ? (size_t)(nl - d) : n);
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
	struct worker w;
	size_t	 max;

	if (!ready) {
		setup();
		ready = 1;
	}
	if (size < 3)
		return 0;
	memset(&w, 0, sizeof(w));
	w.realistic = !(data[0] & 1);
	stub_busy = data[0] & 2;
	w.start_fails = data[0] & 4;
	w.cfg = &configs[(data[0] >> 3) % NCONFIGS];
	max = 64 + (size_t)(data[1] | data[2] << 8) % (65536 - 64 + 1);
	if (w.realistic)
		realistic(&w, data + 3, size - 3, max);
	else
		raw(&w, data + 3, size - 3);
	return 0;
}
