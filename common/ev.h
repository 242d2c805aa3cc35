/*
 * ev.h - the master's readiness loop: epoll behind four small calls.
 *
 * Each watched descriptor carries a pointer back to its owner, so an
 * event costs nothing to route however many workers there are.
 */
#ifndef FORKCHAT_EV_H
#define FORKCHAT_EV_H

#define EV_READ		0x1
#define EV_WRITE	0x2
#define EV_ERROR	0x4	/* hang-up or error: read to find out */

struct ev_event {
	void	*ptr;
	int	 events;
};

int	ev_open(void);
int	ev_add(int, int, int, void *);
int	ev_mod(int, int, int, void *);
int	ev_del(int, int);
int	ev_wait(int, struct ev_event *, int, int);

#endif
