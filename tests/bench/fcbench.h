/*
 * fcbench.h - what the parts of fcbench share: the options, the clients
 * and senders, the counters of a run, and each part's calls.
 *
 *   fcbench.c  options and limits, then the mode
 *   fcmode.c   the modes (messages, connect, idle, scale): the scenarios
 *   fcloop.c   the event loop: reading lines, connecting, the barrier
 *   fcclient.c one client: its connection, the lines it reads, sending
 *   fcstat.c   latencies, the output line and summary, fatal errors
 *   fcproc.c   the server's tree and the machine, from /proc
 *
 * Each part calls only those below it in this list.
 */
#ifndef FCBENCH_H
#define FCBENCH_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "fcproc.h"

#define NS		1000000000ULL
#define RBUF_SIZE	(256 * 1024UL)	/* one read() takes this much */
#define CARRY_MAX	8192		/* longest line we keep whole */
#define WBUF_MAX	(64 * 1024UL)	/* a sender formats this much at once */
#define MAX_EVENTS	1024
#define STALL_NS	(3 * NS)	/* no progress this long: give up */
#define PIDFD_TAG	(1ULL << 32)	/* epoll data: pidfd, not a conn */
#define LOW_MEMORY_PCT	25		/* stop connecting below this */
#define SYS_LOOKS	5		/* at the machine's memory, median */
#define SYS_GAP_NS	(50 * 1000000ULL)	/* between two looks */
#define QUIET_LOOKS	5		/* MemAvailable still over 5 looks, */
#define QUIET_GAP_NS	(100 * 1000000ULL)	/* 100 ms apart, */
#define QUIET_KIB	1024		/* moving less than this: quiet */
#define QUIET_MAX_NS	(5 * NS)	/* but wait no longer than this */
#define PORTS_MAX	16		/* -p PORT,PORT,...; -A PID */

enum cstate { C_IDLE, C_CONNECTING, C_GREETING, C_READY, C_CLOSED };
enum mode { M_MSGS, M_CONNECT, M_IDLE, M_SCALE };

struct conn {
	int	 fd;
	uint8_t	 state;
	bool	 want_out;	/* EPOLLOUT armed */
	bool	 overlong;	/* carry overflowed: rest of line ignored */
	uint16_t carrylen;
	char	*carry;		/* partial line, CARRY_MAX, lazily */
	uint32_t barrier;	/* last barrier nonce seen */
	uint64_t t0;		/* connect() called */
};

struct sender {
	uint32_t next;		/* next sequence number to send */
	uint32_t acked;		/* every receiver has all seq < acked */
	uint32_t *got;		/* got[seq]: receivers that have it */
	bool	 queued;	/* on the pump list */
	char	*wbuf;		/* formatted, not yet written */
	size_t	 woff, wlen;
};

/* The command line. */
struct options {
	const char *host, *label;
	const char *dump;	/* -D: latency percentiles go there */
	int	 port, n, s, P;
	uint32_t m, b, w;
	double	 r;
	enum mode mode;
	pid_t	 spid;
	pid_t	 also[PORTS_MAX];	/* -A: more server trees (messages) */
	int	 nalso;
	pid_t	 rpid;		/* -R: a tree whose CPU is told apart */
	bool	 kill, burst;
	bool	 nobarrier;	/* -N: the server relays nothing */
	uint64_t deadline_ns, settle_ns;
};

/* What the run saw; printed at the end. */
struct stats {
	int	 started, ready, failed, closed, inflight;
	char	 fail_why[160];
	uint64_t notices, errs, other, echo, byes;
	uint64_t deliveries, dups, ooo, bad;
	uint64_t t_first_send, t_last_delivery, t_progress;
	uint32_t barrier_nonce, barrier_got;
	double	 connect_s;	/* time to connect everyone */
	bool	 partial;	/* connect deadline: fewer clients */
	bool	 low_memory;	/* stopped connecting: RAM running out */
	int	 ready0;	/* clients when the measurement began */
	uint64_t *lat;		/* latencies, ns */
	size_t	 nlat, latcap;
	uint64_t *seen;		/* bitmap [receiver][sender][seq] */
	uint32_t *rmax;		/* [receiver][sender]: highest seq + 1 */
	uint64_t *pids_gone_at;
	uint64_t t_root_gone, t_tree_gone, t_clients_closed;
	int	 pids_gone;
};

/* What a messages run measured besides the counters in st. */
struct run {
	double	 elapsed;	/* first send to last delivery, s */
	double	 cpu;		/* our CPU time, s */
	double	 srv_pct;	/* server trees' CPU, % of a core; -1: no -S */
	double	 root_pct;	/* its root's own (the master), likewise */
	double	 other_pct;	/* the -R tree's CPU, % of a core; -1: no -R */
	double	 busy_pct;	/* whole machine busy, % of all CPUs */
};

extern struct options opt;		/* fcbench.c */
extern struct stats st;			/* fcstat.c */
extern struct conn *conns;		/* fcclient.c: [opt.n] */
extern struct sender *snd;		/* fcclient.c: [opt.s], or NULL */
extern int ep;				/* fcclient.c: the epoll set */
extern struct sockaddr_in sa[PORTS_MAX];	/* fcclient.c: client i uses */
extern int nsa;				/* sa[i % nsa] */
extern int npidfds;			/* fcloop.c: processes watched */

/* fcmode.c */
int	 run_msgs(void);
int	 run_connect(void);
int	 run_idle(void);
int	 run_scale(void);

/* fcloop.c */
void	 loop_once(uint64_t);
bool	 loop_connect(int, int, uint64_t);
bool	 loop_barrier(uint64_t);
void	 loop_pid_gone(int, uint64_t);

/* fcclient.c */
void	 conn_events(int, bool);
void	 conn_start(int);
void	 conn_close(int);
void	 client_line(int, const char *, size_t, uint64_t);
void	 sender_alloc(void);
void	 sender_flush(int);
void	 sender_pump(int, uint64_t);
void	 sender_pump_due(uint64_t);
uint64_t sender_next_due(void);

/* fcstat.c */
_Noreturn void die(const char *, ...)
	    __attribute__((format(printf, 1, 2)));
void	*xcalloc(size_t, size_t);
uint64_t mono_ns(void);
double	 cpu_s(void);
void	 note_failure(const char *, ...)
	    __attribute__((format(printf, 1, 2)));
void	 lat_add(uint64_t);
void	 lat_finish(void);
double	 pct_us(double);
void	 out_head(const char *);
void	 out_fail_why(void);
void	 out_setup(double);
void	 out_msgs(const struct run *);
void	 out_kv(const char *, const char *, double);
void	 out_mem(const char *, const struct proc_mem *,
	    const struct proc_mem *);
void	 out_shutdown(int, uint64_t, int, int);

#endif
