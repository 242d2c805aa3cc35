/*
 * command.h - what a client types, answered: chat lines and /commands.
 *
 * command_line() takes one line the client typed.  Its replies go to
 * ctx->out as whole lines (CRLF added), its requests to the master as
 * frames (layouts in msg.h); what the caller must do beyond that is the
 * return value, with its details in *res:
 *   COMMAND_DONE  nothing more;
 *   COMMAND_QUIT  the client leaves: answer what it sent before, then
 *                 say goodbye; res->reason is for the master (at most
 *                 PROTO_REASON_MAX bytes);
 *   COMMAND_HOLD  an /oper password went to the master: read nothing
 *                 more from the client until it answers;
 *   COMMAND_PIPE  run res->prog on res->text (res->len bytes, inside the
 *                 line); if it cannot start, command_pipe_failed() says
 *                 so to the client;
 *   COMMAND_PIPE_STOP  stop the client's running job ("/pipe stop").
 * command.c calls common/ and out.c only, so it is tested on its own.
 */
#ifndef FORKCHAT_COMMAND_H
#define FORKCHAT_COMMAND_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "out.h"
#include "proto.h"

enum command_do {
	COMMAND_DONE,
	COMMAND_QUIT,
	COMMAND_HOLD,
	COMMAND_PIPE,
	COMMAND_PIPE_STOP
};

struct command_ctx {
	const struct config *cfg;	/* the settings in force */
	struct out *out;		/* replies and frames go here */
	bool	 job_running;		/* a /pipe job is not reaped yet */
};

struct command_result {
	char	 reason[PROTO_REASON_MAX + 1];	/* COMMAND_QUIT */
	const struct pipe_prog *prog;		/* COMMAND_PIPE */
	const char *text;			/* COMMAND_PIPE */
	size_t	 len;
};

enum command_do command_line(const struct command_ctx *, const char *,
	    size_t, struct command_result *);
void	command_pipe_failed(const struct command_ctx *,
	    const struct pipe_prog *);

#endif
