/*
 * forker.c - the forker: a small process that forks workers for the
 * master.
 *
 * fork() copies no memory at first: parent and child share every page
 * until one of them writes to it, and the writer gets a copy of its own.
 * A worker forked straight from the master would keep sharing only the
 * pages the master never writes again; the master writes its heap all
 * the time (the child table, the queues), and every such page becomes
 * one more private copy in every worker forked before the write, so
 * memory grows with the square of the clients.  Exec'ing a fresh image
 * instead costs a whole program start-up per worker.
 *
 * So the master forks one process at start, the forker, and never writes
 * to its memory again: the forker only waits for requests and forks.
 * Its workers share its pages for good and pay for nothing but what they
 * write themselves.  It forks with clone(CLONE_PARENT): the new worker's
 * parent is the master, which reaps it, kills it and counts it as if it
 * had forked it itself, and which decides when a worker is forked.
 *
 * The protocol, over a SOCK_SEQPACKET pair (one record per request):
 * the master sends one byte with the worker's end of its channel
 * (SCM_RIGHTS); the forker answers each request, in order, with an
 * int32_t: the new worker's pid, or -errno if it could not fork.  At
 * end-of-file (the master shut its end down, or died) the forker
 * answers what it has and exits 0.
 *
 * Public: forker_start, forker_attach, forker_request, forker_flush,
 * forker_reply, forker_stop, forker_kill, forker_reaped, forker_lost,
 * forker_pid, forker_version, forker_accepting, forker_running;
 * forker_busy, forker_save, forker_inherit, forker_restore for a live
 * upgrade.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ev.h"
#include "exits.h"
#include "forker.h"
#include "log.h"
#include "os.h"
#include "snap.h"
#include "sock.h"
#include "state.h"
#include "../worker/worker.h"


#define FORKER_QUEUE_MAX 2048		/* requests waiting for room */

/* The forker we have, as the master sees it. */
static struct {
	struct src src;			/* first: events point here */
	int	 fd;			/* our end; -1 if none */
	pid_t	 pid;			/* 0 once reaped, or none */
	bool	 stopping;		/* no more requests: end after these */
	bool	 shut;			/* our end is shut down */
	bool	 want_write;		/* EV_WRITE is being watched */
	int	 queued[FORKER_QUEUE_MAX]; /* channel ends not sent yet */
	unsigned head, nqueued;
	char	 version[32];		/* the forkchatd it runs */
} forker = { .src.kind = SRC_FORKER, .fd = -1 };

/* A request: one byte, and one descriptor beside it. */
struct fdmsg {
	struct msghdr mh;
	struct iovec iov;
	char	 byte;
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int))];
	} cm;
};

/* Point m's header at its own byte and control buffer. */
static void
fdmsg_init(struct fdmsg *m)
{
	memset(m, 0, sizeof(*m));
	m->iov.iov_base = &m->byte;
	m->iov.iov_len = 1;
	m->mh.msg_iov = &m->iov;
	m->mh.msg_iovlen = 1;
	m->mh.msg_control = m->cm.buf;
	m->mh.msg_controllen = sizeof(m->cm.buf);
}

/* One record with a descriptor; 1 byte read, 0 at EOF, -1 on error. */
static int
forker_recv_fd(int s, int *fd)
{
	struct fdmsg m;
	struct cmsghdr *c;
	ssize_t n;

	*fd = -1;
	fdmsg_init(&m);
	while ((n = recvmsg(s, &m.mh, MSG_CMSG_CLOEXEC)) == -1 &&
	    errno == EINTR)
		;
	if (n <= 0)
		return (int)n;
	c = CMSG_FIRSTHDR(&m.mh);
	if (c == NULL || c->cmsg_level != SOL_SOCKET ||
	    c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(sizeof(int))) {
		errno = EPROTO;
		return -1;
	}
	memcpy(fd, CMSG_DATA(c), sizeof(int));
	return 1;
}

/*
 * The new worker: keep its channel, nothing else of ours.  Its settings
 * are the master's as they were when the forker was forked (a reload
 * replaces the forker), read where they lie, in pages it shares.
 */
static _Noreturn void
forker_child(int s, int ch, const struct config *cfg)
{
	(void)close(s);
	if (os_close_except(ch, -1) == -1)
		_exit(EX_NOSTART);
	worker_main(ch, cfg);
}

/*
 * The forker's life.  Blocking reads and writes: it has nothing else to
 * wait for, and a master that is slow to read its answers holds it back.
 */
static _Noreturn void
forker_main(int s, const struct config *cfg)
{
	int32_t answer;
	pid_t pid;
	int ch, r;

	(void)os_set_name("forkchatd fork");
	for (;;) {
		if ((r = forker_recv_fd(s, &ch)) == 0)
			_exit(0);
		if (r == -1) {
			log_error("forker: reading the master's request: %s",
			    strerror(errno));
			_exit(EX_NOSTART);
		}
		if ((pid = os_fork_sibling()) == 0)
			forker_child(s, ch, cfg);
		answer = pid == -1 ? -errno : (int32_t)pid;
		(void)close(ch);
		while (send(s, &answer, sizeof(answer), MSG_NOSIGNAL) == -1)
			if (errno != EINTR)
				_exit(errno == EPIPE ? 0 : EX_NOSTART);
	}
}

/*
 * Fork the forker, whose workers will run with cfg as it is now (the
 * forker's copy never changes).  Signals are blocked across fork() so
 * that no handler of the master's runs in it; it leaves them at their
 * defaults but ignores those a whole process group or control group
 * gets (SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGUSR2), as workers do (its
 * workers inherit that), and keeps no descriptor but stdio and its end.
 */
int
forker_start(const struct config *cfg)
{
	sigset_t all, old;
	int sv[2], saved;
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		return -1;
	sigfillset(&all);
	if (sigprocmask(SIG_BLOCK, &all, &old) == -1)
		goto fail;
	if ((pid = fork()) == 0) {
		if (os_signals_default() == -1 ||
		    signal(SIGINT, SIG_IGN) == SIG_ERR ||
		    signal(SIGTERM, SIG_IGN) == SIG_ERR ||
		    signal(SIGQUIT, SIG_IGN) == SIG_ERR ||
		    signal(SIGHUP, SIG_IGN) == SIG_ERR ||
		    signal(SIGUSR2, SIG_IGN) == SIG_ERR ||
		    os_close_except(sv[1], -1) == -1 ||
		    sigprocmask(SIG_SETMASK, &old, NULL) == -1)
			_exit(EX_NOSTART);
		forker_main(sv[1], cfg);
	}
	saved = errno;
	if (sigprocmask(SIG_SETMASK, &old, NULL) == -1)
		log_panic("sigprocmask() failed after fork: %s", strerror(errno));
	errno = saved;
	if (pid == -1)
		goto fail;
	(void)close(sv[1]);
	forker_attach(sv[0], pid, FORKCHAT_VERSION);
	log_info("forker %ld started", (long)pid);
	return 0;
fail:
	saved = errno;
	(void)close(sv[0]);
	(void)close(sv[1]);
	errno = saved;
	return -1;
}

/*
 * Use fd, our end of a forker's socket, and pid, that forker, which
 * runs forkchatd version: the one forker_start() forked, the one a
 * master before a live upgrade had, or (in a test) a stand-in.
 */
void
forker_attach(int fd, pid_t pid, const char *version)
{
	(void)snprintf(forker.version, sizeof(forker.version), "%s", version);
	if (sock_nonblock(fd) == -1 ||
	    ev_add(server.ep, fd, EV_READ, &forker.src) == -1)
		log_panic("cannot watch the forker: %s", strerror(errno));
	forker.fd = fd;
	forker.pid = pid;
	forker.stopping = forker.shut = forker.want_write = false;
}

/* Send one request: ch goes to the forker.  0, or -1 (EAGAIN: full). */
static int
forker_send(int ch)
{
	struct fdmsg m;
	struct cmsghdr *c;

	fdmsg_init(&m);
	m.byte = 'W';
	c = CMSG_FIRSTHDR(&m.mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &ch, sizeof(int));
	while (sendmsg(forker.fd, &m.mh, MSG_NOSIGNAL | MSG_DONTWAIT) == -1)
		if (errno != EINTR)
			return -1;
	return 0;
}

/* Watch the forker's socket for room to write, or stop. */
static void
forker_want_write(bool on)
{
	if (forker.want_write == on)
		return;
	forker.want_write = on;
	if (ev_mod(server.ep, forker.fd, EV_READ | (on ? EV_WRITE : 0),
	    &forker.src) == -1)
		log_panic("epoll_ctl(MOD) failed for the forker: %s",
		    strerror(errno));
}

/*
 * Send the requests queued, as far as the socket takes them; once none
 * is left and we are stopping, shut our end down.  0, or -1 if the
 * forker is gone (EPIPE and the like).
 */
int
forker_flush(void)
{
	int ch;

	if (forker.fd == -1)
		return 0;
	while (forker.nqueued > 0) {
		ch = forker.queued[forker.head];
		if (forker_send(ch) == -1) {
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				return -1;
			forker_want_write(true);
			return 0;
		}
		(void)close(ch);	/* the forker has its own copy now */
		forker.head = (forker.head + 1) % FORKER_QUEUE_MAX;
		forker.nqueued--;
	}
	forker_want_write(false);
	if (forker.stopping && !forker.shut &&
	    shutdown(forker.fd, SHUT_WR) == -1)
		log_panic("shutdown() of the forker's socket failed: %s",
		    strerror(errno));
	forker.shut = forker.stopping;
	return 0;
}

/*
 * Ask for a worker on channel end ch, which this takes over (closed
 * once sent).  Requests queue while the forker's socket is full, and go
 * in order; answers come in the same order.  -1 (ch still the caller's)
 * if no forker takes requests, or too many are queued.
 */
int
forker_request(int ch)
{
	if (forker.fd == -1 || forker.stopping) {
		errno = ESRCH;
		return -1;
	}
	if (forker.nqueued == FORKER_QUEUE_MAX) {
		errno = ENOBUFS;
		return -1;
	}
	forker.queued[(forker.head + forker.nqueued) % FORKER_QUEUE_MAX] = ch;
	forker.nqueued++;
	if (forker_flush() == -1)
		log_debug("sending the forker a request: %s", strerror(errno));
	return 0;
}

/*
 * The next answer: 1 with *answer set (a pid, or -errno), 0 if none is
 * waiting, -1 once the forker is gone (end-of-file or an error).
 */
int
forker_reply(int32_t *answer)
{
	ssize_t n;

	if (forker.fd == -1)
		return -1;
	while ((n = recv(forker.fd, answer, sizeof(*answer), 0)) == -1 &&
	    errno == EINTR)
		;
	if (n == sizeof(*answer))
		return 1;
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	if (n == -1)
		log_error("reading the forker's answer: %s", strerror(errno));
	else if (n != 0)
		log_error("the forker's answer was %zd bytes, not %zu", n,
		    sizeof(*answer));
	return -1;
}

/* The forker is gone or no use: stop watching it; drop what was queued. */
void
forker_lost(void)
{
	while (forker.nqueued > 0) {
		(void)close(forker.queued[forker.head]);
		forker.head = (forker.head + 1) % FORKER_QUEUE_MAX;
		forker.nqueued--;
	}
	if (forker.fd == -1)
		return;
	if (ev_del(server.ep, forker.fd) == -1)
		log_panic("epoll_ctl(DEL) failed for the forker: %s",
		    strerror(errno));
	(void)close(forker.fd);
	forker.fd = -1;
}

/*
 * No more requests (shutting down, or a reload changed the settings it
 * would give workers): it answers what it has, then exits.
 */
void
forker_stop(void)
{
	if (forker.fd == -1 || forker.stopping)
		return;
	forker.stopping = true;
	if (forker_flush() == -1)	/* the end goes after the last request */
		log_debug("sending the forker a request: %s", strerror(errno));
}

/* Past the grace period: kill it, as every other child. */
void
forker_kill(void)
{
	if (forker.pid != 0 && kill(forker.pid, SIGKILL) == -1 && errno != ESRCH)
		log_panic("kill(%ld, SIGKILL) failed: %s", (long)forker.pid,
		    strerror(errno));
}

/* The forkchatd version the forker runs. */
const char *
forker_version(void)
{
	return forker.version;
}

/* The forker's pid, 0 if there is none. */
pid_t
forker_pid(void)
{
	return forker.pid;
}

/* True while requests can be made. */
bool
forker_accepting(void)
{
	return forker.fd != -1 && !forker.stopping;
}

/* True until the forker is reaped and its socket closed. */
bool
forker_running(void)
{
	return forker.pid != 0 || forker.fd != -1;
}

/* Reaped: expected after forker_stop(), a warning otherwise. */
void
forker_reaped(int status)
{
	char how[32];

	(void)os_status_text(status, how, sizeof(how));
	if (server.phase == PHASE_RUNNING && !forker.stopping)
		log_warning("forker %ld died: %s; forking a new one",
		    (long)forker.pid, how);
	else
		log_debug("reaped forker %ld: %s", (long)forker.pid, how);
	forker.pid = 0;
}

/* Is a request still waiting to be sent (no snapshot while one is)? */
bool
forker_busy(void)
{
	return forker.nqueued > 0;
}

/* The forker, for the binary that takes over: it keeps running. */
int
forker_save(struct snap *s)
{
	if (forker.pid == 0 && forker.fd == -1)
		return 0;
	snap_begin(s, SNAP_FORKER);
	snap_u32(s, (uint32_t)forker.pid);
	snap_u32(s, (uint32_t)forker.fd);
	snap_u32(s, forker.stopping);
	snap_str(s, forker.version);
	snap_end(s);
	return s->failed ? -1 : 0;
}

/* Let our end of the forker's socket cross an exec, or not. */
void
forker_inherit(bool on)
{
	if (forker.fd != -1 && os_cloexec(forker.fd, !on) == -1)
		log_panic("fcntl(F_SETFD) of the forker's socket: %s",
		    strerror(errno));
}

/* SNAP_FORKER: the forker a master before us had; -1 if malformed. */
int
forker_restore(struct msg *m)
{
	uint32_t pid, fd, stopping;
	char version[sizeof(forker.version)];

	if (msg_u32(m, &pid) == -1 || msg_u32(m, &fd) == -1 ||
	    msg_u32(m, &stopping) == -1 ||
	    msg_str(m, version, sizeof(version)) == -1 || msg_end(m) == -1 ||
	    pid > INT32_MAX)
		return -1;
	forker.pid = (pid_t)pid;
	if ((int32_t)fd >= 0)
		forker_attach((int)fd, (pid_t)pid, version);
	else
		(void)snprintf(forker.version, sizeof(forker.version), "%s",
		    version);
	forker.stopping = forker.shut = stopping != 0;
	return 0;
}
