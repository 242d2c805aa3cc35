/*
 * roster.h - the cluster as this server knows it from the stream: each
 * server (peer) and its clients (members), this server included.
 *
 * Every server builds the same roster from the same entries in the same
 * order (apply.c), which is what makes a nick claim come out the same
 * everywhere.  A peer stays known after it has gone, for its incarnation
 * and the number of its last entry (what tells a repeated entry).
 */
#ifndef FORKCHAT_ROSTER_H
#define FORKCHAT_ROSTER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include "clmsg.h"
#include "msg.h"
#include "snap.h"

#define ROSTER_DISPLAY_MAX	(PROTO_NICK_MAX + 1 + CLMSG_NAME_MAX + 1)

struct peer;

/* A client of some server. */
struct member {
	TAILQ_ENTRY(member) entry;	/* on its peer's list */
	struct member *hnext;		/* hash chain by (peer, id) */
	struct member *nnext;		/* hash chain by nick */
	struct peer *peer;
	struct clmsg_client c;		/* id, nick, peer address, ... */
	int64_t	 active_ms;		/* last line seen (monotonic) */
	bool	 seen;			/* in the hello being read */
};

TAILQ_HEAD(memberq, member);

/* A server of the cluster. */
struct peer {
	TAILQ_ENTRY(peer) entry;
	char	 name[CLMSG_NAME_MAX + 1];
	uint64_t inc;			/* its incarnation */
	uint64_t seq;			/* its entries applied, up to this */
	int64_t	 heard_ms;		/* its last entry (monotonic) */
	bool	 alive;			/* neither gone nor said bye */
	bool	 gone_sent;		/* we declared it gone; not yet read */
	bool	 collecting;		/* reading the parts of its hello */
	unsigned nmembers;
	struct memberq members;
};

TAILQ_HEAD(peerq, peer);

struct peer *roster_init(const char *, uint64_t);
struct peer *roster_self(void);
struct peerq *roster_peers(void);
struct peer *roster_peer(const char *);
struct peer *roster_peer_add(const char *, uint64_t);
struct member *roster_find(const struct peer *, uint32_t);
struct member *roster_add(struct peer *, const struct clmsg_client *);
void	 roster_remove(struct member *);
void	 roster_rename(struct member *, const char *);
struct member *roster_nick(const char *, const struct member *);
struct member *roster_target(const char *);
const char *roster_display(const char *, const char *, char *, size_t);
const char *roster_name(const struct member *, char *, size_t);
unsigned roster_count(unsigned *);
void	 roster_clear(void);
int	 roster_save(struct snap *);
int	 roster_restore(uint32_t, struct msg *);

#endif
