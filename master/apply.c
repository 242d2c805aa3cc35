/*
 * apply.c - what an entry of the cluster's stream does on this server.
 *
 * Every server applies every entry in stream order, its own included, so
 * each builds the same roster and shows its clients the same lines: a
 * chat line goes to every client here but its sender; a join, a leave,
 * a rename, a kick to all; a private message or a new read timeout to
 * whom it concerns, if that client is here; a kick or a timeout aimed at
 * a client of ours is carried out here, through its worker, as for a
 * server alone.
 *
 * First, the entry's origin: an entry this server has applied already
 * (by its number; a server's own lines of a time without Redis were
 * applied when they were said) is skipped, as is one from an older
 * incarnation of a server; a new incarnation drops what the old one
 * had.  A nick claim holds if nobody has the nick when the claim is
 * applied: the first claim in stream order wins, everywhere.  A hello
 * (a server's whole list of clients) sets the roster right after
 * entries were lost; a nick it brings that someone else holds by then
 * goes back to guestN.
 *
 * Public: apply_entry.
 */
#include <stdio.h>
#include <string.h>

#include "apply.h"
#include "fan.h"
#include "log.h"
#include "os.h"
#include "roster.h"

#define NAME	ROSTER_DISPLAY_MAX

static uint64_t impostor;		/* an incarnation using our name */

/* This server's client id, if p is this server and it is here. */
static struct child *
apply_local(const struct peer *p, uint32_t id)
{
	struct child *c;

	if (p != roster_self())
		return NULL;
	TAILQ_FOREACH(c, &children.clients, entry)
		if (c->client.id == id)
			return c;
	return NULL;
}

/* How everyone sees the client m is from: the roster's nick, or m's. */
static const char *
apply_from(const struct peer *p, const struct clmsg *m, char *buf,
    size_t size)
{
	const struct member *mb = roster_find(p, m->id);

	return roster_display(mb != NULL ? mb->c.nick : m->nick, p->name, buf,
	    size);
}

/* Every client of p leaves the roster; here they are shown as left. */
static void
apply_drop_all(struct peer *p, const char *why)
{
	struct member *mb;
	char name[NAME];

	while ((mb = TAILQ_FIRST(&p->members)) != NULL) {
		if (p != roster_self())
			fan_all_line(NULL, "*** %s left (%s)",
			    roster_name(mb, name, sizeof(name)), why);
		roster_remove(mb);
	}
}

/*
 * The server an entry is from, if the entry is new; NULL to skip it (a
 * repeat, an old incarnation's, or another server using our name).
 */
static struct peer *
apply_origin(const struct clmsg *m)
{
	struct peer *p = roster_peer(m->server), *me = roster_self();
	char why[64];

	if (p == me && m->inc < me->inc)
		return NULL;		/* a run of ours before this one */
	if (p == me && m->inc > me->inc) {
		if (impostor != m->inc)
			log_error("cluster: another server calls itself %s "
			    "(incarnation %llu): server_name must be unique",
			    m->server, (unsigned long long)m->inc);
		impostor = m->inc;
		return NULL;
	}
	if (p == NULL)
		p = roster_peer_add(m->server, m->inc);
	if (m->inc < p->inc || m->seq <= p->seq)
		return NULL;
	if (m->inc > p->inc) {
		(void)snprintf(why, sizeof(why), "server %s restarted", p->name);
		apply_drop_all(p, why);
		p->inc = m->inc;
		p->collecting = false;
	}
	p->seq = m->seq;
	p->heard_ms = os_now_ms();
	p->gone_sent = false;
	p->alive = true;
	return p;
}

/*
 * mb (of p) brings a nick someone else holds: it goes back to guestN,
 * and if mb is a client here, it is told.
 */
static void
apply_collide(struct member *mb)
{
	struct member *other = roster_nick(mb->c.nick, mb);
	struct child *c;
	char old[PROTO_NICK_MAX + 1], guest[PROTO_NICK_MAX + 1];

	if (nick_reserved(mb->c.nick) || other == NULL)
		return;
	memcpy(old, mb->c.nick, sizeof(old));
	(void)snprintf(guest, sizeof(guest), "guest%u", mb->c.id);
	roster_rename(mb, guest);
	if ((c = apply_local(mb->peer, mb->c.id)) == NULL)
		return;
	memcpy(c->client.nick, mb->c.nick, sizeof(c->client.nick));
	log_notice("client #%u: nick %s taken by a client of %s while this "
	    "server was cut off; now %s", c->client.id, old,
	    other->peer->name, c->client.nick);
	fan_line(c, "*** your nick %s was taken by a client of %s while this "
	    "server was cut off from the cluster; you are %s again", old,
	    other->peer->name, c->client.nick);
}

/* join: a new client; everyone here but itself is told. */
static void
apply_join(struct peer *p, const struct clmsg *m)
{
	struct member *mb;
	char name[NAME];

	if (roster_find(p, m->id) != NULL)
		return;			/* a hello brought it first */
	mb = roster_add(p, &m->client);
	mb->active_ms = os_now_ms();
	apply_collide(mb);
	fan_all_line(apply_local(p, m->id), "*** %s joined",
	    roster_name(mb, name, sizeof(name)));
}

/* leave: a client is gone, with why. */
static void
apply_leave(struct peer *p, const struct clmsg *m)
{
	struct member *mb = roster_find(p, m->id);
	char name[NAME];

	if (mb == NULL)
		return;			/* shown as left already */
	(void)roster_name(mb, name, sizeof(name));
	roster_remove(mb);
	fan_all_line(NULL, "*** %s left (%.*s)", name, (int)m->len, m->text);
}

/* say, me: a line to every client here but its sender. */
static void
apply_say(struct peer *p, const struct clmsg *m)
{
	struct member *mb = roster_find(p, m->id);
	char prefix[NAME + 8], name[NAME];
	struct iovec iov[3];
	int n;

	if (mb != NULL)
		mb->active_ms = os_now_ms();
	n = snprintf(prefix, sizeof(prefix), m->type == CL_SAY ? "<%s> " :
	    "* %s ", apply_from(p, m, name, sizeof(name)));
	iov[0].iov_base = prefix;
	iov[0].iov_len = n < 0 ? 0 : (size_t)n;
	iov[1].iov_base = (void *)(uintptr_t)m->text;
	iov[1].iov_len = m->len;
	iov[2].iov_base = (void *)(uintptr_t)"\r\n";
	iov[2].iov_len = 2;
	server.stats.broadcasts++;
	fan_all(apply_local(p, m->id), iov, 3);
}

/*
 * nick: the claim holds if nobody else has the nick now; else its maker
 * is told (and keeps its nick).
 */
static void
apply_nick(struct peer *p, const struct clmsg *m)
{
	struct member *mb = roster_find(p, m->id), *other;
	struct child *c = apply_local(p, m->id);
	char old[NAME], new[NAME];

	other = roster_nick(m->nick, mb);
	if (mb == NULL || nick_reserved(m->nick) || other != NULL) {
		if (c != NULL && other != NULL)
			fan_line(c, "ERR nick %s is already in use on %s; "
			    "pick another", m->nick, other->peer->name);
		else if (c != NULL)
			fan_line(c, "ERR cannot take nick %s just now; try "
			    "again", m->nick);
		return;
	}
	(void)roster_name(mb, old, sizeof(old));
	roster_rename(mb, m->nick);
	if (c != NULL) {
		log_info("client #%u (%s) is now known as %s", c->client.id,
		    c->client.nick, m->nick);
		memcpy(c->client.nick, m->nick, sizeof(c->client.nick));
	}
	fan_all_line(NULL, "*** %s is now known as %s", old,
	    roster_name(mb, new, sizeof(new)));
}

/*
 * The client msg, kick and tmo are aimed at; NULL (and the sender, if
 * it is here, told) if it has gone.
 */
static struct member *
apply_target(struct peer *p, const struct clmsg *m)
{
	struct peer *to = roster_peer(m->to);
	struct member *t = to != NULL ? roster_find(to, m->to_id) : NULL;
	struct child *c;

	if (t == NULL && (c = apply_local(p, m->id)) != NULL)
		fan_line(c, "ERR no such client: #%u@%s (gone)", m->to_id,
		    m->to);
	return t;
}

/* msg: "*nick* text" to the target, if it is here. */
static void
apply_msg(struct peer *p, const struct clmsg *m)
{
	struct member *t = apply_target(p, m);
	char prefix[NAME + 4], name[NAME];
	struct iovec iov[3];
	struct child *c;
	int n;

	if (t == NULL || (c = apply_local(t->peer, t->c.id)) == NULL)
		return;
	n = snprintf(prefix, sizeof(prefix), "*%s* ",
	    apply_from(p, m, name, sizeof(name)));
	iov[0].iov_base = prefix;
	iov[0].iov_len = n < 0 ? 0 : (size_t)n;
	iov[1].iov_base = (void *)(uintptr_t)m->text;
	iov[1].iov_len = m->len;
	iov[2].iov_base = (void *)(uintptr_t)"\r\n";
	iov[2].iov_len = 2;
	(void)fan_send(c, MSG_LINE, iov, 3);
}

/* A client here is kicked: its worker says the last line and closes. */
static void
apply_kick_here(struct child *c, const char *by, const struct clmsg *m)
{
	char line[512];
	int n;

	n = snprintf(line, sizeof(line), "*** you were kicked by %s%s%.*s", by,
	    m->len ? ": " : "", (int)m->len, m->text);
	(void)fan_send(c, MSG_CLOSE, &(struct iovec){ line,
	    n < 0 ? 0 : (size_t)n }, 1);
	child_set_state(c, CHILD_LEAVING);	/* no later "left" line */
	server.stats.kicks++;
	log_notice("client #%u (%s) from %s kicked by %s (#%u@%s)%s%.*s",
	    c->client.id, c->client.nick, c->client.peer, by, m->id, m->server,
	    m->len ? ": " : "", (int)m->len, m->text);
}

/* kick: the target leaves the roster; carried out if it is here. */
static void
apply_kick(struct peer *p, const struct clmsg *m)
{
	struct member *t = apply_target(p, m);
	char by[NAME], name[NAME];
	struct child *c;

	if (t == NULL)
		return;
	(void)apply_from(p, m, by, sizeof(by));
	(void)roster_name(t, name, sizeof(name));
	c = apply_local(t->peer, t->c.id);
	roster_remove(t);
	if (c != NULL)
		apply_kick_here(c, by, m);
	if (m->len > 0)
		fan_all_line(NULL, "*** %s was kicked by %s (%.*s)", name, by,
		    (int)m->len, m->text);
	else
		fan_all_line(NULL, "*** %s was kicked by %s", name, by);
}

/* tmo: the target's worker gets the new read timeout, if it is here. */
static void
apply_timeout(struct peer *p, const struct clmsg *m)
{
	struct member *t = apply_target(p, m);
	struct child *c, *setter = apply_local(p, m->id);
	char by[NAME], name[NAME];
	uint32_t secs = m->secs;

	if (t == NULL)
		return;
	t->c.timeout = secs;
	(void)apply_from(p, m, by, sizeof(by));
	(void)roster_name(t, name, sizeof(name));
	if ((c = apply_local(t->peer, t->c.id)) != NULL) {
		c->client.read_timeout = secs;
		(void)fan_send(c, MSG_SET_TIMEOUT,
		    &(struct iovec){ &secs, sizeof(secs) }, 1);
		log_notice("client #%u (%s): read timeout set to %lu s by %s "
		    "(#%u@%s)", c->client.id, c->client.nick,
		    (unsigned long)secs, by, m->id, m->server);
		if (secs == 0)
			fan_line(c, "*** your read timeout was turned off by "
			    "%s", by);
		else
			fan_line(c, "*** your read timeout was set to %lu s by "
			    "%s: send a line at least that often",
			    (unsigned long)secs, by);
	}
	if (setter != NULL && setter != c)
		fan_line(setter, secs == 0 ? "*** read timeout of %s is now "
		    "off" : "*** read timeout of %s is now %lu s", name,
		    (unsigned long)secs);
}

/* One member of a hello: updated, or new (and told as joined). */
static void
apply_member(struct peer *p, const struct clmsg_client *cl)
{
	struct member *mb = roster_find(p, cl->id);
	char name[NAME];

	if (mb != NULL) {
		/* the roster's nick is newer than one a hello was built with */
		mb->c.since = cl->since;
		mb->c.timeout = cl->timeout;
		mb->c.pid = cl->pid;
		memcpy(mb->c.peer, cl->peer, sizeof(mb->c.peer));
		mb->seen = true;
		return;
	}
	mb = roster_add(p, cl);
	mb->active_ms = os_now_ms();
	mb->seen = true;
	apply_collide(mb);
	/* Our own clients never left our clients' view. */
	if (p != roster_self())
		fan_all_line(NULL, "*** %s joined",
		    roster_name(mb, name, sizeof(name)));
}

/* hello: p's clients, in parts; after the last, those not in it left. */
static int
apply_hello(struct peer *p, const struct clmsg *m)
{
	struct clmsg_client cl;
	struct member *mb, *next;
	const char *s = m->text;
	size_t left = m->len;
	char name[NAME], why[64];

	if (m->first) {
		TAILQ_FOREACH(mb, &p->members, entry)
			mb->seen = false;
		p->collecting = true;
	}
	while (clmsg_member_next(&s, &left, &cl) == 1)
		apply_member(p, &cl);
	if (left > 0)
		log_warning("cluster: a malformed hello from %s", p->name);
	if (m->last && p->collecting) {
		(void)snprintf(why, sizeof(why), "server %s resynchronised",
		    p->name);
		for (mb = TAILQ_FIRST(&p->members); mb != NULL; mb = next) {
			next = TAILQ_NEXT(mb, entry);
			if (mb->seen)
				continue;
			if (p != roster_self())
				fan_all_line(NULL, "*** %s left (%s)",
				    roster_name(mb, name, sizeof(name)), why);
			roster_remove(mb);
		}
		p->collecting = false;
	}
	return m->ask && p != roster_self() ? APPLY_HELLO : 0;
}

/* gone: a server silent too long; its clients are shown as left. */
static int
apply_gone(const struct clmsg *m)
{
	struct peer *g = roster_peer(m->gone);
	char why[64];

	if (g == NULL || g->inc != m->gone_inc || !g->alive)
		return 0;
	if (g == roster_self()) {
		log_warning("cluster: %s declared this server gone (no "
		    "heartbeat seen); announcing our clients again", m->server);
		apply_drop_all(g, "");
		return APPLY_HELLO;
	}
	log_notice("cluster: server %s declared gone by %s: %u client%s "
	    "dropped", g->name, m->server, g->nmembers,
	    g->nmembers == 1 ? "" : "s");
	(void)snprintf(why, sizeof(why), "server %s unreachable", g->name);
	apply_drop_all(g, why);
	g->alive = false;
	g->gone_sent = false;
	return 0;
}

/* bye: a server stopping; its clients are shown as left at once. */
static void
apply_bye(struct peer *p)
{
	char why[64];

	if (p == roster_self())
		return;
	log_notice("cluster: server %s is stopping: %u client%s dropped",
	    p->name, p->nmembers, p->nmembers == 1 ? "" : "s");
	(void)snprintf(why, sizeof(why), "server %s shutting down", p->name);
	apply_drop_all(p, why);
	p->alive = false;
}

/* Apply one entry, in stream order: APPLY_* bits. */
int
apply_entry(const struct clmsg *m)
{
	struct peer *p = apply_origin(m);

	if (p == NULL)
		return 0;
	switch (m->type) {
	case CL_JOIN:
		apply_join(p, m);
		break;
	case CL_LEAVE:
		apply_leave(p, m);
		break;
	case CL_SAY:
	case CL_ME:
		apply_say(p, m);
		break;
	case CL_NICK:
		apply_nick(p, m);
		break;
	case CL_MSG:
		apply_msg(p, m);
		break;
	case CL_KICK:
		apply_kick(p, m);
		break;
	case CL_TIMEOUT:
		apply_timeout(p, m);
		break;
	case CL_HELLO:
		return APPLY_DONE | apply_hello(p, m);
	case CL_GONE:
		return APPLY_DONE | apply_gone(m);
	case CL_BYE:
		apply_bye(p);
		break;
	default:			/* CL_BEAT: being heard is all */
		break;
	}
	return APPLY_DONE;
}
