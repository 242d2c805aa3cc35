/*
 * line.h - the line reader for one telnet/nc client.
 *
 * line_feed() takes raw bytes from the socket and builds one line at a
 * time: LF, CR LF, CR NUL or a lone CR ends it; telnet IAC sequences
 * are consumed; C0 controls other than TAB, DEL, C1 controls, invalid
 * UTF-8, and the characters that change how text around them is laid
 * out (line and paragraph separators, bidirectional embeddings,
 * overrides and isolates) are dropped.  A line longer than the maximum
 * is reported once (LINE_TOOLONG) and the rest of it, up to its end, is
 * discarded.
 *
 * A reader for a client (line_answer) also answers telnet: it agrees
 * to binary mode, answers DO TIMING-MARK and AYT, refuses every other
 * option, and with an offer asks the client at once whether it speaks
 * telnet (IAC DO TIMING-MARK, which every telnet client answers) and,
 * once it does, asks it to send in binary (IAC DO BINARY), so that
 * UTF-8 it types arrives unmangled.  The answers wait in the reader
 * until the caller takes them (line_replies), after each line_feed();
 * LINE_REPLY says they fill their buffer and must be taken before
 * more is fed.  Pure code: no I/O, no logging.
 */
#ifndef FORKCHAT_LINE_H
#define FORKCHAT_LINE_H

#include <stdbool.h>
#include <stddef.h>

enum line_result {
	LINE_MORE,		/* all input used, no line complete yet */
	LINE_OK,		/* a line is in buf[0..len), NUL-terminated */
	LINE_TOOLONG,		/* the current line passed max; discarding */
	LINE_NOMEM,		/* could not grow the line buffer */
	LINE_REPLY		/* answers owed fill reply[]: take them */
};

#define LINE_REPLY_MAX	96	/* telnet answers held at most */

/* What a raw client is told when it sends IAC AYT. */
#define LINE_AYT	"*** yes, forkchat is here\r\n"

struct line_reader {
	char	*buf;		/* the line being built, without its EOL */
	size_t	 len;
	size_t	 cap;
	size_t	 max;		/* longest line accepted, in bytes */
	unsigned char iac;	/* telnet parser state */
	unsigned char verb;	/* the WILL, WONT, DO or DONT being read */
	unsigned char us;	/* binary mode our way: LQ_* */
	unsigned char him;	/* binary mode its way: LQ_* */
	unsigned char utf[4];	/* UTF-8 sequence being collected */
	unsigned char ulen;	/* bytes in utf[] */
	unsigned char uneed;	/* bytes the sequence needs in all */
	bool	 discard;	/* too long: drop bytes until the EOL */
	bool	 done;		/* buf holds a finished line */
	bool	 cr;		/* a CR ended a line: skip an LF or NUL */
	bool	 answer;	/* answer telnet commands */
	bool	 offer;		/* ask for binary once it speaks telnet */
	bool	 spoke;		/* it has sent a telnet command */
	bool	 tm_asked;	/* we sent DO TIMING-MARK: a WILL is its answer */
	size_t	 nreply;	/* answers in reply[] not taken yet */
	char	 reply[LINE_REPLY_MAX];
};

void	line_init(struct line_reader *, size_t max);
void	line_free(struct line_reader *);
void	line_answer(struct line_reader *, bool offer);
enum line_result line_feed(struct line_reader *, const char *, size_t,
	    size_t *);
const char *line_replies(struct line_reader *, size_t *);

#endif
