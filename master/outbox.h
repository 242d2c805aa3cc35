/*
 * outbox.h - the entries this server wrote to the cluster's stream,
 * kept, oldest first, until it reads them back (stream.c): sent again
 * after the link to Redis comes back, carried across a live upgrade.
 */
#ifndef FORKCHAT_OUTBOX_H
#define FORKCHAT_OUTBOX_H

#include <stdint.h>

#include "clmsg.h"
#include "msg.h"
#include "snap.h"

/* An entry kept. */
struct outent {
	struct outent *next;
	struct clmsg m;
	char	*text;			/* m.text's own copy */
};

const struct clmsg *outbox_add(const struct clmsg *, unsigned);
void	 outbox_trim(uint64_t);
const struct outent *outbox_first(void);
unsigned outbox_count(void);
int	 outbox_save(struct snap *);
int	 outbox_restore(struct msg *);

#endif
