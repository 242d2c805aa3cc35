/*
 * accept.c - listening sockets, accepting clients, handing them over.
 *
 * An accepted client goes to an idle spare at once: its descriptor is
 * queued on the spare's channel (SCM_RIGHTS) with a MSG_CLIENT frame,
 * and the pool is refilled after the hand-off, later in the same turn.
 * If no spare is idle, the client waits in a short queue of ours while
 * the forker makes one for it (spawn_refill counts the waiting), and is
 * handed over at the end of the turn that brings one; with the queue
 * full, we stop accepting and new connections wait in the kernel's
 * listen queue.  A burst of clients is thus served by a burst of forks,
 * and their "joined" notices go out together, not one turn each.
 * A client we cannot serve gets one ERR line and is closed; the log says
 * so once, then how many more in each interval.  When the
 * process is out of descriptors, a reserved one is given up for a moment
 * so the waiting client can be told, instead of being left to spin on.
 *
 * Public: accept_open, accept_close, accept_ready, accept_end_turn,
 * accept_deadline, accept_waiting, accept_reserve_open; accept_save,
 * accept_inherit, accept_restore for a live upgrade.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "accept.h"
#include "chat.h"
#include "conf.h"
#include "ev.h"
#include "fan.h"
#include "log.h"
#include "os.h"
#include "service.h"
#include "snap.h"
#include "sock.h"
#include "spawn.h"

#define ACCEPT_BATCH	64	/* per listener per turn: fairness */
#define ACCEPT_PAUSE_MS	100	/* out of descriptors with no reserve */

struct listener {
	struct src src;		/* first: events point here */
	int	 fd;
	bool	 paused;
	char	 name[SOCK_ADDR_MAX];
};

static struct listener listeners[CONFIG_MAX_LISTEN];
static int nlisteners;
static int reserve_fd = -1;	/* given up when accept() hits EMFILE */
static int64_t resume_at;	/* out of descriptors: accept again then */
static struct log_limit refused_log = LOG_LIMIT("refused connections",
    LL_WARNING, 10);

/* Accepted clients waiting for a spare, oldest first (a ring). */
static struct {
	int	 fd;
	char	 peer[SOCK_ADDR_MAX];
} waitq[ACCEPT_WAIT_MAX];
static unsigned wait_head, nwaiting;

/* Watch every listener again, or stop watching them all. */
static void
accept_listen_all(bool on)
{
	struct listener *l;

	for (int i = 0; i < nlisteners; i++) {
		l = &listeners[i];
		if (l->fd == -1 || l->paused != on)
			continue;
		l->paused = !on;
		if (ev_mod(server.ep, l->fd, on ? EV_READ : 0, l) == -1)
			log_panic("epoll_ctl(MOD) for %s: %s", l->name,
			    strerror(errno));
	}
}

/* Hold one descriptor back for telling clients we are out of them. */
int
accept_reserve_open(void)
{
	if (reserve_fd == -1)
		reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return reserve_fd == -1 ? -1 : 0;
}

/* Watch a listening socket and (announce) say where we listen. */
static int
accept_watch(struct listener *l, const char *what, bool announce)
{
	l->src.kind = SRC_LISTENER;
	nlisteners++;
	if (sock_name(l->fd, l->name, sizeof(l->name)) == -1)
		(void)snprintf(l->name, sizeof(l->name), "%s", what);
	if (ev_add(server.ep, l->fd, EV_READ, l) == -1) {
		log_error("epoll_ctl(ADD) for %s: %s", l->name, strerror(errno));
		return -1;
	}
	if (announce)
		log_notice("listening on %s", l->name);
	return 0;
}

/* Listen on the passed sockets, or bind the configured addresses. */
int
accept_open(void)
{
	int fds[CONFIG_MAX_LISTEN], n;

	if ((n = service_sockets(fds, CONFIG_MAX_LISTEN)) > 0) {
		for (int i = 0; i < n; i++) {
			listeners[i].fd = fds[i];
			if (accept_watch(&listeners[i], "LISTEN_FDS", true) == -1)
				return -1;
		}
		return 0;
	}
	for (int i = 0; i < conf.nlisten; i++) {
		if ((listeners[i].fd = sock_listen(conf.listen[i])) == -1) {
			log_error("cannot listen on %s: %s", conf.listen[i],
			    errno == EINVAL ? "not an address of the form "
			    "IPV4:PORT, [IPV6]:PORT or *:PORT" : strerror(errno));
			return -1;
		}
		if (accept_watch(&listeners[i], conf.listen[i], true) == -1)
			return -1;
	}
	return 0;
}

/* The oldest waiting client, taken off the queue. */
static int
wait_pop(char *peer, size_t size)
{
	unsigned i = wait_head;

	wait_head = (wait_head + 1) % ACCEPT_WAIT_MAX;
	nwaiting--;
	(void)snprintf(peer, size, "%s", waitq[i].peer);
	return waitq[i].fd;
}

/* Stop accepting: close every listener; clients waiting are told. */
void
accept_close(void)
{
	static const char bye[] = "ERR server shutting down\r\n";
	char peer[SOCK_ADDR_MAX];
	unsigned n = nwaiting;
	int fd;

	while (nwaiting > 0) {
		fd = wait_pop(peer, sizeof(peer));
		if (write(fd, bye, sizeof(bye) - 1) == -1)
			log_debug("telling %s we are stopping: %s", peer,
			    strerror(errno));
		(void)close(fd);
	}
	if (n > 0)
		log_notice("%u connection%s waiting for a worker closed", n,
		    n == 1 ? "" : "s");
	log_limit_flush(&refused_log);
	for (int i = 0; i < nlisteners; i++) {
		if (listeners[i].fd == -1)
			continue;
		(void)ev_del(server.ep, listeners[i].fd);
		(void)close(listeners[i].fd);
		listeners[i].fd = -1;
	}
}

/* One ERR line to a client we cannot take, then close it. */
static void
accept_reject(int fd, const char *peer, const char *why)
{
	char line[256];
	int n;

	n = snprintf(line, sizeof(line), "ERR %s\r\n", why);
	/* Best effort: a fresh socket's buffer takes one short line. */
	if (n > 0 && write(fd, line, (size_t)n) == -1)
		log_debug("telling %s we are busy: %s", peer, strerror(errno));
	(void)close(fd);
	server.stats.rejected++;
	log_limited(&refused_log, "refused connection from %s: %s", peer, why);
}

/* Hand a new client to a worker; the queue owns fd from here on. */
static void
accept_handoff(struct child *c, int fd, const char *peer)
{
	struct msg_build b;

	c->client.id = ++server.last_id;
	(void)snprintf(c->client.nick, sizeof(c->client.nick), "guest%u",
	    c->client.id);
	(void)snprintf(c->client.peer, sizeof(c->client.peer), "%s", peer);
	c->client.since_ms = c->client.active_ms = os_now_ms();
	c->client.read_timeout = conf.idle_timeout;
	msg_b_init(&b);
	msg_b_u32(&b, c->client.read_timeout);
	msg_b_str(&b, c->client.nick, strlen(c->client.nick));
	msg_b_str(&b, c->client.peer, strlen(c->client.peer));
	/* A spare's queue is empty, and b fits: this cannot fail. */
	if (b.over || msg_put_fd(&c->chan.out, MSG_CLIENT, c->client.id,
	    b.data, b.len, fd) == -1)
		log_panic("queueing a client for worker %ld: %s", (long)c->pid,
		    strerror(errno));
	fan_flush(c);
	server.stats.clients_total++;
	if (children.nclients > server.stats.clients_peak)
		server.stats.clients_peak = children.nclients;
	chat_join(c);
}

/* Take one accepted connection: to a spare, to wait, or refused. */
static void
accept_one(int fd, const char *peer)
{
	char why[96];
	struct child *c;
	unsigned i;

	if (children.nclients + nwaiting >= conf.max_clients) {
		(void)snprintf(why, sizeof(why), "server full (%u client%s); "
		    "try again later", conf.max_clients,
		    conf.max_clients == 1 ? "" : "s");
		accept_reject(fd, peer, why);
		return;
	}
	if (nwaiting == 0 && (c = spawn_take_spare()) != NULL) {
		accept_handoff(c, fd, peer);
		return;
	}
	/* Forking just failed, and no spare is on its way: say so now. */
	if (children.nstarting == 0 && spawn_retry_at() != OS_NO_DEADLINE) {
		accept_reject(fd, peer, "server busy (cannot start a worker); "
		    "try again later");
		return;
	}
	i = (wait_head + nwaiting) % ACCEPT_WAIT_MAX;
	waitq[i].fd = fd;
	(void)snprintf(waitq[i].peer, sizeof(waitq[i].peer), "%s", peer);
	nwaiting++;
}

/*
 * End of a turn: hand waiting clients to the spares that came up, or,
 * if forking fails, tell them so.
 */
static void
accept_serve_waiting(void)
{
	char peer[SOCK_ADDR_MAX];
	struct child *c;
	int fd;

	while (nwaiting > 0 && children.nspares > 0) {
		c = spawn_take_spare();
		fd = wait_pop(peer, sizeof(peer));
		accept_handoff(c, fd, peer);
	}
	while (nwaiting > 0 && children.nstarting == 0 &&
	    spawn_retry_at() != OS_NO_DEADLINE) {
		fd = wait_pop(peer, sizeof(peer));
		accept_reject(fd, peer, "server busy (cannot start a worker); "
		    "try again later");
	}
}

/* Out of descriptors: use the reserve to turn one client away. */
static void
accept_emfile(struct listener *l)
{
	char peer[SOCK_ADDR_MAX];
	int fd;

	if (reserve_fd == -1) {
		/* Nothing to spare: stop watching for a moment. */
		l->paused = true;
		resume_at = os_now_ms() + ACCEPT_PAUSE_MS;
		(void)ev_mod(server.ep, l->fd, 0, l);
		return;
	}
	(void)close(reserve_fd);
	reserve_fd = -1;
	if ((fd = sock_accept(l->fd, peer, sizeof(peer))) != -1)
		accept_reject(fd, peer, "server busy (out of descriptors); "
		    "try again later");
	(void)accept_reserve_open();
}

/* A listener is readable: accept a batch of clients. */
void
accept_ready(struct listener *l)
{
	char peer[SOCK_ADDR_MAX];
	int fd;

	for (int i = 0; i < ACCEPT_BATCH && server.phase == PHASE_RUNNING;
	    i++) {
		if (nwaiting == ACCEPT_WAIT_MAX) {
			accept_listen_all(false);	/* until some are served */
			return;
		}
		if ((fd = sock_accept(l->fd, peer, sizeof(peer))) != -1) {
			accept_one(fd, peer);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EMFILE || errno == ENFILE) {
			accept_emfile(l);
			return;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			log_warning("accept() on %s failed: %s", l->name,
			    strerror(errno));
		return;
	}
}

/*
 * End of a turn: serve the waiting clients we can, and accept again
 * once the queue has room and the pause after running out of
 * descriptors is over.
 */
void
accept_end_turn(int64_t now)
{
	log_limit_tick(&refused_log, now);
	accept_serve_waiting();
	if (nwaiting == ACCEPT_WAIT_MAX || server.phase != PHASE_RUNNING)
		return;
	if (resume_at != OS_NO_DEADLINE && now < resume_at)
		return;
	if (resume_at != OS_NO_DEADLINE) {
		resume_at = OS_NO_DEADLINE;
		(void)accept_reserve_open();
	}
	accept_listen_all(true);
}

/* When accepting resumes (if paused), or refusals are summed up. */
int64_t
accept_deadline(void)
{
	return os_nearer(resume_at, log_limit_deadline(&refused_log));
}

/* Accepted clients waiting for a spare. */
unsigned
accept_waiting(void)
{
	return nwaiting;
}

/* The listeners and waiting clients, for the binary that takes over. */
int
accept_save(struct snap *s)
{
	for (int i = 0; i < nlisteners; i++) {
		if (listeners[i].fd == -1)
			continue;
		snap_begin(s, SNAP_LISTENER);
		snap_u32(s, (uint32_t)listeners[i].fd);
		snap_str(s, listeners[i].name);
		snap_end(s);
	}
	for (unsigned i = 0; i < nwaiting; i++) {
		snap_begin(s, SNAP_WAITING);
		snap_u32(s, (uint32_t)waitq[(wait_head + i) % ACCEPT_WAIT_MAX].fd);
		snap_str(s, waitq[(wait_head + i) % ACCEPT_WAIT_MAX].peer);
		snap_end(s);
	}
	return s->failed ? -1 : 0;
}

/* Let every descriptor accept_save() names cross an exec, or not. */
void
accept_inherit(bool on)
{
	for (int i = 0; i < nlisteners; i++)
		if (listeners[i].fd != -1 && os_cloexec(listeners[i].fd, !on) == -1)
			log_panic("fcntl(F_SETFD) of a listener: %s",
			    strerror(errno));
	for (unsigned i = 0; i < nwaiting; i++)
		if (os_cloexec(waitq[(wait_head + i) % ACCEPT_WAIT_MAX].fd,
		    !on) == -1)
			log_panic("fcntl(F_SETFD) of a waiting client: %s",
			    strerror(errno));
}

/* SNAP_LISTENER, SNAP_WAITING: take them over; -1 if malformed. */
int
accept_restore(uint32_t type, struct msg *m)
{
	char name[SOCK_ADDR_MAX];
	uint32_t fd;
	unsigned i;

	if (msg_u32(m, &fd) == -1 || msg_str(m, name, sizeof(name)) == -1 ||
	    msg_end(m) == -1 || fd > INT32_MAX)
		return -1;
	if (type == SNAP_WAITING) {
		if (nwaiting == ACCEPT_WAIT_MAX)
			return -1;
		i = (wait_head + nwaiting++) % ACCEPT_WAIT_MAX;
		waitq[i].fd = (int)fd;
		(void)snprintf(waitq[i].peer, sizeof(waitq[i].peer), "%s", name);
		return 0;
	}
	if (nlisteners == CONFIG_MAX_LISTEN)
		return -1;
	listeners[nlisteners].fd = (int)fd;
	if (accept_watch(&listeners[nlisteners], name, false) == -1)
		return -1;
	return 0;
}
