/*
 * state.h - what the master as a whole is doing, below every module:
 * its phase of life, the counters /stats shows, the ids and order it
 * hands out, and the epoll set every module registers its descriptors
 * in.  Plain data, set up by main.c; each field says who writes it.
 */
#ifndef FORKCHAT_STATE_H
#define FORKCHAT_STATE_H

#include <stdint.h>

/* What an event's pointer leads to; the first member of its owner. */
enum src_kind {
	SRC_SIGNAL,		/* the self-pipe (main.c) */
	SRC_LISTENER,		/* a listening socket (accept.c) */
	SRC_CHILD,		/* a worker's channel (spawn.c) */
	SRC_FORKER,		/* the forker's socket (forker.c) */
	SRC_UPGRADE,		/* a live upgrade's check (upgrade.c) */
	SRC_CLUSTER		/* a connection to Redis (link.c) */
};

struct src {
	enum src_kind kind;
};

enum phase {
	PHASE_RUNNING,
	PHASE_DRAINING,		/* goodbyes sent; waiting out the grace */
	PHASE_KILLING		/* SIGKILL sent; waiting to reap */
};

struct stats {
	uint64_t clients_total;		/* accept.c */
	unsigned clients_peak;		/* accept.c */
	uint64_t rejected;		/* accept.c */
	uint64_t broadcasts;		/* chat.c */
	uint64_t bytes_in;		/* chat.c: chat text from clients */
	uint64_t bytes_out;		/* fan.c: lines queued to clients */
	uint64_t kicks;			/* admin.c */
	uint64_t timeouts;		/* chat.c */
	uint64_t pipe_jobs;		/* admin.c */
	uint64_t forked;		/* spawn.c */
	uint64_t reaped;		/* spawn.c */
	uint64_t crashed;		/* spawn.c */
	uint64_t killed;		/* spawn.c */
};

struct server {
	enum phase phase;		/* main.c */
	int	 ep;			/* main.c: the epoll set */
	int64_t	 started_ms;		/* main.c */
	uint32_t last_id;		/* accept.c: client ids handed out */
	uint64_t seq;			/* fan.c: broadcasts so far, in order */
	struct stats stats;
};

extern struct server server;

/*
 * A live upgrade hands the master's state to the new binary as a
 * snapshot (common/snap.h) of these records, each module writing and
 * reading its own (upgrade.c has the order).  SNAP_VERSION is the
 * layout; a master reads its own version only.  Build with
 * -DSNAP_VERSION=N to test a refusal.
 */
#ifndef SNAP_VERSION
#define SNAP_VERSION	1
#endif

enum snap_rec {
	SNAP_UPGRADE = 1,	/* upgrade.c: who hands over, and why */
	SNAP_SERVER,		/* state.c: counters, ids, order */
	SNAP_PASSWORD,		/* conf.c: the operator password */
	SNAP_LISTENER,		/* accept.c: a listening socket */
	SNAP_WAITING,		/* accept.c: a client waiting for a spare */
	SNAP_FORKER,		/* forker.c: the forker */
	SNAP_CHILD,		/* spawn.c: a worker */
	SNAP_CHILD_OUT,		/* spawn.c: what is queued for it */
	SNAP_CHILD_IN,		/* spawn.c: what it said, not read yet */
	SNAP_ORPHAN,		/* spawn.c: a pipe job adopted */
	SNAP_GUESS,		/* oper.c: an /oper guess waiting */
	SNAP_CLUSTER,		/* cluster.c: the cluster this server is in */
	SNAP_CL_STREAM,		/* stream.c: our incarnation, entry numbers */
	SNAP_CL_READ,		/* reader.c: the last entry read */
	SNAP_CL_LINK,		/* link.c: Redis's password, the last failure */
	SNAP_CL_SYNC,		/* sync.c: the stream's epoch */
	SNAP_CL_OUT,		/* outbox.c: an entry not read back yet */
	SNAP_CL_PEER,		/* roster.c: a server of the cluster */
	SNAP_CL_MEMBER,		/* roster.c: a client of the peer before */
	SNAP_CONFIG		/* conf.c: the configuration in force */
};

struct snap;
struct msg;

int	 server_save(struct snap *);
int	 server_restore(struct msg *);

#endif
