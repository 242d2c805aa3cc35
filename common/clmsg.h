/*
 * clmsg.h - the cluster's messages: entries of the Redis stream that
 * several servers share, written as XADD commands and read back from
 * XREAD replies.
 *
 * An entry is a flat list of fields.  Every entry has:
 *   v  the format's version (CLMSG_VERSION)
 *   t  its type: hello, beat, bye, gone, join, leave, say, me, nick,
 *      msg, kick, tmo
 *   s  the server that wrote it (1-16 of A-Za-z0-9_-)
 *   i  that server's incarnation (a number it picked at start)
 *   n  its number among that incarnation's entries, from 1
 * and, by type:
 *   join            c id, k nick, h peer, w worker pid, a joined (Unix
 *                   ms), o read timeout (s)
 *   leave           c id, k nick, r why
 *   say, me         c id, k nick, x text
 *   nick            c id, k the nick claimed
 *   msg             c id, k nick, ts server, tc id, x text
 *   kick            c id, k nick, ts server, tc id, r reason
 *   tmo             c id, k nick, ts server, tc id, o seconds
 *   hello           ask 0|1, first 0|1, last 0|1, m members: one line
 *                   per client, "id nick joined timeout pid peer\n"
 *   gone            g server, gi its incarnation
 *   beat, bye       nothing more
 * A field this version does not know is ignored; a field it needs that
 * is missing or malformed makes the entry malformed (EPROTO); another
 * version or type is ENOTSUP.  Strings in a decoded clmsg point into
 * the reply it came from.
 *
 * Every call that can fail returns -1 with errno set.
 */
#ifndef FORKCHAT_CLMSG_H
#define FORKCHAT_CLMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "proto.h"
#include "redis.h"
#include "resp.h"

#define CLMSG_VERSION	 1
#define CLMSG_NAME_MAX	 PROTO_NICK_MAX		/* server names, like nicks */
#define CLMSG_TEXT_MAX	 ((size_t)128 * 1024)	/* a line, a reason */
#define CLMSG_MEMBERS_MAX ((size_t)512 * 1024)	/* a hello's members */

enum clmsg_type {
	CL_NONE = 0,
	CL_HELLO,		/* here are my clients (in parts) */
	CL_BEAT,		/* I am alive */
	CL_BYE,			/* I am stopping: my clients are gone */
	CL_GONE,		/* that server has been silent too long */
	CL_JOIN,		/* a client joined */
	CL_LEAVE,		/* a client left */
	CL_SAY,			/* a chat line */
	CL_ME,			/* an action */
	CL_NICK,		/* a client claims a nick */
	CL_MSG,			/* a private message to a client */
	CL_KICK,		/* a client kicks another */
	CL_TIMEOUT,		/* a client sets another's read timeout */
	CL_TYPE_MAX
};

/* A client as a join or a hello describes it. */
struct clmsg_client {
	uint32_t id;
	char	 nick[PROTO_NICK_MAX + 1];
	char	 peer[PROTO_PEER_MAX];
	int64_t	 since;			/* joined, Unix time in ms */
	uint32_t timeout;		/* read timeout, s; 0 none */
	uint32_t pid;			/* its worker */
};

struct clmsg {
	enum clmsg_type type;
	char	 server[CLMSG_NAME_MAX + 1];	/* who wrote it */
	uint64_t inc;			/* its incarnation */
	uint64_t seq;			/* its number, from 1 */
	uint32_t id;			/* the client it is from */
	char	 nick[PROTO_NICK_MAX + 1];	/* its nick, or the one claimed */
	char	 to[CLMSG_NAME_MAX + 1];	/* msg, kick, tmo: the target's */
	uint32_t to_id;			/* server and client id */
	uint32_t secs;			/* tmo */
	const char *text;		/* say, me, msg: text; leave, kick: */
	size_t	 len;			/* why; hello: members */
	struct clmsg_client client;	/* join */
	bool	 ask, first, last;	/* hello */
	char	 gone[CLMSG_NAME_MAX + 1];	/* gone: that server */
	uint64_t gone_inc;		/* and its incarnation */
};

const char *clmsg_type_name(enum clmsg_type);
bool	clmsg_name_valid(const char *);
int	clmsg_xadd(struct buf *, const char *, unsigned long,
	    const struct clmsg *);
int	clmsg_decode(const struct resp_value *, struct clmsg *);
int	clmsg_entries(const struct resp_value *, const char *,
	    const struct resp_value **, size_t *);
int	clmsg_entry(const struct resp_value *, struct redis_id *,
	    const struct resp_value **);
int	clmsg_member_put(struct buf *, const struct clmsg_client *);
int	clmsg_member_next(const char **, size_t *, struct clmsg_client *);

#endif
