/*
 * fcloop.c - fcbench's event loop: one epoll set for every client (and,
 * when a shutdown is timed, a pidfd per process of the server's tree).
 * loop_once() waits until the deadline or the next scheduled send,
 * reads what came (one big read per client, split into lines), lets
 * senders go on, and marks processes gone; loop_connect() opens the
 * clients, loop_barrier() waits until a marker has reached them all.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fcbench.h"

int npidfds;

static struct proc_sys sys_now;	/* the machine's memory, last look */

/* Keep a partial line for the next read. */
static void
carry_add(struct conn *c, const char *p, size_t n)
{
	if (c->carry == NULL && (c->carry = malloc(CARRY_MAX)) == NULL)
		die("out of memory");
	if (c->carrylen + n > CARRY_MAX) {
		c->overlong = true;	/* keep the head; the tail is lost */
		n = CARRY_MAX - c->carrylen;
	}
	memcpy(c->carry + c->carrylen, p, n);
	c->carrylen = (uint16_t)(c->carrylen + n);
}

/* Connection i is readable: one big read, split into lines. */
static void
conn_read(int i)
{
	static char buf[RBUF_SIZE];
	struct conn *c = &conns[i];
	const char *p = buf, *end, *nl;
	uint64_t now;
	ssize_t n;

	n = read(c->fd, buf, sizeof(buf));
	now = mono_ns();
	if (n <= 0) {
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (c->state == C_GREETING || c->state == C_CONNECTING)
			note_failure("%s before the greeting", n == 0 ?
			    "end of file" : strerror(errno));
		conn_close(i);
		return;
	}
	end = buf + n;
	if (c->carrylen > 0) {
		if ((nl = memchr(p, '\n', (size_t)n)) == NULL) {
			carry_add(c, p, (size_t)n);
			return;
		}
		carry_add(c, p, (size_t)(nl - p));
		if (c->overlong)
			st.other++;
		else
			client_line(i, c->carry, c->carrylen, now);
		c->carrylen = 0;
		c->overlong = false;
		p = nl + 1;
	}
	while (p < end && c->state != C_CLOSED &&
	    (nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		client_line(i, p, (size_t)(nl - p), now);
		p = nl + 1;
	}
	if (p < end && c->state != C_CLOSED)
		carry_add(c, p, (size_t)(end - p));
}

/* Connection i is writable: connected, or a sender may go on. */
static void
conn_writable(int i, uint64_t now)
{
	struct conn *c = &conns[i];
	int err = 0;
	socklen_t len = sizeof(err);

	if (c->state == C_CONNECTING) {
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
			err = errno;
		if (err != 0) {
			note_failure("connect: %s", strerror(err));
			conn_close(i);
			return;
		}
		c->state = C_GREETING;
		conn_events(i, false);
	} else if (c->state == C_READY && i < opt.s && snd != NULL) {
		sender_flush(i);
		if (snd[i].wlen == 0)
			sender_pump(i, now);
	} else {
		conn_events(i, false);
	}
}

/* Process k of the server tree has exited (its pidfd fired). */
void
loop_pid_gone(int k, uint64_t now)
{
	if (st.pids_gone_at[k] != 0)
		return;
	st.pids_gone_at[k] = now;
	st.pids_gone++;
	if (k == 0)
		st.t_root_gone = now;
	if (st.pids_gone == npidfds)
		st.t_tree_gone = now;
}

/* Wait for events until deadline (or the next send), handle them. */
void
loop_once(uint64_t deadline)
{
	static struct epoll_event evs[MAX_EVENTS];
	uint64_t now = mono_ns(), until = deadline, due = sender_next_due();
	int n, ms;

	if (due != 0 && due < until)
		until = due;
	ms = until <= now ? 0 : (int)((until - now + 999999) / 1000000);
	if ((n = epoll_wait(ep, evs, MAX_EVENTS, ms)) == -1) {
		if (errno == EINTR)
			return;
		die("epoll_wait: %s", strerror(errno));
	}
	now = mono_ns();
	for (int k = 0; k < n; k++) {
		uint64_t tag = evs[k].data.u64;
		int i = (int)(tag & 0xffffffffu);

		if (tag & PIDFD_TAG) {
			loop_pid_gone(i, now);
			continue;
		}
		if (conns[i].state == C_CLOSED)
			continue;
		if (evs[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR) &&
		    conns[i].state != C_CONNECTING)
			conn_read(i);
		else if (evs[k].events & (EPOLLHUP | EPOLLERR))
			conn_writable(i, now);	/* reports the error */
		if (conns[i].state != C_CLOSED && (evs[k].events & EPOLLOUT))
			conn_writable(i, now);
	}
	sender_pump_due(now);
}

/*
 * The machine is running out of memory: a server whose memory grows
 * faster than linearly must not take the machine (and everyone on it)
 * down with it.  Below LOW_MEMORY_PCT of RAM available we stop.
 */
static bool
low_memory(void)
{
	if (proc_meminfo(&sys_now) == -1)
		return false;
	return sys_now.avail < sys_now.total / 100 * LOW_MEMORY_PCT;
}

/* Open total connections, par at a time; false if the deadline hit. */
bool
loop_connect(int total, int par, uint64_t deadline)
{
	uint64_t t0 = mono_ns(), report = t0 + 5 * NS, check = t0, now;
	int next = 0;

	while ((now = mono_ns()) < deadline) {
		while (st.inflight < par && next < total)
			conn_start(next++);
		if (next == total && st.inflight == 0)
			return true;
		if (now >= check) {
			if (low_memory()) {
				st.low_memory = true;
				fprintf(stderr, "fcbench: only %ld of %ld MiB "
				    "memory available: no more connections\n",
				    sys_now.avail >> 10, sys_now.total >> 10);
				return false;
			}
			check = now + NS / 4;
		}
		if (now >= report) {	/* a slow server: show how far */
			fprintf(stderr, "fcbench: %.0f s: %d ready, %d in "
			    "flight, %d failed, %ld MiB available\n",
			    (double)(now - t0) / 1e9, st.ready, st.inflight,
			    st.failed, sys_now.avail >> 10);
			report += 5 * NS;
		}
		loop_once(report < check ? report : check);
	}
	return false;
}

/* A marker from the first ready client; wait until all others have it. */
bool
loop_barrier(uint64_t deadline)
{
	uint64_t t0, now, report;
	char line[32];
	int from = -1, len;

	for (int i = 0; i < opt.n && from == -1; i++)
		if (conns[i].state == C_READY)
			from = i;
	if (from == -1)
		return false;
	st.barrier_nonce++;
	st.barrier_got = 0;
	len = snprintf(line, sizeof(line), "S %u\n", st.barrier_nonce);
	if (write(conns[from].fd, line, (size_t)len) != len)
		return false;
	t0 = mono_ns();
	report = t0 + 5 * NS;
	while (st.barrier_got < (uint32_t)(st.ready - 1)) {
		if ((now = mono_ns()) >= deadline)
			return false;
		if (now >= report) {
			fprintf(stderr, "fcbench: barrier: %u of %d clients "
			    "after %.0f s\n", st.barrier_got, st.ready - 1,
			    (double)(now - t0) / 1e9);
			report += 5 * NS;
		}
		loop_once(report < deadline ? report : deadline);
	}
	return true;
}
