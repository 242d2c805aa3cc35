/*
 * line.c - the line reader for one telnet/nc client.
 *
 * Bytes pass through three layers, one byte at a time, so that any of
 * them may be split between reads: the telnet parser takes out IAC
 * sequences; LF ends the line; the rest goes to the UTF-8 decoder,
 * which keeps TAB, printable ASCII and whole valid UTF-8 characters
 * outside C1, and drops everything else.  The buffer is allocated on
 * demand, grows geometrically up to max + 1 and is given back after a
 * long line, so an idle client holds at most LINE_KEEP bytes.
 *
 * Public calls: line_init(), line_feed(), line_free().
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "line.h"

#define LINE_START	128	/* first allocation */
#define LINE_KEEP	1024	/* larger buffers are freed between lines */

/* Telnet commands (RFC 854). */
#define TN_SE		240
#define TN_SB		250
#define TN_WILL		251
#define TN_DONT		254
#define TN_IAC		255

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
		if (c == TN_SB)
			r->iac = TS_SB;
		else if (c >= TN_WILL && c <= TN_DONT)
			r->iac = TS_OPT;
		else
			r->iac = TS_DATA;
		return true;
	case TS_OPT:
		r->iac = TS_DATA;
		return true;
	case TS_SB:
		if (c == TN_IAC)
			r->iac = TS_SBIAC;
		return true;
	case TS_SBIAC:		/* IAC IAC inside SB is data to skip */
		r->iac = c == TN_SE ? TS_DATA : TS_SB;
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

/* Ends the line at LF; after a too-long line, just starts the next one. */
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
	if (line_telnet(r, c))
		return LINE_MORE;
	if (c == '\n')
		return line_end(r);
	if (r->discard)
		return LINE_MORE;
	return line_char(r, c);
}

/*
 * Consumes bytes until a line is done, the line passes max, or the
 * input runs out.  The byte that fails with LINE_NOMEM is not consumed.
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
		if (rc != LINE_MORE) {
			i++;
			break;
		}
	}
	*used = i;
	return rc;
}
