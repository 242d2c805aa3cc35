/*
 * apply.h - what an entry of the cluster's stream does here: the roster
 * changes, and this server's clients are told, in stream order.
 */
#ifndef FORKCHAT_APPLY_H
#define FORKCHAT_APPLY_H

#include "clmsg.h"

/* What applying an entry asks of the stream (apply_entry's bits). */
#define APPLY_DONE	0x1	/* it was new, and applied */
#define APPLY_HELLO	0x2	/* announce our clients: asked to, or we
				 * were declared gone */

int	 apply_entry(const struct clmsg *);

#endif
