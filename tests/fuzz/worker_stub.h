/*
 * worker_stub.h - what fuzz_command.c shares with worker_stub.c, the
 * stand-in for the worker.c and pipe.c calls that command.c makes.
 *
 * The stubs check every call against what the real worker and master
 * rely on, and abort (a crash for libFuzzer) when one is broken.
 */
#ifndef FORKCHAT_WORKER_STUB_H
#define FORKCHAT_WORKER_STUB_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"

struct worker {
	const struct config *cfg;
	bool	 realistic;	/* lines came through line_feed() */
	bool	 start_fails;	/* pipe_start() fails with ENOEXEC */
	const char *line;	/* the line command_line() is working on */
	size_t	 len;
	int	 oper_sends;	/* MSG_OPER frames not yet followed up */
	unsigned long calls;	/* stub calls, for a bound per line */
};

#define STUB_FAIL(...) do {						\
	fprintf(stderr, "fuzz_command: " __VA_ARGS__);			\
	fprintf(stderr, "\n");						\
	abort();							\
} while (0)
#define STUB_CHECK(cond, ...) do {					\
	if (!(cond))							\
		STUB_FAIL(__VA_ARGS__);					\
} while (0)

extern bool stub_busy;		/* what pipe_busy() answers */

bool	stub_utf8_text(const char *, size_t, bool);

#endif
