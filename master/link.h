/*
 * link.h - the cluster's link to Redis: two connections driven by the
 * master's event loop, their handshake, and reconnecting with backoff.
 *
 * LINK_CMD carries every command that is answered at once (XADD and
 * the like), LINK_READ only XREAD BLOCK, which holds its connection
 * until entries come.  Replies come back in the order the commands
 * went out on a connection: after appending one command to link_out(),
 * link_expect() names the function its reply goes to.  A reply that
 * does not come within the link's timeout (plus what the command may
 * block for) takes the link down, as does a connection that breaks.
 * The link tells the module above through the hooks given to
 * link_init(): up when both connections are ready, down (with why)
 * when they were lost; nothing that was waiting for a reply then hears
 * of it.  Down, the link connects again on a deadline, with backoff.
 */
#ifndef FORKCHAT_LINK_H
#define FORKCHAT_LINK_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "msg.h"
#include "resp.h"
#include "snap.h"
#include "state.h"

enum link_conn {
	LINK_CMD,		/* answered at once */
	LINK_READ,		/* XREAD BLOCK */
	LINK_NCONN
};

enum link_state {
	LINK_OFF,		/* no cluster, or closed for good */
	LINK_WAITING,		/* down: connect again at the retry time */
	LINK_CONNECTING,	/* connecting, or saying AUTH and PING */
	LINK_UP
};

/* What the link tells the module above. */
struct link_hooks {
	void	(*up)(void);
	void	(*down)(const char *);
};

/* The function a reply goes to, with the argument given with it. */
typedef void link_reply(const struct resp_value *, uintptr_t);

void	 link_init(const struct link_hooks *);
int	 link_open(const char *, const char *, unsigned);
void	 link_set(const char *, unsigned);
struct buf *link_out(enum link_conn);
void	 link_expect(enum link_conn, link_reply *, uintptr_t, unsigned);
void	 link_drop(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 link_event(struct src *, int);
int64_t	 link_deadline(void);
void	 link_tick(int64_t);
void	 link_flush(void);
void	 link_close(void);
enum link_state link_state(void);
const char *link_address(void);
const char *link_why(void);
uint64_t link_ups(void);
int	 link_save(struct snap *);
int	 link_restore(struct msg *);
int	 link_reopen(const char *, unsigned);

#endif
