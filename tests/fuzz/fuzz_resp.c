/*
 * fuzz_resp.c - libFuzzer target for common/resp.c and respcmd.c.
 *
 * Input: six bytes of settings, k bytes of chunk sizes (1..256, used in
 * turn), then the stream.  Byte 0: bit 0 picks the limits (0: the
 * defaults; 1: small ones from bytes 1-5, so that every limit is hit),
 * bits 1-4 are k.  The stream is read four ways: in
 * those chunks, one byte at a time, all at once, and by a recursive
 * model of the rules written here from resp.h.  All four must give the
 * same replies and end the same way (the same error, or the same bytes
 * left over).  Every reply must keep within the limits, hold
 * NUL-terminated strings, and read back the same from its canonical
 * encoding; its strings, sent as a command through resp_cmdv(), must
 * read back as an array of the same bulk strings.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "resp.h"

#define FUZZ_NAME "fuzz_resp"
#include "fuzz.h"

#define ARGS_MAX	64	/* strings of a reply sent back as a command */

/* Append or die: the harness's own memory is not what is tested. */
static void
put(struct buf *b, const void *p, size_t n)
{
	if (buf_append(b, p, n) == -1)
		FAIL("out of memory");
}

/* Append a header line: type byte, a number, CR LF. */
static void
put_num(struct buf *b, char type, long long n)
{
	if (buf_printf(b, "%c%lld\r\n", type, n) == -1)
		FAIL("out of memory");
}

/* The canonical encoding of v; checks the limits on the way down. */
static void
encode(const struct resp_value *v, const struct resp_limits *lim,
    size_t depth, size_t *nodes, struct buf *b)
{
	(*nodes)++;
	switch (v->type) {
	case RESP_STATUS:
	case RESP_ERROR:
		CHECK(v->len <= lim->max_bulk, "line of %zu bytes", v->len);
		CHECK(memchr(v->str, '\r', v->len) == NULL &&
		    memchr(v->str, '\n', v->len) == NULL, "CR or LF in a line");
		put(b, v->type == RESP_STATUS ? "+" : "-", 1);
		put(b, v->str, v->len);
		put(b, "\r\n", 2);
		break;
	case RESP_INTEGER:
		put_num(b, ':', v->integer);
		break;
	case RESP_BULK:
		CHECK(v->len <= lim->max_bulk, "bulk of %zu bytes", v->len);
		put_num(b, '$', (long long)v->len);
		put(b, v->str, v->len);
		put(b, "\r\n", 2);
		break;
	case RESP_NIL:
		put(b, "$-1\r\n", 5);
		break;
	case RESP_ARRAY:
		CHECK(depth < lim->max_depth, "arrays nested %zu deep", depth + 1);
		CHECK(v->n <= lim->max_elems, "array of %zu", v->n);
		CHECK(v->n == 0 || v->elem != NULL, "array without elements");
		put_num(b, '*', (long long)v->n);
		for (size_t i = 0; i < v->n; i++)
			encode(&v->elem[i], lim, depth + 1, nodes, b);
		break;
	default:
		FAIL("type %d", (int)v->type);
	}
	if (v->type == RESP_STATUS || v->type == RESP_ERROR ||
	    v->type == RESP_BULK)
		CHECK(v->str != NULL && v->str[v->len] == '\0',
		    "string not NUL-terminated");
}

/* Collect up to ARGS_MAX strings of v, depth first. */
static void
strings(const struct resp_value *v, const char **s, size_t *lens, int *n)
{
	size_t len;
	const char *str = resp_str(v, &len);

	if (str != NULL && *n < ARGS_MAX) {
		s[*n] = str;
		lens[(*n)++] = len;
	}
	for (size_t i = 0; i < resp_count(v); i++)
		strings(resp_elem(v, i), s, lens, n);
}

/* v's strings as a command come back as an array of the same bulks. */
static void
check_command(const struct resp_value *v)
{
	const char *s[ARGS_MAX];
	size_t lens[ARGS_MAX];
	struct resp_reader r;
	struct resp_value *back;
	struct buf cmd;
	int n = 0;

	strings(v, s, lens, &n);
	buf_init(&cmd, 0);
	if (resp_cmdv(&cmd, n, s, lens) == -1) {
		CHECK(n == 0 && errno == EINVAL && cmd.len == 0,
		    "resp_cmdv failed: %d", errno);
		return;
	}
	resp_reader_init(&r, NULL);
	CHECK(resp_feed(&r, buf_head(&cmd), cmd.len) == 0 &&
	    resp_next(&r, &back) == 1 && resp_buffered(&r) == 0,
	    "a command does not read back as one reply");
	CHECK(back->type == RESP_ARRAY && back->n == (size_t)n,
	    "command of %d arguments reads back as %zu", n, back->n);
	for (int i = 0; i < n; i++)
		CHECK(back->elem[i].type == RESP_BULK &&
		    back->elem[i].len == lens[i] &&
		    memcmp(back->elem[i].str, s[i], lens[i]) == 0,
		    "argument %d differs", i);
	resp_free(back);
	resp_reader_free(&r);
	buf_free(&cmd);
}

/* Check one reply and add its canonical encoding to the transcript. */
static void
take(const struct resp_value *v, const struct resp_limits *lim,
    struct buf *t)
{
	struct resp_reader r;
	struct resp_value *back;
	struct buf canon, again;
	size_t nodes = 0, n2 = 0;

	buf_init(&canon, 0);
	buf_init(&again, 0);
	encode(v, lim, 0, &nodes, &canon);
	CHECK(nodes <= lim->max_total, "%zu values in a reply", nodes);
	resp_reader_init(&r, lim);
	CHECK(resp_feed(&r, buf_head(&canon), canon.len) == 0 &&
	    resp_next(&r, &back) == 1 && resp_buffered(&r) == 0,
	    "the canonical encoding does not read back as one reply");
	encode(back, lim, 0, &n2, &again);
	CHECK(again.len == canon.len && memcmp(buf_head(&again),
	    buf_head(&canon), canon.len) == 0, "read back differently");
	resp_free(back);
	resp_reader_free(&r);
	check_command(v);
	put(t, buf_head(&canon), canon.len);
	buf_free(&canon);
	buf_free(&again);
}

/* The reader's side: every reply, then how it ended. */
static void
drain(struct resp_reader *r, const struct resp_limits *lim, struct buf *t,
    int *err)
{
	struct resp_value *v;
	int rc;

	while ((rc = resp_next(r, &v)) == 1) {
		take(v, lim, t);
		resp_free(v);
	}
	if (rc == -1) {
		CHECK(errno == EPROTO || errno == EMSGSIZE, "errno %d", errno);
		*err = errno;
	}
}

/* Read the stream in pieces cycling through sizes[] (none: whole). */
static void
feed(const uint8_t *d, size_t n, const struct resp_limits *lim,
    const uint8_t *sizes, size_t nsizes, struct buf *t)
{
	struct resp_reader r;
	size_t off = 0, k, i = 0;
	int err = 0;

	CHECK(resp_reader_init(&r, lim) == 0, "limits refused");
	while (off < n && err == 0) {
		k = nsizes == 0 ? n - off : (size_t)sizes[i++ % nsizes] + 1;
		if (k > n - off)
			k = n - off;
		CHECK(resp_feed(&r, d + off, k) == 0, "feed failed: %d", errno);
		off += k;
		drain(&r, lim, t, &err);
		CHECK(err != 0 || resp_buffered(&r) <= lim->max_reply,
		    "drained, %zu bytes held", resp_buffered(&r));
	}
	if (err != 0 && buf_printf(t, "#error %d", err) == -1)
		FAIL("out of memory");
	if (err == 0 && buf_printf(t, "#left %zu", resp_buffered(&r)) == -1)
		FAIL("out of memory");
	resp_reader_free(&r);
}

/* The model: the whole stream, the reply at start, read up to pos. */
struct model {
	const uint8_t	*d;
	size_t		 n, pos, start, nodes;
	const struct resp_limits *lim;
	int		 err;
};

/* A rule broken: remember which. */
static int
model_fail(struct model *m, int err)
{
	m->err = err;
	return -1;
}

/* The line at pos: 1 and its length, 0 if cut short, -1 if bad. */
static int
model_line(struct model *m, size_t max, size_t *len)
{
	size_t at = m->pos - m->start;	/* where it starts in the reply */

	for (size_t i = 0; m->pos + i < m->n; i++) {
		uint8_t c = m->d[m->pos + i];

		if (c == '\r') {
			if (at + i + 2 > m->lim->max_reply)
				return model_fail(m, EMSGSIZE);
			if (m->pos + i + 1 == m->n)
				return 0;
			if (m->d[m->pos + i + 1] != '\n')
				return model_fail(m, EPROTO);
			*len = i;
			return 1;
		}
		if (c == '\n')
			return model_fail(m, EPROTO);
		/* one more byte, then CR LF at the least, must still fit */
		if (i >= max || at + i + 3 > m->lim->max_reply)
			return model_fail(m, EMSGSIZE);
	}
	return 0;
}

/* The number in a line ('-' and digits, fitting a long long). */
static int
model_num(const uint8_t *p, size_t n, long long *out)
{
	char tmp[64], *end;
	size_t i = n > 0 && p[0] == '-';

	if (n >= sizeof(tmp) || i == n)
		return -1;
	for (; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return -1;
	memcpy(tmp, p, n);
	tmp[n] = '\0';
	errno = 0;
	*out = strtoll(tmp, &end, 10);
	return errno == ERANGE ? -1 : 0;
}

/* A bulk's body of n bytes (nil if -1) at pos, canonically into b. */
static int
model_bulk(struct model *m, long long n, struct buf *b)
{
	if (n == -1) {
		put(b, "$-1\r\n", 5);
		return 1;
	}
	if ((unsigned long long)n > m->lim->max_bulk ||
	    m->pos - m->start + (size_t)n + 2 > m->lim->max_reply)
		return model_fail(m, EMSGSIZE);
	if (m->n - m->pos < (size_t)n + 2)
		return 0;
	if (m->d[m->pos + (size_t)n] != '\r' ||
	    m->d[m->pos + (size_t)n + 1] != '\n')
		return model_fail(m, EPROTO);
	put_num(b, '$', n);
	put(b, m->d + m->pos, (size_t)n + 2);
	m->pos += (size_t)n + 2;
	return 1;
}

/* One value at pos, nested depth deep, canonically into b. */
static int
model_value(struct model *m, size_t depth, struct buf *b)
{
	const uint8_t *p = m->d + m->pos;
	size_t len;
	long long n;
	int rc;

	if (m->pos == m->n)
		return 0;
	if (*p != '+' && *p != '-' && *p != ':' && *p != '$' && *p != '*')
		return model_fail(m, EPROTO);
	rc = model_line(m, *p == '+' || *p == '-' ? m->lim->max_bulk + 1 :
	    RESP_NUM_LINE, &len);
	if (rc != 1)
		return rc;
	m->pos += len + 2;
	if (*p == '+' || *p == '-') {
		put(b, p, len + 2);
		return 1;
	}
	if (model_num(p + 1, len - 1, &n) == -1)
		return model_fail(m, EPROTO);
	if (*p == ':') {
		put_num(b, ':', n);
		return 1;
	}
	if (n < -1)
		return model_fail(m, EPROTO);
	if (*p == '$')
		return model_bulk(m, n, b);
	if (depth == m->lim->max_depth)
		return model_fail(m, EMSGSIZE);
	if (n <= 0) {
		put(b, n == 0 ? "*0\r\n" : "$-1\r\n", n == 0 ? 4 : 5);
		return 1;
	}
	if ((unsigned long long)n > m->lim->max_elems ||
	    m->nodes + (size_t)n > m->lim->max_total)
		return model_fail(m, EMSGSIZE);
	m->nodes += (size_t)n;
	put_num(b, '*', n);
	for (long long i = 0; i < n; i++)
		if ((rc = model_value(m, depth + 1, b)) != 1)
			return rc;
	return 1;
}

/* The model over the whole stream: the transcript feed() would make. */
static void
model(const uint8_t *d, size_t n, const struct resp_limits *lim,
    struct buf *t)
{
	struct model m = { .d = d, .n = n, .lim = lim };
	struct buf one;
	int rc;

	buf_init(&one, 0);
	for (;;) {
		m.start = m.pos;
		m.nodes = 1;
		if ((rc = model_value(&m, 0, &one)) != 1)
			break;
		put(t, buf_head(&one), one.len);
		buf_free(&one);
	}
	buf_free(&one);
	if ((rc == -1 ? buf_printf(t, "#error %d", m.err) :
	    buf_printf(t, "#left %zu", n - m.start)) == -1)
		FAIL("out of memory");
}

/* Where two transcripts first differ, and abort. */
static void
compare(const char *what, const struct buf *a, const struct buf *b)
{
	size_t i;

	for (i = 0; i < a->len && i < b->len; i++)
		if (buf_head(a)[i] != buf_head(b)[i])
			break;
	CHECK(a->len == b->len && i == a->len, "%s: differ at byte %zu: "
	    "%.*s vs %.*s", what, i, (int)(a->len - i < 40 ? a->len - i : 40),
	    buf_head(a) + i, (int)(b->len - i < 40 ? b->len - i : 40),
	    buf_head(b) + i);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct resp_limits lim = {
		RESP_MAX_BULK, RESP_MAX_ELEMS, RESP_MAX_DEPTH, RESP_MAX_TOTAL,
		RESP_MAX_REPLY
	};
	struct buf chunked, bytewise, whole, modelled;
	size_t nsizes;
	const uint8_t *sizes;

	if (size < 6)
		return 0;
	if (data[0] & 1) {
		lim.max_bulk = data[1] % 64;
		lim.max_elems = data[2] % 16;
		lim.max_depth = 1 + data[3] % 8;
		lim.max_total = 1 + data[4] % 64;
		lim.max_reply = 64 + (size_t)data[5] * 8;
	}
	nsizes = data[0] >> 1 & 15;
	data += 6;
	size -= 6;
	if (nsizes > size)
		nsizes = size;
	sizes = data;
	data += nsizes;
	size -= nsizes;

	buf_init(&chunked, 0);
	buf_init(&bytewise, 0);
	buf_init(&whole, 0);
	buf_init(&modelled, 0);
	feed(data, size, &lim, sizes, nsizes, &chunked);
	feed(data, size, &lim, (const uint8_t *)"", 1, &bytewise);
	feed(data, size, &lim, NULL, 0, &whole);
	model(data, size, &lim, &modelled);
	compare("chunked vs one byte at a time", &chunked, &bytewise);
	compare("chunked vs all at once", &chunked, &whole);
	compare("chunked vs model", &chunked, &modelled);
	buf_free(&chunked);
	buf_free(&bytewise);
	buf_free(&whole);
	buf_free(&modelled);
	return 0;
}
