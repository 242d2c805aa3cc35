/*
 * clsnap.c - the cluster's messages and clients in a snapshot (see
 * clsnap.h).  A snapshot goes from one binary to the next in the same
 * process, so the fields are those of the structs, in one fixed order;
 * only sizes are checked on the way back (what was kept had been checked
 * when it was made).
 *
 * Public: clsnap_client_put, clsnap_client_get, clsnap_msg_put,
 * clsnap_msg_get.
 */
#include <errno.h>
#include <string.h>

#include "clsnap.h"

/* A client's fields. */
void
clsnap_client_put(struct snap *s, const struct clmsg_client *c)
{
	snap_u32(s, c->id);
	snap_str(s, c->nick);
	snap_str(s, c->peer);
	snap_u64(s, (uint64_t)c->since);
	snap_u32(s, c->timeout);
	snap_u32(s, c->pid);
}

/* A client's fields back; -1 if they do not read. */
int
clsnap_client_get(struct msg *m, struct clmsg_client *c)
{
	uint64_t since;

	memset(c, 0, sizeof(*c));
	if (msg_u32(m, &c->id) == -1 ||
	    msg_str(m, c->nick, sizeof(c->nick)) == -1 ||
	    msg_str(m, c->peer, sizeof(c->peer)) == -1 ||
	    msg_u64(m, &since) == -1 || msg_u32(m, &c->timeout) == -1 ||
	    msg_u32(m, &c->pid) == -1)
		return -1;
	c->since = (int64_t)since;
	return 0;
}

/* An entry's fields, its text last: nothing may follow in the record. */
void
clsnap_msg_put(struct snap *s, const struct clmsg *m)
{
	snap_u32(s, (uint32_t)m->type);
	snap_str(s, m->server);
	snap_u64(s, m->inc);
	snap_u64(s, m->seq);
	snap_u32(s, m->id);
	snap_str(s, m->nick);
	snap_str(s, m->to);
	snap_u32(s, m->to_id);
	snap_u32(s, m->secs);
	clsnap_client_put(s, &m->client);
	snap_u32(s, (uint32_t)m->ask | (uint32_t)m->first << 1 |
	    (uint32_t)m->last << 2);
	snap_str(s, m->gone);
	snap_u64(s, m->gone_inc);
	snap_bytes(s, m->text, m->len);
}

/*
 * An entry back, its text pointing into the record; -1 (EBADMSG) if it
 * does not read, is of no type, or its text is longer than any entry's.
 */
int
clsnap_msg_get(struct msg *m, struct clmsg *c)
{
	uint32_t type, flags;

	memset(c, 0, sizeof(*c));
	if (msg_u32(m, &type) == -1 ||
	    msg_str(m, c->server, sizeof(c->server)) == -1 ||
	    msg_u64(m, &c->inc) == -1 || msg_u64(m, &c->seq) == -1 ||
	    msg_u32(m, &c->id) == -1 ||
	    msg_str(m, c->nick, sizeof(c->nick)) == -1 ||
	    msg_str(m, c->to, sizeof(c->to)) == -1 ||
	    msg_u32(m, &c->to_id) == -1 || msg_u32(m, &c->secs) == -1 ||
	    clsnap_client_get(m, &c->client) == -1 ||
	    msg_u32(m, &flags) == -1 ||
	    msg_str(m, c->gone, sizeof(c->gone)) == -1 ||
	    msg_u64(m, &c->gone_inc) == -1 ||
	    msg_rest(m, &c->text, &c->len) == -1 ||
	    type == (uint32_t)CL_NONE || type >= CL_TYPE_MAX || flags > 7 ||
	    c->len > CLMSG_MEMBERS_MAX) {
		errno = EBADMSG;
		return -1;
	}
	c->type = (enum clmsg_type)type;
	c->ask = (flags & 1) != 0;
	c->first = (flags & 2) != 0;
	c->last = (flags & 4) != 0;
	return 0;
}
