/*
 * test_fan.c - unit tests for master/fan.c, the ordered fan-out: every
 * broadcast reaches every joined client but its sender, in one order;
 * a frame for one client comes after the broadcasts queued before it
 * (catch-up), even while they are held; a client that joins sees only
 * what comes after; the hold after a big fan-out; a worker that does
 * not read is killed, not waited for.
 */
#include <sys/resource.h>
#include <sys/wait.h>

#include "master_harness.h"

#define MANY	1000		/* clients for the hold: 5 ms of it */

/* Three clients; a's line reaches b and c, not a. */
static void
test_order(void)
{
	struct fake a, b, c;
	struct iovec iov = { .iov_base = (void *)(uintptr_t)"one\r\n",
	    .iov_len = 5 };

	harness_child(&a, CHILD_CLIENT, 1, 0);
	harness_child(&b, CHILD_CLIENT, 2, 0);
	harness_child(&c, CHILD_CLIENT, 3, 0);
	fan_all(a.c, &iov, 1);
	fan_all_line(NULL, "two");
	fan_all_line(b.c, "three");
	fan_end_turn();
	CHECK(harness_line_is(&b, "one\r\n") && harness_line_is(&b, "two\r\n")
	    && harness_quiet(&b), "b: one, two; not its own three");
	CHECK(harness_line_is(&c, "one\r\n") && harness_line_is(&c, "two\r\n")
	    && harness_line_is(&c, "three\r\n") && harness_quiet(&c),
	    "c: one, two, three, in that order");
	CHECK(harness_line_is(&a, "two\r\n") &&
	    harness_line_is(&a, "three\r\n") && harness_quiet(&a),
	    "a: not its own one; two, three");

	/* A private line between two broadcasts, in one turn. */
	fan_all_line(NULL, "four");
	fan_line(b.c, "private");
	fan_all_line(NULL, "five");
	fan_end_turn();
	CHECK(harness_line_is(&b, "four\r\n") &&
	    harness_line_is(&b, "private\r\n") &&
	    harness_line_is(&b, "five\r\n") && harness_quiet(&b),
	    "b: four, private, five: the private line keeps its place");
	CHECK(harness_line_is(&c, "four\r\n") && harness_line_is(&c,
	    "five\r\n") && harness_quiet(&c), "c: four, five only");
	CHECK(harness_line_is(&a, "four\r\n") && harness_line_is(&a,
	    "five\r\n") && harness_quiet(&a), "a: four, five only");
}

/* A client that joins mid-turn gets what comes after, not before. */
static void
test_join(void)
{
	struct fake a, d;

	harness_child(&a, CHILD_CLIENT, 10, 0);
	fan_all_line(NULL, "before");
	harness_child(&d, CHILD_CLIENT, 11, 0);
	fan_join(d.c);
	fan_all_line(d.c, "*** guest11 joined");
	fan_all_line(NULL, "after");
	fan_end_turn();
	CHECK(harness_line_is(&d, "after\r\n") && harness_quiet(&d),
	    "the newcomer gets only what came after its join");
	CHECK(harness_line_is(&a, "before\r\n") &&
	    harness_line_is(&a, "*** guest11 joined\r\n") &&
	    harness_line_is(&a, "after\r\n") && harness_quiet(&a),
	    "the others get all three, in order");
}

/* After a fan-out to MANY, the next waits; a private line does not. */
static void
test_hold(void)
{
	static struct fake f[MANY];
	int64_t due;

	for (int i = 0; i < MANY; i++)
		harness_child(&f[i], CHILD_CLIENT, 100 + (uint32_t)i, 0);
	fan_all_line(NULL, "first");
	fan_end_turn();
	fan_all_line(NULL, "second");
	due = fan_deadline();
	CHECK(due != OS_NO_DEADLINE && due > os_now_ms() &&
	    due <= os_now_ms() + (int64_t)children.nclients * 5 / 1000 + 1,
	    "after a fan-out to %u, the next is held for N x 5 us",
	    children.nclients);
	fan_line(f[3].c, "private");
	fan_end_turn();
	CHECK(harness_line_is(&f[7], "first\r\n"),
	    "a broadcast after a quiet spell went out at once");
	CHECK(harness_line_is(&f[3], "first\r\n") &&
	    harness_line_is(&f[3], "second\r\n") &&
	    harness_line_is(&f[3], "private\r\n"),
	    "a private line goes at once, after the held broadcast");
	CHECK(harness_line_is(&f[4], "first\r\n") && harness_quiet(&f[4]),
	    "the others wait for the hold");
	(void)poll(NULL, 0, os_timeout(due, os_now_ms()) + 1);
	fan_end_turn();
	CHECK(harness_line_is(&f[4], "second\r\n") && harness_quiet(&f[4]),
	    "once due, it goes to the others");
	CHECK(harness_quiet(&f[3]), "and not twice to the one caught up");
	CHECK(fan_deadline() == OS_NO_DEADLINE, "nothing held now");
	for (int i = 0; i < MANY; i++) {
		child_set_state(f[i].c, CHILD_LEAVING);
		(void)close(f[i].worker);
		msgin_free(&f[i].in);
	}
}

/* A worker that reads nothing is killed once its queue is full. */
static void
test_stuck(void)
{
	struct fake s;
	char big[8192];
	struct iovec iov = { .iov_base = big, .iov_len = sizeof(big) };
	int status, i;

	memset(big, 'x', sizeof(big));
	harness_child(&s, CHILD_CLIENT, 999, 64 * 1024);
	s.c->pid = harness_sleeper();
	for (i = 0; i < 1000 && !s.c->proc.killed; i++) {
		(void)fan_send(s.c, MSG_LINE, &iov, 1);
		fan_end_turn();
	}
	CHECK(s.c->proc.killed && s.c->state == CHILD_LEAVING,
	    "killed after %d lines it did not read, and leaving", i);
	CHECK(s.c->proc.why[0] != '\0' &&
	    strcmp(s.c->proc.why, "too slow: worker stuck") == 0,
	    "why: too slow");
	CHECK(waitpid(s.c->pid, &status, 0) == s.c->pid &&
	    WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	    "its process got SIGKILL");
	CHECK(fan_send(s.c, MSG_LINE, &iov, 1) == -1,
	    "nothing more is queued for it");
}

int
main(void)
{
	struct rlimit rl;

	must(getrlimit(RLIMIT_NOFILE, &rl) == 0, "getrlimit");
	if (rl.rlim_cur < 4 * MANY && rl.rlim_max >= 4 * MANY) {
		rl.rlim_cur = 4 * MANY;
		must(setrlimit(RLIMIT_NOFILE, &rl) == 0, "setrlimit");
	}
	harness_init();
	test_order();
	test_join();
	test_hold();
	test_stuck();
	return unit_done();
}
