/*
 * oper.h - /oper: operator passwords, checked at a bounded rate.
 */
#ifndef FORKCHAT_OPER_H
#define FORKCHAT_OPER_H

#include <stdint.h>

#include "msg.h"
#include "spawn.h"

int	 oper_request(struct child *, struct msg *);
int64_t	 oper_deadline(void);
void	 oper_tick(int64_t);
void	 oper_flush_log(void);

struct snap;
int	 oper_save(struct snap *);
int	 oper_restore(struct msg *);

#endif
