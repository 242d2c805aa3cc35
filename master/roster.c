/*
 * roster.c - every server of the cluster and its clients, as read from
 * the stream (see roster.h).
 *
 * Peers are few and kept on one list; members are found by (peer, id)
 * in one hash, and by nick (any case) in another.  Names: a nick
 * someone chose is unique in the cluster and shown as it is; an
 * automatic guestN is unique only on its server, so everyone is shown
 * it as guestN@SERVER, the same on every server.
 *
 * A live upgrade carries the roster whole: a record for each peer, this
 * server's first, each followed by one for each of its members, in
 * their order (SNAP_CL_PEER, SNAP_CL_MEMBER).
 *
 * Public: roster_init, roster_self, roster_peers, roster_peer,
 * roster_peer_add, roster_find, roster_add, roster_remove, roster_rename,
 * roster_nick, roster_target, roster_display, roster_name, roster_count,
 * roster_clear, roster_save, roster_restore.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clsnap.h"
#include "log.h"
#include "num.h"
#include "roster.h"
#include "state.h"

#define ROSTER_HASH	4096		/* buckets of members */

static struct peerq peers = TAILQ_HEAD_INITIALIZER(peers);
static struct peer *self;
static struct member *hash[ROSTER_HASH];
static struct member *nicks[ROSTER_HASH];
static struct peer *restoring;		/* a snapshot's peer being read */

/* The hash chain of (p, id). */
static struct member **
bucket(const struct peer *p, uint32_t id)
{
	return &hash[((uintptr_t)p / sizeof(*p) * 31 + id) % ROSTER_HASH];
}

/* The hash chain of a nick, in any case. */
static struct member **
nick_bucket(const char *nick)
{
	unsigned h = 0;

	for (; *nick != '\0'; nick++)
		h = h * 31 + (unsigned)tolower((unsigned char)*nick);
	return &nicks[h % ROSTER_HASH];
}

/* Put m on its nick's chain, or take it off. */
static void
nick_link(struct member *m, bool on)
{
	struct member **pp = nick_bucket(m->c.nick);

	if (on) {
		m->nnext = *pp;
		*pp = m;
		return;
	}
	for (; *pp != NULL; pp = &(*pp)->nnext) {
		if (*pp == m) {
			*pp = m->nnext;
			return;
		}
	}
}

/* Start with this server alone, as name and incarnation. */
struct peer *
roster_init(const char *name, uint64_t inc)
{
	self = roster_peer_add(name, inc);
	return self;
}

/* This server's own entry. */
struct peer *
roster_self(void)
{
	return self;
}

/* Every server known, this one first. */
struct peerq *
roster_peers(void)
{
	return &peers;
}

/* The server of this name, or NULL. */
struct peer *
roster_peer(const char *name)
{
	struct peer *p;

	TAILQ_FOREACH(p, &peers, entry)
		if (strcmp(p->name, name) == 0)
			return p;
	return NULL;
}

/* A server heard of for the first time. */
struct peer *
roster_peer_add(const char *name, uint64_t inc)
{
	struct peer *p = calloc(1, sizeof(*p));

	if (p != NULL) {
		(void)snprintf(p->name, sizeof(p->name), "%s", name);
		p->inc = inc;
		p->alive = true;
		TAILQ_INIT(&p->members);
		TAILQ_INSERT_TAIL(&peers, p, entry);
		return p;
	}
	log_panic("out of memory adding server %s", name);
}

/* The client id of server p, or NULL. */
struct member *
roster_find(const struct peer *p, uint32_t id)
{
	struct member *m;

	for (m = *bucket(p, id); m != NULL; m = m->hnext)
		if (m->peer == p && m->c.id == id)
			return m;
	return NULL;
}

/* A client of p joins the roster (the caller checked it is new). */
struct member *
roster_add(struct peer *p, const struct clmsg_client *c)
{
	struct member *m = calloc(1, sizeof(*m)), **b = bucket(p, c->id);

	if (m != NULL) {
		m->peer = p;
		m->c = *c;
		m->hnext = *b;
		*b = m;
		nick_link(m, true);
		TAILQ_INSERT_TAIL(&p->members, m, entry);
		p->nmembers++;
		return m;
	}
	log_panic("out of memory adding a client of %s", p->name);
}

/* A client leaves the roster. */
void
roster_remove(struct member *m)
{
	struct member **pp;

	for (pp = bucket(m->peer, m->c.id); *pp != NULL; pp = &(*pp)->hnext) {
		if (*pp == m) {
			*pp = m->hnext;
			break;
		}
	}
	nick_link(m, false);
	TAILQ_REMOVE(&m->peer->members, m, entry);
	m->peer->nmembers--;
	free(m);
}

/* A member's nick changes. */
void
roster_rename(struct member *m, const char *nick)
{
	nick_link(m, false);
	(void)snprintf(m->c.nick, sizeof(m->c.nick), "%s", nick);
	nick_link(m, true);
}

/* A client of any server with this nick (any case) but but, or NULL. */
struct member *
roster_nick(const char *nick, const struct member *but)
{
	struct member *m;

	for (m = *nick_bucket(nick); m != NULL; m = m->nnext)
		if (m != but && strcasecmp(m->c.nick, nick) == 0)
			return m;
	return NULL;
}

/*
 * The client a TARGET names: "#N" (here), "#N@SERVER", "NICK@SERVER"
 * or "NICK"; NULL if none.  guestN alone means this server's.
 */
struct member *
roster_target(const char *target)
{
	char what[PROTO_TARGET_MAX + 1];
	const char *at = strchr(target, '@');
	unsigned long long id;
	struct peer *p = self;
	struct member *m;

	if (strlen(target) > PROTO_TARGET_MAX)
		return NULL;
	(void)snprintf(what, sizeof(what), "%s", target);
	if (at != NULL) {
		what[at - target] = '\0';
		if ((p = roster_peer(at + 1)) == NULL)
			return NULL;
	}
	if (what[0] == '#') {
		if (num_whole(what + 1, &id) == -1 || id > UINT32_MAX)
			return NULL;
		return roster_find(p, (uint32_t)id);
	}
	if (at == NULL && !nick_reserved(what))
		return roster_nick(what, NULL);
	TAILQ_FOREACH(m, &p->members, entry)
		if (strcasecmp(m->c.nick, what) == 0)
			return m;
	return NULL;
}

/* How everyone sees nick of server srv: guestN@SERVER, or the nick. */
const char *
roster_display(const char *nick, const char *srv, char *buf, size_t size)
{
	if (nick_reserved(nick))
		(void)snprintf(buf, size, "%s@%s", nick, srv);
	else
		(void)snprintf(buf, size, "%s", nick);
	return buf;
}

/* How everyone sees a member. */
const char *
roster_name(const struct member *m, char *buf, size_t size)
{
	return roster_display(m->c.nick, m->peer->name, buf, size);
}

/* Servers alive (this one too), and in *clients all their clients. */
unsigned
roster_count(unsigned *clients)
{
	struct peer *p;
	unsigned n = 0;

	*clients = 0;
	TAILQ_FOREACH(p, &peers, entry) {
		if (!p->alive)
			continue;
		n++;
		*clients += p->nmembers;
	}
	return n;
}

/* Forget every server and client (the end, or a test's fresh start). */
void
roster_clear(void)
{
	struct member *m, *mnext;
	struct peer *p, *pnext;

	for (p = TAILQ_FIRST(&peers); p != NULL; p = pnext) {
		pnext = TAILQ_NEXT(p, entry);
		for (m = TAILQ_FIRST(&p->members); m != NULL; m = mnext) {
			mnext = TAILQ_NEXT(m, entry);
			free(m);
		}
		free(p);
	}
	TAILQ_INIT(&peers);
	memset(hash, 0, sizeof(hash));
	memset(nicks, 0, sizeof(nicks));
	self = restoring = NULL;
}

/* The whole roster, for the binary that takes over. */
int
roster_save(struct snap *s)
{
	const struct member *m;
	const struct peer *p;

	TAILQ_FOREACH(p, &peers, entry) {
		snap_begin(s, SNAP_CL_PEER);
		snap_str(s, p->name);
		snap_u64(s, p->inc);
		snap_u64(s, p->seq);
		snap_u64(s, (uint64_t)p->heard_ms);
		snap_u32(s, (uint32_t)p->alive | (uint32_t)p->gone_sent << 1 |
		    (uint32_t)p->collecting << 2);
		snap_end(s);
		TAILQ_FOREACH(m, &p->members, entry) {
			snap_begin(s, SNAP_CL_MEMBER);
			clsnap_client_put(s, &m->c);
			snap_u64(s, (uint64_t)m->active_ms);
			snap_u32(s, m->seen);
			snap_end(s);
		}
	}
	return s->failed ? -1 : 0;
}

/*
 * SNAP_CL_PEER: this server first (roster_init() made it), then each
 * other one once.
 */
static int
roster_restore_peer(struct msg *m)
{
	char name[CLMSG_NAME_MAX + 1];
	uint64_t inc, seq, heard;
	uint32_t flags;
	struct peer *p;

	if (msg_str(m, name, sizeof(name)) == -1 || msg_u64(m, &inc) == -1 ||
	    msg_u64(m, &seq) == -1 || msg_u64(m, &heard) == -1 ||
	    msg_u32(m, &flags) == -1 || msg_end(m) == -1 || flags > 7 ||
	    self == NULL)
		return -1;
	p = roster_peer(name);
	if (restoring == NULL ? p != self || inc != self->inc : p != NULL)
		return -1;
	if (p == NULL)
		p = roster_peer_add(name, inc);
	p->seq = seq;
	p->heard_ms = (int64_t)heard;
	p->alive = (flags & 1) != 0;
	p->gone_sent = (flags & 2) != 0;
	p->collecting = (flags & 4) != 0;
	restoring = p;
	return 0;
}

/* SNAP_CL_MEMBER: a client of the peer read last. */
static int
roster_restore_member(struct msg *m)
{
	struct clmsg_client c;
	struct member *mb;
	uint64_t active;
	uint32_t seen;

	if (clsnap_client_get(m, &c) == -1 || msg_u64(m, &active) == -1 ||
	    msg_u32(m, &seen) == -1 || msg_end(m) == -1 ||
	    restoring == NULL || roster_find(restoring, c.id) != NULL)
		return -1;
	mb = roster_add(restoring, &c);
	mb->active_ms = (int64_t)active;
	mb->seen = seen != 0;
	return 0;
}

/* A record of roster_save()'s; -1 if it does not read or is out of place. */
int
roster_restore(uint32_t type, struct msg *m)
{
	if (type == SNAP_CL_PEER)
		return roster_restore_peer(m);
	if (type == SNAP_CL_MEMBER)
		return roster_restore_member(m);
	return -1;
}
