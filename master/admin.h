/*
 * admin.h - what needs rights or reports on the server: /kick,
 * /timeout, /stats, and the records of /pipe jobs.  The handlers take a
 * frame from dispatch.c and return -1 if its payload breaks the protocol.
 */
#ifndef FORKCHAT_ADMIN_H
#define FORKCHAT_ADMIN_H

#include "msg.h"
#include "spawn.h"

int	 admin_kick(struct child *, struct msg *);
int	 admin_timeout(struct child *, struct msg *);
int	 admin_stats(struct child *, struct msg *);
int	 admin_job(struct child *, struct msg *);

#endif
