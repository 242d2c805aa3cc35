/*
 * child.h - the child table: every worker the master has, by state and
 * by pid.
 *
 * A child is on exactly one list, by state.  Its fields come in groups:
 * the process (spawn.c), what it runs, its channel and place in the
 * fan-out (fan.c, dispatch.c), its client (chat.c, admin.c) and that
 * client's /pipe job (admin.c).
 */
#ifndef FORKCHAT_CHILD_H
#define FORKCHAT_CHILD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include "bucket.h"
#include "config.h"
#include "msg.h"
#include "proto.h"
#include "state.h"

/*
 * A worker's channel queue may pass max_output_queue by this much before
 * the worker counts as stuck: room for a busy machine to deschedule a
 * healthy worker for a while under a flood, not for a hung one.
 */
#define CHAN_HEADROOM	((size_t)4 * 1024 * 1024)

enum child_state {
	CHILD_STARTING,		/* asked the forker for it; no pid yet */
	CHILD_SPARE,		/* forked ahead of time, no client yet */
	CHILD_CLIENT,		/* serving a joined client */
	CHILD_LEAVING,		/* its client is gone; waiting to reap it */
	CHILD_DEAD		/* reaped; freed at the end of this turn */
};

struct child {
	struct src src;			/* first: events point here */
	TAILQ_ENTRY(child) entry;	/* on its state's list */
	enum child_state state;
	pid_t	 pid;			/* 0 while CHILD_STARTING */
	struct {			/* the process: spawn.c */
		bool	 killed;	/* we sent SIGKILL */
		char	 why[64];	/* why we killed it, told when reaped */
		int64_t	 born_ms;
		uint64_t failures;	/* spawn's failures when asked for */
		struct child *hnext;	/* pid hash chain */
		struct child *gnext;	/* on the reaped-this-turn list */
	} proc;
	struct {			/* what it runs: dispatch.c */
		uint32_t proto;		/* channel protocol (MSG_HELLO) */
		char	 version[32];	/* forkchatd's, "" until it says */
	} bin;
	struct {			/* its channel: fan.c, dispatch.c */
		int	 fd;		/* -1 once closed */
		struct msgq out;
		struct msgin in;
		bool	 broken;	/* a write failed: read what is left */
		bool	 dirty;		/* output queued, flush this turn */
		bool	 want_write;	/* EV_WRITE is being watched */
		struct child *dnext;	/* on the dirty list */
		size_t	 fan_at;	/* where its part of the fan-out */
		uint64_t fan_gen;	/* starts, in fan-out fan_gen */
	} chan;
	struct {			/* its client: chat.c, admin.c */
		uint32_t id;		/* 0 for a spare */
		char	 nick[PROTO_NICK_MAX + 1];
		char	 peer[PROTO_PEER_MAX];
		bool	 oper;		/* may /kick and /timeout */
		unsigned read_timeout;	/* seconds, 0 = none */
		int64_t	 since_ms;	/* joined */
		int64_t	 active_ms;	/* last sent a line */
		struct bucket ps;	/* its budget for /ps */
	} client;
	struct {			/* its client's /pipe job: admin.c */
		pid_t	 pid;		/* 0: none */
		char	 name[CONFIG_NAME_MAX + 1];
		int64_t	 since_ms;
	} job;
};

TAILQ_HEAD(childq, child);

/* Every child, by state, and how many of each. */
struct children {
	struct childq starting, spares, clients, leaving;
	unsigned nstarting, nspares, nclients, nleaving;
	unsigned nchildren;		/* on any list */
};

extern struct children children;

/* A pipe job whose worker died: reparented to us, the subreaper. */
struct orphan {
	struct orphan *next;
	pid_t	 pid;
	uint32_t id;			/* its client */
	char	 name[CONFIG_NAME_MAX + 1];
	int64_t	 since_ms;
};

void	 child_init(void);
struct child *child_new(int);
void	 child_hash(struct child *);
void	 child_unhash(struct child *);
struct child *child_find(pid_t);
void	 child_set_state(struct child *, enum child_state);
void	 child_close_channel(struct child *);
void	 child_want_write(struct child *, bool);
void	 child_discard(struct child *);
void	 child_collect(void);
bool	 child_dead_pending(void);
void	 child_adopt(struct child *);
const struct orphan *child_orphans(void);
bool	 child_reap_orphan(pid_t, int);

struct snap;
int	 child_save(struct snap *);
void	 child_inherit(bool);
int	 child_restore(uint32_t, struct msg *);

#endif
