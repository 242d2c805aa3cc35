/*
 * ev.c - epoll(7), level-triggered, behind ev_open/add/mod/del/wait.
 *
 * Level-triggered on purpose: a handler may stop early (fairness, a full
 * queue) and the descriptor is simply reported again next time.
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>

#include "ev.h"

#define EV_BATCH	256

/* A new epoll instance, close-on-exec. */
int
ev_open(void)
{
	return epoll_create1(EPOLL_CLOEXEC);
}

/* Translate EV_* into epoll bits. */
static unsigned
ev_bits(int events)
{
	return ((events & EV_READ) ? EPOLLIN : 0) |
	    ((events & EV_WRITE) ? EPOLLOUT : 0);
}

/* Watch fd for events; ptr comes back with each event. */
int
ev_add(int ep, int fd, int events, void *ptr)
{
	struct epoll_event e;

	memset(&e, 0, sizeof(e));
	e.events = ev_bits(events);
	e.data.ptr = ptr;
	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
}

/* Change what fd is watched for. */
int
ev_mod(int ep, int fd, int events, void *ptr)
{
	struct epoll_event e;

	memset(&e, 0, sizeof(e));
	e.events = ev_bits(events);
	e.data.ptr = ptr;
	return epoll_ctl(ep, EPOLL_CTL_MOD, fd, &e);
}

/* Stop watching fd; call before close(), never after. */
int
ev_del(int ep, int fd)
{
	return epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
}

/* Wait up to timeout ms (-1: no deadline); number of events, or -1. */
int
ev_wait(int ep, struct ev_event *out, int max, int timeout)
{
	struct epoll_event e[EV_BATCH];
	int n;

	if (max > EV_BATCH)
		max = EV_BATCH;
	if ((n = epoll_wait(ep, e, max, timeout)) == -1)
		return -1;
	for (int i = 0; i < n; i++) {
		out[i].ptr = e[i].data.ptr;
		out[i].events = ((e[i].events & EPOLLIN) ? EV_READ : 0) |
		    ((e[i].events & EPOLLOUT) ? EV_WRITE : 0) |
		    ((e[i].events & (EPOLLERR | EPOLLHUP)) ? EV_ERROR : 0);
	}
	return n;
}
