/*
 * command.c - what a client types: chat lines and /commands.
 *
 * A line not starting with '/' goes to everyone else; "//text" sends
 * "/text"; "/name args" runs a command from the table below, which is
 * also what /help prints.  Commands that need the whole chat (nick
 * changes, /who, /msg) become frames for the master, which answers the
 * client through the channel.  Replies and frames are queued in the
 * caller's struct out; anything else (leave, hold input, run a /pipe
 * job) is the caller's to do, told by command_line()'s return value.
 *
 * Public: command_line, command_pipe_failed.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "command.h"
#include "msg.h"
#include "proto.h"

struct command;
typedef enum command_do cmd_fn(const struct command_ctx *,
    const struct command *, const char *, size_t, struct command_result *);

struct command {
	const char *name;
	const char *args;
	const char *help;
	cmd_fn	  *run;
	int	   role;		/* ROLE_*: how /help tells who may */
};

#define ROLE_ANYONE	0
#define ROLE_OPERATOR	1		/* /kick, /timeout */
#define ROLE_OPER	2		/* /oper itself */

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
static void pipe_list(const struct command_ctx *);

static const struct command commands[] = {
	{ "help", "[command]", "list the commands, or explain one",
	    cmd_help, ROLE_ANYONE },
	{ "nick", "NAME", "change your nick (1-16 of A-Z a-z 0-9 _ -)",
	    cmd_nick, ROLE_ANYONE },
	{ "who", "", "list everyone connected", cmd_who, ROLE_ANYONE },
	{ "msg", "NICK|#ID text", "send text to one person only",
	    cmd_msg, ROLE_ANYONE },
	{ "me", "text", "tell everyone what you are doing", cmd_me,
	    ROLE_ANYONE },
	{ "kick", "NICK|#ID [reason]", "disconnect someone", cmd_kick,
	    ROLE_OPERATOR },
	{ "timeout", "NICK|#ID SECONDS", "set someone's read timeout, 0 = "
	    "none", cmd_timeout, ROLE_OPERATOR },
	{ "pipe", "NAME text|stop", "run a configured program on text",
	    cmd_pipe, ROLE_ANYONE },
	{ "ps", "", "list the server's processes", cmd_ps, ROLE_ANYONE },
	{ "stats", "", "show the server's counters", cmd_stats,
	    ROLE_ANYONE },
	{ "oper", "PASSWORD", "become an operator", cmd_oper, ROLE_OPER },
	{ "quit", "[message]", "leave the chat", cmd_quit, ROLE_ANYONE },
};

#define NCOMMANDS	(sizeof(commands) / sizeof(commands[0]))

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

/* Who may use c, as /help says it under this server's admin mode. */
static const char *
command_role(const struct command_ctx *ctx, const struct command *c)
{
	bool everyone = ctx->cfg->admin == ADMIN_EVERYONE;

	if (c->role == ROLE_OPERATOR)
		return everyone ? " (anyone here)" : " (operators)";
	if (c->role == ROLE_OPER && everyone)
		return " (not needed here: anyone may /kick and /timeout)";
	return "";
}

/* Answer a misuse with the command's usage. */
static enum command_do
command_usage(const struct command_ctx *ctx, const struct command *c)
{
	out_say(ctx->out, "ERR usage: /%s%s%s - %s%s", c->name,
	    *c->args ? " " : "", c->args, c->help, command_role(ctx, c));
	return COMMAND_DONE;
}

/* The one answer to a command that does not exist. */
static void
command_unknown(const struct command_ctx *ctx, const char *name, size_t len)
{
	out_say(ctx->out, "ERR unknown command /%.*s; type /help for the list",
	    (int)proto_cut(name, len, 32), name);
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

/* "/help NAME" or "/help /NAME": one command's usage. */
static void
command_help_one(const struct command_ctx *ctx, const char *name,
    size_t len)
{
	const struct command *c;

	if (name[0] == '/') {
		name++;
		len--;
	}
	if ((c = command_find(name, len)) == NULL) {
		command_unknown(ctx, name, len);
		return;
	}
	out_say(ctx->out, "usage: /%s%s%s - %s%s", c->name,
	    *c->args ? " " : "", c->args, c->help, command_role(ctx, c));
	if (c->run == cmd_pipe)
		pipe_list(ctx);
}

/* "/help [command]" */
static enum command_do
cmd_help(const struct command_ctx *ctx, const struct command *self,
    const char *args, size_t len, struct command_result *res)
{
	(void)self;
	(void)res;
	if (len > 0) {
		command_help_one(ctx, args, len);
		return COMMAND_DONE;
	}
	for (size_t i = 0; i < NCOMMANDS; i++)
		out_say(ctx->out, "/%-7s %-17s %s%s", commands[i].name,
		    commands[i].args, commands[i].help,
		    command_role(ctx, &commands[i]));
	out_say(ctx->out, "Any other line goes to everyone; start it with // "
	    "to send a line that begins with /.");
	out_say(ctx->out, "*** end of /help");
	return COMMAND_DONE;
}

/*
 * Why name (len bytes of valid UTF-8) is no nick, told to the client;
 * false if it is one.
 */
static bool
nick_refused(const struct command_ctx *ctx, const char *name, size_t len)
{
	size_t i, k;

	for (i = 0; i < len; i++)
		if (!nick_char(name[i]))
			break;
	if (i < len) {
		/* the whole character, not a byte of it */
		for (k = 1; i + k < len &&
		    ((unsigned char)name[i + k] & 0xC0) == 0x80; k++)
			;
		if (name[i] == ' ' || name[i] == '\t')
			out_say(ctx->out, "ERR a nick cannot contain blanks; "
			    "use A-Z a-z 0-9 _ -");
		else
			out_say(ctx->out, "ERR a nick cannot contain '%.*s'; "
			    "use A-Z a-z 0-9 _ -", (int)k, name + i);
		return true;
	}
	if (len > PROTO_NICK_MAX) {
		out_say(ctx->out, "ERR nick too long: %zu characters, at most "
		    "%d", len, PROTO_NICK_MAX);
		return true;
	}
	return false;
}

/* "/nick NAME": checked here, made unique by the master. */
static enum command_do
cmd_nick(const struct command_ctx *ctx, const struct command *self,
    const char *args, size_t len, struct command_result *res)
{
	struct msg_build b;

	(void)res;
	if (len == 0)
		return command_usage(ctx, self);
	if (nick_refused(ctx, args, len))
		return COMMAND_DONE;
	msg_b_init(&b);
	msg_b_str(&b, args, len);
	out_send(ctx->out, MSG_NICK, &b);
	return COMMAND_DONE;
}

/* "/who": the master knows everyone. */
static enum command_do
cmd_who(const struct command_ctx *ctx, const struct command *self,
    const char *args, size_t len, struct command_result *res)
{
	(void)self;
	(void)args;
	(void)len;
	(void)res;
	out_send_text(ctx->out, MSG_WHO, NULL, 0);
	return COMMAND_DONE;
}

/* "/msg TARGET text": target and text to the master. */
static enum command_do
cmd_msg(const struct command_ctx *ctx, const struct command *self,
    const char *args, size_t len, struct command_result *res)
{
	const char *rest;
	size_t wlen, rlen;

	(void)res;
	if (split_word(args, len, &wlen, &rest, &rlen) == -1 ||
	    wlen > PROTO_TARGET_MAX || rlen == 0)
		return command_usage(ctx, self);
	out_send_str_text(ctx->out, MSG_PRIVMSG, args, wlen, rest, rlen);
	return COMMAND_DONE;
}

/* "/kick TARGET [reason]": the master checks rights and target. */
static enum command_do
cmd_kick(const struct command_ctx *ctx, const struct command *self,
    const char *args, size_t len, struct command_result *res)
{
	const char *rest;
	size_t wlen, rlen;

	(void)res;
	if (split_word(args, len, &wlen, &rest, &rlen) == -1 ||
	    wlen > PROTO_TARGET_MAX)
		return command_usage(ctx, self);
	out_send_str_text(ctx->out, MSG_KICK, args, wlen, rest,
	    proto_cut(rest, rlen, PROTO_REASON_MAX));
	return COMMAND_DONE;
}

/* "/timeout TARGET SECONDS": the target and a number to the master. */
static enum command_do
cmd_timeout(const struct command_ctx *ctx, const struct command *self,
    const char *args, size_t len, struct command_result *res)
{
	struct msg_build b;
	const char *rest;
	size_t wlen, rlen;
	uint32_t secs;

	(void)res;
	if (split_word(args, len, &wlen, &rest, &rlen) == -1 ||
	    wlen > PROTO_TARGET_MAX || rlen == 0)
		return command_usage(ctx, self);
	if (proto_seconds(rest, rlen, &secs) == -1) {
		out_say(ctx->out, "%s", PROTO_SECONDS_ERR);
		return COMMAND_DONE;
	}
	msg_b_init(&b);
	msg_b_str(&b, args, wlen);
	msg_b_u32(&b, secs);
	out_send(ctx->out, MSG_TIMEOUT, &b);
	return COMMAND_DONE;
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

/* Which programs /pipe may run here. */
static void
pipe_list(const struct command_ctx *ctx)
{
	char names[256];

	pipe_names(ctx->cfg, names, sizeof(names));
	if (ctx->cfg->npipes == 0)
		out_say(ctx->out, "no pipe programs are configured here");
	else
		out_say(ctx->out, "pipe programs here: %s", names);
}

/* "/pipe NAME text": run the program configured as pipe.NAME. */
static enum command_do
cmd_pipe(const struct command_ctx *ctx, const struct command *self,
    const char *args, size_t len, struct command_result *res)
{
	const struct pipe_prog *prog;
	char name[CONFIG_NAME_MAX + 1], names[256];
	const char *rest;
	size_t wlen, rlen;

	if (len == 4 && strncasecmp(args, "stop", 4) == 0) {
		if (ctx->job_running)
			return COMMAND_PIPE_STOP;
		out_say(ctx->out, "ERR you have no /pipe job running");
		return COMMAND_DONE;
	}
	if (split_word(args, len, &wlen, &rest, &rlen) == -1 ||
	    wlen > CONFIG_NAME_MAX) {
		(void)command_usage(ctx, self);
		pipe_list(ctx);
		return COMMAND_DONE;
	}
	memcpy(name, args, wlen);
	name[wlen] = '\0';
	pipe_names(ctx->cfg, names, sizeof(names));
	if (ctx->cfg->npipes == 0)
		out_say(ctx->out, "ERR no pipe programs are configured here");
	else if ((prog = config_pipe(ctx->cfg, name)) == NULL)
		out_say(ctx->out, "ERR no pipe program called %s; there are: "
		    "%s", name, names);
	else if (ctx->job_running)
		out_say(ctx->out, "ERR your last /pipe job is still running; "
		    "one at a time (/pipe stop ends it)");
	else {
		res->prog = prog;
		res->text = rest;
		res->len = rlen;
		return COMMAND_PIPE;
	}
	return COMMAND_DONE;
}

/*
 * What /pipe says when its program could not start: that it failed,
 * not where or why (the server's paths are not the client's business;
 * the caller logs them).
 */
void
command_pipe_failed(const struct command_ctx *ctx,
    const struct pipe_prog *prog)
{
	out_say(ctx->out, "ERR /pipe %s failed: its program could not be "
	    "started (the server's log says why)", prog->name);
}

/* "/ps": the master knows every process. */
static enum command_do
cmd_ps(const struct command_ctx *ctx, const struct command *self,
    const char *args, size_t len, struct command_result *res)
{
	(void)self;
	(void)args;
	(void)len;
	(void)res;
	out_send_text(ctx->out, MSG_PS, NULL, 0);
	return COMMAND_DONE;
}

/* "/stats": the master keeps the counters. */
static enum command_do
cmd_stats(const struct command_ctx *ctx, const struct command *self,
    const char *args, size_t len, struct command_result *res)
{
	(void)self;
	(void)args;
	(void)len;
	(void)res;
	out_send_text(ctx->out, MSG_STATS, NULL, 0);
	return COMMAND_DONE;
}

/* "/oper PASSWORD": the master compares; the caller paces guessing. */
static enum command_do
cmd_oper(const struct command_ctx *ctx, const struct command *self,
    const char *args, size_t len, struct command_result *res)
{
	(void)res;
	if (len == 0 || len > PROTO_PASSWORD_MAX)
		return command_usage(ctx, self);
	out_send_text(ctx->out, MSG_OPER, args, len);
	return COMMAND_HOLD;		/* one guess at a time */
}

/* "/me text" */
static enum command_do
cmd_me(const struct command_ctx *ctx, const struct command *self,
    const char *args, size_t len, struct command_result *res)
{
	(void)res;
	if (len == 0)
		return command_usage(ctx, self);
	out_send_text(ctx->out, MSG_ME, args, len);
	return COMMAND_DONE;
}

/* "/quit [message]": the reason for the master; the caller says goodbye. */
static enum command_do
cmd_quit(const struct command_ctx *ctx, const struct command *self,
    const char *args, size_t len, struct command_result *res)
{
	(void)ctx;
	(void)self;
	len = proto_cut(args, len, PROTO_REASON_MAX);
	if (len == 0) {
		args = "quit";
		len = 4;
	}
	memcpy(res->reason, args, len);
	res->reason[len] = '\0';
	return COMMAND_QUIT;
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
static enum command_do
command_run(const struct command_ctx *ctx, const char *line, size_t len,
    struct command_result *res)
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
		command_unknown(ctx, name, nlen);
		return COMMAND_DONE;
	}
	return c->run(ctx, c, args, (size_t)(end - args), res);
}

/* One line from the client: a chat line or a command. */
enum command_do
command_line(const struct command_ctx *ctx, const char *line, size_t len,
    struct command_result *res)
{
	memset(res, 0, sizeof(*res));
	if (len == 0)
		return COMMAND_DONE;		/* empty lines are ignored */
	if (line[0] != '/')
		out_send_text(ctx->out, MSG_SAY, line, len);
	else if (len > 1 && line[1] == '/')
		out_send_text(ctx->out, MSG_SAY, line + 1, len - 1);
	else
		return command_run(ctx, line, len, res);
	return COMMAND_DONE;
}
