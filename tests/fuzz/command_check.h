/*
 * command_check.h - what fuzz_command.c checks in the bytes command.c
 * queued: the frames, read back as the master reads them, and the lines
 * for the client, read as a terminal would show them.  A broken check
 * aborts, which is a crash for libFuzzer.
 */
#ifndef FORKCHAT_COMMAND_CHECK_H
#define FORKCHAT_COMMAND_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "msg.h"

#define FUZZ_NAME "fuzz_command"
#include "fuzz.h"

/* The line command_line() was given, and how it came. */
struct check_line {
	const char *p;
	size_t	 len;
	bool	 realistic;	/* through line_feed(), as in the server */
	uint32_t id;		/* the client's, in every frame */
};

bool	check_clean(const char *, size_t);
int	check_frames(const struct check_line *, const struct msgq *);
void	check_replies(const struct check_line *, const struct buf *);

#endif
