/*
 * accept.c - listening sockets, accepting clients, handing them over.
 *
 * An accepted client goes to an idle spare at once: its descriptor is
 * queued on the spare's channel (SCM_RIGHTS) with a MSG_CLIENT frame,
 * and the pool is refilled after the hand-off, later in the same turn.
 * If no spare is idle, we stop accepting until the forker has made one:
 * meanwhile new connections wait in the kernel's listen queue.
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
static bool waiting_spare;	/* listeners paused until a spare is up */

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

/* Stop accepting: close every listener. */
void
accept_close(void)
{
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
	struct msg_client mc;

	memset(&mc, 0, sizeof(mc));
	c->id = ++M.last_id;
	(void)snprintf(c->nick, sizeof(c->nick), "guest%u", c->id);
	(void)snprintf(c->peer, sizeof(c->peer), "%s", peer);
	c->since_ms = c->active_ms = os_now_ms();
	c->read_timeout = M.cfg.idle_timeout;
	mc.id = c->id;
	mc.read_timeout = c->read_timeout;
	memcpy(mc.nick, c->nick, sizeof(mc.nick));
	memcpy(mc.peer, c->peer, sizeof(mc.peer));
	if (msg_put_fd(&c->out, MSG_CLIENT, c->id, &mc, sizeof(mc), fd) == -1)
		log_panic("queueing a client for worker %ld: %s", (long)c->pid,
		    strerror(errno));	/* a spare's queue is empty */
	relay_flush(c);
	M.stats.clients_total++;
	if (M.nclients > M.stats.clients_peak)
		M.stats.clients_peak = M.nclients;
	relay_join(c);
}

/* Take one accepted connection: to a spare, or refused with a reason. */
static void
accept_one(int fd, const char *peer)
{
	char why[96];
	struct child *c;

	if (M.nclients >= M.cfg.max_clients) {
		(void)snprintf(why, sizeof(why), "server full (%u client%s); "
		    "try again later", M.cfg.max_clients,
		    M.cfg.max_clients == 1 ? "" : "s");
		accept_reject(fd, peer, why);
		return;
	}
	if ((c = spawn_take_spare()) == NULL) {
		accept_reject(fd, peer, "server busy (cannot start a worker); "
		    "try again later");
		return;
	}
	accept_handoff(c, fd, peer);
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

/*
 * True if we must stop accepting because no spare is idle.  If the
 * forker is making one, the listeners pause until it is up; if none is
 * on its way and a client is sure to be waiting, one is asked for.
 * False if accepting goes on: a spare is idle, the server is full, or
 * no worker can be started now, forking having just failed (the client
 * is then told so).
 */
static bool
accept_no_spare(bool client_waiting)
{
	if (M.nspares > 0 || M.nclients >= M.cfg.max_clients)
		return false;
	if (M.nstarting == 0) {
		if (!client_waiting)
			return true;	/* epoll says so again if one is */
		if (os_now_ms() < M.spawn_retry || spawn_worker() == NULL)
			return false;
	}
	waiting_spare = true;
	accept_listen_all(false);
	return true;
}

/* A listener is readable: accept a batch of clients. */
void
accept_ready(struct listener *l)
{
	char peer[SOCK_ADDR_MAX];
	int fd;

	for (int i = 0; i < ACCEPT_BATCH && M.phase == PHASE_RUNNING; i++) {
		/* Only the first accept is sure to find a client. */
		if (accept_no_spare(i == 0))
			return;
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
 * End of a turn: accept again once a spare is up (or none is coming
 * any more), and once the pause after running out of descriptors is
 * over.
 */
void
accept_resume_all(int64_t now)
{
	if (waiting_spare && (M.nspares > 0 || M.nstarting == 0))
		waiting_spare = false;
	else if (waiting_spare)
		return;
	if (M.accept_resume != 0 && now < M.accept_resume)
		return;
	if (M.accept_resume != 0) {
		M.accept_resume = 0;
		(void)accept_reserve_open();
	}
	accept_listen_all(true);
}
