/*
 * command.c - what a client types: chat lines and /commands.
 *
 * A line not starting with '/' goes to everyone else; "//text" sends
 * "/text"; "/name args" runs a command from the table below, which is
 * also what /help prints.  Commands that need the whole chat (nick
 * changes, /who, /msg) become messages to the master, which answers the
 * client through the channel.
 *
 * Public: command_line.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "msg.h"
#include "proto.h"
#include "worker.h"

struct command;
typedef void cmd_fn(struct worker *, const struct command *, const char *,
    size_t);

struct command {
	const char *name;
	const char *args;
	const char *help;
	cmd_fn	  *run;
};

static cmd_fn cmd_help;
static cmd_fn cmd_nick;
static cmd_fn cmd_who;
static cmd_fn cmd_msg;
static cmd_fn cmd_me;
static cmd_fn cmd_quit;
static cmd_fn cmd_kick;
static cmd_fn cmd_timeout;
static cmd_fn cmd_pipe;
static cmd_fn cmd_ps;
static cmd_fn cmd_stats;
static cmd_fn cmd_oper;

static const struct command commands[] = {
	{ "help", "[command]", "list the commands, or explain one", cmd_help },
	{ "nick", "NAME", "change your nick (1-16 of A-Z a-z 0-9 _ -)",
	    cmd_nick },
	{ "who", "", "list everyone connected", cmd_who },
	{ "msg", "NICK|#ID text", "send text to one person only", cmd_msg },
	{ "me", "text", "tell everyone what you are doing", cmd_me },
	{ "kick", "NICK|#ID [reason]", "disconnect someone (operators)",
	    cmd_kick },
	{ "timeout", "NICK|#ID SECONDS",
	    "set someone's read timeout, 0 = none (operators)", cmd_timeout },
	{ "pipe", "NAME text", "run a configured program on text", cmd_pipe },
	{ "ps", "", "list the server's processes", cmd_ps },
	{ "stats", "", "show the server's counters", cmd_stats },
	{ "oper", "PASSWORD", "become an operator", cmd_oper },
	{ "quit", "[message]", "leave the chat", cmd_quit },
};


#define NCOMMANDS	(sizeof(commands) / sizeof(commands[0]))

static void command_send2(struct worker *, enum msg_type, const char *,
    size_t, const char *, size_t);

/* The command called name (any case), or NULL. */
static const struct command *
command_find(const char *name, size_t len)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strlen(commands[i].name) == len &&
		    strncasecmp(commands[i].name, name, len) == 0)
			return &commands[i];
	return NULL;
}

/* Answer a misuse with the command's usage. */
static void
command_usage(struct worker *w, const struct command *c)
{
	worker_say(w, "ERR usage: /%s%s%s - %s", c->name, *c->args ? " " : "",
	    c->args, c->help);
}

/* Send text to the master as one frame of the given type. */
static void
command_send(struct worker *w, enum msg_type type, const char *text,
    size_t len)
{
	struct iovec iov = { .iov_base = (void *)(uintptr_t)text,
	    .iov_len = len };

	worker_send(w, type, &iov, 1);
}

/* "/help [command]" */
static void
cmd_help(struct worker *w, const struct command *self, const char *args,
    size_t len)
{
	const struct command *c;

	(void)self;
	if (len > 0) {
		if (args[0] == '/') {
			args++;
			len--;
		}
		if ((c = command_find(args, len)) == NULL)
			worker_say(w, "ERR no command /%.*s; type /help for the "
			    "list", (int)proto_cut(args, len, 32), args);
		else
			worker_say(w, "usage: /%s%s%s - %s", c->name,
			    *c->args ? " " : "", c->args, c->help);
		return;
	}
	for (size_t i = 0; i < NCOMMANDS; i++)
		worker_say(w, "/%-7s %-17s %s", commands[i].name,
		    commands[i].args, commands[i].help);
	worker_say(w, "Any other line goes to everyone; start it with // to "
	    "send a line that begins with /.");
	worker_say(w, "*** end of /help");
}

/* "/nick NAME": checked here, made unique by the master. */
static void
cmd_nick(struct worker *w, const struct command *self, const char *args,
    size_t len)
{
	char name[PROTO_NICK_MAX + 1];

	if (len == 0 || len > PROTO_NICK_MAX) {
		command_usage(w, self);
		return;
	}
	memcpy(name, args, len);
	name[len] = '\0';
	if (!nick_valid(name))
		command_usage(w, self);
	else
		command_send2(w, MSG_NICK, name, len, NULL, 0);
}

/* "/who": the master knows everyone. */
static void
cmd_who(struct worker *w, const struct command *self, const char *args,
    size_t len)
{
	(void)self;
	(void)args;
	(void)len;
	worker_send(w, MSG_WHO, NULL, 0);
}

/* Split "WORD rest" at the first blank; -1 if there is no word. */
static int
split_word(const char *args, size_t len, size_t *wlen, const char **rest,
    size_t *rlen)
{
	const char *end = args + len, *p = args;

	while (p < end && *p != ' ' && *p != '\t')
		p++;
	if (p == args)
		return -1;
	*wlen = (size_t)(p - args);
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	*rest = p;
	*rlen = (size_t)(end - p);
	return 0;
}

/* Send a str field (word) and a text field (rest) to the master. */
static void
command_send2(struct worker *w, enum msg_type type, const char *word,
    size_t wlen, const char *rest, size_t rlen)
{
	struct iovec iov[3];

	iov[0].iov_base = (void *)(uintptr_t)word;
	iov[0].iov_len = wlen;
	iov[1].iov_base = (void *)(uintptr_t)"";
	iov[1].iov_len = 1;			/* the str's NUL */
	iov[2].iov_base = (void *)(uintptr_t)rest;
	iov[2].iov_len = rlen;
	worker_send(w, type, iov, 3);
}

/* "/msg TARGET text": target and text to the master. */
static void
cmd_msg(struct worker *w, const struct command *self, const char *args,
    size_t len)
{
	const char *rest;
	size_t wlen, rlen;

	if (split_word(args, len, &wlen, &rest, &rlen) == -1 ||
	    wlen > PROTO_TARGET_MAX || rlen == 0)
		command_usage(w, self);
	else
		command_send2(w, MSG_PRIVMSG, args, wlen, rest, rlen);
}

/* "/kick TARGET [reason]": the master checks rights and target. */
static void
cmd_kick(struct worker *w, const struct command *self, const char *args,
    size_t len)
{
	const char *rest;
	size_t wlen, rlen;

	if (split_word(args, len, &wlen, &rest, &rlen) == -1 ||
	    wlen > PROTO_TARGET_MAX)
		command_usage(w, self);
	else
		command_send2(w, MSG_KICK, args, wlen, rest,
		    proto_cut(rest, rlen, PROTO_REASON_MAX));
}

/* "/timeout TARGET SECONDS": the target and a number to the master. */
static void
cmd_timeout(struct worker *w, const struct command *self, const char *args,
    size_t len)
{
	struct iovec iov[3];
	const char *rest;
	size_t wlen, rlen;
	uint32_t secs;

	if (split_word(args, len, &wlen, &rest, &rlen) == -1 ||
	    wlen > PROTO_TARGET_MAX || rlen == 0) {
		command_usage(w, self);
		return;
	}
	if (proto_seconds(rest, rlen, &secs) == -1) {
		worker_say(w, "%s", PROTO_SECONDS_ERR);
		return;
	}
	iov[0].iov_base = (void *)(uintptr_t)args;
	iov[0].iov_len = wlen;
	iov[1].iov_base = (void *)(uintptr_t)"";
	iov[1].iov_len = 1;			/* the str's NUL */
	iov[2].iov_base = &secs;
	iov[2].iov_len = sizeof(secs);
	worker_send(w, MSG_TIMEOUT, iov, 3);
}

/* The configured pipe names, for an error message. */
static void
pipe_names(const struct config *cfg, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int i = 0; i < cfg->npipes && n + 20 < size; i++)
		n += (size_t)snprintf(buf + n, size - n, "%s%s", i ? ", " : "",
		    cfg->pipes[i].name);
}

/* "/pipe NAME text": run the program configured as pipe.NAME. */
static void
cmd_pipe(struct worker *w, const struct command *self, const char *args,
    size_t len)
{
	const struct config *cfg = worker_config(w);
	const struct pipe_prog *prog;
	char name[CONFIG_NAME_MAX + 1], names[256];
	const char *rest;
	size_t wlen, rlen;

	if (split_word(args, len, &wlen, &rest, &rlen) == -1 ||
	    wlen > CONFIG_NAME_MAX) {
		command_usage(w, self);
		return;
	}
	memcpy(name, args, wlen);
	name[wlen] = '\0';
	pipe_names(cfg, names, sizeof(names));
	if (cfg->npipes == 0)
		worker_say(w, "ERR no pipe programs are configured here");
	else if ((prog = config_pipe(cfg, name)) == NULL)
		worker_say(w, "ERR no pipe program called %s; there are: %s",
		    name, names);
	else if (pipe_busy())
		worker_say(w, "ERR your last /pipe job is still running; one "
		    "at a time");
	else if (pipe_start(w, cfg, prog, rest, rlen) == -1)
		worker_say(w, "ERR cannot run %s (%s): %s", name, prog->argv[0],
		    strerror(errno));
}

/* "/ps": the master knows every process. */
static void
cmd_ps(struct worker *w, const struct command *self, const char *args,
    size_t len)
{
	(void)self;
	(void)args;
	(void)len;
	worker_send(w, MSG_PS, NULL, 0);
}

/* "/stats": the master keeps the counters. */
static void
cmd_stats(struct worker *w, const struct command *self, const char *args,
    size_t len)
{
	(void)self;
	(void)args;
	(void)len;
	worker_send(w, MSG_STATS, NULL, 0);
}

/* "/oper PASSWORD": the master compares; we slow down guessing. */
static void
cmd_oper(struct worker *w, const struct command *self, const char *args,
    size_t len)
{
	if (len == 0 || len > PROTO_PASSWORD_MAX) {
		command_usage(w, self);
		return;
	}
	command_send(w, MSG_OPER, args, len);
	worker_oper_sent(w);		/* one guess at a time */
}

/* "/me text" */
static void
cmd_me(struct worker *w, const struct command *self, const char *args,
    size_t len)
{
	if (len == 0)
		command_usage(w, self);
	else
		command_send(w, MSG_ME, args, len);
}

/* "/quit [message]" */
static void
cmd_quit(struct worker *w, const struct command *self, const char *args,
    size_t len)
{
	char why[PROTO_REASON_MAX + 1];

	(void)self;
	len = proto_cut(args, len, PROTO_REASON_MAX);
	memcpy(why, args, len);
	why[len] = '\0';
	worker_quit(w, len > 0 ? why : "quit");
}

/* Skip spaces and tabs; return the first other byte. */
static const char *
skip_blanks(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

/* Run "/name args". */
static void
command_run(struct worker *w, const char *line, size_t len)
{
	const char *end = line + len, *name = line + 1, *args;
	const struct command *c;
	size_t nlen;

	for (args = name; args < end && *args != ' ' && *args != '\t'; args++)
		;
	nlen = (size_t)(args - name);
	args = skip_blanks(args, end);
	while (end > args && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	if ((c = command_find(name, nlen)) == NULL) {
		worker_say(w, "ERR unknown command /%.*s; type /help for the "
		    "list", (int)proto_cut(name, nlen, 32), name);
		return;
	}
	c->run(w, c, args, (size_t)(end - args));
}

/* One line from the client: a chat line or a command. */
void
command_line(struct worker *w, const char *line, size_t len)
{
	if (len == 0)
		return;				/* empty lines are ignored */
	if (line[0] != '/')
		command_send(w, MSG_SAY, line, len);
	else if (len > 1 && line[1] == '/')
		command_send(w, MSG_SAY, line + 1, len - 1);
	else
		command_run(w, line, len);
}
