/*
 * unit.h - a tiny TAP harness for the C unit tests.
 *
 * CHECK(cond, "what") prints "ok N - what" or "not ok N - what" and the
 * line; unit_done() prints the plan and returns the exit status.
 * scripts/check counts the ok / not ok lines of every test program.
 */
#ifndef FORKCHAT_UNIT_H
#define FORKCHAT_UNIT_H

#include <stdio.h>

static int unit_n, unit_failed;

#define CHECK(cond, ...) do {						\
	unit_n++;							\
	if (cond) {							\
		printf("ok %d - ", unit_n);				\
	} else {							\
		unit_failed++;						\
		printf("not ok %d - %s:%d: ", unit_n, __FILE__, __LINE__); \
	}								\
	printf(__VA_ARGS__);						\
	printf("\n");							\
} while (0)

static inline int
unit_done(void)
{
	printf("1..%d\n", unit_n);
	return unit_failed ? 1 : 0;
}

#endif
