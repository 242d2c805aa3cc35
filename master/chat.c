/*
 * chat.c - what clients say to each other, as the master sees it.
 *
 * A chat line or action goes to every other joined client through the
 * fan-out, prefixed with its sender's nick; a private message goes to
 * one.  Nicks are unique, case-insensitively, and guestN is kept for
 * automatic names.  Joins, leaves and renames are told to everyone.
 * In a cluster, what others see goes to cluster.c instead, which tells
 * it in the cluster's order; /msg to a client not found here too.
 *
 * Public: chat_say, chat_privmsg, chat_nick, chat_who, chat_bye,
 * chat_join, chat_end_turn, chat_leave, chat_left, chat_find.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "chat.h"
#include "cluster.h"
#include "fan.h"
#include "log.h"
#include "os.h"
#include "proto.h"

#define JOINS_MAX	1024		/* newcomers told of at once */
#define JOIN_LINE	900		/* bytes of nicks in one joined line */

static struct child *joining[JOINS_MAX];	/* joined this turn */
static unsigned njoining;

/* "*** A, B and C joined" for joining[first..last] into line. */
static void
chat_join_line(char *line, size_t size, unsigned first, unsigned last)
{
	size_t n = 0;

	n += (size_t)snprintf(line, size, "***");
	for (unsigned i = first; i <= last && n < size; i++)
		n += (size_t)snprintf(line + n, size - n, "%s %s",
		    i == first ? "" : i == last ? " and" : ",",
		    joining[i]->client.nick);
	if (n < size)
		(void)snprintf(line + n, size - n, " joined");
}

/* The joined client named by a nick or "#id", or NULL. */
struct child *
chat_find(const char *target)
{
	struct child *c;
	char *end;
	unsigned long id;

	if (target[0] == '#') {
		errno = 0;
		id = strtoul(target + 1, &end, 10);
		if (errno != 0 || end == target + 1 || *end != '\0')
			return NULL;
		TAILQ_FOREACH(c, &children.clients, entry)
			if (c->client.id == id)
				return c;
		return NULL;
	}
	TAILQ_FOREACH(c, &children.clients, entry)
		if (strcasecmp(c->client.nick, target) == 0)
			return c;
	return NULL;
}

/*
 * A client has just been handed to its worker: the others are told at
 * the end of the turn (chat_end_turn), together with whoever else joined
 * in it.
 */
void
chat_join(struct child *c)
{
	log_info("client #%u (%s) connected from %s, worker %ld",
	    c->client.id, c->client.nick, c->client.peer, (long)c->pid);
	fan_join(c);
	if (cluster_on()) {
		cluster_join(c);
		return;
	}
	if (njoining == JOINS_MAX)
		chat_end_turn();
	joining[njoining++] = c;
}

/*
 * One "*** A, B and C joined" line per JOIN_LINE bytes of nicks, for
 * the newcomers joining[from..njoining), to everyone (to == NULL) or to
 * one client.
 */
static void
chat_tell_joins(struct child *to, unsigned from)
{
	char line[JOIN_LINE + 64];
	size_t len = 0;
	unsigned i, first = from;

	for (i = from; i < njoining; i++) {
		len += strlen(joining[i]->client.nick) + 2;
		if (len <= JOIN_LINE && i + 1 < njoining)
			continue;
		if (len > JOIN_LINE && i > first)
			i--;			/* this one starts the next line */
		chat_join_line(line, sizeof(line), first, i);
		if (to == NULL)
			fan_all_line(NULL, "%s", line);
		else
			fan_line(to, "%s", line);
		first = i + 1;
		len = 0;
	}
}

/*
 * End of a loop turn: everyone who was here hears of every newcomer in
 * one line (a burst of N joins costs a fan-out or two, not N), and each
 * newcomer of those who came after it.  Nobody hears of its own join.
 */
void
chat_end_turn(void)
{
	unsigned i;

	if (njoining == 0)
		return;
	chat_tell_joins(NULL, 0);
	for (i = 0; i < njoining; i++)
		fan_join(joining[i]);	/* the line above is not theirs */
	for (i = 0; i + 1 < njoining; i++)
		if (joining[i]->state == CHILD_CLIENT)
			chat_tell_joins(joining[i], i + 1);
	njoining = 0;
}

/* Tell the others that c's client left (not during shutdown). */
void
chat_left(struct child *c, const char *why)
{
	log_info("client #%u (%s) from %s left: %s", c->client.id,
	    c->client.nick, c->client.peer, why);
	chat_end_turn();		/* its join is told before it leaves */
	if (cluster_on())
		cluster_leave(c, why);
	else if (server.phase == PHASE_RUNNING)
		fan_all_line(NULL, "*** %s left (%s)", c->client.nick, why);
}

/* c's client is gone (said its worker, or the worker died). */
void
chat_leave(struct child *c, const char *why)
{
	if (c->state != CHILD_CLIENT)
		return;
	fan_catch_up(c);		/* what it was sent before it left */
	child_set_state(c, CHILD_LEAVING);
	chat_left(c, why);
}

/* MSG_SAY, MSG_ME: "<nick> text" or "* nick text" to everyone else. */
int
chat_say(struct child *c, struct msg *m)
{
	char prefix[PROTO_NICK_MAX + 8];
	struct iovec iov[3];
	const char *text;
	size_t len;
	int n;

	if (msg_text(m, &text, &len) == -1)
		return -1;
	server.stats.bytes_in += len;
	if (cluster_on()) {
		cluster_say(c, m->h.type == MSG_ME, text, len);
		return 0;
	}
	n = snprintf(prefix, sizeof(prefix), m->h.type == MSG_SAY ?
	    "<%s> " : "* %s ", c->client.nick);
	iov[0].iov_base = prefix;
	iov[0].iov_len = n < 0 ? 0 : (size_t)n;
	iov[1].iov_base = (void *)(uintptr_t)text;
	iov[1].iov_len = len;
	iov[2].iov_base = (void *)(uintptr_t)"\r\n";
	iov[2].iov_len = 2;
	server.stats.broadcasts++;
	log_debug("broadcast %" PRIu64 " from client #%u", server.seq + 1,
	    c->client.id);
	fan_all(c, iov, 3);
	return 0;
}

/* MSG_PRIVMSG "/msg TARGET text": "*nick* text" to the target alone. */
int
chat_privmsg(struct child *c, struct msg *m)
{
	char target[PROTO_TARGET_MAX + 1], prefix[PROTO_NICK_MAX + 8];
	struct child *to;
	struct iovec iov[3];
	const char *text;
	size_t len;
	int n;

	if (msg_str(m, target, sizeof(target)) == -1 ||
	    msg_text(m, &text, &len) == -1 || target[0] == '\0' || len == 0)
		return -1;
	server.stats.bytes_in += len;
	if ((to = chat_find(target)) == NULL && cluster_on()) {
		cluster_privmsg(c, target, text, len);	/* on another server? */
		return 0;
	}
	if (to == NULL) {
		fan_line(c, "ERR no such client: %s (see /who)", target);
		return 0;
	}
	n = snprintf(prefix, sizeof(prefix), "*%s* ", c->client.nick);
	iov[0].iov_base = prefix;
	iov[0].iov_len = n < 0 ? 0 : (size_t)n;
	iov[1].iov_base = (void *)(uintptr_t)text;
	iov[1].iov_len = len;
	iov[2].iov_base = (void *)(uintptr_t)"\r\n";
	iov[2].iov_len = 2;
	(void)fan_send(to, MSG_LINE, iov, 3);
	return 0;
}

/* MSG_NICK "/nick NAME": unique, case-insensitively; everyone is told. */
int
chat_nick(struct child *c, struct msg *m)
{
	char name[PROTO_NICK_MAX + 1], old[PROTO_NICK_MAX + 1];
	struct child *other;

	if (msg_str(m, name, sizeof(name)) == -1 || msg_end(m) == -1 ||
	    !nick_valid(name))
		return -1;		/* the worker checks the syntax */
	if (strcmp(name, c->client.nick) == 0) {
		fan_line(c, "*** you are already known as %s", name);
	} else if (nick_reserved(name)) {
		fan_line(c, "ERR nick %s is reserved: guestN names are given "
		    "out automatically", name);
	} else if (cluster_on()) {
		cluster_nick(c, name);		/* unique across servers */
	} else if ((other = chat_find(name)) != NULL && other != c) {
		fan_line(c, "ERR nick %s is already in use; pick another",
		    name);
	} else {
		chat_end_turn();	/* the joined line names the old nick */
		memcpy(old, c->client.nick, sizeof(old));
		memcpy(c->client.nick, name, sizeof(c->client.nick));
		log_info("client #%u (%s) is now known as %s", c->client.id,
		    old, name);
		fan_all_line(NULL, "*** %s is now known as %s", old, name);
	}
	return 0;
}

/* "  (operator, you)": what /who marks on o's line for asker c. */
static const char *
chat_who_marks(const struct child *o, const struct child *c)
{
	if (o->client.oper)
		return o == c ? "  (operator, you)" : "  (operator)";
	return o == c ? "  (you)" : "";
}

/* MSG_WHO "/who": one line per client, then an end line. */
int
chat_who(struct child *c, struct msg *m)
{
	char since[16], idle[16], tmo[16];
	int64_t now = os_now_ms();
	struct child *o;

	(void)m;
	if (cluster_on()) {
		cluster_who(c);
		return 0;
	}
	TAILQ_FOREACH(o, &children.clients, entry) {
		(void)proto_duration(since, sizeof(since),
		    (now - o->client.since_ms) / 1000);
		(void)proto_duration(idle, sizeof(idle),
		    (now - o->client.active_ms) / 1000);
		if (o->client.read_timeout == 0)
			(void)snprintf(tmo, sizeof(tmo), "none");
		else
			(void)proto_duration(tmo, sizeof(tmo),
			    o->client.read_timeout);
		fan_line(c, "#%-5u %-16s pid %-7ld %-22s connected %-7s "
		    "idle %-7s timeout %s%s", o->client.id, o->client.nick,
		    (long)o->pid, o->client.peer, since, idle, tmo,
		    chat_who_marks(o, c));
	}
	fan_line(c, "*** end of /who (%u client%s)", children.nclients,
	    children.nclients == 1 ? "" : "s");
	return 0;
}

/*
 * MSG_BYE, MSG_EXPIRED: the worker's last word on its client.  Frames
 * are handled in order, so the answers to everything the client sent
 * before are queued already: MSG_DONE tells the worker so, and it says
 * goodbye after them.
 */
int
chat_bye(struct child *c, struct msg *m)
{
	char why[PROTO_REASON_MAX + 1];
	const char *p;
	size_t len;

	if (msg_text(m, &p, &len) == -1 || len > PROTO_REASON_MAX)
		return -1;
	if (m->h.type == MSG_EXPIRED)
		server.stats.timeouts++;
	memcpy(why, p, len);
	why[len] = '\0';
	chat_leave(c, len == 0 ? "quit" : why);
	fan_control(c, MSG_DONE);
	return 0;
}
