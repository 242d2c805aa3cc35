/*
 * test_dispatch.c - unit tests for master/dispatch.c, the routes of what
 * workers send: good frames reach their handlers; a frame of the wrong
 * size, of a type a worker may not send, about another client, with a
 * descriptor, malformed, or from a worker in the wrong state is a
 * protocol violation and its worker is killed; a legal frame from a
 * worker whose client has left is dropped, except a pipe job's record.
 */
#include <sys/wait.h>

#include "dispatch.h"
#include "master_harness.h"

/* A client whose worker is a real process, so a kill can be seen. */
static struct child *
client(struct fake *f, enum child_state st, uint32_t id)
{
	struct child *c = harness_child(f, st, id, 0);

	c->pid = harness_sleeper();
	return c;
}

/*
 * Was c killed for breaking the protocol (a client's worker says so to
 * the others when reaped)?  Reaps its process.
 */
static int
violated(struct child *c)
{
	int status;

	if (!c->proc.killed || c->state != CHILD_LEAVING)
		return 0;
	if (c->client.id != 0 && c->proc.why[0] != '\0' &&
	    strcmp(c->proc.why, "worker protocol error") != 0)
		return 0;
	return waitpid(c->pid, &status, 0) == c->pid && WIFSIGNALED(status);
}

/*
 * Kill and reap a sleeper that was not killed; let go of the worker's
 * end and of what it read.
 */
static void
done(struct fake *f)
{
	struct child *c = f->c;

	(void)close(f->worker);
	msgin_free(&f->in);
	if (!c->proc.killed) {
		(void)kill(c->pid, SIGKILL);
		(void)waitpid(c->pid, NULL, 0);
	}
}

/* One frame from a fresh client in state st: was it a violation? */
static int
bad(enum child_state st, enum msg_type type, uint32_t id, const void *p,
    size_t len)
{
	struct fake f;
	int v;

	client(&f, st, st == CHILD_SPARE ? 0 : 7);
	harness_send(&f, type, id, p, len);
	dispatch_event(f.c);
	v = violated(f.c);
	done(&f);
	return v;
}

/* What each route refuses. */
static void
test_refused(void)
{
	static const char nick_nonul[] = "alice";
	static const char timeout3[] = "bob\0\1\2\3";	/* u32 cut short */
	char big[PROTO_REASON_MAX + 2];

	memset(big, 'r', sizeof(big));
	CHECK(bad(CHILD_CLIENT, MSG_WHO, 7, "x", 1),
	    "MSG_WHO with a payload");
	CHECK(bad(CHILD_CLIENT, MSG_SAY, 7, "", 0), "an empty MSG_SAY");
	CHECK(bad(CHILD_CLIENT, MSG_BYE, 7, big, sizeof(big)),
	    "a MSG_BYE reason past %d bytes", PROTO_REASON_MAX);
	CHECK(bad(CHILD_CLIENT, MSG_NICK, 7, nick_nonul, 5),
	    "a MSG_NICK whose str has no NUL");
	CHECK(bad(CHILD_CLIENT, MSG_TIMEOUT, 7, timeout3, 7),
	    "a MSG_TIMEOUT of the wrong size");
	CHECK(bad(CHILD_CLIENT, MSG_SAY, 7, "two\r\nlines", 10),
	    "a MSG_SAY that would break a line");
	CHECK(bad(CHILD_CLIENT, MSG_LINE, 7, "x", 1),
	    "a type only the master sends");
	CHECK(bad(CHILD_CLIENT, MSG_SAY, 8, "hi", 2),
	    "a frame about another client");
	CHECK(bad(CHILD_SPARE, MSG_SAY, 0, "hi", 2), "a line from a spare");
	CHECK(bad(CHILD_SPARE, MSG_WHO, 0, NULL, 0), "a request from a spare");
	CHECK(!bad(CHILD_CLIENT, MSG_WHO, 7, NULL, 0), "a good MSG_WHO is not");
}

/* The route of a good line: the others get it, the sender does not. */
static void
test_routed(void)
{
	struct fake a, b;

	client(&a, CHILD_CLIENT, 21);
	client(&b, CHILD_CLIENT, 22);
	harness_send(&a, MSG_SAY, 21, "hello", 5);
	dispatch_event(a.c);
	fan_end_turn();
	CHECK(!a.c->proc.killed && harness_line_is(&b, "<guest21> hello\r\n"),
	    "MSG_SAY: '<guest21> hello' to the other client");
	CHECK(harness_quiet(&a), "and no echo");
	done(&a);
	done(&b);
}

/* A client gone: its stale requests dropped, its job records kept. */
static void
test_leaving(void)
{
	struct msg_build mb;
	struct fake f, g;

	client(&f, CHILD_LEAVING, 31);
	client(&g, CHILD_CLIENT, 32);
	harness_send(&f, MSG_SAY, 31, "late", 4);
	dispatch_event(f.c);
	fan_end_turn();
	CHECK(!f.c->proc.killed && harness_quiet(&g),
	    "a line from a client already gone is dropped, quietly");
	msg_b_init(&mb);
	msg_b_u32(&mb, 4242);
	msg_b_str(&mb, "upper", 5);
	harness_send(&f, MSG_JOB, 31, mb.data, mb.len);
	dispatch_event(f.c);
	CHECK(!f.c->proc.killed && f.c->job.pid == 4242 &&
	    strcmp(f.c->job.name, "upper") == 0,
	    "its pipe job's record still counts");
	done(&f);
	done(&g);
}

/* A descriptor from a worker is never expected. */
static void
test_descriptor(void)
{
	struct fake f;
	struct msgq q;
	int p[2];

	client(&f, CHILD_CLIENT, 41);
	must(pipe(p) == 0, "pipe");
	msgq_init(&q, 0);
	must(msg_put_fd(&q, MSG_WHO, 41, NULL, 0, p[0]) == 0 &&
	    msg_flush(f.worker, &q) == 0, "a frame with a descriptor");
	msgq_free(&q);
	dispatch_event(f.c);
	CHECK(violated(f.c), "a frame with a descriptor is a violation");
	(void)close(p[1]);
}

/* A HELLO from a fresh worker, built as a worker would. */
static void
hello(struct fake *f, uint32_t id, uint32_t proto, const char *version)
{
	struct msg_build b;

	msg_b_init(&b);
	msg_b_u32(&b, proto);
	msg_b_str(&b, version, strlen(version));
	harness_send(f, MSG_HELLO, id, b.data, b.len);
	dispatch_event(f->c);
}

/* MSG_HELLO: once, first thing, of a protocol this master serves. */
static void
test_hello(void)
{
	struct fake f, g, h;

	client(&f, CHILD_SPARE, 0);
	hello(&f, 0, MSG_VERSION, "1.2.3");
	CHECK(!f.c->proc.killed && f.c->bin.proto == MSG_VERSION &&
	    strcmp(f.c->bin.version, "1.2.3") == 0,
	    "a spare's HELLO: its protocol and version noted");
	hello(&f, 0, MSG_VERSION, "1.2.3");
	CHECK(violated(f.c), "a second HELLO is a violation");
	client(&g, CHILD_CLIENT, 51);
	hello(&g, 0, MSG_VERSION - 1, "0.9");
	CHECK(!g.c->proc.killed && strcmp(g.c->bin.version, "0.9") == 0,
	    "a HELLO read only after the hand-off (id 0), of the protocol "
	    "before ours: taken");
	client(&h, CHILD_SPARE, 0);
	hello(&h, 0, MSG_VERSION + 1, "9.9");
	CHECK(violated(h.c), "a protocol this master does not serve");
	done(&g);
}

int
main(void)
{
	harness_init();
	test_hello();
	test_refused();
	test_routed();
	test_leaving();
	test_descriptor();
	return unit_done();
}
