/*
 * master.h - what the master's modules share: the child table, the
 * server state, and the calls each module offers the others.
 *
 *   main.c    options, configuration, set-up, the event loop, shutdown
 *   spawn.c   starting workers, the child table, reaping
 *   forker.c  the forker, the small process that forks workers for us
 *   relay.c   messages from workers; broadcasts in one global order
 *   accept.c  listeners, accepting, handing a client to a spare
 *   admin.c   operators, /kick, /timeout, /stats, pipe job records
 *   ps.c      /ps: the process tree, from /proc
 *   conf.c    building the configuration; SIGHUP reload; the password
 *   limits.c  descriptors and processes enough for max_clients
 *   service.c the service manager (sd_notify, LISTEN_FDS), the user
 */
#ifndef FORKCHAT_MASTER_H
#define FORKCHAT_MASTER_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include "config.h"
#include "msg.h"
#include "proto.h"
#include "sock.h"

/* What an event's pointer leads to; the first member of its owner. */
enum src_kind {
	SRC_SIGNAL,
	SRC_LISTENER,
	SRC_CHILD,
	SRC_FORKER
};

struct src {
	enum src_kind kind;
};

enum child_state {
	CHILD_STARTING,		/* asked the forker for it; no pid yet */
	CHILD_SPARE,		/* forked ahead of time, no client yet */
	CHILD_CLIENT,		/* serving a joined client */
	CHILD_LEAVING,		/* its client is gone; waiting to reap it */
	CHILD_DEAD		/* reaped; freed at the end of this turn */
};

struct child {
	struct src src;			/* first: events point here */
	TAILQ_ENTRY(child) entry;	/* on spares, clients or leaving */
	struct child *hnext;		/* pid hash chain */
	struct child *dnext;		/* on the dirty list */
	struct child *gnext;		/* on the reaped-this-turn list */
	pid_t	 pid;			/* 0 while CHILD_STARTING */
	int	 fd;			/* channel; -1 once closed */
	enum child_state state;
	bool	 dirty;			/* output queued, flush this turn */
	bool	 want_write;		/* EV_WRITE is being watched */
	bool	 killed;		/* we sent SIGKILL */
	bool	 oper;			/* may /kick and /timeout */
	const char *why;		/* why we killed it, told at reaping */
	uint32_t id;			/* client id, 0 for a spare */
	char	 nick[PROTO_NICK_MAX + 1];
	char	 peer[PROTO_PEER_MAX];
	int64_t	 born_ms;		/* forked */
	int64_t	 since_ms;		/* client joined */
	int64_t	 active_ms;		/* client last sent a line */
	unsigned read_timeout;
	pid_t	 job_pid;		/* its client's /pipe job, or 0 */
	char	 job_name[CONFIG_NAME_MAX + 1];
	int64_t	 job_ms;
	struct msgq out;
	struct msgin in;
	size_t	 fan_at;		/* relay.c: where its part of fan */
	uint64_t fan_gen;		/* starts, in fan-out fan_gen */
};

TAILQ_HEAD(childq, child);

struct listener {
	struct src src;
	int	 fd;
	bool	 paused;
	char	 name[SOCK_ADDR_MAX];
};

enum phase {
	PHASE_RUNNING,
	PHASE_DRAINING,		/* goodbyes sent; waiting out the grace */
	PHASE_KILLING		/* SIGKILL sent; waiting to reap */
};

struct stats {
	uint64_t clients_total;
	unsigned clients_peak;
	uint64_t broadcasts;
	uint64_t forked;
	uint64_t reaped;
	uint64_t crashed;
	uint64_t killed;
	uint64_t rejected;
	uint64_t kicks;
	uint64_t timeouts;
	uint64_t pipe_jobs;
	uint64_t bytes_in;		/* chat text from clients */
	uint64_t bytes_out;		/* lines queued to clients */
};

/* A pipe job whose worker died: reparented to us, the subreaper. */
struct orphan {
	struct orphan *next;
	pid_t	 pid;
	uint32_t id;			/* its client */
	char	 name[CONFIG_NAME_MAX + 1];
	int64_t	 since_ms;
};

#define PASSWORD_MAX	128
#define ACCEPT_WAIT_MAX	256		/* clients accepted ahead of their spares */
/*
 * A worker's channel queue may pass max_output_queue by this much before
 * the worker counts as stuck: room for a busy machine to deschedule a
 * healthy worker for a while under a flood, not for a hung one.
 */
#define CHAN_HEADROOM	((size_t)4 * 1024 * 1024)

struct master {
	struct config cfg;
	const char *config_path;
	char	**overrides;		/* -o key=value, kept for reload */
	int	 noverrides;
	char	**cli_listen;		/* -l, kept for reload */
	int	 ncli_listen;
	char	 password[PASSWORD_MAX + 2];	/* "": none needed; +2: see conf.c */
	bool	 password_random;
	int	 ep;			/* epoll */
	struct src sigsrc;
	struct listener listeners[CONFIG_MAX_LISTEN];
	int	 nlisteners;
	enum phase phase;
	int64_t	 grace_deadline;	/* PHASE_DRAINING ends */
	int64_t	 spawn_retry;		/* fork failed; try again then */
	int64_t	 accept_resume;		/* out of descriptors; resume then */
	int64_t	 started_ms;
	uint32_t last_id;
	uint64_t seq;			/* broadcasts so far: their order */
	bool	 ready;		/* the first spares are up; told so */
	unsigned nstarting, nspares, nclients, nchildren, norphans;
	unsigned nwaiting;		/* accepted clients waiting for a spare */
	struct orphan *orphans;
	struct childq starting, spares, clients, leaving;
	struct stats stats;
};

extern struct master M;

/* spawn.c */
void	 spawn_init(void);
struct child *spawn_worker(void);
struct child *spawn_take_spare(void);
void	 spawn_refill(int64_t);
void	 spawn_reap(void);
void	 spawn_kill(struct child *, const char *);
void	 spawn_kill_all(void);
void	 spawn_signal_all(void);
void	 spawn_collect(void);
void	 spawn_forker_ready(void);
const char *exit_text(int, char *, size_t);
void	 child_close_channel(struct child *);
void	 child_set_state(struct child *, enum child_state);

void	 spawn_adopt(struct child *);
const struct orphan *spawn_orphans(void);
struct child *spawn_find(pid_t);

/* forker.c */
int	 forker_start(void);
int	 forker_request(int);
int	 forker_reply(int32_t *);
void	 forker_lost(void);
void	 forker_stop(void);
void	 forker_kill(void);
pid_t	 forker_pid(void);
bool	 forker_ready(void);
bool	 forker_running(void);
void	 forker_reaped(int);

/* relay.c */
void	 relay_dispatch(struct child *);
void	 relay_drain(struct child *);
int	 relay_to(struct child *, const char *, size_t);
void	 relay_notice_all(struct child *, const char *, ...)
	     __attribute__((format(printf, 2, 3)));
void	 relay_control(struct child *, enum msg_type);
int	 relay_send(struct child *, enum msg_type, const struct iovec *, int);
void	 relay_flush_dirty(void);
int64_t	 relay_deadline(void);
void	 relay_flush(struct child *);
void	 relay_leave(struct child *, const char *);
void	 relay_left(struct child *, const char *);
void	 relay_join(struct child *);
void	 relay_notice(struct child *, const char *, ...)
	     __attribute__((format(printf, 2, 3)));
struct child *relay_find(const char *);
void	 relay_config(const struct buf *);

/* admin.c */
int	 admin_oper(struct child *, struct msg *);
int	 admin_kick(struct child *, struct msg *);
int	 admin_timeout(struct child *, struct msg *);
void	 admin_stats(struct child *);
int	 admin_job(struct child *, struct msg *);

/* ps.c */
void	 ps_list(struct child *);

/* limits.c */
int	 limits_check(const struct config *, char *, size_t);

/* conf.c */
int	 conf_build(struct config *, char *, size_t);
int	 conf_password(const struct config *, char *, size_t, char *,
	     size_t);
void	 conf_reload(void);

/* service.c */
void	 service_init(void);
int	 service_sockets(int *, int);
void	 service_ready(void);
void	 service_reloading(void);
void	 service_reloaded(const char *);
void	 service_stopping(void);
int64_t	 service_deadline(void);
void	 service_tick(int64_t);
int	 service_check_account(const struct config *, char *, size_t);
void	 service_drop_privileges(const struct config *);

/* accept.c */
int	 accept_open(void);
void	 accept_close(void);
void	 accept_ready(struct listener *);
void	 accept_resume_all(int64_t);
int	 accept_reserve_open(void);

#endif
