/*
 * test_spawn.c - unit tests for master/spawn.c, the child table: the
 * states a worker goes through (starting, spare, client, leaving,
 * reaped), with the test playing the forker so that it decides when
 * answers come: a worker reaped before the forker's answer brought its
 * pid, a worker killed while still starting, a fork that failed, a
 * client's worker that dies, and the forker's own end.
 */
#include <sys/wait.h>

#include "forker.h"
#include "master_harness.h"

static int forker_end = -1;		/* the test's side, as the forker */
static char gone_why[128];		/* what the hook was told last */
static int ngone, ndrained;

/* Hooks that record what spawn.c tells the module above. */
static void
test_drain(struct child *c)
{
	(void)c;
	ndrained++;
}

static void
test_gone(struct child *c, const char *why)
{
	(void)c;
	ngone++;
	(void)snprintf(gone_why, sizeof(gone_why), "%s", why);
}

static bool
test_other(pid_t pid, int status)
{
	(void)pid;
	(void)status;
	return false;
}

/* One request from the master: the channel end it passed; -1 if none. */
static int
take_request(void)
{
	char cbuf[CMSG_SPACE(sizeof(int))], byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr mh;
	struct cmsghdr *cm;
	int fd = -1;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof(cbuf);
	if (recvmsg(forker_end, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) != 1 ||
	    (cm = CMSG_FIRSTHDR(&mh)) == NULL)
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(fd));
	return fd;
}

/* The forker's answer to the oldest request, then the master reads it. */
static void
answer(int32_t a)
{
	must(send(forker_end, &a, sizeof(a), 0) == sizeof(a), "answer");
	spawn_forker_event();
}

/* A worker that exits with status at once; its pid, once it is a zombie. */
static pid_t
exits_at_once(int status)
{
	siginfo_t si;
	pid_t pid = fork();

	must(pid != -1, "fork");
	if (pid == 0)
		_exit(status);
	must(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) == 0, "waitid");
	return pid;
}

/* Reap until pid is gone from the table (bounded). */
static void
reap_until_dead(pid_t pid)
{
	for (int i = 0; i < 1000 && child_find(pid) != NULL; i++) {
		spawn_reap();
		if (child_find(pid) != NULL)
			(void)poll(NULL, 0, 1);
	}
}

/* spare -> client -> reaped, and a worker reaped before its answer. */
static void
test_life(void)
{
	struct child *c;
	pid_t spare, early;
	int ch1, ch2;

	conf.spare_workers = 2;
	spawn_refill(os_now_ms(), 0);
	CHECK(children.nstarting == 2 && children.nspares == 0,
	    "refill asks the forker for two spares");
	ch1 = take_request();
	ch2 = take_request();
	CHECK(ch1 != -1 && ch2 != -1 && take_request() == -1,
	    "two requests, each with a channel end");
	spare = harness_sleeper();
	early = exits_at_once(0);
	spawn_reap();
	CHECK(children.nstarting == 2 && server.stats.reaped == 0,
	    "a worker reaped before its answer is kept, not counted yet");
	answer((int32_t)spare);
	answer((int32_t)early);
	CHECK(children.nspares == 1 && children.nstarting == 0 &&
	    server.stats.forked == 2 && server.stats.reaped == 1 &&
	    server.stats.crashed == 0 && child_find(early) == NULL,
	    "its answer comes: counted as reaped, cleanly; the other a spare");
	CHECK(ngone == 0, "a spare's end tells the chat nothing");
	must((c = spawn_take_spare()) != NULL, "spawn_take_spare");
	CHECK(c->pid == spare && c->state == CHILD_CLIENT &&
	    children.nclients == 1 && children.nspares == 0,
	    "the spare is taken for a client");
	c->client.id = 1;
	must(kill(spare, SIGKILL) == 0, "kill");
	reap_until_dead(spare);
	CHECK(child_find(spare) == NULL && server.stats.crashed == 1 &&
	    ngone == 1 && strcmp(gone_why, "worker died: signal 9") == 0,
	    "a client's worker killed from outside: crashed, the chat told "
	    "'%s'", gone_why);
	CHECK(ndrained == 2 && server.stats.reaped == 2,
	    "each reaped worker's last frames were read first");
	CHECK(children.nclients == 0 && children.nchildren == 0,
	    "the table is empty");
	child_collect();
	(void)close(ch1);
	(void)close(ch2);
}

/* Killed while starting: never a spare; a failed fork: retry later. */
static void
test_starting(void)
{
	struct child *c;
	pid_t pid;
	int ch;

	conf.spare_workers = 1;
	spawn_refill(os_now_ms(), 0);
	ch = take_request();
	c = TAILQ_FIRST(&children.starting);
	spawn_kill(c, "test");
	CHECK(c->proc.killed && c->state == CHILD_STARTING,
	    "killed while starting: it keeps its place in line");
	pid = harness_sleeper();
	answer((int32_t)pid);
	CHECK(c->state == CHILD_LEAVING && children.nspares == 0,
	    "its answer comes: leaving, never a spare");
	reap_until_dead(pid);
	CHECK(child_find(pid) == NULL && server.stats.crashed == 1,
	    "reaped, and not counted as a crash: we killed it");
	child_collect();
	(void)close(ch);

	spawn_refill(os_now_ms(), 0);
	ch = take_request();
	answer(-EAGAIN);
	CHECK(children.nstarting == 0 && children.nspares == 0 &&
	    spawn_retry_at() != OS_NO_DEADLINE,
	    "a fork that failed: no spare, a retry deadline");
	spawn_refill(os_now_ms(), 0);
	CHECK(take_request() == -1, "nothing is asked before it");
	child_collect();
	(void)close(ch);
}

/* The forker's end: reaped as the forker, not as a worker. */
static void
test_forker_end(pid_t fake)
{
	(void)close(forker_end);
	spawn_forker_event();
	must(kill(fake, SIGKILL) == 0, "kill");
	for (int i = 0; i < 1000 && forker_running(); i++) {
		spawn_reap();
		if (forker_running())
			(void)poll(NULL, 0, 1);
	}
	CHECK(!forker_running() && !spawn_busy(),
	    "the forker reaped, nothing left to wait for (%u children, "
	    "forker %s)", children.nchildren, forker_running() ? "running" :
	    "gone");
}

int
main(void)
{
	static const struct spawn_hooks hooks = { test_drain, test_gone,
	    test_other };
	char err[CONFIG_ERR_MAX];
	pid_t fake;
	int sv[2];

	must(conf_build(&conf, err, sizeof(err)) == 0, "conf_build");
	must((server.ep = ev_open()) != -1, "ev_open");
	spawn_init(&hooks);
	fake = harness_sleeper();	/* first: it must not hold our end */
	must(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0,
	    "socketpair");
	forker_attach(sv[0], fake, "test");
	forker_end = sv[1];
	test_life();
	test_starting();
	test_forker_end(fake);
	return unit_done();
}
