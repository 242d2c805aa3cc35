/*
 * test_worker.c - unit tests for worker/worker.c: a forked child runs
 * worker_main() on one end of a socketpair, this program plays the
 * master on the other end (and the client, on a second socketpair
 * handed over with MSG_CLIENT).
 *
 * routes[] is checked frame by frame: every frame that breaks its row
 * (a type the master never sends, the wrong state, too few or too many
 * bytes, a descriptor where none belongs, a payload its handler
 * refuses) makes the worker exit EX_SOFTWARE; the frames that keep to
 * it do what they say, and every way a worker's life ends is EX_OK.
 * Each child has alarm(10): one that hangs dies of SIGALRM, and fails.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exits.h"
#include "msg.h"
#include "os.h"
#include "proto.h"
#include "unit.h"
#include "worker.h"

#define ID		5
#define WAIT_MS		5000	/* for anything the worker should send */

/* A worker under test, from the master's side. */
struct w {
	pid_t	 pid;
	int	 chan;			/* our end of its channel */
	int	 client;		/* the client's end, -1 if none */
	struct msgq q;			/* frames for it */
	struct msgin in;		/* frames from it */
	bool	 eof;			/* it closed the channel: it exited */
	bool	 hello;			/* its MSG_HELLO has come */
	char	 seen[8192];		/* what the client was sent */
	size_t	 nseen;
};

static struct config cfg;

/* Setup that cannot go on without: bail out of the whole run. */
static void
must(int ok, const char *what)
{
	if (!ok) {
		printf("Bail out! %s failed\n", what);
		exit(1);
	}
}

/* A non-blocking stream socketpair. */
static void
pair(int sv[2])
{
	must(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0, sv) == 0, "socketpair()");
}

/* Fork a spare worker, as the forker does. */
static void
start(struct w *w)
{
	int sv[2], null;

	memset(w, 0, sizeof(*w));
	pair(sv);
	(void)fflush(stdout);		/* nothing of ours printed twice */
	must((w->pid = fork()) != -1, "fork()");
	if (w->pid == 0) {
		(void)close(sv[0]);
		/* its log lines are expected; keep TAP output clean */
		if ((null = open("/dev/null", O_WRONLY)) != -1)
			(void)dup2(null, STDERR_FILENO);
		(void)alarm(10);
		worker_main(sv[1], &cfg);
	}
	(void)close(sv[1]);
	w->chan = sv[0];
	w->client = -1;
	msgq_init(&w->q, 0);
	msgin_init(&w->in);
}

/* Send the worker one frame, with fd (the queue's after) or -1. */
static void
put(struct w *w, enum msg_type type, const void *p, size_t len, int fd)
{
	if (fd == -1)
		must(msg_put(&w->q, type, ID, p, len) == 0, "msg_put()");
	else
		must(msg_put_fd(&w->q, type, ID, p, len, fd) == 0,
		    "msg_put_fd()");
	must(msg_flush(w->chan, &w->q) == 0, "msg_flush()");
}

/* A u32 payload. */
static void
put_u32(struct w *w, enum msg_type type, uint32_t v)
{
	put(w, type, &v, sizeof(v), -1);
}

/* MSG_CLIENT: hand the worker a client with this read timeout. */
static void
hand_client(struct w *w, uint32_t read_timeout)
{
	struct msg_build b;
	int sv[2];

	pair(sv);
	msg_b_init(&b);
	msg_b_u32(&b, read_timeout);
	msg_b_str(&b, "alice", 5);
	msg_b_str(&b, "127.0.0.1:4000", 14);
	put(w, MSG_CLIENT, b.data, b.len, sv[1]);
	w->client = sv[0];
}

/* Wait for fd to be readable, up to WAIT_MS; false if it never was. */
static bool
wait_in(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int n;

	do {
		n = poll(&pfd, 1, WAIT_MS);
	} while (n == -1 && errno == EINTR);
	return n == 1;
}

/* The next frame from the worker: its type, text in text; 0 if none. */
static int
next(struct w *w, char *text, size_t size)
{
	struct msg m;
	const char *p;
	size_t n;
	int r;

	while ((r = msg_get(&w->in, &m)) == 0) {
		if (!wait_in(w->chan))
			return 0;
		if (msg_read(w->chan, &w->in, 65536) <= 0) {
			w->eof = true;
			return 0;
		}
	}
	text[0] = '\0';
	if (r == 1 && m.h.type == MSG_HELLO && !w->hello) {
		w->hello = true;	/* the first frame of every worker */
		return next(w, text, size);
	}
	if (r != 1 || m.h.id != ID)
		return -1;
	if (msg_rest(&m, &p, &n) == 0 && n < size) {
		memcpy(text, p, n);
		text[n] = '\0';
	}
	return m.h.type;
}

/* True if the next frame is type, with this text. */
static bool
sent(struct w *w, enum msg_type type, const char *want)
{
	char text[256];

	return next(w, text, sizeof(text)) == (int)type &&
	    strcmp(text, want) == 0;
}

/* True once the client has been sent want; false at EOF or timeout. */
static bool
told(struct w *w, const char *want)
{
	ssize_t n;

	for (;;) {
		w->seen[w->nseen] = '\0';
		if (strstr(w->seen, want) != NULL)
			return true;
		if (w->nseen == sizeof(w->seen) - 1 || !wait_in(w->client))
			return false;
		n = read(w->client, w->seen + w->nseen,
		    sizeof(w->seen) - 1 - w->nseen);
		if (n <= 0)
			return false;
		w->nseen += (size_t)n;
	}
}

/* True if the client's socket reaches EOF (after what it was sent). */
static bool
client_eof(struct w *w)
{
	char buf[512];
	ssize_t n;

	while (wait_in(w->client))
		if ((n = read(w->client, buf, sizeof(buf))) <= 0)
			return n == 0;
	return false;
}

/* The client types s. */
static void
type(struct w *w, const char *s)
{
	must(write(w->client, s, strlen(s)) == (ssize_t)strlen(s), "write()");
}

/* Close our ends and reap: the exit status, or -1 if it was killed. */
static int
finish(struct w *w)
{
	int st;

	(void)close(w->chan);
	if (w->client != -1)
		(void)close(w->client);
	msgq_free(&w->q);
	msgin_free(&w->in);
	if (waitpid(w->pid, &st, 0) != w->pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Wait for the worker to leave on its own; its exit status. */
static int
finish_alone(struct w *w)
{
	char text[8];

	while (next(w, text, sizeof(text)) > 0)
		;			/* up to EOF: it has exited */
	return finish(w);
}

/* A spare: MSG_SHUTDOWN and EOF end it well; MSG_CONFIG is taken. */
static void
test_spare(void)
{
	static const char good[] = "flood_rate = 3\nmax_line = 100\n";
	static const char bad[] = "no_such_key = 1\n";
	struct w w;

	start(&w);
	put(&w, MSG_SHUTDOWN, NULL, 0, -1);
	CHECK(finish_alone(&w) == EX_OK, "a spare told to shut down exits 0");
	start(&w);
	CHECK(finish(&w) == EX_OK, "a spare whose master is gone exits 0");
	start(&w);
	put(&w, MSG_CONFIG, good, sizeof(good) - 1, -1);
	put(&w, MSG_SHUTDOWN, NULL, 0, -1);
	CHECK(finish_alone(&w) == EX_OK, "a spare takes a good MSG_CONFIG");
	start(&w);
	put(&w, MSG_CONFIG, bad, sizeof(bad) - 1, -1);
	CHECK(finish_alone(&w) == EX_SOFTWARE,
	    "a MSG_CONFIG it cannot parse: EX_SOFTWARE");
}

/* Frames a spare must not get: each one is EX_SOFTWARE. */
static void
test_spare_violations(void)
{
	static const char text[] = "hello";
	struct w w;
	int sv[2];

	start(&w);
	put_u32(&w, MSG_OPER_RESULT, 1);
	CHECK(finish_alone(&w) == EX_SOFTWARE,
	    "MSG_OPER_RESULT to a spare (wrong state)");
	start(&w);
	put(&w, MSG_LINE, text, 5, -1);
	CHECK(finish_alone(&w) == EX_SOFTWARE, "MSG_LINE to a spare");
	start(&w);
	put(&w, MSG_SAY, text, 5, -1);
	CHECK(finish_alone(&w) == EX_SOFTWARE,
	    "MSG_SAY, a type only workers send");
	start(&w);
	put(&w, MSG_CLIENT, "\0\0\0\0a\0b\0", 8, -1);
	CHECK(finish_alone(&w) == EX_SOFTWARE, "MSG_CLIENT without a socket");
	start(&w);
	pair(sv);
	(void)close(sv[0]);
	put(&w, MSG_CLIENT, "\0\0\0\0a\0", 6, sv[1]);
	CHECK(finish_alone(&w) == EX_SOFTWARE,
	    "MSG_CLIENT of 6 bytes (fewer than its row's 8)");
	start(&w);
	pair(sv);
	(void)close(sv[0]);
	put(&w, MSG_CLIENT, "\0\0\0\0a\0b\0c\0", 10, sv[1]);
	CHECK(finish_alone(&w) == EX_SOFTWARE,
	    "MSG_CLIENT with bytes left over (its handler refuses)");
	start(&w);
	pair(sv);
	(void)close(sv[0]);
	put(&w, MSG_SHUTDOWN, NULL, 0, sv[1]);
	CHECK(finish_alone(&w) == EX_SOFTWARE,
	    "MSG_SHUTDOWN carrying a descriptor");
}

/* A worker with a client: frames that break their row, each one. */
static void
test_active_violations(void)
{
	static const struct {
		enum msg_type type;
		size_t	 len;
		const char *what;
	} bad[] = {
		{ MSG_SET_TIMEOUT, 3, "MSG_SET_TIMEOUT of 3 bytes" },
		{ MSG_SET_TIMEOUT, 5, "MSG_SET_TIMEOUT of 5 bytes" },
		{ MSG_OPER_RESULT, 0, "an empty MSG_OPER_RESULT" },
		{ MSG_LINE, 0, "an empty MSG_LINE" },
		{ MSG_CLOSE, 1025, "MSG_CLOSE of 1025 bytes" },
		{ MSG_JOB, 8, "MSG_JOB, a type only workers send" },
	};
	static const char zeros[2048];
	struct w w;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		start(&w);
		hand_client(&w, 0);
		put(&w, bad[i].type, zeros, bad[i].len, -1);
		CHECK(finish_alone(&w) == EX_SOFTWARE, "%s: EX_SOFTWARE",
		    bad[i].what);
	}
	start(&w);
	hand_client(&w, 0);
	put_u32(&w, MSG_OPER_RESULT, 2);
	CHECK(finish_alone(&w) == EX_SOFTWARE, "MSG_OPER_RESULT neither 0 "
	    "nor 1");
	start(&w);
	hand_client(&w, 0);
	put_u32(&w, MSG_SET_TIMEOUT, PROTO_TIMEOUT_MAX + 1);
	CHECK(finish_alone(&w) == EX_SOFTWARE, "MSG_SET_TIMEOUT past a week");
	start(&w);
	hand_client(&w, 0);
	put(&w, MSG_CLOSE, "bye\r\nfake line", 14, -1);
	CHECK(finish_alone(&w) == EX_SOFTWARE, "MSG_CLOSE text with CRLF");
	start(&w);
	hand_client(&w, 0);
	hand_client(&w, 0);
	CHECK(finish_alone(&w) == EX_SOFTWARE, "a second MSG_CLIENT");
}

/* A client's session: greeting, chat both ways, kicked at the end. */
static void
test_session(void)
{
	static const char line[] = "<bob> hi alice\r\n";
	static const char kick[] = "*** you were kicked by op (enough)";
	char text[8];
	struct w w;

	start(&w);
	hand_client(&w, 0);
	CHECK(told(&w, "*** welcome to forkchat, alice! You are client #5. "
	    "Type /help for commands.\r\n"), "MSG_CLIENT: the client is "
	    "greeted");
	type(&w, "hello\n");
	CHECK(sent(&w, MSG_SAY, "hello"), "a line it types: MSG_SAY");
	put(&w, MSG_LINE, line, sizeof(line) - 1, -1);
	CHECK(told(&w, line), "MSG_LINE: the bytes reach the client");
	put(&w, MSG_CLOSE, kick, sizeof(kick) - 1, -1);
	CHECK(told(&w, "*** you were kicked by op (enough)\r\n") &&
	    client_eof(&w), "MSG_CLOSE: the last line, then EOF");
	CHECK(next(&w, text, sizeof(text)) == 0 && w.eof &&
	    finish(&w) == EX_OK, "then it exits 0, no MSG_BYE: the master "
	    "knows");
}

/* Every other way a session ends: each is EX_OK. */
static void
test_endings(void)
{
	struct w w;

	start(&w);
	hand_client(&w, 0);
	type(&w, "/quit bye all\n");
	CHECK(sent(&w, MSG_BYE, "bye all"), "/quit: MSG_BYE with its reason");
	put(&w, MSG_LINE, "an answer\r\n", 11, -1);
	put(&w, MSG_DONE, NULL, 0, -1);
	CHECK(told(&w, "an answer\r\n*** goodbye\r\n") && client_eof(&w),
	    "the master's answers, MSG_DONE, then goodbye and EOF");
	CHECK(finish_alone(&w) == EX_OK, "then it exits 0");
	start(&w);
	hand_client(&w, 0);
	(void)shutdown(w.client, SHUT_WR);
	CHECK(sent(&w, MSG_BYE, "connection closed"),
	    "a half-close: MSG_BYE \"connection closed\"");
	put(&w, MSG_DONE, NULL, 0, -1);
	CHECK(told(&w, "*** goodbye\r\n") && client_eof(&w) &&
	    finish_alone(&w) == EX_OK, "MSG_DONE: goodbye, EOF, exit 0");
	start(&w);
	hand_client(&w, 0);
	put(&w, MSG_SHUTDOWN, NULL, 0, -1);
	CHECK(told(&w, "*** server shutting down\r\n") && client_eof(&w) &&
	    finish_alone(&w) == EX_OK, "MSG_SHUTDOWN: said, EOF, exit 0");
	start(&w);
	hand_client(&w, 1);
	CHECK(told(&w, "*** read timeout (1 s): you sent no line for 1 s") &&
	    sent(&w, MSG_EXPIRED, "read timeout after 1 s") &&
	    finish_alone(&w) == EX_OK, "a read timeout of 1 s: said, "
	    "MSG_EXPIRED, exit 0");
	start(&w);
	hand_client(&w, 0);
	CHECK(told(&w, "*** welcome"), "greeted");
	(void)shutdown(w.chan, SHUT_WR);
	CHECK(told(&w, "*** server went away\r\n") && client_eof(&w) &&
	    finish(&w) == EX_OK, "the master gone: said, exit 0");
}

/* /oper waits for MSG_OPER_RESULT; /pipe runs a job to its end. */
static void
test_oper_pipe(void)
{
	char text[256];
	struct w w;

	start(&w);
	hand_client(&w, 0);
	type(&w, "/oper nope\nafter\n");
	CHECK(sent(&w, MSG_OPER, "nope"), "/oper: MSG_OPER");
	put_u32(&w, MSG_OPER_RESULT, 0);
	CHECK(told(&w, "ERR wrong password\r\n") && sent(&w, MSG_SAY, "after"),
	    "refused: said, and the line held meanwhile goes on");
	type(&w, "/pipe cat meow\n");
	CHECK(next(&w, text, sizeof(text)) == MSG_JOB &&
	    strcmp(text + 4, "cat") == 0, "/pipe: MSG_JOB with its name");
	CHECK(told(&w, "[cat] meow\r\n") &&
	    told(&w, "*** end of /pipe cat\r\n"),
	    "its output and its end reach the client");
	CHECK(next(&w, text, sizeof(text)) == MSG_JOB_END,
	    "reaped: MSG_JOB_END");
	put(&w, MSG_SHUTDOWN, NULL, 0, -1);
	CHECK(finish_alone(&w) == EX_OK, "then it exits 0");
}

int
main(void)
{
	char err[CONFIG_ERR_MAX];

	must(signal(SIGPIPE, SIG_IGN) != SIG_ERR, "signal()");
	config_defaults(&cfg);
	must(config_set(&cfg, "pipe.cat", "/bin/cat", err, sizeof(err)) == 0,
	    "config_set()");
	test_spare();
	test_spare_violations();
	test_active_violations();
	test_session();
	test_endings();
	test_oper_pipe();
	config_free(&cfg);
	return unit_done();
}
