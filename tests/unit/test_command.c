/*
 * test_command.c - unit tests for worker/command.c through its context:
 * for every command, the frame it queues for the master (read back with
 * msg_get() and the getters, as the master reads it), the lines it
 * queues for the client, and what command_line() asks its caller to do.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "msg.h"
#include "unit.h"

#define ID	42

/* One command_line() call and everything it left behind. */
struct call {
	struct out o;
	struct command_ctx ctx;
	struct command_result res;
	enum command_do what;
	const char *line;
	struct msgin in;		/* the frames, for frame() */
	char	 replies[8192];		/* the client's lines, NUL-ended */
};

static struct config none, pipes;	/* no /pipe programs; two */

/* Setup that cannot go on without: bail out of the whole run. */
static void
must(int ok, const char *what)
{
	if (!ok) {
		printf("Bail out! %s failed\n", what);
		exit(1);
	}
}

/* The client's lines queued so far, into c->replies. */
static void
grab_replies(struct call *c)
{
	size_t n = c->o.to_client.len;

	must(n < sizeof(c->replies), "replies fit");
	if (n > 0)
		memcpy(c->replies, buf_head(&c->o.to_client), n);
	c->replies[n] = '\0';
}

/* Run line through command_line() on a fresh struct out. */
static void
run(struct call *c, const struct config *cfg, bool job, const char *line)
{
	out_init(&c->o, 0, 0);
	out_open_client(&c->o, ID, 0);
	c->ctx.cfg = cfg;
	c->ctx.out = &c->o;
	c->ctx.job_running = job;
	c->line = line;
	c->what = command_line(&c->ctx, line, strlen(line), &c->res);
	grab_replies(c);
	msgin_init(&c->in);
	if (msgq_pending(&c->o.to_master) > 0)
		must(buf_append(&c->in.in, buf_head(&c->o.to_master.out),
		    msgq_pending(&c->o.to_master)) == 0, "buf_append");
}

/* Free what run() took. */
static void
done(struct call *c)
{
	buf_free(&c->o.to_client);
	msgq_free(&c->o.to_master);
	msgin_free(&c->in);
}

/* The next frame the call queued: 1, with its type checked; 0 if none. */
static int
frame(struct call *c, struct msg *m, enum msg_type type)
{
	if (msg_get(&c->in, m) != 1)
		return 0;
	return m->h.type == type && m->h.id == ID && m->fd == -1;
}

/* True if the call queued no frame at all. */
static bool
no_frame(struct call *c)
{
	struct msg m;

	return msg_get(&c->in, &m) == 0;
}

/* A text frame of type whose whole payload is want. */
static bool
text_frame(struct call *c, enum msg_type type, const char *want)
{
	struct msg m;
	const char *p;
	size_t n;

	return frame(c, &m, type) && msg_text(&m, &p, &n) == 0 &&
	    n == strlen(want) && memcmp(p, want, n) == 0 && no_frame(c);
}

/* A "str target, text" frame of type. */
static bool
target_frame(struct call *c, enum msg_type type, const char *target,
    const char *text)
{
	char t[PROTO_TARGET_MAX + 1];
	struct msg m;
	const char *p;
	size_t n;

	return frame(c, &m, type) && msg_str(&m, t, sizeof(t)) == 0 &&
	    strcmp(t, target) == 0 && msg_text(&m, &p, &n) == 0 &&
	    n == strlen(text) && memcmp(p, text, n) == 0 && no_frame(c);
}

/* An empty frame of type, and no other. */
static bool
empty_frame(struct call *c, enum msg_type type)
{
	struct msg m;

	return frame(c, &m, type) && msg_end(&m) == 0 && no_frame(c);
}

/* Chat lines: the line as it is, "//" for a leading '/', none if empty. */
static void
test_chat(void)
{
	struct call c;

	run(&c, &none, false, "hello, world ");
	CHECK(c.what == COMMAND_DONE && text_frame(&c, MSG_SAY,
	    "hello, world ") && c.replies[0] == '\0',
	    "a chat line is MSG_SAY, as typed, no reply");
	done(&c);
	run(&c, &none, false, "//etc/passwd");
	CHECK(text_frame(&c, MSG_SAY, "/etc/passwd"),
	    "\"//text\" says \"/text\"");
	done(&c);
	run(&c, &none, false, "");
	CHECK(c.what == COMMAND_DONE && no_frame(&c) && c.replies[0] == '\0',
	    "an empty line: nothing at all");
	done(&c);
}

/* /nick: a valid nick is MSG_NICK; anything else says why not. */
static void
test_nick(void)
{
	static const char *bad[][2] = {
		{ "/nick", "ERR usage: /nick NAME - change your nick (1-16 of "
		    "A-Z a-z 0-9 _ -)" },
		{ "/nick a b", "ERR a nick cannot contain blanks; use A-Z a-z "
		    "0-9 _ -" },
		{ "/nick caf\xc3\xa9", "ERR a nick cannot contain '\xc3\xa9'; "
		    "use A-Z a-z 0-9 _ -" },
		{ "/nick \xf0\x9f\x98\x80", "ERR a nick cannot contain "
		    "'\xf0\x9f\x98\x80'; use A-Z a-z 0-9 _ -" },
		{ "/nick abcdefghijklmnopq", "ERR nick too long: 17 "
		    "characters, at most 16" },
		{ "/nick #1", "ERR a nick cannot contain '#'; use A-Z a-z 0-9 "
		    "_ -" },
	};
	char want[160];
	char name[PROTO_NICK_MAX + 1];
	struct call c;
	struct msg m;

	run(&c, &none, false, "/nick  Alice_2 ");
	CHECK(frame(&c, &m, MSG_NICK) && msg_str(&m, name, sizeof(name)) ==
	    0 && msg_end(&m) == 0 && strcmp(name, "Alice_2") == 0 &&
	    no_frame(&c) && c.replies[0] == '\0',
	    "/nick Alice_2 is MSG_NICK \"Alice_2\", blanks trimmed");
	done(&c);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		run(&c, &none, false, bad[i][0]);
		(void)snprintf(want, sizeof(want), "%s\r\n", bad[i][1]);
		CHECK(no_frame(&c) && strcmp(c.replies, want) == 0,
		    "\"%s\": %s, no frame", bad[i][0], bad[i][1]);
		done(&c);
	}
}

/* /who, /ps, /stats: an empty frame each, in any case. */
static void
test_empty_requests(void)
{
	static const struct {
		const char *line;
		enum msg_type type;
	} t[] = { { "/who", MSG_WHO }, { "/WHO extra", MSG_WHO },
	    { "/ps", MSG_PS }, { "/Stats", MSG_STATS } };
	struct call c;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		run(&c, &none, false, t[i].line);
		CHECK(c.what == COMMAND_DONE && empty_frame(&c, t[i].type) &&
		    c.replies[0] == '\0', "%s: an empty frame of type %d",
		    t[i].line, (int)t[i].type);
		done(&c);
	}
}

/* /msg and /me: text for the master, trimmed; none is a misuse. */
static void
test_msg_me(void)
{
	struct call c;

	run(&c, &none, false, "/msg\tbob   hi  there\t");
	CHECK(target_frame(&c, MSG_PRIVMSG, "bob", "hi  there"),
	    "/msg bob hi there: target \"bob\", text \"hi  there\"");
	done(&c);
	run(&c, &none, false, "/msg #12 x");
	CHECK(target_frame(&c, MSG_PRIVMSG, "#12", "x"), "/msg #12 x");
	done(&c);
	run(&c, &none, false, "/msg bob");
	CHECK(no_frame(&c) && strncmp(c.replies, "ERR usage: /msg NICK|#ID "
	    "text", 29) == 0, "/msg without text: the usage");
	done(&c);
	run(&c, &none, false, "/me  waves ");
	CHECK(text_frame(&c, MSG_ME, "waves"), "/me waves is MSG_ME \"waves\"");
	done(&c);
	run(&c, &none, false, "/me");
	CHECK(no_frame(&c) && strncmp(c.replies, "ERR usage: /me text", 19) ==
	    0, "/me alone: the usage");
	done(&c);
}

/* /kick: a target and a reason cut to PROTO_REASON_MAX, whole chars. */
static void
test_kick(void)
{
	char line[512], want[PROTO_REASON_MAX + 1];
	struct call c;

	run(&c, &none, false, "/kick bob  spamming again");
	CHECK(target_frame(&c, MSG_KICK, "bob", "spamming again"),
	    "/kick bob reason: target and reason");
	done(&c);
	run(&c, &none, false, "/kick bob");
	CHECK(target_frame(&c, MSG_KICK, "bob", ""), "/kick bob: no reason");
	done(&c);
	/* 199 bytes of 'a' and a two-byte character: the character goes */
	memset(want, 'a', PROTO_REASON_MAX - 1);
	want[PROTO_REASON_MAX - 1] = '\0';
	(void)snprintf(line, sizeof(line), "/kick bob %s\xc3\xa9tc", want);
	run(&c, &none, false, line);
	CHECK(target_frame(&c, MSG_KICK, "bob", want),
	    "a long reason is cut to %d bytes, not inside a character",
	    PROTO_REASON_MAX - 1);
	done(&c);
	run(&c, &none, false, "/kick");
	CHECK(no_frame(&c) && strncmp(c.replies, "ERR usage: /kick", 16) == 0,
	    "/kick alone: the usage");
	done(&c);
}

/* /timeout: a target and a u32 of seconds, a week at most. */
static void
test_timeout(void)
{
	static const char *bad[] = { "/timeout bob x", "/timeout bob -1",
	    "/timeout bob 604801", "/timeout bob 1 2" };
	char t[PROTO_TARGET_MAX + 1];
	struct call c;
	struct msg m;
	uint32_t secs;

	run(&c, &none, false, "/timeout #3 604800");
	CHECK(frame(&c, &m, MSG_TIMEOUT) && msg_str(&m, t, sizeof(t)) == 0 &&
	    msg_u32(&m, &secs) == 0 && msg_end(&m) == 0 &&
	    strcmp(t, "#3") == 0 && secs == PROTO_TIMEOUT_MAX && no_frame(&c),
	    "/timeout #3 604800: target \"#3\", u32 604800");
	done(&c);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		run(&c, &none, false, bad[i]);
		CHECK(no_frame(&c) && strcmp(c.replies, PROTO_SECONDS_ERR
		    "\r\n") == 0, "\"%s\": what SECONDS must be", bad[i]);
		done(&c);
	}
	run(&c, &none, false, "/timeout bob");
	CHECK(no_frame(&c) && strncmp(c.replies, "ERR usage: /timeout", 19) ==
	    0, "/timeout without SECONDS: the usage");
	done(&c);
}

/* /oper: MSG_OPER and hold input, or the usage and nothing more. */
static void
test_oper(void)
{
	struct call c;

	run(&c, &none, false, "/oper  s3cret pass ");
	CHECK(c.what == COMMAND_HOLD && text_frame(&c, MSG_OPER,
	    "s3cret pass") && c.replies[0] == '\0',
	    "/oper PASSWORD: MSG_OPER and COMMAND_HOLD");
	done(&c);
	run(&c, &none, false, "/oper");
	CHECK(c.what == COMMAND_DONE && no_frame(&c) &&
	    strncmp(c.replies, "ERR usage: /oper PASSWORD", 25) == 0,
	    "/oper alone: the usage, nothing held");
	done(&c);
}

/* /quit: the reason for the caller, which says goodbye once answered. */
static void
test_quit(void)
{
	char line[512];
	struct call c;

	run(&c, &none, false, "/quit");
	CHECK(c.what == COMMAND_QUIT && strcmp(c.res.reason, "quit") == 0 &&
	    c.replies[0] == '\0' && no_frame(&c),
	    "/quit: COMMAND_QUIT, reason \"quit\", nothing said, no frame");
	done(&c);
	run(&c, &none, false, "/QUIT  see you ");
	CHECK(c.what == COMMAND_QUIT && strcmp(c.res.reason, "see you") == 0,
	    "/quit see you: that reason");
	done(&c);
	(void)snprintf(line, sizeof(line), "/quit %0300d", 7);
	run(&c, &none, false, line);
	CHECK(c.what == COMMAND_QUIT &&
	    strlen(c.res.reason) == PROTO_REASON_MAX,
	    "a long reason is cut to %d bytes", PROTO_REASON_MAX);
	done(&c);
}

/* /pipe: a configured program on the rest of the line, one at a time. */
static void
test_pipe(void)
{
	struct call c;

	run(&c, &pipes, false, "/pipe upper  hello there ");
	CHECK(c.what == COMMAND_PIPE && c.res.prog == &pipes.pipes[0] &&
	    c.res.len == 11 && memcmp(c.res.text, "hello there", 11) == 0 &&
	    c.res.text == c.line + 13 && c.replies[0] == '\0' && no_frame(&c),
	    "/pipe upper hello there: COMMAND_PIPE, text inside the line");
	done(&c);
	run(&c, &pipes, true, "/pipe upper x");
	CHECK(c.what == COMMAND_DONE && strcmp(c.replies, "ERR your last "
	    "/pipe job is still running; one at a time (/pipe stop ends "
	    "it)\r\n") == 0,
	    "/pipe while a job runs: refused");
	done(&c);
	run(&c, &pipes, false, "/pipe nope x");
	CHECK(c.what == COMMAND_DONE && strcmp(c.replies, "ERR no pipe "
	    "program called nope; there are: upper, rev\r\n") == 0,
	    "/pipe with an unknown name: the names there are");
	done(&c);
	run(&c, &none, false, "/pipe upper x");
	CHECK(c.what == COMMAND_DONE && strcmp(c.replies, "ERR no pipe "
	    "programs are configured here\r\n") == 0, "/pipe with none");
	done(&c);
	run(&c, &pipes, false, "/pipe upper x");
	command_pipe_failed(&c.ctx, c.res.prog);
	grab_replies(&c);
	CHECK(strcmp(c.replies, "ERR /pipe upper failed: its program could "
	    "not be started (the server's log says why)\r\n") == 0,
	    "command_pipe_failed: that it failed, no path, no errno");
	done(&c);
}

/* /help, /help NAME, unknown commands. */
static void
test_help(void)
{
	struct call c;
	int lines = 0;

	run(&c, &none, false, "/help");
	for (const char *p = c.replies; (p = strstr(p, "\r\n")) != NULL; p += 2)
		lines++;
	CHECK(lines == 14 && strncmp(c.replies, "/help    [command]", 18) ==
	    0 && strstr(c.replies, "*** end of /help\r\n") != NULL &&
	    no_frame(&c), "/help: 14 lines, ending \"*** end of /help\"");
	done(&c);
	run(&c, &none, false, "/help /NICK");
	CHECK(strcmp(c.replies, "usage: /nick NAME - change your nick (1-16 "
	    "of A-Z a-z 0-9 _ -)\r\n") == 0, "/help /NICK: its usage");
	done(&c);
	run(&c, &none, false, "/help zap");
	CHECK(strcmp(c.replies, "ERR unknown command /zap; type /help for the "
	    "list\r\n") == 0, "/help zap: no such command");
	done(&c);
	run(&c, &none, false, "/frobnicate now");
	CHECK(c.what == COMMAND_DONE && no_frame(&c) && strcmp(c.replies,
	    "ERR unknown command /frobnicate; type /help for the list\r\n") ==
	    0, "/frobnicate: unknown command");
	done(&c);
	run(&c, &none, false, "/");
	CHECK(strcmp(c.replies, "ERR unknown command /; type /help for the "
	    "list\r\n") == 0, "a lone '/': unknown command");
	done(&c);
}

/* /help says who may /kick as this server's admin mode has it. */
static void
test_help_admin(void)
{
	struct config everyone;
	struct call c;

	run(&c, &none, false, "/help");
	CHECK(strstr(c.replies, "/kick    NICK|#ID [reason] disconnect someone "
	    "(operators)\r\n") != NULL && strstr(c.replies, "/oper    "
	    "PASSWORD          become an operator\r\n") != NULL,
	    "admin = operators: /kick and /timeout are for operators");
	done(&c);
	config_defaults(&everyone);
	everyone.admin = ADMIN_EVERYONE;
	run(&c, &everyone, false, "/help");
	CHECK(strstr(c.replies, "disconnect someone (anyone here)\r\n") !=
	    NULL && strstr(c.replies, "(operators)") == NULL &&
	    strstr(c.replies, "become an operator (not needed here: anyone "
	    "may /kick and /timeout)\r\n") != NULL,
	    "admin = everyone: anyone here, /oper not needed");
	done(&c);
	run(&c, &everyone, false, "/help timeout");
	CHECK(strcmp(c.replies, "usage: /timeout NICK|#ID SECONDS - set "
	    "someone's read timeout, 0 = none (anyone here)\r\n") == 0,
	    "/help timeout, admin = everyone");
	done(&c);
	config_free(&everyone);
}

/* /help pipe and a bare /pipe list the programs; /pipe stop. */
static void
test_pipe_list(void)
{
	struct call c;

	run(&c, &pipes, false, "/help pipe");
	CHECK(strcmp(c.replies, "usage: /pipe NAME text|stop - run a "
	    "configured program on text\r\npipe programs here: upper, rev\r\n")
	    == 0, "/help pipe: its usage and the programs");
	done(&c);
	run(&c, &pipes, false, "/pipe");
	CHECK(c.what == COMMAND_DONE && strcmp(c.replies, "ERR usage: /pipe "
	    "NAME text|stop - run a configured program on text\r\npipe "
	    "programs here: upper, rev\r\n") == 0,
	    "a bare /pipe: the usage and the programs");
	done(&c);
	run(&c, &none, false, "/pipe");
	CHECK(strstr(c.replies, "no pipe programs are configured here\r\n")
	    != NULL, "a bare /pipe with none: says so");
	done(&c);
	run(&c, &pipes, true, "/pipe stop");
	CHECK(c.what == COMMAND_PIPE_STOP && c.replies[0] == '\0',
	    "/pipe stop with a job: COMMAND_PIPE_STOP");
	done(&c);
	run(&c, &pipes, false, "/pipe STOP");
	CHECK(c.what == COMMAND_DONE && strcmp(c.replies, "ERR you have no "
	    "/pipe job running\r\n") == 0, "/pipe stop without one: ERR");
	done(&c);
}

int
main(void)
{
	char err[CONFIG_ERR_MAX];

	config_defaults(&none);
	config_defaults(&pipes);
	must(config_set(&pipes, "pipe.upper", "/usr/bin/tr a-z A-Z", err,
	    sizeof(err)) == 0 && config_set(&pipes, "pipe.rev",
	    "/usr/bin/rev", err, sizeof(err)) == 0, "config_set");
	test_chat();
	test_nick();
	test_empty_requests();
	test_msg_me();
	test_kick();
	test_timeout();
	test_oper();
	test_quit();
	test_pipe();
	test_help();
	test_help_admin();
	test_pipe_list();
	config_free(&none);
	config_free(&pipes);
	return unit_done();
}
