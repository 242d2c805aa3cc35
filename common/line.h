/*
 * line.h - the line reader for one telnet/nc client.
 *
 * line_feed() takes raw bytes from the socket and builds one line at a
 * time: LF or CRLF ends it; telnet IAC sequences are consumed; C0
 * controls other than TAB, DEL, C1 controls and invalid UTF-8 are
 * dropped.  A line longer than the maximum is reported once
 * (LINE_TOOLONG) and the rest of it, up to its LF, is discarded.
 * Pure code: no I/O, no logging.
 */
#ifndef FORKCHAT_LINE_H
#define FORKCHAT_LINE_H

#include <stdbool.h>
#include <stddef.h>

enum line_result {
	LINE_MORE,		/* all input used, no line complete yet */
	LINE_OK,		/* a line is in buf[0..len), NUL-terminated */
	LINE_TOOLONG,		/* the current line passed max; discarding */
	LINE_NOMEM		/* could not grow the line buffer */
};

struct line_reader {
	char	*buf;		/* the line being built, without its EOL */
	size_t	 len;
	size_t	 cap;
	size_t	 max;		/* longest line accepted, in bytes */
	unsigned char iac;	/* telnet parser state */
	unsigned char utf[4];	/* UTF-8 sequence being collected */
	unsigned char ulen;	/* bytes in utf[] */
	unsigned char uneed;	/* bytes the sequence needs in all */
	bool	 discard;	/* too long: drop bytes until LF */
	bool	 done;		/* buf holds a finished line */
};

void	line_init(struct line_reader *, size_t max);
void	line_free(struct line_reader *);
enum line_result line_feed(struct line_reader *, const char *, size_t,
	    size_t *);

#endif
