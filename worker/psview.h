/*
 * psview.h - "/ps" as the client sees it: the master's table of who is
 * who, the processes in /proc, drawn as a tree.
 */
#ifndef FORKCHAT_PSVIEW_H
#define FORKCHAT_PSVIEW_H

#include <stdint.h>

#include "msg.h"
#include "out.h"

int	 psview_add(struct msg *);
int	 psview_draw(struct out *, struct msg *);

#endif
