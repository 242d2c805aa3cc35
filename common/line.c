/*
 * line.c - the line reader for one telnet/nc client.
 *
 * Bytes pass through three layers, one byte at a time, so that any of
 * them may be split between reads: the telnet parser takes out IAC
 * sequences, and answers them if asked to; CR or LF ends the line (an
 * LF or NUL right after a CR is part of that end, so that CR LF and CR
 * NUL end one line); the rest goes to the UTF-8 decoder, which keeps
 * TAB, printable ASCII and whole valid UTF-8 characters outside C1 and
 * the layout controls, and drops everything else.  The buffer is
 * allocated on demand, grows geometrically up to max + 1 and is given
 * back after a long line, so an idle client holds at most LINE_KEEP
 * bytes.
 *
 * Telnet options are negotiated the way RFC 1143 says, so that no
 * exchange loops: binary mode is agreed both ways when the client asks,
 * TIMING-MARK is answered (telnet shows nothing after Ctrl-C or Ctrl-O
 * until it is), and every other option is refused.
 *
 * Public calls: line_init(), line_free(), line_answer(), line_feed(),
 * line_replies().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "line.h"

#define LINE_START	128	/* first allocation */
#define LINE_KEEP	1024	/* larger buffers are freed between lines */

/* Telnet commands (RFC 854) and options (RFC 856, RFC 860). */
#define TN_SE		240
#define TN_AYT		246
#define TN_SB		250
#define TN_WILL		251
#define TN_WONT		252
#define TN_DO		253
#define TN_DONT		254
#define TN_IAC		255
#define TO_BINARY	0
#define TO_TM		6

/* An option's state one way (RFC 1143, without the queue). */
enum {
	LQ_NO,			/* off */
	LQ_YES,			/* on */
	LQ_WANTYES		/* asked for, no answer yet */
};

/* Room an answer to one byte may take: AYT's, then the offer. */
#define LINE_REPLY_ROOM	(sizeof(LINE_AYT) - 1 + 3)

/* States of the telnet parser, kept in r->iac. */
enum {
	TS_DATA,		/* plain data */
	TS_IAC,			/* after IAC */
	TS_OPT,			/* after IAC WILL/WONT/DO/DONT */
	TS_SB,			/* inside IAC SB ... IAC SE */
	TS_SBIAC		/* after IAC inside SB */
};

/* Sets up an empty reader; nothing is allocated until the first byte. */
void
line_init(struct line_reader *r, size_t max)
{
	memset(r, 0, sizeof(*r));
	/* keeps max + 1 and the doubling in line_grow() from overflowing */
	r->max = max > SIZE_MAX / 2 ? SIZE_MAX / 2 : max;
}

/* Frees the buffer; the reader is empty again, with the same max. */
void
line_free(struct line_reader *r)
{
	size_t	max = r->max;

	free(r->buf);
	line_init(r, max);
}

/* Starts an empty line; a buffer grown big for a long line is given back. */
static void
line_reset(struct line_reader *r)
{
	if (r->cap > LINE_KEEP) {
		free(r->buf);
		r->buf = NULL;
		r->cap = 0;
	}
	r->len = 0;
}

/* Makes room for need bytes, doubling from LINE_START up to max + 1. */
static int
line_grow(struct line_reader *r, size_t need)
{
	size_t	 cap = r->cap ? r->cap : LINE_START;
	char	*p;

	while (cap < need)
		cap *= 2;
	if (r->max < cap)
		cap = r->max + 1;	/* max < cap: no overflow, cap >= 1 */
	if ((p = realloc(r->buf, cap)) == NULL)
		return -1;
	r->buf = p;
	r->cap = cap;
	return 0;
}

/* Owe the client these bytes; past the buffer they are dropped. */
static void
line_reply(struct line_reader *r, const char *s, size_t n)
{
	if (!r->answer || n > LINE_REPLY_MAX - r->nreply)
		return;
	memcpy(r->reply + r->nreply, s, n);
	r->nreply += n;
}

/* Owe IAC verb opt. */
static void
line_verb(struct line_reader *r, unsigned char verb, unsigned char opt)
{
	char cmd[3] = { (char)TN_IAC, (char)verb, (char)opt };

	line_reply(r, cmd, sizeof(cmd));
}

/* DO or WILL TIMING-MARK is answered; a WILL may answer ours. */
static void
line_timing_mark(struct line_reader *r, unsigned char verb)
{
	if (verb == TN_DO)
		line_verb(r, TN_WILL, TO_TM);
	else if (verb == TN_WILL && !r->tm_asked)
		line_verb(r, TN_DONT, TO_TM);
	if (verb == TN_WILL || verb == TN_WONT)
		r->tm_asked = false;
}

/*
 * IAC verb opt from the client.  Binary mode: a request is agreed
 * unless it is the answer to ours or changes nothing (RFC 1143).
 * Anything else is refused, and a refusal is never answered.
 */
static void
line_option(struct line_reader *r, unsigned char verb, unsigned char opt)
{
	unsigned char *q = verb == TN_DO || verb == TN_DONT ? &r->us : &r->him;
	bool on = verb == TN_DO || verb == TN_WILL;

	if (opt == TO_TM) {
		line_timing_mark(r, verb);
	} else if (opt != TO_BINARY) {
		if (on)
			line_verb(r, verb == TN_DO ? TN_WONT : TN_DONT, opt);
	} else if (on) {
		if (*q == LQ_NO)
			line_verb(r, verb == TN_DO ? TN_WILL : TN_DO, opt);
		*q = LQ_YES;
	} else {
		if (*q == LQ_YES)
			line_verb(r, verb == TN_DONT ? TN_WONT : TN_DONT, opt);
		*q = LQ_NO;
	}
}

/* A whole command came: the first one shows that it speaks telnet. */
static void
line_spoke(struct line_reader *r)
{
	if (r->spoke)
		return;
	r->spoke = true;
	if (r->offer && r->him == LQ_NO) {
		line_verb(r, TN_DO, TO_BINARY);
		r->him = LQ_WANTYES;
	}
}

/* Steps the telnet parser; true if c was part of a command, not data. */
static bool
line_telnet(struct line_reader *r, unsigned char c)
{
	switch (r->iac) {
	case TS_IAC:
		if (c == TN_IAC) {	/* IAC IAC: a data byte 0xFF */
			r->iac = TS_DATA;
			return false;
		}
		r->iac = TS_DATA;
		if (c == TN_SB) {
			r->iac = TS_SB;
		} else if (c >= TN_WILL && c <= TN_DONT) {
			r->iac = TS_OPT;
			r->verb = c;
		} else {	/* IP, AO, BRK...: nothing to do, nor to end */
			if (c == TN_AYT)
				line_reply(r, LINE_AYT, sizeof(LINE_AYT) - 1);
			line_spoke(r);
		}
		return true;
	case TS_OPT:
		r->iac = TS_DATA;
		line_option(r, r->verb, c);
		line_spoke(r);
		return true;
	case TS_SB:
		if (c == TN_IAC)
			r->iac = TS_SBIAC;
		return true;
	case TS_SBIAC:		/* IAC IAC inside SB is data to skip */
		r->iac = c == TN_SE ? TS_DATA : TS_SB;
		if (c == TN_SE)
			line_spoke(r);
		return true;
	default:
		if (c != TN_IAC)
			return false;
		r->iac = TS_IAC;
		return true;
	}
}

/* Appends k kept bytes, or starts discarding if they would pass max. */
static enum line_result
line_put(struct line_reader *r, const unsigned char *s, size_t k)
{
	if (r->len + k > r->max) {
		r->discard = true;
		r->ulen = 0;
		line_reset(r);
		return LINE_TOOLONG;
	}
	if (r->len + k + 1 > r->cap && line_grow(r, r->len + k + 1) == -1)
		return LINE_NOMEM;
	memcpy(r->buf + r->len, s, k);
	r->len += k;
	return LINE_MORE;
}

/* Tells whether c may follow lead as the second byte of a sequence. */
static bool
line_utf_second(unsigned char lead, unsigned char c)
{
	switch (lead) {
	case 0xC2:			/* C2 80..9F are the C1 controls */
	case 0xE0:			/* E0 80..9F would be overlong */
		return c >= 0xA0;
	case 0xED:
		return c < 0xA0;	/* surrogates U+D800..DFFF */
	case 0xF0:
		return c >= 0x90;	/* overlong */
	case 0xF4:
		return c < 0x90;	/* above U+10FFFF */
	default:
		return true;
	}
}

/*
 * Characters that change how the text around them is laid out: U+2028
 * and U+2029 (line and paragraph separators), U+202A..U+202E (bidi
 * embeddings and overrides) and U+2066..U+2069 (bidi isolates).  One
 * client's line must not make the next ones read differently.
 */
static bool
line_layout_control(const unsigned char *u, size_t n)
{
	return n == 3 && u[0] == 0xE2 &&
	    ((u[1] == 0x80 && u[2] >= 0xA8 && u[2] <= 0xAE) ||
	    (u[1] == 0x81 && u[2] >= 0xA6 && u[2] <= 0xA9));
}

/* Adds a continuation byte to the pending UTF-8 sequence; false if bad. */
static bool
line_utf_cont(struct line_reader *r, unsigned char c, enum line_result *rc)
{
	if ((c & 0xC0) != 0x80 ||
	    (r->ulen == 1 && !line_utf_second(r->utf[0], c)))
		return false;
	r->utf[r->ulen++] = c;
	*rc = LINE_MORE;
	if (r->ulen < r->uneed)
		return true;
	if (line_layout_control(r->utf, r->ulen)) {
		r->ulen = 0;
		return true;
	}
	*rc = line_put(r, r->utf, r->ulen);
	if (*rc == LINE_NOMEM)
		r->ulen--;	/* so that c can be fed again */
	else
		r->ulen = 0;
	return true;
}

/* Filters one data byte: keeps TAB, printable ASCII and valid UTF-8. */
static enum line_result
line_char(struct line_reader *r, unsigned char c)
{
	enum line_result rc;

	if (r->ulen > 0) {
		if (line_utf_cont(r, c, &rc))
			return rc;
		r->ulen = 0;	/* truncated: drop it, then look at c afresh */
	}
	if (c < 0x80) {
		if ((c < 0x20 && c != '\t') || c == 0x7F)
			return LINE_MORE;
		return line_put(r, &c, 1);
	}
	if (c >= 0xC2 && c <= 0xF4) {	/* C0, C1 and F5.. never lead */
		r->utf[0] = c;
		r->ulen = 1;
		r->uneed = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
	}
	return LINE_MORE;
}

/* Ends the line; after a too-long line, just starts the next one. */
static enum line_result
line_end(struct line_reader *r)
{
	r->ulen = 0;		/* an unfinished UTF-8 sequence is dropped */
	if (r->discard) {
		r->discard = false;
		line_reset(r);
		return LINE_MORE;
	}
	if (r->cap == 0 && line_grow(r, 1) == -1)
		return LINE_NOMEM;
	r->buf[r->len] = '\0';
	r->done = true;
	return LINE_OK;
}

/* Takes one raw byte through telnet, end-of-line and character layers. */
static enum line_result
line_byte(struct line_reader *r, unsigned char c)
{
	bool after_cr;

	if (line_telnet(r, c))
		return LINE_MORE;
	after_cr = r->cr;
	r->cr = false;
	if (after_cr && (c == '\n' || c == '\0'))
		return LINE_MORE;	/* CR LF, CR NUL: the CR ended it */
	if (c == '\n' || c == '\r') {
		r->cr = c == '\r';
		return line_end(r);
	}
	if (r->discard)
		return LINE_MORE;
	return line_char(r, c);
}

/*
 * Answers telnet from now on; with offer, asks at once whether the
 * client speaks it (the caller sends line_replies() first thing).
 */
void
line_answer(struct line_reader *r, bool offer)
{
	r->answer = true;
	r->offer = offer;
	if (offer) {
		line_verb(r, TN_DO, TO_TM);
		r->tm_asked = true;
	}
}

/* The answers owed so far, *len bytes; from now on they count as sent. */
const char *
line_replies(struct line_reader *r, size_t *len)
{
	*len = r->nreply;
	r->nreply = 0;
	return r->reply;
}

/*
 * Consumes bytes until a line is done, the line passes max, answers
 * owed fill their buffer, or the input runs out.  The byte that fails
 * with LINE_NOMEM is not consumed.
 */
enum line_result
line_feed(struct line_reader *r, const char *data, size_t n, size_t *used)
{
	const unsigned char	*p = (const unsigned char *)data;
	enum line_result	 rc = LINE_MORE;
	size_t			 i;

	if (r->done) {
		r->done = false;
		line_reset(r);
	}
	for (i = 0; i < n; i++) {
		rc = line_byte(r, p[i]);
		if (rc == LINE_NOMEM)
			break;
		if (rc == LINE_MORE &&
		    r->nreply > LINE_REPLY_MAX - LINE_REPLY_ROOM)
			rc = LINE_REPLY;
		if (rc != LINE_MORE) {
			i++;
			break;
		}
	}
	*used = i;
	return rc;
}
