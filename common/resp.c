/*
 * resp.c - read RESP2 replies: scan as bytes come, build once whole.
 *
 * Public: resp_reader_init, resp_feed, resp_next, resp_buffered,
 * resp_reader_free, resp_free; resp_type, resp_elem, resp_count,
 * resp_str, resp_int, resp_is to walk a reply.  respcmd.c writes
 * commands.
 *
 * A reply is read in two passes.  The scan runs as bytes arrive: header
 * by header it checks every rule and limit and keeps where it stopped
 * (offset, the arrays open and what each still owes), so no byte is
 * looked at twice however the input is split.  When the scan reaches the
 * reply's end, the build walks the same bytes, now whole and checked,
 * and makes the tree in one allocation sized by what the scan counted:
 * the root first, every array's elements side by side, then the
 * strings, each NUL-terminated.  So a reply costs one malloc and one
 * free, and nothing is allocated for what a peer only announces.
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "resp.h"

/* Where the build stands: values and string bytes still free. */
struct build {
	const char	*end;		/* of the reply's bytes */
	struct resp_value *next, *vend;	/* values not yet given out */
	char		*s, *send;	/* string space not yet used */
};

/* Remember a protocol error for good, and report it. */
static int
fail(struct resp_reader *r, int err)
{
	r->err = err;
	errno = err;
	return -1;
}

/* A decimal number at p (n bytes), '-' allowed, that fits a long long. */
static int
parse_ll(const char *p, size_t n, long long *out)
{
	unsigned long long v = 0, max = LLONG_MAX, d;
	size_t i = 0;
	int neg = 0;

	if (n > 0 && p[0] == '-') {
		neg = 1;
		i = 1;
		max = (unsigned long long)LLONG_MAX + 1;
	}
	if (i == n)
		return -1;
	for (; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		d = (unsigned long long)(p[i] - '0');
		if (v > (max - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	/* -(LLONG_MAX + 1) without overflowing on the way */
	*out = neg && v > 0 ? -(long long)(v - 1) - 1 : (long long)v;
	return 0;
}

/* A reader with the given limits (NULL: the defaults); EINVAL if bad. */
int
resp_reader_init(struct resp_reader *r, const struct resp_limits *lim)
{
	static const struct resp_limits def = {
		RESP_MAX_BULK, RESP_MAX_ELEMS, RESP_MAX_DEPTH, RESP_MAX_TOTAL,
		RESP_MAX_REPLY
	};

	memset(r, 0, sizeof(*r));
	if (lim == NULL)
		lim = &def;
	/* These keep every sum below (and the allocation) from overflowing. */
	if (lim->max_depth == 0 || lim->max_depth > RESP_DEPTH_CAP ||
	    lim->max_reply > SIZE_MAX / 4 || lim->max_bulk > lim->max_reply ||
	    lim->max_total > SIZE_MAX / 4 / sizeof(struct resp_value)) {
		errno = EINVAL;
		return -1;
	}
	r->lim = *lim;
	buf_init(&r->in, 0);
	r->nodes = 1;
	return 0;
}

/* Queue bytes that came from the peer. */
int
resp_feed(struct resp_reader *r, const void *data, size_t n)
{
	if (r->err != 0) {
		errno = r->err;
		return -1;
	}
	/* Drained, the reader holds less than a reply: someone did not. */
	if (r->in.len > r->lim.max_reply) {
		errno = ENOBUFS;
		return -1;
	}
	return buf_append(&r->in, data, n);
}

/* Bytes fed but not yet handed out: a part of a reply, at EOF. */
size_t
resp_buffered(const struct resp_reader *r)
{
	return r->in.len;
}

/* Free what the reader holds; it may be initialised again. */
void
resp_reader_free(struct resp_reader *r)
{
	buf_free(&r->in);
}

/* Free a reply resp_next() gave (its root: the tree is one block). */
void
resp_free(struct resp_value *v)
{
	free(v);
}

/*
 * The line at the scan point: 1 and its length before CR LF, 0 if it
 * has not all arrived, -1 if it breaks a rule.  max: its longest,
 * type byte included.
 */
static int
scan_line(struct resp_reader *r, size_t max, size_t *len)
{
	const char *p = buf_head(&r->in) + r->scan;
	size_t avail = r->in.len - r->scan, i;

	for (i = r->seen; i < avail; i++) {
		if (p[i] == '\r') {
			if (r->scan + i + 2 > r->lim.max_reply)
				return fail(r, EMSGSIZE);
			if (i + 1 == avail)
				break;		/* look at this CR again */
			if (p[i + 1] != '\n')
				return fail(r, EPROTO);
			r->seen = 0;
			*len = i;
			return 1;
		}
		if (p[i] == '\n')
			return fail(r, EPROTO);
		if (i >= max || r->scan + i + 3 > r->lim.max_reply)
			return fail(r, EMSGSIZE);
	}
	r->seen = i;
	return 0;
}

/* A value is whole: 1 if that ends the reply, else 2 (go on). */
static int
scan_value(struct resp_reader *r)
{
	while (r->depth > 0) {
		if (--r->left[r->depth - 1] > 0)
			return 2;
		r->depth--;		/* the array is whole too */
	}
	return 1;
}

/* A bulk header "$N" (digits at p, n bytes): wait for its body. */
static int
scan_bulk(struct resp_reader *r, const char *p, size_t n)
{
	long long len;

	if (parse_ll(p, n, &len) == -1 || len < -1)
		return fail(r, EPROTO);
	if (len == -1)
		return scan_value(r);
	if ((unsigned long long)len > r->lim.max_bulk ||
	    (size_t)len + 2 > r->lim.max_reply - r->scan)
		return fail(r, EMSGSIZE);
	r->body_due = 1;
	r->body = (size_t)len;
	return 2;
}

/* A bulk's body and its CR LF, once they are all in. */
static int
scan_body(struct resp_reader *r)
{
	const char *p;

	if (r->in.len - r->scan < r->body + 2)
		return 0;
	p = buf_head(&r->in) + r->scan + r->body;
	if (p[0] != '\r' || p[1] != '\n')
		return fail(r, EPROTO);
	r->scan += r->body + 2;
	r->bytes += r->body + 1;
	r->body_due = 0;
	return scan_value(r);
}

/* An array header "*N": open it, unless it breaks a limit. */
static int
scan_array(struct resp_reader *r, const char *p, size_t n)
{
	long long count;

	if (parse_ll(p, n, &count) == -1 || count < -1)
		return fail(r, EPROTO);
	if (r->depth == r->lim.max_depth)
		return fail(r, EMSGSIZE);
	if (count <= 0)
		return scan_value(r);		/* nil or empty */
	if ((unsigned long long)count > r->lim.max_elems ||
	    (size_t)count > r->lim.max_total - r->nodes)
		return fail(r, EMSGSIZE);
	r->nodes += (size_t)count;
	r->left[r->depth++] = (size_t)count;
	return 2;
}

/*
 * Scan one header (or a bulk's body): 1 if the reply is whole, 2 if
 * there is more to scan, 0 if more bytes are needed, -1 on an error.
 */
static int
scan_step(struct resp_reader *r)
{
	const char *p;
	size_t len, max;
	long long n;
	int rc;

	if (r->body_due)
		return scan_body(r);
	if (r->scan == r->in.len)
		return 0;
	p = buf_head(&r->in) + r->scan;
	switch (p[0]) {
	case '+':
	case '-':
		max = r->lim.max_bulk + 1;
		break;
	case ':':
	case '$':
	case '*':
		max = RESP_NUM_LINE;
		break;
	default:
		return fail(r, EPROTO);
	}
	if ((rc = scan_line(r, max, &len)) != 1)
		return rc;
	r->scan += len + 2;
	switch (p[0]) {
	case '$':
		return scan_bulk(r, p + 1, len - 1);
	case '*':
		return scan_array(r, p + 1, len - 1);
	case ':':
		if (parse_ll(p + 1, len - 1, &n) == -1)
			return fail(r, EPROTO);
		break;
	default:
		r->bytes += len;	/* len - 1 bytes and a NUL */
		break;
	}
	return scan_value(r);
}

/* Copy a string into the reply's block and point v at it. */
static int
build_str(struct build *b, struct resp_value *v, const char *s, size_t len)
{
	if (len >= (size_t)(b->send - b->s))
		return -1;
	if (len > 0)
		memcpy(b->s, s, len);
	b->s[len] = '\0';
	v->str = b->s;
	v->len = len;
	b->s += len + 1;
	return 0;
}

/* The value at p into v: where the next one starts, NULL if bad. */
static const char *
build_one(struct build *b, const char *p, struct resp_value *v)
{
	const char *cr = memchr(p, '\r', (size_t)(b->end - p)), *body;
	long long n;
	size_t len;

	if (cr == NULL || cr == p || b->end - cr < 2)
		return NULL;
	len = (size_t)(cr - p) - 1;
	body = cr + 2;
	memset(v, 0, sizeof(*v));
	if (*p == '+' || *p == '-') {
		v->type = *p == '+' ? RESP_STATUS : RESP_ERROR;
		return build_str(b, v, p + 1, len) == 0 ? body : NULL;
	}
	if (parse_ll(p + 1, len, &n) == -1)
		return NULL;
	if (*p == ':') {
		v->type = RESP_INTEGER;
		v->integer = n;
		return body;
	}
	if (n < 0) {
		v->type = RESP_NIL;
		return body;
	}
	if (*p == '$') {
		v->type = RESP_BULK;
		if ((size_t)(b->end - body) < (size_t)n + 2 ||
		    build_str(b, v, body, (size_t)n) == -1)
			return NULL;
		return body + n + 2;
	}
	if ((size_t)n > (size_t)(b->vend - b->next))
		return NULL;
	v->type = RESP_ARRAY;
	v->elem = n > 0 ? b->next : NULL;
	v->n = (size_t)n;
	b->next += n;
	return body;
}

/*
 * The tree of the whole, scanned reply at the head of r->in.  The
 * checks here never fail unless the scan is wrong: they keep a bug from
 * writing out of the block.
 */
static struct resp_value *
build(const struct resp_reader *r)
{
	struct { struct resp_value *a; size_t i; } open[RESP_DEPTH_CAP];
	struct resp_value *root, *v;
	struct build b;
	const char *p = buf_head(&r->in);
	size_t depth = 0;

	if ((root = malloc(r->nodes * sizeof(*root) + r->bytes)) == NULL)
		return NULL;
	b.end = p + r->scan;
	b.next = root + 1;
	b.vend = root + r->nodes;
	b.s = (char *)b.vend;
	b.send = b.s + r->bytes;
	for (v = root; (p = build_one(&b, p, v)) != NULL; ) {
		if (v->type == RESP_ARRAY && v->n > 0 &&
		    depth < RESP_DEPTH_CAP) {
			open[depth].a = v;
			open[depth++].i = 0;
			v = v->elem;
			continue;
		}
		while (depth > 0 && ++open[depth - 1].i == open[depth - 1].a->n)
			depth--;
		if (depth == 0)
			break;
		v = &open[depth - 1].a->elem[open[depth - 1].i];
	}
	if (p != b.end || b.next != b.vend || b.s != b.send) {
		free(root);
		errno = EPROTO;
		return NULL;
	}
	return root;
}

/*
 * The next whole reply into *v: 1, or 0 if more bytes are needed, or
 * -1 (EPROTO, EMSGSIZE, ENOMEM): the connection is then unusable.
 */
int
resp_next(struct resp_reader *r, struct resp_value **v)
{
	int rc;

	*v = NULL;
	if (r->err != 0) {
		errno = r->err;
		return -1;
	}
	while ((rc = scan_step(r)) == 2)
		;
	if (rc != 1)
		return rc;
	if ((*v = build(r)) == NULL)
		return fail(r, errno);
	buf_consume(&r->in, r->scan);
	r->scan = r->seen = r->bytes = 0;
	r->nodes = 1;
	return 1;
}

/* What v is; RESP_NONE for NULL, so a missing element is a type too. */
enum resp_type
resp_type(const struct resp_value *v)
{
	return v == NULL ? RESP_NONE : v->type;
}

/* Element i of array v; NULL if v is not an array or has no element i. */
const struct resp_value *
resp_elem(const struct resp_value *v, size_t i)
{
	if (v == NULL || v->type != RESP_ARRAY || i >= v->n)
		return NULL;
	return &v->elem[i];
}

/* How many elements array v has; 0 if it is not an array. */
size_t
resp_count(const struct resp_value *v)
{
	return v == NULL || v->type != RESP_ARRAY ? 0 : v->n;
}

/* The text of a status or bulk string (NUL-terminated), else NULL. */
const char *
resp_str(const struct resp_value *v, size_t *len)
{
	if (v == NULL || (v->type != RESP_STATUS && v->type != RESP_BULK))
		return NULL;
	if (len != NULL)
		*len = v->len;
	return v->str;
}

/* The value of an integer reply; -1 (EINVAL) if v is not one. */
int
resp_int(const struct resp_value *v, long long *out)
{
	if (v == NULL || v->type != RESP_INTEGER) {
		errno = EINVAL;
		return -1;
	}
	*out = v->integer;
	return 0;
}

/* Is v a status or bulk string holding exactly s ("OK", "PONG")? */
int
resp_is(const struct resp_value *v, const char *s)
{
	size_t len;
	const char *str = resp_str(v, &len);

	return str != NULL && len == strlen(s) && memcmp(str, s, len) == 0;
}
