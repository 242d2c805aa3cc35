/*
 * main.c - forkchatd's master: set-up, the event loop, and shutdown in
 * stages.
 *
 * The loop waits in epoll with a timeout taken from the nearest deadline
 * and, each turn, acts in a fixed order: signals (shutdown first, then
 * a reload, then reaping), the forker's answers, worker channels, the
 * cluster's connections to Redis (like channels, what others said),
 * new connections; then deadlines, the spare pool, and one flush of
 * everything queued during the turn.  The modules below it call
 * downwards only; what the child table has to tell the chat (a worker
 * reaped) comes up through the hooks set here.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "accept.h"
#include "chat.h"
#include "cluster.h"
#include "conf.h"
#include "dispatch.h"
#include "ev.h"
#include "exits.h"
#include "fan.h"
#include "forker.h"
#include "limits.h"
#include "log.h"
#include "oper.h"
#include "options.h"
#include "os.h"
#include "reload.h"
#include "service.h"
#include "sigpipe.h"
#include "spawn.h"
#include "takeover.h"
#include "upgrade.h"

#define MAX_EVENTS	256

static struct src sigsrc = { .kind = SRC_SIGNAL };
static int64_t grace_deadline;		/* PHASE_DRAINING ends then */
static uint64_t reaped_at_stop;		/* for the shutdown summary */

/* Ready once the first spares are up (or could not be forked). */
static void
master_ready(void)
{
	if (service_is_ready() || children.nstarting > 0 ||
	    server.phase != PHASE_RUNNING)
		return;
	log_notice("ready: %u spare worker%s, up to %u client%s",
	    children.nspares, children.nspares == 1 ? "" : "s",
	    conf.max_clients, conf.max_clients == 1 ? "" : "s");
	service_ready();
}

/* A reaped worker's client is gone: tell the chat. */
static void
master_child_gone(struct child *c, const char *why)
{
	if (c->state == CHILD_CLIENT)
		chat_leave(c, why);
	else
		chat_left(c, why);
}

/* Signals: the self-pipe in epoll, each caught signal a byte in it. */
static void
setup_signals(void)
{
	static const int caught[] = { SIGINT, SIGTERM, SIGQUIT, SIGHUP,
	    SIGUSR2, SIGCHLD };
	sigset_t none;

	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR || sigpipe_open() == -1)
		log_fatal(EX_FAIL, "cannot set up signal handling: %s",
		    strerror(errno));
	for (size_t i = 0; i < sizeof(caught) / sizeof(caught[0]); i++)
		if (sigpipe_catch(caught[i]) == -1)
			log_fatal(EX_FAIL, "sigaction(%d) failed: %s", caught[i],
			    strerror(errno));
	if (ev_add(server.ep, sigpipe_fd(), EV_READ, &sigsrc) == -1)
		log_fatal(EX_FAIL, "cannot set up epoll: %s", strerror(errno));
	/* Blocked across a live upgrade's exec: delivered to us now. */
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) == -1)
		log_fatal(EX_FAIL, "sigprocmask() failed: %s", strerror(errno));
}

/* The operator password, and the account to run as. */
static void
setup_password(void)
{
	char err[CONFIG_ERR_MAX], pw[PASSWORD_MAX + 2];
	bool random;

	if (service_check_account(&conf, err, sizeof(err)) == -1)
		log_fatal(EX_FAIL, "%s", err);
	if (conf_password_for(&conf, pw, sizeof(pw), &random, err,
	    sizeof(err)) == -1)
		log_fatal(EX_CONFIG, "%s", err);
	conf_password_set(pw, random);
}

/* What every start shares: logs, the service manager, epoll, signals. */
static void
setup_common(void)
{
	static const struct spawn_hooks hooks = { dispatch_drain,
	    master_child_gone, upgrade_reaped };
	struct buf text;

	log_init(config_journal(&conf));
	log_set_level(conf.log_level);
	service_init();
	server.started_ms = os_now_ms();
	spawn_init(&hooks);
	if ((server.ep = ev_open()) == -1)
		log_fatal(EX_FAIL, "cannot set up epoll: %s", strerror(errno));
	setup_signals();
	if (os_subreaper() == -1)
		log_fatal(EX_FAIL, "prctl(PR_SET_CHILD_SUBREAPER) failed: %s",
		    strerror(errno));
	if (accept_reserve_open() == -1)
		log_fatal(EX_FAIL, "cannot open /dev/null: %s", strerror(errno));
	/* A reload sends it to workers: start only with what a reload takes. */
	buf_init(&text, MSG_MAX_PAYLOAD);
	if (config_dump(&conf, &text) == -1)
		log_fatal(EX_CONFIG, "the configuration is too large to send "
		    "to workers");
	buf_free(&text);
}

/* A fresh start: listeners, the user, the forker, the spare pool. */
static void
setup_fresh(void)
{
	char err[CONFIG_ERR_MAX];

	log_notice("forkchatd %s starting, pid %ld", FORKCHAT_VERSION,
	    (long)getpid());
	setup_password();
	if (accept_open() == -1)
		exit(EX_FAIL);
	/* Before dropping privileges: the Redis password file is read. */
	if (cluster_start(&conf, err, sizeof(err)) == -1)
		log_fatal(EX_CONFIG, "%s", err);
	service_drop_privileges(&conf);
	if (limits_check(&conf, err, sizeof(err)) == -1)
		log_fatal(EX_CONFIG, "%s", err);
	/* Forked now, the forker holds no more than this; see forker.c. */
	if (forker_start(&conf) == -1)
		log_fatal(EX_FAIL, "cannot fork: %s", strerror(errno));
	spawn_refill(os_now_ms(), 0);
	master_ready();			/* now, if no spare is wanted */
}

/*
 * After a live upgrade: the forker and the spares of the old binary
 * go (new ones run this one); workers with clients stay, old code and
 * all, until their clients leave.  What was queued for them is sent.
 */
static void
setup_retire_old(void)
{
	const struct childq *lists[] = { &children.clients,
	    &children.leaving };
	struct child *c, *next;

	if (strcmp(forker_version(), FORKCHAT_VERSION) != 0)
		forker_stop();
	for (c = TAILQ_FIRST(&children.spares); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (strcmp(c->bin.version, FORKCHAT_VERSION) == 0)
			continue;
		child_set_state(c, CHILD_LEAVING);
		fan_control(c, MSG_SHUTDOWN);
	}
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		TAILQ_FOREACH(c, lists[i], entry)
			if (msgq_pending(&c->chan.out) > 0)
				fan_flush(c);
}

/* A live upgrade (or its rollback): the old master's state, taken over. */
static void
setup_takeover(void)
{
	char err[CONFIG_ERR_MAX];
	int kept;

	log_notice("forkchatd %s taking over, pid %ld", FORKCHAT_VERSION,
	    (long)getpid());
	kept = takeover_run();
	if (takeover_config_error()[0] != '\0')
		log_error("upgrade: %s; the configuration in force is kept",
		    takeover_config_error());
	if (limits_check(&conf, err, sizeof(err)) == -1)
		log_warning("%s", err);
	if (takeover_rolled_back()[0] != '\0')
		log_error("upgrade failed: %s; forkchatd %s runs on, %d "
		    "client%s kept", takeover_rolled_back(), FORKCHAT_VERSION,
		    kept, kept == 1 ? "" : "s");
	else
		log_notice("upgrade complete: %d client%s kept (the master was "
		    "away %lld ms)", kept, kept == 1 ? "" : "s",
		    (long long)takeover_away_ms());
	setup_retire_old();
	service_upgraded();
}

/* Set up the master: afresh, or taking over a running one. */
static void
setup(char **argv)
{
	setup_common();
	if (takeover_pending())
		setup_takeover();
	else
		setup_fresh();
	upgrade_init(argv, takeover_path());
}

/* "SIGINT" for the log: strsignal() says "Interrupt". */
static const char *
signame(int signo)
{
	return signo == SIGINT ? "SIGINT" : signo == SIGTERM ? "SIGTERM" :
	    signo == SIGQUIT ? "SIGQUIT" : signo == SIGHUP ? "SIGHUP" : "signal";
}

/* Past the grace period, asked twice, or SIGQUIT: kill what is left. */
static void
master_terminate(const char *why)
{
	unsigned n;

	server.phase = PHASE_KILLING;
	if ((n = spawn_kill_all()) > 0)
		log_notice("killing %u worker%s %s", n, n == 1 ? "" : "s", why);
}

/* Ask every child to say goodbye and exit; no new ones. */
static void
master_goodbye_all(void)
{
	struct childq *lists[] = { &children.starting, &children.spares,
	    &children.clients, &children.leaving };
	struct child *c, *next;

	forker_stop();
	/* fan_control may kill a child and move it off its list. */
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
		for (c = TAILQ_FIRST(lists[i]); c != NULL; c = next) {
			next = TAILQ_NEXT(c, entry);
			fan_control(c, MSG_SHUTDOWN);
		}
	}
}

/* SIGINT/SIGTERM: stop accepting, say goodbye, wait out the grace. */
static void
master_stop(int signo)
{
	if (server.phase != PHASE_RUNNING) {
		if (server.phase == PHASE_DRAINING) {
			log_notice("%s again: not waiting any longer",
			    signame(signo));
			master_terminate("still running");
		}
		return;
	}
	log_notice("%s: shutting down, %u client%s, grace %u s",
	    signame(signo), children.nclients,
	    children.nclients == 1 ? "" : "s", conf.shutdown_grace);
	reaped_at_stop = server.stats.reaped;
	server.phase = PHASE_DRAINING;
	service_stopping();
	accept_close();
	cluster_stop();			/* the others drop our clients now */
	master_goodbye_all();
	grace_deadline = os_now_ms() + (int64_t)conf.shutdown_grace * 1000;
	if (conf.shutdown_grace == 0)
		master_terminate("at once (shutdown_grace is 0)");
}

/* SIGQUIT: no goodbyes; kill every child and reap it. */
static void
master_quit(void)
{
	log_notice("SIGQUIT: immediate shutdown, %u client%s",
	    children.nclients, children.nclients == 1 ? "" : "s");
	if (server.phase == PHASE_RUNNING) {
		reaped_at_stop = server.stats.reaped;
		service_stopping();
	}
	accept_close();
	cluster_stop();
	master_terminate("at once");
}

/*
 * Drain the self-pipe, then act in a fixed order whatever order the
 * signals came in: a shutdown wins over a reload or an upgrade that
 * came with it (during an upgrade it waits for its end), and reaping
 * comes last.
 */
static void
master_signals(void)
{
	bool chld = false, hup = false, usr2 = false;
	int s;

	while ((s = sigpipe_next()) > 0) {
		if ((s == SIGINT || s == SIGTERM) && !upgrade_defer_stop(s))
			master_stop(s);
		else if (s == SIGQUIT)
			master_quit();
		hup |= s == SIGHUP;
		usr2 |= s == SIGUSR2;
		chld |= s == SIGCHLD;
	}
	if (s == -1)
		log_panic("reading the signal pipe: %s", strerror(errno));
	if (hup && server.phase == PHASE_RUNNING)
		reload_run();
	else if (hup)
		log_notice("SIGHUP ignored: shutting down");
	if (usr2)
		upgrade_request();
	if (chld)
		spawn_reap();
}

/* How long epoll may wait: until the nearest deadline, or forever. */
static int
master_timeout(int64_t now)
{
	int64_t d = OS_NO_DEADLINE;

	if (server.phase == PHASE_DRAINING)
		d = grace_deadline;
	if (server.phase == PHASE_RUNNING)
		d = os_nearer(d, spawn_retry_at());
	d = os_nearer(d, accept_deadline());
	d = os_nearer(d, service_deadline());
	d = os_nearer(d, fan_deadline());
	d = os_nearer(d, oper_deadline());
	d = os_nearer(d, upgrade_deadline());
	d = os_nearer(d, cluster_deadline());
	return os_timeout(d, now);
}

/* A worker's channel: what it says, or room to write to it. */
static void
master_channel(struct child *c, int events)
{
	if (c->state == CHILD_DEAD)
		return;
	if (events & (EV_READ | EV_ERROR))
		dispatch_event(c);
	if (events & EV_WRITE)
		fan_flush(c);
}

/* Handle one turn's events in the fixed order. */
static void
master_events(const struct ev_event *ev, int n)
{
	for (int i = 0; i < n; i++)
		if (((struct src *)ev[i].ptr)->kind == SRC_SIGNAL)
			master_signals();
	for (int i = 0; i < n; i++)
		if (((struct src *)ev[i].ptr)->kind == SRC_FORKER)
			spawn_forker_event();
	for (int i = 0; i < n; i++)
		if (((struct src *)ev[i].ptr)->kind == SRC_CHILD)
			master_channel(ev[i].ptr, ev[i].events);
	for (int i = 0; i < n; i++)
		if (((struct src *)ev[i].ptr)->kind == SRC_CLUSTER)
			cluster_event(ev[i].ptr, ev[i].events);
	for (int i = 0; i < n; i++)
		if (((struct src *)ev[i].ptr)->kind == SRC_UPGRADE)
			upgrade_event();
	for (int i = 0; i < n; i++)
		if (((struct src *)ev[i].ptr)->kind == SRC_LISTENER)
			accept_ready(ev[i].ptr);
}

/* Run until shutdown has reaped the last child. */
static void
master_loop(void)
{
	struct ev_event ev[MAX_EVENTS];
	int64_t now;
	int n, s;

	/* A stopping cluster member waits (bounded) for Redis to take its bye. */
	while (server.phase == PHASE_RUNNING || spawn_busy() ||
	    cluster_busy(os_now_ms())) {
		n = ev_wait(server.ep, ev, MAX_EVENTS,
		    master_timeout(os_now_ms()));
		if (n == -1 && errno != EINTR)
			log_fatal(EX_FAIL, "epoll_wait() failed: %s",
			    strerror(errno));
		if (n > 0)
			master_events(ev, n);
		now = os_now_ms();
		if (server.phase == PHASE_DRAINING && now >= grace_deadline)
			master_terminate("that did not exit within the grace "
			    "period");
		accept_end_turn(now);
		oper_tick(now);
		if (!upgrade_holding())
			spawn_refill(now, accept_waiting());
		master_ready();
		service_tick(now);
		cluster_tick(now);
		chat_end_turn();
		fan_end_turn();
		cluster_end_turn();
		child_collect();
		if ((s = upgrade_tick(now)) != 0)
			master_stop(s);		/* held while it ran */
	}
}

int
main(int argc, char **argv)
{
	takeover_begin(argv);
	options_parse(argc, argv);
	setup(argv);
	if (takeover_held_stop() != 0)
		master_stop(takeover_held_stop());
	master_loop();
	oper_flush_log();
	log_notice("shutdown complete: %llu worker%s reaped, %llu of them "
	    "killed",
	    (unsigned long long)(server.stats.reaped - reaped_at_stop),
	    server.stats.reaped - reaped_at_stop == 1 ? "" : "s",
	    (unsigned long long)server.stats.killed);
	accept_close();
	cluster_close();
	config_free(&conf);
	return EX_OK;
}
