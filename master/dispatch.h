/*
 * dispatch.h - what workers tell the master: reading their channels and
 * routing each frame to its handler by one table.
 */
#ifndef FORKCHAT_DISPATCH_H
#define FORKCHAT_DISPATCH_H

#include "spawn.h"

void	 dispatch_event(struct child *);
void	 dispatch_drain(struct child *);

#endif
