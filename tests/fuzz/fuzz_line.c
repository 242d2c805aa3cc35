/*
 * fuzz_line.c - libFuzzer target for common/line.c, the client line reader.
 *
 * Input: two bytes choose max (64..4096), one byte k (mod 16) how many
 * chunk sizes follow and (bits 4-5) whether the reader answers telnet,
 * with or without the offer; then k bytes of chunk sizes (1..256, used
 * in turn), then the stream.  The stream is fed three ways: in those
 * chunks, one byte at a time, and through an independent model of the
 * rules written here from line.h (telnet and its answers, then the line
 * ends, then the UTF-8 filter).  All three must give the same events
 * and the same answers, and every LINE_OK line must be at most max
 * bytes, NUL-terminated, free of C0 controls other than TAB, DEL, C1
 * controls, layout controls and invalid UTF-8.  LINE_NOMEM never
 * happens here.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "line.h"

#define FUZZ_NAME "fuzz_line"
#include "fuzz.h"

#define LINE_KEEP	1024	/* as line.c: idle readers hold at most this */

/* What the reader said: a line (with its bytes) or "too long". */
struct event {
	enum line_result rc;
	size_t	 off;		/* of the line's bytes in events.text */
	size_t	 len;
};

struct events {
	struct event *ev;
	size_t	 n, cap;
	unsigned char *text;	/* all lines' bytes, back to back */
	size_t	 tlen, tcap;
	unsigned char *ans;	/* every telnet answer, back to back */
	size_t	 alen, acap;
};

/* How the reader is set up: 0 no answers, 1 answers, 2 and an offer. */
static int answer_mode;

/* Grows *p to hold need elements of size sz; aborts on failure. */
static void
grow(void *pp, size_t *cap, size_t need, size_t sz)
{
	void	**p = pp, *grown;
	size_t	  c = *cap ? *cap : 16;

	if (need <= *cap)
		return;
	while (c < need)
		c *= 2;
	if ((grown = realloc(*p, c * sz)) == NULL)
		FAIL("out of memory");
	*p = grown;
	*cap = c;
}

/* Records one event; for LINE_OK, a copy of the line. */
static void
ev_add(struct events *e, enum line_result rc, const unsigned char *s,
    size_t len)
{
	grow(&e->ev, &e->cap, e->n + 1, sizeof(*e->ev));
	grow(&e->text, &e->tcap, e->tlen + len + 1, 1);
	e->ev[e->n].rc = rc;
	e->ev[e->n].off = e->tlen;
	e->ev[e->n].len = len;
	if (len > 0)
		memcpy(e->text + e->tlen, s, len);
	e->tlen += len;
	e->n++;
}

/* Records answers owed. */
static void
ans_add(struct events *e, const void *s, size_t len)
{
	grow(&e->ans, &e->acap, e->alen + len + 1, 1);
	if (len > 0)
		memcpy(e->ans + e->alen, s, len);
	e->alen += len;
}

/* Frees what ev_add() and ans_add() took. */
static void
ev_free(struct events *e)
{
	free(e->ev);
	free(e->text);
	free(e->ans);
	memset(e, 0, sizeof(*e));
}

/*
 * How many bytes a character led by lead needs (0: lead never leads),
 * and the range its second byte must be in (Unicode, table 3-7).
 */
static size_t
utf8_need(unsigned char lead, unsigned char *lo, unsigned char *hi)
{
	*lo = 0x80;
	*hi = 0xBF;
	if (lead < 0x80)
		return 1;
	if (lead >= 0xC2 && lead <= 0xDF)
		return 2;
	if (lead >= 0xE0 && lead <= 0xEF) {
		if (lead == 0xE0)
			*lo = 0xA0;		/* overlong */
		if (lead == 0xED)
			*hi = 0x9F;		/* surrogates */
		return 3;
	}
	if (lead >= 0xF0 && lead <= 0xF4) {
		if (lead == 0xF0)
			*lo = 0x90;		/* overlong */
		if (lead == 0xF4)
			*hi = 0x8F;		/* past U+10FFFF */
		return 4;
	}
	return 0;
}

/*
 * The bytes at s (n of them) that start like a well-formed character:
 * all of it if it is whole (*whole set), else the longest prefix that
 * could still become one, at least 1.
 */
static size_t
utf8_prefix(const unsigned char *s, size_t n, bool *whole)
{
	unsigned char lo, hi;
	size_t	 need = utf8_need(s[0], &lo, &hi), k;

	*whole = need != 0;
	if (need <= 1)
		return 1;
	for (k = 1; k < need; k++) {
		if (k >= n || s[k] < lo || s[k] > hi) {
			*whole = false;
			return k;
		}
		lo = 0x80;
		hi = 0xBF;
	}
	return need;
}

/* Length of the well-formed UTF-8 character at s (n bytes left), or 0. */
static size_t
utf8_char(const unsigned char *s, size_t n, uint32_t *cp)
{
	static const unsigned char mask[] = { 0, 0x7F, 0x1F, 0x0F, 0x07 };
	bool	 whole;
	size_t	 k = utf8_prefix(s, n, &whole);
	uint32_t c;

	if (!whole)
		return 0;
	c = s[0] & mask[k];
	for (size_t i = 1; i < k; i++)
		c = c << 6 | (s[i] & 0x3Fu);
	*cp = c;
	return k;
}

/* Checks one line the reader handed out. */
static void
check_line(const struct line_reader *r, size_t max)
{
	const unsigned char *s = (const unsigned char *)r->buf;
	uint32_t cp;
	size_t	 i, k;

	CHECK(r->len <= max, "line of %zu bytes, max %zu", r->len, max);
	CHECK(r->buf != NULL, "LINE_OK without a buffer");
	CHECK(r->cap <= max + 1, "buffer of %zu bytes, max %zu", r->cap, max);
	CHECK(r->len < r->cap, "len %zu, cap %zu", r->len, r->cap);
	CHECK(s[r->len] == '\0', "line not NUL-terminated");
	for (i = 0; i < r->len; i += k) {
		CHECK((k = utf8_char(s + i, r->len - i, &cp)) > 0,
		    "invalid UTF-8 at byte %zu: %02x", i, s[i]);
		CHECK(cp >= 0x20 || cp == '\t', "control %02x at byte %zu",
		    (unsigned)cp, i);
		CHECK(cp != 0x7F, "DEL at byte %zu", i);
		CHECK(cp < 0x80 || cp > 0x9F, "C1 control U+%04X at byte %zu",
		    (unsigned)cp, i);
		CHECK(!(cp >= 0x2028 && cp <= 0x202E) &&
		    !(cp >= 0x2066 && cp <= 0x2069),
		    "layout control U+%04X at byte %zu", (unsigned)cp, i);
	}
}

/* Feeds the whole stream in pieces whose sizes cycle through sizes[]. */
static void
feed(const unsigned char *d, size_t n, size_t max, const uint8_t *sizes,
    size_t nsizes, struct events *e)
{
	struct line_reader r;
	enum line_result rc;
	const char *a;
	size_t	 off = 0, end, used, k = 0, alen;

	line_init(&r, max);
	if (answer_mode > 0)
		line_answer(&r, answer_mode == 2);
	a = line_replies(&r, &alen);
	ans_add(e, a, alen);
	while (off < n) {
		end = nsizes == 0 ? n : off + (size_t)sizes[k++ % nsizes] + 1;
		if (end > n)
			end = n;
		while (off < end) {
			rc = line_feed(&r, (const char *)d + off, end - off,
			    &used);
			CHECK(used <= end - off, "used %zu of %zu", used,
			    end - off);
			CHECK(rc != LINE_NOMEM, "LINE_NOMEM");
			CHECK(rc == LINE_MORE ? used == end - off : used > 0,
			    "result %d after using %zu of %zu", (int)rc, used,
			    end - off);
			CHECK(r.nreply <= LINE_REPLY_MAX, "%zu answers held",
			    r.nreply);
			CHECK(answer_mode > 0 || r.nreply == 0,
			    "a reader that does not answer owes %zu bytes",
			    r.nreply);
			a = line_replies(&r, &alen);
			ans_add(e, a, alen);
			off += used;
			if (rc == LINE_OK) {
				check_line(&r, max);
				ev_add(e, rc, (const unsigned char *)r.buf,
				    r.len);
			} else if (rc == LINE_TOOLONG) {
				/* a long line's buffer is given back at once */
				CHECK(r.cap <= LINE_KEEP, "kept %zu bytes "
				    "after a long line", r.cap);
				ev_add(e, rc, NULL, 0);
			}
		}
	}
	line_free(&r);
	CHECK(r.buf == NULL && r.len == 0 && r.cap == 0 && r.max == max,
	    "line_free left state behind");
}

/*
 * The model's telnet state: which way binary mode is on or asked for,
 * whether our DO TIMING-MARK waits for its answer, whether the client
 * has spoken telnet yet.
 */
struct tmodel {
	bool	 us_on, him_on, him_asked, tm_asked, spoke;
	struct events *e;
};

/* The model owes IAC a b. */
static void
tm_say(struct tmodel *t, unsigned char a, unsigned char b)
{
	unsigned char cmd[3] = { 255, a, b };

	if (answer_mode > 0)
		ans_add(t->e, cmd, 3);
}

/* After any whole command: the offer, the first time, if wanted. */
static void
tm_spoke(struct tmodel *t)
{
	if (t->spoke)
		return;
	t->spoke = true;
	if (answer_mode == 2 && !t->him_on && !t->him_asked) {
		tm_say(t, 253, 0);
		t->him_asked = true;
	}
}

/* WILL (251), WONT (252), DO (253), DONT (254) opt from the client. */
static void
tm_option(struct tmodel *t, unsigned char verb, unsigned char opt)
{
	if (opt == 6) {
		if (verb == 253)
			tm_say(t, 251, 6);
		if (verb == 251 && !t->tm_asked)
			tm_say(t, 254, 6);
		if (verb == 251 || verb == 252)
			t->tm_asked = false;
		return;
	}
	if (opt != 0) {
		if (verb == 253)
			tm_say(t, 252, opt);
		if (verb == 251)
			tm_say(t, 254, opt);
		return;
	}
	switch (verb) {
	case 253:			/* DO BINARY: we send binary */
		if (!t->us_on)
			tm_say(t, 251, 0);
		t->us_on = true;
		break;
	case 254:
		if (t->us_on)
			tm_say(t, 252, 0);
		t->us_on = false;
		break;
	case 251:			/* WILL BINARY: it sends binary */
		if (!t->him_on && !t->him_asked)
			tm_say(t, 253, 0);
		t->him_on = true;
		t->him_asked = false;
		break;
	default:
		if (t->him_on)
			tm_say(t, 254, 0);
		t->him_on = false;
		t->him_asked = false;
		break;
	}
}

/* The telnet layer alone: what is left of d once IAC commands are out. */
static size_t
model_telnet(const unsigned char *d, size_t n, unsigned char *out,
    struct events *e)
{
	struct tmodel t = { .e = e };
	size_t	 i, o = 0;

	if (answer_mode == 2) {
		tm_say(&t, 253, 6);
		t.tm_asked = true;
	}
	for (i = 0; i < n; i++) {
		if (d[i] != 255) {
			out[o++] = d[i];
			continue;
		}
		if (++i == n)
			break;
		if (d[i] == 255) {		/* IAC IAC: byte 255 */
			out[o++] = 255;
			continue;
		}
		if (d[i] >= 251 && d[i] <= 254) {
			if (i + 1 == n)
				break;		/* the option never came */
			tm_option(&t, d[i], d[i + 1]);
			i++;			/* WILL/WONT/DO/DONT option */
		} else if (d[i] == 250) {	/* SB ... IAC SE */
			for (i++; i < n; i++)
				if (d[i] == 255 && ++i < n && d[i] == 240)
					break;
			if (i >= n)
				break;		/* never ended */
		} else if (d[i] == 246 && answer_mode > 0) {
			ans_add(e, LINE_AYT, sizeof(LINE_AYT) - 1);
		}				/* else a 2-byte command */
		tm_spoke(&t);
	}
	return o;
}

/* One line of data (no LF): the kept bytes, or "too long" past max. */
static void
model_line(const unsigned char *s, size_t n, bool eol, size_t max,
    unsigned char *tmp, struct events *e)
{
	uint32_t cp;
	size_t	 i = 0, k, len = 0;
	bool	 whole;

	while (i < n) {
		if ((k = utf8_char(s + i, n - i, &cp)) == 0) {
			/* drop what could have started a character */
			i += utf8_prefix(s + i, n - i, &whole);
			continue;
		}
		i += k;
		if ((cp < 0x20 && cp != '\t') || cp == 0x7F ||
		    (cp >= 0x80 && cp <= 0x9F) ||
		    (cp >= 0x2028 && cp <= 0x202E) ||
		    (cp >= 0x2066 && cp <= 0x2069))
			continue;
		if (len + k > max) {
			ev_add(e, LINE_TOOLONG, NULL, 0);
			return;
		}
		memcpy(tmp + len, s + i - k, k);
		len += k;
	}
	if (eol)
		ev_add(e, LINE_OK, tmp, len);
}

/* Where the next line end (CR or LF) is in p[0..n), or NULL. */
static const unsigned char *
model_eol(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] == '\r' || p[i] == '\n')
			return p + i;
	return NULL;
}

/*
 * The model: telnet, then split at each CR or LF (an LF or NUL right
 * after a CR belongs to it), then filter each line.
 */
static void
model(const unsigned char *d, size_t n, size_t max, struct events *e)
{
	unsigned char *data, *tmp;
	const unsigned char *p, *nl, *end;
	size_t	 len;

	if ((data = malloc(n + 1)) == NULL || (tmp = malloc(n + 1)) == NULL)
		FAIL("out of memory");
	len = model_telnet(d, n, data, e);
	end = data + len;
	for (p = data; p < end; p = nl + 1) {
		nl = model_eol(p, (size_t)(end - p));
		if (nl == NULL) {
			model_line(p, (size_t)(end - p), false, max, tmp, e);
			break;
		}
		model_line(p, (size_t)(nl - p), true, max, tmp, e);
		if (*nl == '\r' && nl + 1 < end &&
		    (nl[1] == '\n' || nl[1] == '\0'))
			nl++;
	}
	free(tmp);
	free(data);
}

/* Tells where two event lists first differ, and aborts. */
static void
compare(const char *what, const struct events *a, const struct events *b)
{
	size_t	 i;

	for (i = 0; i < a->n && i < b->n; i++) {
		const struct event *x = &a->ev[i], *y = &b->ev[i];

		if (x->rc != y->rc || x->len != y->len ||
		    memcmp(a->text + x->off, b->text + y->off, x->len) != 0)
			FAIL("%s: event %zu differs: %d/%zu vs %d/%zu", what,
			    i, (int)x->rc, x->len, (int)y->rc, y->len);
	}
	CHECK(a->n == b->n, "%s: %zu events vs %zu", what, a->n, b->n);
	CHECK(a->alen == b->alen && (a->alen == 0 ||
	    memcmp(a->ans, b->ans, a->alen) == 0),
	    "%s: answers differ (%zu bytes vs %zu)", what, a->alen, b->alen);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct events chunked, bytewise, modelled;
	size_t	 max, nsizes;
	const uint8_t *sizes;

	if (size < 3)
		return 0;
	max = 64 + (size_t)(data[0] | data[1] << 8) % (4096 - 64 + 1);
	nsizes = data[2] % 16;
	answer_mode = (data[2] >> 4) % 3;
	data += 3;
	size -= 3;
	if (nsizes > size)
		nsizes = size;
	sizes = data;
	data += nsizes;
	size -= nsizes;

	memset(&chunked, 0, sizeof(chunked));
	memset(&bytewise, 0, sizeof(bytewise));
	memset(&modelled, 0, sizeof(modelled));
	feed(data, size, max, sizes, nsizes, &chunked);
	feed(data, size, max, (const uint8_t *)"", 1, &bytewise);
	model(data, size, max, &modelled);
	compare("chunked vs one byte at a time", &chunked, &bytewise);
	compare("chunked vs model", &chunked, &modelled);
	ev_free(&chunked);
	ev_free(&bytewise);
	ev_free(&modelled);
	return 0;
}
