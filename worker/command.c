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
#include <stdbool.h>
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

static const struct command commands[] = {
	{ "help", "[command]", "list the commands, or explain one", cmd_help },
	{ "nick", "NAME", "change your nick (1-16 of A-Z a-z 0-9 _ -)",
	    cmd_nick },
	{ "who", "", "list everyone connected", cmd_who },
	{ "msg", "NICK|#ID text", "send text to one person only", cmd_msg },
	{ "me", "text", "tell everyone what you are doing", cmd_me },
	{ "quit", "[message]", "leave the chat", cmd_quit },
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
			    "list", (int)(len > 32 ? 32 : len), args);
		else
			worker_say(w, "usage: /%s%s%s - %s", c->name,
			    *c->args ? " " : "", c->args, c->help);
		return;
	}
	for (size_t i = 0; i < NCOMMANDS; i++)
		worker_say(w, "/%-5s %-16s %s", commands[i].name,
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
		command_send(w, MSG_NICK, name, len);
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

/* "/msg TARGET text": target NUL text to the master. */
static void
cmd_msg(struct worker *w, const struct command *self, const char *args,
    size_t len)
{
	const char *sp = memchr(args, ' ', len);
	const char *text;
	struct iovec iov[3];

	if (sp == NULL || sp - args > MSG_PEER_MAX) {
		command_usage(w, self);
		return;
	}
	for (text = sp; text < args + len && *text == ' '; text++)
		;
	if (text == args + len) {
		command_usage(w, self);
		return;
	}
	iov[0].iov_base = (void *)(uintptr_t)args;
	iov[0].iov_len = (size_t)(sp - args);
	iov[1].iov_base = (void *)(uintptr_t)"";
	iov[1].iov_len = 1;			/* the NUL */
	iov[2].iov_base = (void *)(uintptr_t)text;
	iov[2].iov_len = len - (size_t)(text - args);
	worker_send(w, MSG_PRIVMSG, iov, 3);
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
	char why[201];		/* the master keeps 200 bytes of it */

	(void)self;
	if (len >= sizeof(why))
		len = sizeof(why) - 1;
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
		    "list", (int)(nlen > 32 ? 32 : nlen), name);
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
