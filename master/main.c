/*
 * main.c - forkchatd's master: options, configuration, set-up, the event
 * loop, and shutdown in stages.
 *
 * The loop waits in epoll with a timeout taken from the nearest deadline
 * and, each turn, acts in a fixed order: signals (shutdown first, then
 * reaping), worker channels, new connections; then deadlines, the spare
 * pool, and one flush of everything queued during the turn.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ev.h"
#include "log.h"
#include "master.h"
#include "os.h"
#include "sigpipe.h"
#include "sock.h"

#define EX_OK		0
#define EX_FAIL		1
#define EX_USAGE	2
#define EX_CONFIG	78
#define MAX_EVENTS	256

struct master M;

static uint64_t reaped_at_stop;		/* for the shutdown summary */

/* The synopsis and options, to stdout (-h) or stderr (a usage error). */
static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: forkchatd [-htV] [-c file] [-l addr:port]... "
	    "[-o key=value]...\n"
	    "  -c file        read the configuration from file\n"
	    "  -l addr:port   listen here instead of the configured "
	    "addresses (repeatable)\n"
	    "  -o key=value   set a configuration key, over the file "
	    "(repeatable)\n"
	    "  -t             check the configuration and exit\n"
	    "  -h             show this help and exit\n"
	    "  -V             show the version and exit\n"
	    "See forkchatd(8) and forkchatd.conf(5).\n");
}

/* A configuration error: say it and exit 78 (EX_CONFIG). */
static _Noreturn void
config_fail(const char *what, const char *err)
{
	fprintf(stderr, "forkchatd: %s%s%s\n", what, *what ? ": " : "", err);
	exit(EX_CONFIG);
}

/* "-o" wants key=value: anything else is a usage error (exit 2). */
static void
check_override(const char *kv)
{
	const char *eq = strchr(kv, '=');

	if (eq == NULL || eq == kv || eq - kv >= 64) {
		fprintf(stderr, "forkchatd: -o takes key=value, not '%s'\n", kv);
		usage(stderr);
		exit(EX_USAGE);
	}
}

/* Parse the command line and build the configuration; -t ends here. */
static void
configure(int argc, char **argv)
{
	static char *listens[CONFIG_MAX_LISTEN], *ov[64];
	char err[CONFIG_ERR_MAX];
	int ch, test = 0;

	while ((ch = getopt(argc, argv, "c:hl:o:tV")) != -1) {
		switch (ch) {
		case 'c':
			M.config_path = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(EX_OK);
		case 'l':
			if (M.ncli_listen == CONFIG_MAX_LISTEN)
				config_fail("-l", "too many addresses (max 16)");
			listens[M.ncli_listen++] = optarg;
			break;
		case 'o':
			if (M.noverrides == (int)(sizeof(ov) / sizeof(ov[0])))
				config_fail("-o", "too many overrides (max 64)");
			check_override(optarg);
			ov[M.noverrides++] = optarg;
			break;
		case 't':
			test = 1;
			break;
		case 'V':
			printf("forkchatd %s\n", FORKCHAT_VERSION);
			exit(EX_OK);
		default:
			usage(stderr);
			exit(EX_USAGE);
		}
	}
	if (optind != argc) {
		fprintf(stderr, "forkchatd: unexpected argument '%s'\n",
		    argv[optind]);
		usage(stderr);
		exit(EX_USAGE);
	}
	M.cli_listen = listens;
	M.overrides = ov;
	if (conf_build(&M.cfg, err, sizeof(err)) == -1)
		config_fail("", err);
	if (test) {
		/* A password file must be readable; a random one is not made. */
		if ((M.cfg.oper_password_file != NULL &&
		    conf_password(&M.cfg, M.password, sizeof(M.password), err,
		    sizeof(err)) == -1) ||
		    service_check_account(&M.cfg, err, sizeof(err)) == -1 ||
		    limits_check(&M.cfg, err, sizeof(err)) == -1)
			config_fail("", err);
		printf("forkchatd: configuration %s is ok\n",
		    M.config_path ? M.config_path : "(built-in defaults)");
		exit(EX_OK);
	}
}

/* Ready once the first spares are up (or could not be forked). */
static void
master_ready(void)
{
	if (M.ready || M.nstarting > 0 || M.phase != PHASE_RUNNING)
		return;
	M.ready = true;
	log_notice("ready: %u spare worker%s, up to %u client%s", M.nspares,
	    M.nspares == 1 ? "" : "s", M.cfg.max_clients,
	    M.cfg.max_clients == 1 ? "" : "s");
	service_ready();
}

/* Signals, subreaper, epoll, listeners, the spare pool. */
static void
setup(void)
{
	static const int caught[] = { SIGINT, SIGTERM, SIGQUIT, SIGHUP,
	    SIGCHLD };
	char err[CONFIG_ERR_MAX];
	struct buf text;

	log_init(config_journal(&M.cfg));
	log_set_level(M.cfg.log_level);
	service_init();
	M.started_ms = os_now_ms();
	spawn_init();
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR || sigpipe_open() == -1)
		log_fatal(EX_FAIL, "cannot set up signal handling: %s",
		    strerror(errno));
	for (size_t i = 0; i < sizeof(caught) / sizeof(caught[0]); i++)
		if (sigpipe_catch(caught[i]) == -1)
			log_fatal(EX_FAIL, "sigaction(%d) failed: %s", caught[i],
			    strerror(errno));
	if (os_subreaper() == -1)
		log_fatal(EX_FAIL, "prctl(PR_SET_CHILD_SUBREAPER) failed: %s",
		    strerror(errno));
	M.sigsrc.kind = SRC_SIGNAL;
	if ((M.ep = ev_open()) == -1 ||
	    ev_add(M.ep, sigpipe_fd(), EV_READ, &M.sigsrc) == -1)
		log_fatal(EX_FAIL, "cannot set up epoll: %s", strerror(errno));
	if (accept_reserve_open() == -1)
		log_fatal(EX_FAIL, "cannot open /dev/null: %s", strerror(errno));
	/* A reload sends it to workers: start only with what a reload takes. */
	buf_init(&text, MSG_MAX_PAYLOAD);
	if (config_dump(&M.cfg, &text) == -1)
		log_fatal(EX_CONFIG, "the configuration is too large to send "
		    "to workers");
	buf_free(&text);
	log_notice("forkchatd %s starting, pid %ld", FORKCHAT_VERSION,
	    (long)getpid());
	if (service_check_account(&M.cfg, err, sizeof(err)) == -1)
		log_fatal(EX_FAIL, "%s", err);
	if (conf_password(&M.cfg, M.password, sizeof(M.password), err,
	    sizeof(err)) == -1)
		log_fatal(EX_CONFIG, "%s", err);
	if (accept_open() == -1)
		exit(EX_FAIL);
	service_drop_privileges(&M.cfg);
	if (limits_check(&M.cfg, err, sizeof(err)) == -1)
		log_fatal(EX_CONFIG, "%s", err);
	/* Forked now, the forker holds no more than this; see forker.c. */
	if (forker_start() == -1)
		log_fatal(EX_FAIL, "cannot fork: %s", strerror(errno));
	spawn_refill(os_now_ms());
	master_ready();			/* now, if no spare is wanted */
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
	uint64_t before = M.stats.killed;

	M.phase = PHASE_KILLING;
	spawn_kill_all();
	if (M.stats.killed > before)
		log_notice("killing %llu worker%s %s",
		    (unsigned long long)(M.stats.killed - before),
		    M.stats.killed - before == 1 ? "" : "s", why);
}

/* SIGINT/SIGTERM: stop accepting, say goodbye, wait out the grace. */
static void
master_stop(int signo)
{
	if (M.phase != PHASE_RUNNING) {
		if (M.phase == PHASE_DRAINING) {
			log_notice("%s again: not waiting any longer",
			    signame(signo));
			master_terminate("still running");
		}
		return;
	}
	log_notice("%s: shutting down, %u client%s, grace %u s",
	    signame(signo), M.nclients, M.nclients == 1 ? "" : "s",
	    M.cfg.shutdown_grace);
	reaped_at_stop = M.stats.reaped;
	M.phase = PHASE_DRAINING;
	service_stopping();
	accept_close();
	spawn_signal_all();
	M.grace_deadline = os_now_ms() + (int64_t)M.cfg.shutdown_grace * 1000;
	if (M.cfg.shutdown_grace == 0)
		master_terminate("at once (shutdown_grace is 0)");
}

/* SIGQUIT: no goodbyes; kill every child and reap it. */
static void
master_quit(void)
{
	log_notice("SIGQUIT: immediate shutdown, %u client%s", M.nclients,
	    M.nclients == 1 ? "" : "s");
	if (M.phase == PHASE_RUNNING) {
		reaped_at_stop = M.stats.reaped;
		service_stopping();
	}
	accept_close();
	master_terminate("at once");
}

/* Drain the self-pipe: shutdown requests first, then reap. */
static void
master_signals(void)
{
	bool chld = false;
	int s;

	while ((s = sigpipe_next()) > 0) {
		switch (s) {
		case SIGINT:
		case SIGTERM:
			master_stop(s);
			break;
		case SIGQUIT:
			master_quit();
			break;
		case SIGHUP:
			if (M.phase == PHASE_RUNNING)
				conf_reload();
			else
				log_notice("SIGHUP ignored: shutting down");
			break;
		case SIGCHLD:
			chld = true;
			break;
		default:
			break;
		}
	}
	if (s == -1)
		log_panic("reading the signal pipe: %s", strerror(errno));
	if (chld)
		spawn_reap();
}

/* The nearer of two deadlines, 0 meaning none. */
static int64_t
nearer(int64_t a, int64_t b)
{
	if (a == 0)
		return b;
	return b == 0 || a < b ? a : b;
}

/* How long epoll may wait: until the nearest deadline, or forever. */
static int
master_timeout(int64_t now)
{
	int64_t d = 0;

	if (M.phase == PHASE_DRAINING)
		d = M.grace_deadline;
	if (M.spawn_retry > now && M.phase == PHASE_RUNNING)
		d = nearer(d, M.spawn_retry);
	d = nearer(d, M.accept_resume);
	d = nearer(d, service_deadline());
	d = nearer(d, relay_deadline());
	if (d == 0)
		return -1;
	if (d <= now)
		return 0;
	return d - now > INT_MAX ? INT_MAX : (int)(d - now);
}

/* Handle one turn's events in the fixed order. */
static void
master_events(const struct ev_event *ev, int n)
{
	struct child *c;

	for (int i = 0; i < n; i++)
		if (((struct src *)ev[i].ptr)->kind == SRC_SIGNAL)
			master_signals();
	for (int i = 0; i < n; i++)
		if (((struct src *)ev[i].ptr)->kind == SRC_FORKER)
			spawn_forker_ready();
	for (int i = 0; i < n; i++) {
		if (((struct src *)ev[i].ptr)->kind != SRC_CHILD)
			continue;
		c = ev[i].ptr;
		if (c->state == CHILD_DEAD)
			continue;
		if (ev[i].events & (EV_READ | EV_ERROR))
			relay_dispatch(c);
		if (ev[i].events & EV_WRITE)
			relay_flush(c);
	}
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
	int n;

	while (M.phase == PHASE_RUNNING || M.nchildren > 0 ||
	    M.norphans > 0 || forker_running()) {
		n = ev_wait(M.ep, ev, MAX_EVENTS, master_timeout(os_now_ms()));
		if (n == -1 && errno != EINTR)
			log_fatal(EX_FAIL, "epoll_wait() failed: %s",
			    strerror(errno));
		if (n > 0)
			master_events(ev, n);
		now = os_now_ms();
		if (M.phase == PHASE_DRAINING && now >= M.grace_deadline)
			master_terminate("that did not exit within the grace "
			    "period");
		accept_resume_all(now);
		spawn_refill(now);
		master_ready();
		service_tick(now);
		relay_flush_dirty();
		spawn_collect();
	}
}

int
main(int argc, char **argv)
{
	configure(argc, argv);
	setup();
	master_loop();
	log_notice("shutdown complete: %llu worker%s reaped, %llu of them "
	    "killed", (unsigned long long)(M.stats.reaped - reaped_at_stop),
	    M.stats.reaped - reaped_at_stop == 1 ? "" : "s",
	    (unsigned long long)M.stats.killed);
	accept_close();
	config_free(&M.cfg);
	return EX_OK;
}
