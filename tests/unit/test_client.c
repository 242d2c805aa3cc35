/*
 * test_client.c - unit tests for worker/client.c: the flood bucket, read
 * timeout and /oper pacing arithmetic as pure functions, then a client
 * driven in process over a real socketpair with chosen clock readings:
 * lines held back by the bucket and let go as it refills, the read
 * timeout and when it does not run, /oper holding input until the
 * master answers, /quit, a client that does not read (too slow), a line
 * too long, the note that keeps the master's idea of "idle" honest, and
 * a client that hangs up.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client.h"
#include "msg.h"
#include "os.h"
#include "proto.h"
#include "unit.h"

#define ID	9

/* A client under test: its struct, our end of its socket, its frames. */
struct t {
	struct config cfg;
	struct out out;
	struct client c;
	int	 peer;			/* the person at the keyboard */
	struct msgin in;		/* frames for the master, read back */
	int64_t	 t0;			/* the clock when it started */
};

/* Setup that cannot go on without: bail out of the whole run. */
static void
must(int ok, const char *what)
{
	if (!ok) {
		printf("Bail out! %s failed\n", what);
		exit(1);
	}
}

/* client_flood_refill and client_flood_due. */
static void
test_flood_math(void)
{
	CHECK(client_flood_refill(0, 500, 2, 5) == 1000,
	    "2 lines/s: half a second earns a line");
	CHECK(client_flood_refill(4500, 10000, 2, 5) == 5000,
	    "the bucket holds burst lines at most");
	CHECK(client_flood_refill(-3000, 1000, 1, 5) == -2000,
	    "a bucket in debt earns its way back");
	CHECK(client_flood_refill(700, 0, 3, 2) == 700, "no time, no tokens");
	CHECK(client_flood_due(0, 2, 100) == 600,
	    "empty at 2 lines/s: a line in 500 ms");
	CHECK(client_flood_due(999, 3, 100) == 101,
	    "one token short: the next millisecond (rounded up)");
	CHECK(client_flood_due(-1000, 1, 0) == 2000,
	    "a line in debt at 1 line/s: two seconds");
	CHECK(client_flood_due(1000, 2, 100) == 0 &&
	    client_flood_due(0, 0, 100) == 0,
	    "a bucket holding a line, or none at all: no deadline");
}

/* client_timeout_due and client_oper_delay. */
static void
test_timeout_math(void)
{
	CHECK(client_timeout_due(0, 12345) == 0, "no read timeout: 0");
	CHECK(client_timeout_due(30, 1000) == 31000,
	    "30 s after the last line");
	CHECK(client_timeout_due(PROTO_TIMEOUT_MAX, 1) ==
	    1 + (int64_t)PROTO_TIMEOUT_MAX * 1000, "a week, without overflow");
	CHECK(client_oper_delay(0) == 0 && client_oper_delay(2) == 0,
	    "two wrong passwords cost nothing");
	CHECK(client_oper_delay(3) == 2000 && client_oper_delay(4) == 4000,
	    "then two seconds more for each");
	CHECK(client_oper_delay(17) == 30000 && client_oper_delay(1000) ==
	    30000, "up to thirty seconds");
}

/* A client started at the clock reading t0, with cfg's settings. */
static void
start(struct t *t, int64_t t0, unsigned read_timeout)
{
	int sv[2];

	must(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0, sv) == 0, "socketpair()");
	t->peer = sv[0];
	t->t0 = t0;
	out_init(&t->out, t->cfg.max_output_queue, 0);
	client_init(&t->c, &t->cfg, &t->out);
	msgin_init(&t->in);
	client_start(&t->c, sv[1], ID, read_timeout, "guest1", t0);
}

/* Free what start() took. */
static void
stop(struct t *t)
{
	if (t->c.fd != -1)
		(void)close(t->c.fd);
	(void)close(t->peer);
	buf_free(&t->out.to_client);
	msgq_free(&t->out.to_master);
	msgin_free(&t->in);
	line_free(&t->c.lr);
	config_free(&t->cfg);
}

/* The person types s; the client reads it at now. */
static void
type(struct t *t, const char *s, int64_t now)
{
	must(write(t->peer, s, strlen(s)) == (ssize_t)strlen(s), "write()");
	client_read(&t->c, POLLIN, now);
}

/*
 * The next frame for the master: its type, and its text (if it has
 * one) in text; 0 if there is none.
 */
static int
next(struct t *t, char *text, size_t size)
{
	struct msgq *q = &t->out.to_master;
	struct msg m;
	const char *p;
	size_t n;

	if (msgq_pending(q) > 0) {
		must(buf_append(&t->in.in, buf_head(&q->out),
		    msgq_pending(q)) == 0, "buf_append");
		buf_consume(&q->out, msgq_pending(q));
	}
	text[0] = '\0';
	if (msg_get(&t->in, &m) != 1 || m.h.id != ID)
		return 0;
	if (m.left > 0 && msg_rest(&m, &p, &n) == 0 && n < size) {
		memcpy(text, p, n);
		text[n] = '\0';
	}
	return m.h.type;
}

/* True if the next frame is type, with this text. */
static bool
sent(struct t *t, enum msg_type type, const char *want)
{
	char text[256];

	return next(t, text, sizeof(text)) == (int)type &&
	    strcmp(text, want) == 0;
}

/* True if no frame is left for the master. */
static bool
nothing(struct t *t)
{
	char text[8];

	return next(t, text, sizeof(text)) == 0;
}

/* True if what the client was told so far contains want. */
static bool
told(struct t *t, const char *want)
{
	static char seen[16384];
	size_t n = t->out.to_client.len;

	if (n == 0 || n >= sizeof(seen))
		return false;
	memcpy(seen, buf_head(&t->out.to_client), n);
	seen[n] = '\0';
	return strstr(seen, want) != NULL;
}

/* The greeting, written to the socket. */
static void
test_welcome(void)
{
	char got[256];
	struct t t;
	ssize_t n;

	config_defaults(&t.cfg);
	start(&t, 1000, 0);
	client_write(&t.c);
	n = read(t.peer, got, sizeof(got) - 1);
	got[n > 0 ? n : 0] = '\0';
	CHECK(strcmp(got, "\xff\xfd\x06\r*** welcome to forkchat, guest1! "
	    "You are client #9. Type /help for commands.\r\n") == 0,
	    "client_start asks IAC DO TIMING-MARK, CR, greets it by nick and id");
	CHECK(t.out.to_client.len == 0 && t.c.state == CLIENT_ACTIVE,
	    "written, and active");
	stop(&t);

	config_defaults(&t.cfg);
	t.cfg.telnet_negotiation = false;
	start(&t, 1000, 0);
	client_write(&t.c);
	n = read(t.peer, got, sizeof(got) - 1);
	got[n > 0 ? n : 0] = '\0';
	CHECK(strncmp(got, "*** welcome to forkchat, guest1!", 32) == 0,
	    "telnet_negotiation off: the greeting alone");
	stop(&t);
}

/* flood_rate 1, flood_burst 2: two lines at once, then one a second. */
static void
test_flood(void)
{
	struct pollfd pfd;
	struct t t;

	config_defaults(&t.cfg);
	t.cfg.flood_rate = 1;
	t.cfg.flood_burst = 2;
	start(&t, 5000, 0);
	type(&t, "a\nb\nc\nd\n", 5000);
	CHECK(sent(&t, MSG_SAY, "a") && sent(&t, MSG_SAY, "b") &&
	    nothing(&t), "a full bucket lets two go");
	CHECK(client_deadline(&t.c, 5000) == 6000,
	    "the next line may go when a token has come back");
	client_pollfd(&t.c, &pfd, 5000);
	CHECK(!(pfd.events & POLLIN), "the socket is not read meanwhile");
	client_refill(&t.c, 5999);
	client_parse(&t.c, 5999);
	CHECK(nothing(&t), "not a millisecond early");
	client_refill(&t.c, 6000);
	CHECK(client_deadline(&t.c, 6000) == 6000,
	    "held input that may go: a deadline of now");
	client_parse(&t.c, 6000);
	CHECK(sent(&t, MSG_SAY, "c") && nothing(&t),
	    "a second later, one more");
	client_refill(&t.c, 7000);
	client_parse(&t.c, 7000);
	CHECK(sent(&t, MSG_SAY, "d"), "and the last one after another");
	stop(&t);
}

/* The read timeout: due after silence, not while input is held. */
static void
test_read_timeout(void)
{
	struct t t;

	config_defaults(&t.cfg);
	start(&t, 1000, 5);
	CHECK(client_deadline(&t.c, 1000) == 6000, "due 5 s after the start");
	type(&t, "hi\n", 3000);
	CHECK(sent(&t, MSG_SAY, "hi") && client_deadline(&t.c, 3000) == 8000,
	    "a line moves it to 5 s after that line");
	client_tick(&t.c, 7999);
	CHECK(t.c.state == CLIENT_ACTIVE, "not a millisecond early");
	client_tick(&t.c, 8000);
	CHECK(t.c.state == CLIENT_CLOSING &&
	    sent(&t, MSG_EXPIRED, "read timeout after 5 s") &&
	    told(&t, "*** read timeout (5 s): you sent no line for 5 s, so the "
	    "server is closing your connection\r\n"),
	    "then the client is told, the master gets MSG_EXPIRED");
	CHECK(nothing(&t), "and no MSG_BYE besides");
	client_tick(&t.c, 8001);
	client_write(&t.c);
	client_tick(&t.c, 8002);
	CHECK(client_gone(&t.c) && !client_overdue(&t.c, 8002),
	    "flushed, the socket is closed");
	stop(&t);
	config_defaults(&t.cfg);
	start(&t, 1000, 0);
	CHECK(client_deadline(&t.c, 1000) == 0, "no read timeout: no deadline");
	client_set_timeout(&t.c, 2, 4000);
	CHECK(client_deadline(&t.c, 4000) == 6000,
	    "client_set_timeout counts from now");
	stop(&t);
}

/* /oper: nothing more read until the master answers; pacing. */
static void
test_oper(void)
{
	struct t t;

	config_defaults(&t.cfg);
	start(&t, 1000, 30);
	type(&t, "/oper guess1\nhello\n", 1000);
	CHECK(sent(&t, MSG_OPER, "guess1") && nothing(&t) &&
	    t.c.oper_pending, "/oper goes, the next line waits");
	CHECK(client_deadline(&t.c, 1000) == 0,
	    "no read timeout while the master decides");
	client_oper_result(&t.c, false, 1100);
	client_parse(&t.c, 1100);
	CHECK(told(&t, "ERR wrong password\r\n") && sent(&t, MSG_SAY, "hello"),
	    "a wrong password is said, and the line goes on");
	for (int i = 2; i <= 3; i++) {
		type(&t, "/oper again\n", 1200);
		client_oper_result(&t.c, false, 1200);
	}
	CHECK(t.c.hold_until == 3200 && client_deadline(&t.c, 1200) == 3200,
	    "the third wrong one holds input for 2 s");
	type(&t, "x\n", 1300);
	CHECK(sent(&t, MSG_OPER, "again") && sent(&t, MSG_OPER, "again") &&
	    nothing(&t), "nothing read while held");
	client_tick(&t.c, 3200);
	client_parse(&t.c, 3200);
	CHECK(sent(&t, MSG_SAY, "x") && t.c.hold_until == 0,
	    "then input goes on");
	type(&t, "/oper right\n", 3300);
	client_oper_result(&t.c, true, 3300);
	CHECK(t.c.oper_failures == 0 && !t.c.oper_pending,
	    "granted: the count starts over");
	stop(&t);
}

/* /quit, a hang-up, a line too long, a client that does not read. */
static void
test_endings(void)
{
	char why[80];
	struct t t;

	config_defaults(&t.cfg);
	start(&t, 1000, 0);
	type(&t, "/who\n/quit see you\n/who\n", 1000);
	CHECK(sent(&t, MSG_WHO, "") && sent(&t, MSG_BYE, "see you") &&
	    nothing(&t) && t.c.state == CLIENT_ANSWERING &&
	    !told(&t, "goodbye"), "/quit: MSG_BYE, nothing after it read, "
	    "no goodbye yet: answers are still coming");
	client_tick(&t.c, 2000);
	client_relay(&t.c, "*** end of /who\r\n", 17);
	CHECK(t.c.state == CLIENT_ANSWERING && !client_gone(&t.c),
	    "still answering until MSG_DONE");
	client_master_done(&t.c);
	client_tick(&t.c, 2001);
	CHECK(t.c.state == CLIENT_CLOSING &&
	    told(&t, "*** end of /who\r\n*** goodbye\r\n"),
	    "MSG_DONE: the goodbye after the answers");
	client_write(&t.c);
	client_tick(&t.c, 2002);
	CHECK(client_gone(&t.c), "gone once the goodbye is written");
	stop(&t);

	config_defaults(&t.cfg);
	start(&t, 1000, 0);
	type(&t, "/quit\n", 1000);
	client_tick(&t.c, 1000 + (int64_t)t.cfg.shutdown_grace * 1000 - 1);
	CHECK(t.c.state == CLIENT_ANSWERING && client_deadline(&t.c, 1001) ==
	    1000 + (int64_t)t.cfg.shutdown_grace * 1000,
	    "no MSG_DONE: waited for until shutdown_grace");
	client_tick(&t.c, 1000 + (int64_t)t.cfg.shutdown_grace * 1000);
	CHECK(told(&t, "*** goodbye\r\n"), "then the goodbye all the same");
	stop(&t);

	config_defaults(&t.cfg);
	start(&t, 1000, 0);
	(void)shutdown(t.peer, SHUT_WR);
	client_read(&t.c, POLLIN, 1000);
	CHECK(sent(&t, MSG_BYE, "connection closed") &&
	    t.c.state == CLIENT_ANSWERING && !client_gone(&t.c),
	    "a half-close: MSG_BYE \"connection closed\", still answering");
	client_master_done(&t.c);
	client_tick(&t.c, 1001);
	client_write(&t.c);
	client_tick(&t.c, 1002);
	CHECK(client_gone(&t.c), "then goodbye, and the socket closed");
	stop(&t);

	config_defaults(&t.cfg);
	t.cfg.max_line = 8;
	start(&t, 1000, 0);
	type(&t, "0123456789\nok\n", 1000);
	CHECK(told(&t, "ERR line too long (max 8 bytes); none of it was "
	    "sent\r\n") && sent(&t, MSG_ACTIVE, "") &&
	    sent(&t, MSG_SAY, "ok"),
	    "a line too long: said, and the next goes");
	stop(&t);

	config_defaults(&t.cfg);
	t.cfg.max_output_queue = 4096;
	start(&t, 1000, 0);
	client_relay(&t.c, "x", 1);
	for (int i = 0; i < 64 && t.c.state == CLIENT_ACTIVE; i++)
		client_relay(&t.c, (char[100]){ 0 }, 100);
	(void)snprintf(why, sizeof(why), "too slow: %zu bytes unread",
	    t.out.unread);
	CHECK(sent(&t, MSG_BYE, why) && t.c.fd == -1 && client_gone(&t.c) &&
	    t.out.unread > 3900 && t.out.unread <= 4096,
	    "a queue past max_output_queue: dropped as \"%s\"", why);
	stop(&t);
}

/* MSG_ACTIVE: after a line that sent nothing, at most once a second. */
static void
test_idle_note(void)
{
	int64_t now = os_now_ms();
	struct t t;

	config_defaults(&t.cfg);
	start(&t, now, 0);
	type(&t, "/help\n", now);
	CHECK(sent(&t, MSG_ACTIVE, ""), "/help sends nothing: MSG_ACTIVE");
	type(&t, "/help\n", now);
	CHECK(nothing(&t), "not twice in a second");
	type(&t, "/help\n", t.out.sent_at + 1000);
	CHECK(sent(&t, MSG_ACTIVE, ""), "a second later, again");
	type(&t, "hi\n", t.out.sent_at + 5000);
	CHECK(sent(&t, MSG_SAY, "hi") && nothing(&t),
	    "a line that sent a frame needs no note");
	stop(&t);
}

int
main(void)
{
	test_flood_math();
	test_timeout_math();
	test_welcome();
	test_flood();
	test_read_timeout();
	test_oper();
	test_endings();
	test_idle_note();
	return unit_done();
}
