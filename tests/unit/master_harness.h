/*
 * master_harness.h - what the master's unit tests share: children made
 * by hand on real socketpairs, in the table spawn.c keeps, and frames
 * read back from the worker's end.  A test plays the worker (and, in
 * test_spawn.c, the forker); the master's modules run as they do in
 * forkchatd, without its main().
 */
#ifndef FORKCHAT_MASTER_HARNESS_H
#define FORKCHAT_MASTER_HARNESS_H

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conf.h"
#include "ev.h"
#include "fan.h"
#include "msg.h"
#include "os.h"
#include "spawn.h"
#include "unit.h"

/* A child made by hand, with the worker's end of its channel. */
struct fake {
	struct child *c;
	int	 worker;		/* the worker's end */
	struct msgin in;		/* what the worker has read */
};

/* Setup that cannot go on without: bail out of the whole run. */
static inline void
must(int ok, const char *what)
{
	if (!ok) {
		printf("Bail out! %s failed: %s\n", what, strerror(errno));
		exit(1);
	}
}

/* A hook that records nothing: these tests reap no client. */
static inline void
harness_drain(struct child *c)
{
	(void)c;
}

static inline void
harness_gone(struct child *c, const char *why)
{
	(void)c;
	(void)why;
}

static inline bool
harness_other(pid_t pid, int status)
{
	(void)pid;
	(void)status;
	return false;
}

/* The master's state as main() would set it up, without forking. */
static inline void
harness_init(void)
{
	static const struct spawn_hooks hooks = { harness_drain,
	    harness_gone, harness_other };
	char err[CONFIG_ERR_MAX];

	must(conf_build(&conf, err, sizeof(err)) == 0, "conf_build");
	must((server.ep = ev_open()) != -1, "ev_open");
	spawn_init(&hooks);
}

/* A child in state st with client id, its channel a socketpair. */
static inline struct child *
harness_child(struct fake *f, enum child_state st, uint32_t id, size_t limit)
{
	struct child *c;
	int sv[2];

	must((c = calloc(1, sizeof(*c))) != NULL, "calloc");
	must(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0, sv) == 0, "socketpair");
	c->src.kind = SRC_CHILD;
	c->chan.fd = sv[0];
	msgq_init(&c->chan.out, limit);
	msgin_init(&c->chan.in);
	must(ev_add(server.ep, c->chan.fd, EV_READ, c) == 0, "ev_add");
	c->state = CHILD_STARTING;
	TAILQ_INSERT_TAIL(&children.starting, c, entry);
	children.nstarting++;
	children.nchildren++;
	if (st != CHILD_STARTING)
		child_set_state(c, st);
	c->client.id = id;
	(void)snprintf(c->client.nick, sizeof(c->client.nick), "guest%u",
	    id);
	f->c = c;
	f->worker = sv[1];
	msgin_init(&f->in);
	return c;
}

/* Read what the master wrote to f's worker so far. */
static inline void
harness_pump(struct fake *f)
{
	while (msg_read(f->worker, &f->in, 65536) > 0)
		;
}

/* The next frame the worker got: 1 with *m set, 0 if none yet. */
static inline int
harness_frame(struct fake *f, struct msg *m)
{
	harness_pump(f);
	return msg_get(&f->in, m);
}

/* The next MSG_LINE's text is want (CRLF included). */
static inline int
harness_line_is(struct fake *f, const char *want)
{
	struct msg m;
	const char *p;
	size_t n;

	if (harness_frame(f, &m) != 1 || m.h.type != MSG_LINE ||
	    msg_rest(&m, &p, &n) == -1)
		return 0;
	return n == strlen(want) && memcmp(p, want, n) == 0;
}

/* Nothing more came for f's worker. */
static inline int
harness_quiet(struct fake *f)
{
	struct msg m;

	return harness_frame(f, &m) == 0;
}

/* The worker writes one frame to the master, as a worker would. */
static inline void
harness_send(struct fake *f, enum msg_type type, uint32_t id,
    const void *p, size_t len)
{
	struct msgq q;

	msgq_init(&q, 0);
	must(msg_put(&q, type, id, p, len) == 0 &&
	    msg_flush(f->worker, &q) == 0, "a worker's frame");
	msgq_free(&q);
}

/* A process that waits to be killed: a pid spawn_kill() may signal. */
static inline pid_t
harness_sleeper(void)
{
	pid_t pid = fork();

	must(pid != -1, "fork");
	if (pid == 0) {
		for (;;)
			(void)pause();
	}
	return pid;
}

#endif
