/*
 * ps.h - "/ps": the server's process tree as the kernel sees it.
 */
#ifndef FORKCHAT_PS_H
#define FORKCHAT_PS_H

#include "msg.h"
#include "spawn.h"

int	 ps_list(struct child *, struct msg *);

#endif
