/*
 * accept.h - listening sockets, accepting clients, handing them to
 * spare workers.
 */
#ifndef FORKCHAT_ACCEPT_H
#define FORKCHAT_ACCEPT_H

#include <stdbool.h>
#include <stdint.h>

#define ACCEPT_WAIT_MAX	256		/* clients accepted ahead of their spares */

struct listener;

int	 accept_open(void);
void	 accept_close(void);
void	 accept_ready(struct listener *);
void	 accept_end_turn(int64_t);
int64_t	 accept_deadline(void);
unsigned accept_waiting(void);
int	 accept_reserve_open(void);

struct snap;
struct msg;
int	 accept_save(struct snap *);
void	 accept_inherit(bool);
int	 accept_restore(uint32_t, struct msg *);

#endif
