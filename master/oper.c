/*
 * oper.c - "/oper PASSWORD": who may become an operator, and how fast
 * anyone may guess.
 *
 * A guess is checked (conf.c compares in constant time) only when both
 * the bucket of its source address and the bucket of all addresses
 * have a token: a few at once, then one a second per address and five a
 * second in all, so reconnecting gains nothing.  Guesses beyond that
 * wait here, in order, and are answered when their tokens come; their
 * workers read nothing meanwhile, so a client just sees a slow answer.
 * A guess whose client has left is dropped; past OPER_WAIT_MAX waiting,
 * a guess is refused unchecked.  Wrong passwords are logged at most once
 * per interval, with a count.
 *
 * Public: oper_request, oper_deadline, oper_tick, oper_flush_log;
 * oper_save, oper_restore for a live upgrade.
 */
#include <stdio.h>
#include <string.h>

#include "bucket.h"
#include "conf.h"
#include "fan.h"
#include "log.h"
#include "oper.h"
#include "os.h"
#include "proto.h"
#include "snap.h"

#define ADDR_SLOTS	64		/* addresses remembered, least recent go */
#define ADDR_BURST	5		/* guesses an address gets at once */
#define ADDR_EVERY_MS	1000		/* then one per this */
#define ALL_BURST	10		/* guesses all addresses get at once */
#define ALL_EVERY_MS	200		/* then one per this */
#define OPER_WAIT_MAX	256		/* guesses waiting for their tokens */

/* An address that guessed lately, and its bucket. */
struct addr_slot {
	char	 addr[PROTO_PEER_MAX];
	struct bucket b;
	int64_t	 used;			/* last guess from it */
};

/* A guess waiting for its tokens. */
struct guess {
	pid_t	 pid;			/* its worker, found again by pid */
	uint32_t id;			/* and client id */
	size_t	 len;
	char	 text[PROTO_PASSWORD_MAX];
	struct addr_slot *from;
};

static struct addr_slot addrs[ADDR_SLOTS];
static struct bucket all;
static bool all_ready;
static struct guess waiting[OPER_WAIT_MAX];
static unsigned nwaiting;
static struct log_limit wrong_log = LOG_LIMIT("wrong operator passwords",
    LL_WARNING, 10);

/* "1.2.3.4" of "1.2.3.4:5678", "[::1]" of "[::1]:5678". */
static void
oper_addr(const char *peer, char *out, size_t size)
{
	const char *colon = strrchr(peer, ':');
	int n = colon != NULL ? (int)(colon - peer) : (int)strlen(peer);

	(void)snprintf(out, size, "%.*s", n, peer);
}

/* The slot of c's address: found, or the least recent one taken over. */
static struct addr_slot *
oper_slot(const struct child *c, int64_t now)
{
	struct addr_slot *s, *oldest = &addrs[0];
	char addr[PROTO_PEER_MAX];

	oper_addr(c->client.peer, addr, sizeof(addr));
	for (s = addrs; s < addrs + ADDR_SLOTS; s++) {
		if (s->used != 0 && strcmp(s->addr, addr) == 0)
			return s;
		if (s->used < oldest->used)
			oldest = s;
	}
	/* Still waiting guesses point at it: it must not change hands. */
	for (unsigned i = 0; i < nwaiting; i++)
		if (waiting[i].from == oldest)
			return oldest;
	(void)snprintf(oldest->addr, sizeof(oldest->addr), "%s", addr);
	bucket_init(&oldest->b, ADDR_EVERY_MS, ADDR_BURST, now);
	oldest->used = now;
	return oldest;
}

/* Answer /oper; the worker gets the verdict to pace retries. */
static void
oper_verdict(struct child *c, bool ok)
{
	uint32_t v = ok ? 1 : 0;
	struct iovec iov = { .iov_base = &v, .iov_len = sizeof(v) };

	(void)fan_send(c, MSG_OPER_RESULT, &iov, 1);
}

/* Check one guess, its tokens taken. */
static void
oper_check(struct child *c, const char *p, size_t len)
{
	if (conf_password_ok(p, len)) {
		c->client.oper = true;
		log_notice("client #%u (%s) from %s is now an operator",
		    c->client.id, c->client.nick, c->client.peer);
		fan_line(c, "*** you are now an operator");
		oper_verdict(c, true);
		return;
	}
	log_limited(&wrong_log, "client #%u (%s) from %s: wrong operator "
	    "password", c->client.id, c->client.nick, c->client.peer);
	oper_verdict(c, false);
}

/* Take a token from both buckets, or from neither. */
static bool
oper_tokens(struct addr_slot *s, int64_t now)
{
	if (bucket_next(&s->b, now) > now || bucket_next(&all, now) > now)
		return false;
	return bucket_take(&s->b, now) && bucket_take(&all, now);
}

/* Keep a guess until its tokens come; false if too many wait. */
static bool
oper_wait(struct child *c, struct addr_slot *s, const char *p, size_t len)
{
	struct guess *g;

	if (nwaiting == OPER_WAIT_MAX)
		return false;
	g = &waiting[nwaiting++];
	g->pid = c->pid;
	g->id = c->client.id;
	g->len = len;
	memcpy(g->text, p, len);
	g->from = s;
	return true;
}

/* MSG_OPER "/oper PASSWORD" */
int
oper_request(struct child *c, struct msg *m)
{
	int64_t now = os_now_ms();
	struct addr_slot *s;
	const char *p;
	size_t len;

	if (msg_text(m, &p, &len) == -1 || len > PROTO_PASSWORD_MAX)
		return -1;
	if (conf.admin == ADMIN_EVERYONE) {
		fan_line(c, "*** no password needed: everyone may /kick and "
		    "/timeout here (admin = everyone)");
		oper_verdict(c, true);
		return 0;
	}
	if (c->client.oper) {
		fan_line(c, "*** you are already an operator");
		oper_verdict(c, true);
		return 0;
	}
	if (!all_ready) {
		bucket_init(&all, ALL_EVERY_MS, ALL_BURST, now);
		all_ready = true;
	}
	s = oper_slot(c, now);
	s->used = now;
	if (nwaiting == 0 && oper_tokens(s, now))
		oper_check(c, p, len);
	else if (!oper_wait(c, s, p, len))
		oper_verdict(c, false);		/* refused unchecked */
	return 0;
}

/* Drop waiting guess i, keeping the order of the others. */
static void
oper_drop(unsigned i)
{
	memmove(&waiting[i], &waiting[i + 1],
	    (nwaiting - i - 1) * sizeof(waiting[0]));
	nwaiting--;
	memset(&waiting[nwaiting], 0, sizeof(waiting[0]));
}

/* Answer the waiting guesses whose tokens have come, oldest first. */
void
oper_tick(int64_t now)
{
	struct child *c;
	unsigned i = 0;

	log_limit_tick(&wrong_log, now);
	while (i < nwaiting) {
		c = child_find(waiting[i].pid);
		if (c == NULL || c->state != CHILD_CLIENT ||
		    c->client.id != waiting[i].id) {
			oper_drop(i);		/* its client has left */
			continue;
		}
		if (bucket_next(&all, now) > now)
			return;
		if (!oper_tokens(waiting[i].from, now)) {
			i++;
			continue;
		}
		oper_check(c, waiting[i].text, waiting[i].len);
		oper_drop(i);
	}
}

/* When oper_tick() has something to do; OS_NO_DEADLINE if nothing. */
int64_t
oper_deadline(void)
{
	int64_t now = os_now_ms(), d = log_limit_deadline(&wrong_log), t;

	for (unsigned i = 0; i < nwaiting; i++) {
		t = bucket_next(&waiting[i].from->b, now);
		if (t < bucket_next(&all, now))
			t = bucket_next(&all, now);
		d = os_nearer(d, t);
	}
	return d;
}

/* Shutting down: the count of wrong passwords not yet logged. */
void
oper_flush_log(void)
{
	log_limit_flush(&wrong_log);
}

/* The guesses waiting, for the binary that takes over. */
int
oper_save(struct snap *s)
{
	for (unsigned i = 0; i < nwaiting; i++) {
		snap_begin(s, SNAP_GUESS);
		snap_u32(s, (uint32_t)waiting[i].pid);
		snap_u32(s, waiting[i].id);
		snap_str(s, waiting[i].from->addr);
		snap_bytes(s, waiting[i].text, waiting[i].len);
		snap_end(s);
	}
	return s->failed ? -1 : 0;
}

/* SNAP_GUESS: a guess that waited under the master before us. */
int
oper_restore(struct msg *m)
{
	int64_t now = os_now_ms();
	char addr[PROTO_PEER_MAX];
	struct child *c;
	struct guess *g;
	uint32_t pid, id;
	const char *p;
	size_t len;

	if (msg_u32(m, &pid) == -1 || msg_u32(m, &id) == -1 ||
	    msg_str(m, addr, sizeof(addr)) == -1 ||
	    msg_rest(m, &p, &len) == -1 || len > PROTO_PASSWORD_MAX ||
	    pid > INT32_MAX || nwaiting == OPER_WAIT_MAX)
		return -1;
	if (!all_ready) {
		bucket_init(&all, ALL_EVERY_MS, ALL_BURST, now);
		all_ready = true;
	}
	if ((c = child_find((pid_t)pid)) == NULL)
		return 0;			/* gone meanwhile */
	g = &waiting[nwaiting++];
	g->pid = (pid_t)pid;
	g->id = id;
	g->len = len;
	memcpy(g->text, p, len);
	g->from = oper_slot(c, now);
	return 0;
}
