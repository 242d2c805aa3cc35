/*
 * client.h - the worker's one client: its socket, what it types, what
 * it is told.
 *
 * worker.c owns a struct client and drives it: client_start() when the
 * master hands the client over, the client_* calls below for what the
 * master then sends, and in its poll loop client_pollfd(), client_read(),
 * client_parse(), client_write(), client_deadline() and client_tick().
 * client_gone() says when the client is closed and only the exit is
 * left to the worker.
 *
 * A client that leaves by itself (/quit, or closing its side of the
 * connection) is answered first: everything it sent before is, the
 * master's answers until its MSG_DONE and a /pipe job's output until
 * the job ends, then "*** goodbye", then the socket is closed.  Times
 * are os_now_ms() milliseconds; a deadline of 0 means none.
 *
 * The flood bucket, the read timeout and the /oper pacing are pure
 * functions too (client_flood_*, client_timeout_due, client_oper_delay),
 * so that their arithmetic is tested on its own.
 */
#ifndef FORKCHAT_CLIENT_H
#define FORKCHAT_CLIENT_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "line.h"
#include "out.h"

enum client_state {
	CLIENT_NONE,		/* no client yet: the worker is a spare */
	CLIENT_ACTIVE,		/* serving it */
	CLIENT_ANSWERING,	/* it left: answers to what it sent still come */
	CLIENT_CLOSING		/* flushing a last line, then exit */
};

/* The flood bucket: a line costs 1000, rate refills it per ms. */
struct flood {
	int64_t	 tokens;		/* in thousandths of a line */
	int64_t	 at;			/* when it was last refilled */
};

struct client {
	const struct config *cfg;	/* the settings in force */
	struct out *out;		/* what it is told goes here */
	enum client_state state;
	int	 fd;			/* its socket, -1 if none */
	struct line_reader lr;
	char	 in[4096];		/* read from it, not parsed yet */
	size_t	 inoff, inlen;
	unsigned read_timeout;		/* seconds, 0 = none */
	int64_t	 last_line;		/* it last sent a line */
	struct flood flood;
	int64_t	 close_by;		/* CLIENT_CLOSING gives up then */
	int64_t	 answer_by;		/* CLIENT_ANSWERING: the master's */
	bool	 master_done;		/* MSG_DONE: the master said all */
	int64_t	 hold_until;		/* wrong passwords: read nothing till */
	unsigned oper_failures;
	bool	 oper_pending;		/* /oper sent: read nothing till */
	bool	 flood_told;		/* told it is slowed, this burst */
	bool	 pipe_warned;		/* a /pipe failure logged at warning */
};

void	client_init(struct client *, const struct config *, struct out *);
void	client_start(struct client *, int, uint32_t, unsigned, const char *,
	    int64_t);
void	client_relay(struct client *, const char *, size_t);
void	client_kicked(struct client *, const char *, size_t);
void	client_shutdown(struct client *);
void	client_oper_result(struct client *, bool, int64_t);
void	client_set_timeout(struct client *, unsigned, int64_t);
void	client_reconfigure(struct client *, const struct config *, int64_t);
void	client_orphaned(struct client *);
void	client_master_done(struct client *);

void	client_refill(struct client *, int64_t);
void	client_pollfd(const struct client *, struct pollfd *, int64_t);
void	client_read(struct client *, short, int64_t);
void	client_parse(struct client *, int64_t);
void	client_check_queue(struct client *);
void	client_write(struct client *);
int64_t	client_deadline(const struct client *, int64_t);
void	client_tick(struct client *, int64_t);
bool	client_gone(const struct client *);
bool	client_overdue(const struct client *, int64_t);

int64_t	client_flood_refill(int64_t, int64_t, unsigned, unsigned);
int64_t	client_flood_due(int64_t, unsigned, int64_t);
int64_t	client_timeout_due(unsigned, int64_t);
int64_t	client_oper_delay(unsigned);

#endif
