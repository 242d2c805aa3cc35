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
 * A client we cannot serve gets one ERR line and is closed.  When the
 * process is out of descriptors, a reserved one is given up for a moment
 * so the waiting client can be told, instead of being left to spin on.
 *
 * Public: accept_open, accept_close, accept_ready, accept_resume_all,
 * accept_reserve_open.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ev.h"
#include "log.h"
#include "master.h"
#include "os.h"
#include "sock.h"

#define ACCEPT_BATCH	64	/* per listener per turn: fairness */
#define ACCEPT_PAUSE_MS	100	/* out of descriptors with no reserve */

static int reserve_fd = -1;	/* given up when accept() hits EMFILE */

/* Accepted clients waiting for a spare, oldest first (a ring). */
static struct {
	int	 fd;
	char	 peer[SOCK_ADDR_MAX];
} waitq[ACCEPT_WAIT_MAX];
static unsigned wait_head;

/* Watch every listener again, or stop watching them all. */
static void
accept_listen_all(bool on)
{
	struct listener *l;

	for (int i = 0; i < M.nlisteners; i++) {
		l = &M.listeners[i];
		if (l->fd == -1 || l->paused != on)
			continue;
		l->paused = !on;
		if (ev_mod(M.ep, l->fd, on ? EV_READ : 0, l) == -1)
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

/* Watch a listening socket and say where we listen. */
static int
accept_watch(struct listener *l, const char *what)
{
	l->src.kind = SRC_LISTENER;
	M.nlisteners++;
	if (sock_name(l->fd, l->name, sizeof(l->name)) == -1)
		(void)snprintf(l->name, sizeof(l->name), "%s", what);
	if (ev_add(M.ep, l->fd, EV_READ, l) == -1) {
		log_error("epoll_ctl(ADD) for %s: %s", l->name, strerror(errno));
		return -1;
	}
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
			M.listeners[i].fd = fds[i];
			if (accept_watch(&M.listeners[i], "LISTEN_FDS") == -1)
				return -1;
		}
		return 0;
	}
	for (int i = 0; i < M.cfg.nlisten; i++) {
		if ((M.listeners[i].fd = sock_listen(M.cfg.listen[i])) == -1) {
			log_error("cannot listen on %s: %s", M.cfg.listen[i],
			    errno == EINVAL ? "not an address of the form "
			    "IPV4:PORT, [IPV6]:PORT or *:PORT" : strerror(errno));
			return -1;
		}
		if (accept_watch(&M.listeners[i], M.cfg.listen[i]) == -1)
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
	M.nwaiting--;
	(void)snprintf(peer, size, "%s", waitq[i].peer);
	return waitq[i].fd;
}

/* Stop accepting: close every listener; clients waiting are told. */
void
accept_close(void)
{
	static const char bye[] = "ERR server shutting down\r\n";
	char peer[SOCK_ADDR_MAX];
	unsigned n = M.nwaiting;
	int fd;

	while (M.nwaiting > 0) {
		fd = wait_pop(peer, sizeof(peer));
		if (write(fd, bye, sizeof(bye) - 1) == -1)
			log_debug("telling %s we are stopping: %s", peer,
			    strerror(errno));
		(void)close(fd);
	}
	if (n > 0)
		log_notice("%u connection%s waiting for a worker closed", n,
		    n == 1 ? "" : "s");
	for (int i = 0; i < M.nlisteners; i++) {
		if (M.listeners[i].fd == -1)
			continue;
		(void)ev_del(M.ep, M.listeners[i].fd);
		(void)close(M.listeners[i].fd);
		M.listeners[i].fd = -1;
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
	M.stats.rejected++;
	log_warning("refused connection from %s: %s", peer, why);
}

/* Hand a new client to a worker; the queue owns fd from here on. */
static void
accept_handoff(struct child *c, int fd, const char *peer)
{
	struct msg_build b;

	c->id = ++M.last_id;
	(void)snprintf(c->nick, sizeof(c->nick), "guest%u", c->id);
	(void)snprintf(c->peer, sizeof(c->peer), "%s", peer);
	c->since_ms = c->active_ms = os_now_ms();
	c->read_timeout = M.cfg.idle_timeout;
	msg_b_init(&b);
	msg_b_u32(&b, c->read_timeout);
	msg_b_str(&b, c->nick, strlen(c->nick));
	msg_b_str(&b, c->peer, strlen(c->peer));
	/* A spare's queue is empty, and b fits: this cannot fail. */
	if (b.over || msg_put_fd(&c->out, MSG_CLIENT, c->id, b.data, b.len,
	    fd) == -1)
		log_panic("queueing a client for worker %ld: %s", (long)c->pid,
		    strerror(errno));
	relay_flush(c);
	M.stats.clients_total++;
	if (M.nclients > M.stats.clients_peak)
		M.stats.clients_peak = M.nclients;
	relay_join(c);
}

/* Take one accepted connection: to a spare, to wait, or refused. */
static void
accept_one(int fd, const char *peer)
{
	char why[96];
	struct child *c;
	unsigned i;

	if (M.nclients + M.nwaiting >= M.cfg.max_clients) {
		(void)snprintf(why, sizeof(why), "server full (%u client%s); "
		    "try again later", M.cfg.max_clients,
		    M.cfg.max_clients == 1 ? "" : "s");
		accept_reject(fd, peer, why);
		return;
	}
	if (M.nwaiting == 0 && (c = spawn_take_spare()) != NULL) {
		accept_handoff(c, fd, peer);
		return;
	}
	if (os_now_ms() < M.spawn_retry) {	/* forking has just failed */
		accept_reject(fd, peer, "server busy (cannot start a worker); "
		    "try again later");
		return;
	}
	i = (wait_head + M.nwaiting) % ACCEPT_WAIT_MAX;
	waitq[i].fd = fd;
	(void)snprintf(waitq[i].peer, sizeof(waitq[i].peer), "%s", peer);
	M.nwaiting++;
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

	while (M.nwaiting > 0 && M.nspares > 0) {
		c = spawn_take_spare();
		fd = wait_pop(peer, sizeof(peer));
		accept_handoff(c, fd, peer);
	}
	while (M.nwaiting > 0 && M.nstarting == 0 &&
	    os_now_ms() < M.spawn_retry) {
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
		M.accept_resume = os_now_ms() + ACCEPT_PAUSE_MS;
		(void)ev_mod(M.ep, l->fd, 0, l);
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

	for (int i = 0; i < ACCEPT_BATCH && M.phase == PHASE_RUNNING; i++) {
		if (M.nwaiting == ACCEPT_WAIT_MAX) {
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
accept_resume_all(int64_t now)
{
	accept_serve_waiting();
	if (M.nwaiting == ACCEPT_WAIT_MAX)
		return;
	if (M.accept_resume != 0 && now < M.accept_resume)
		return;
	if (M.accept_resume != 0) {
		M.accept_resume = 0;
		(void)accept_reserve_open();
	}
	accept_listen_all(true);
}
