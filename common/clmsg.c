/*
 * clmsg.c - the cluster's messages on the Redis stream (see clmsg.h):
 * an XADD command from a struct clmsg, and a struct clmsg from an entry
 * of an XREAD reply, checked field by field.
 *
 * Public: clmsg_type_name, clmsg_name_valid, clmsg_xadd, clmsg_decode,
 * clmsg_entries, clmsg_entry, clmsg_member_put, clmsg_member_next.
 *
 * Decoding trusts nothing: anyone who can write to Redis can write an
 * entry.  Numbers are digits that fit, names and nicks keep their
 * syntax, and text may hold no control character but TAB, so that no
 * entry can put a line break or a terminal escape in front of a client.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "clmsg.h"
#include "num.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

/* The fields an entry may have; bit i of a mask is field i. */
enum field {
	F_V, F_T, F_S, F_I, F_N, F_C, F_K, F_H, F_W, F_A, F_O, F_R, F_X,
	F_TS, F_TC, F_ASK, F_FIRST, F_LAST, F_M, F_G, F_GI, F_MAX
};

static const char *const field_names[F_MAX] = {
	"v", "t", "s", "i", "n", "c", "k", "h", "w", "a", "o", "r", "x",
	"ts", "tc", "ask", "first", "last", "m", "g", "gi"
};

#define B(f)		(1U << (f))
#define HEAD		(B(F_V) | B(F_T) | B(F_S) | B(F_I) | B(F_N))
#define FROM		(B(F_C) | B(F_K))
#define TARGET		(B(F_TS) | B(F_TC))

/* Each type: its name on the stream and the fields it needs. */
static const struct {
	const char *name;
	unsigned need;
} types[CL_TYPE_MAX] = {
	[CL_HELLO] = { "hello", HEAD | B(F_ASK) | B(F_FIRST) | B(F_LAST) | B(F_M) },
	[CL_BEAT] = { "beat", HEAD },
	[CL_BYE] = { "bye", HEAD },
	[CL_GONE] = { "gone", HEAD | B(F_G) | B(F_GI) },
	[CL_JOIN] = { "join", HEAD | FROM | B(F_H) | B(F_W) | B(F_A) | B(F_O) },
	[CL_LEAVE] = { "leave", HEAD | FROM | B(F_R) },
	[CL_SAY] = { "say", HEAD | FROM | B(F_X) },
	[CL_ME] = { "me", HEAD | FROM | B(F_X) },
	[CL_NICK] = { "nick", HEAD | FROM },
	[CL_MSG] = { "msg", HEAD | FROM | TARGET | B(F_X) },
	[CL_KICK] = { "kick", HEAD | FROM | TARGET | B(F_R) },
	[CL_TIMEOUT] = { "tmo", HEAD | FROM | TARGET | B(F_O) },
};

/* What a type is called on the stream ("say"), or "?". */
const char *
clmsg_type_name(enum clmsg_type t)
{
	return t > CL_NONE && t < CL_TYPE_MAX ? types[t].name : "?";
}

/* A server name: 1-16 of A-Z a-z 0-9 _ -, like a nick. */
bool
clmsg_name_valid(const char *s)
{
	return nick_valid(s);
}

/* ---- writing ---------------------------------------------------------- */

/* One field, name and text. */
static void
put_str(struct resp_cmd *c, enum field f, const char *v, size_t len)
{
	resp_arg_str(c, field_names[f]);
	resp_arg(c, v, len);
}

/* One field, name and number. */
static void
put_num(struct resp_cmd *c, enum field f, unsigned long long v)
{
	resp_arg_str(c, field_names[f]);
	resp_arg_uint(c, v);
}

/* The fields of a join: the client as it came. */
static void
put_join(struct resp_cmd *c, const struct clmsg_client *cl)
{
	put_str(c, F_H, cl->peer, strlen(cl->peer));
	put_num(c, F_W, cl->pid);
	put_num(c, F_A, cl->since < 0 ? 0 : (unsigned long long)cl->since);
	put_num(c, F_O, cl->timeout);
}

/* The fields only m's type has. */
static void
put_body(struct resp_cmd *c, const struct clmsg *m)
{
	if (types[m->type].need & FROM) {
		put_num(c, F_C, m->id);
		put_str(c, F_K, m->nick, strlen(m->nick));
	}
	if (types[m->type].need & TARGET) {
		put_str(c, F_TS, m->to, strlen(m->to));
		put_num(c, F_TC, m->to_id);
	}
	if (m->type == CL_JOIN)
		put_join(c, &m->client);
	else if (m->type == CL_TIMEOUT)
		put_num(c, F_O, m->secs);
	else if (m->type == CL_HELLO) {
		put_num(c, F_ASK, m->ask);
		put_num(c, F_FIRST, m->first);
		put_num(c, F_LAST, m->last);
	} else if (m->type == CL_GONE) {
		put_str(c, F_G, m->gone, strlen(m->gone));
		put_num(c, F_GI, m->gone_inc);
	}
	if (types[m->type].need & B(F_X))
		put_str(c, F_X, m->text, m->len);
	else if (types[m->type].need & B(F_R))
		put_str(c, F_R, m->text, m->len);
	else if (types[m->type].need & B(F_M))
		put_str(c, F_M, m->text, m->len);
}

/*
 * Append "XADD key MAXLEN ~ maxlen * fields..." for m to out: nothing
 * if it fails (EINVAL for a type that is none).
 */
int
clmsg_xadd(struct buf *out, const char *key, unsigned long maxlen,
    const struct clmsg *m)
{
	struct resp_cmd c;

	if (m->type <= CL_NONE || m->type >= CL_TYPE_MAX) {
		errno = EINVAL;
		return -1;
	}
	resp_begin(&c, out);
	resp_arg_str(&c, "XADD");
	resp_arg_str(&c, key);
	resp_arg_str(&c, "MAXLEN");
	resp_arg_str(&c, "~");
	resp_arg_uint(&c, maxlen);
	resp_arg_str(&c, "*");
	put_num(&c, F_V, CLMSG_VERSION);
	put_str(&c, F_T, types[m->type].name, strlen(types[m->type].name));
	put_str(&c, F_S, m->server, strlen(m->server));
	put_num(&c, F_I, m->inc);
	put_num(&c, F_N, m->seq);
	put_body(&c, m);
	return resp_end(&c);
}

/* ---- reading ---------------------------------------------------------- */

/* A field's value as the entry has it. */
struct val {
	const char *p;
	size_t	 len;
};

/* A whole decimal number of at most max. */
static int
get_num(const struct val *v, unsigned long long max, unsigned long long *out)
{
	if (v->len == 0 || v->len > 20 || strlen(v->p) != v->len ||
	    num_whole(v->p, out) == -1 || *out > max)
		return -1;
	return 0;
}

/* A nick or server name into a buffer of PROTO_NICK_MAX + 1. */
static int
get_name(const struct val *v, char *out)
{
	if (v->len > PROTO_NICK_MAX || strlen(v->p) != v->len ||
	    !nick_valid(v->p))
		return -1;
	memcpy(out, v->p, v->len + 1);
	return 0;
}

/* Text a client may be shown: no control character but TAB. */
static int
get_text(const struct val *v, size_t max, const char **p, size_t *len)
{
	if (v->len > max)
		return -1;
	for (size_t i = 0; i < v->len; i++) {
		unsigned char ch = (unsigned char)v->p[i];

		if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
			return -1;
	}
	*p = v->p;
	*len = v->len;
	return 0;
}

/* A peer address: printable, no blank, shorter than PROTO_PEER_MAX. */
static int
get_peer(const struct val *v, char *out)
{
	if (v->len == 0 || v->len >= PROTO_PEER_MAX)
		return -1;
	for (size_t i = 0; i < v->len; i++)
		if ((unsigned char)v->p[i] <= 0x20 ||
		    (unsigned char)v->p[i] >= 0x7f)
			return -1;
	memcpy(out, v->p, v->len);
	out[v->len] = '\0';
	return 0;
}

/* A 0 or a 1. */
static int
get_flag(const struct val *v, bool *out)
{
	unsigned long long n;

	if (get_num(v, 1, &n) == -1)
		return -1;
	*out = n == 1;
	return 0;
}

/* Sort an entry's fields into vals by name; the mask of those found. */
static int
fields_sort(const struct resp_value *f, struct val vals[F_MAX],
    unsigned *have)
{
	const struct resp_value *name, *val;

	*have = 0;
	if (resp_type(f) != RESP_ARRAY || f->n % 2 != 0)
		return -1;
	for (size_t i = 0; i < f->n; i += 2) {
		name = &f->elem[i];
		val = &f->elem[i + 1];
		if (name->type != RESP_BULK || val->type != RESP_BULK)
			return -1;
		for (int k = 0; k < F_MAX; k++) {
			if (strcmp(name->str, field_names[k]) != 0 ||
			    name->len != strlen(field_names[k]))
				continue;
			if (*have & B(k))
				return -1;	/* twice: which one is meant? */
			*have |= B(k);
			vals[k].p = val->str;
			vals[k].len = val->len;
		}
	}
	return 0;
}

/* The version and type; ENOTSUP for ones this version does not know. */
static int
decode_type(const struct val *vals, unsigned have, struct clmsg *m)
{
	unsigned long long v;

	if ((have & (B(F_V) | B(F_T))) != (B(F_V) | B(F_T)) ||
	    get_num(&vals[F_V], UINT32_MAX, &v) == -1) {
		errno = EPROTO;
		return -1;
	}
	for (int t = CL_NONE + 1; t < CL_TYPE_MAX; t++) {
		if (vals[F_T].len == strlen(types[t].name) &&
		    memcmp(vals[F_T].p, types[t].name, vals[F_T].len) == 0)
			m->type = (enum clmsg_type)t;
	}
	if (v != CLMSG_VERSION || m->type == CL_NONE) {
		errno = ENOTSUP;
		return -1;
	}
	if ((have & types[m->type].need) != types[m->type].need) {
		errno = EPROTO;
		return -1;
	}
	return 0;
}

/* The fields every entry has after v and t. */
static int
decode_head(const struct val *vals, struct clmsg *m)
{
	unsigned long long n;

	if (get_name(&vals[F_S], m->server) == -1 ||
	    get_num(&vals[F_I], UINT64_MAX, &n) == -1)
		return -1;
	m->inc = n;
	if (get_num(&vals[F_N], UINT64_MAX, &n) == -1)
		return -1;
	m->seq = n;
	return 0;
}

/* The client a join describes. */
static int
decode_join(const struct val *vals, struct clmsg *m)
{
	unsigned long long n;

	m->client.id = m->id;
	memcpy(m->client.nick, m->nick, sizeof(m->nick));
	if (get_peer(&vals[F_H], m->client.peer) == -1 ||
	    get_num(&vals[F_W], INT32_MAX, &n) == -1)
		return -1;
	m->client.pid = (uint32_t)n;
	if (get_num(&vals[F_A], INT64_MAX, &n) == -1)
		return -1;
	m->client.since = (int64_t)n;
	if (get_num(&vals[F_O], PROTO_TIMEOUT_MAX, &n) == -1)
		return -1;
	m->client.timeout = (uint32_t)n;
	return 0;
}

/* The fields of m's type, the head done. */
static int
decode_body(const struct val *vals, struct clmsg *m)
{
	unsigned need = types[m->type].need;
	unsigned long long n = 0;

	if ((need & FROM) && (get_num(&vals[F_C], UINT32_MAX, &n) == -1 ||
	    get_name(&vals[F_K], m->nick) == -1))
		return -1;
	m->id = (uint32_t)n;
	n = 0;
	if ((need & TARGET) && (get_name(&vals[F_TS], m->to) == -1 ||
	    get_num(&vals[F_TC], UINT32_MAX, &n) == -1))
		return -1;
	m->to_id = (uint32_t)n;
	n = 0;
	if (m->type == CL_JOIN)
		return decode_join(vals, m);
	if (m->type == CL_TIMEOUT) {
		if (get_num(&vals[F_O], PROTO_TIMEOUT_MAX, &n) == -1)
			return -1;
		m->secs = (uint32_t)n;
	}
	if (m->type == CL_HELLO && (get_flag(&vals[F_ASK], &m->ask) == -1 ||
	    get_flag(&vals[F_FIRST], &m->first) == -1 ||
	    get_flag(&vals[F_LAST], &m->last) == -1))
		return -1;
	if (m->type == CL_GONE && (get_name(&vals[F_G], m->gone) == -1 ||
	    get_num(&vals[F_GI], UINT64_MAX, &n) == -1))
		return -1;
	m->gone_inc = m->type == CL_GONE ? n : 0;
	if (need & B(F_X))
		return get_text(&vals[F_X], CLMSG_TEXT_MAX, &m->text, &m->len);
	if (need & B(F_R))
		return get_text(&vals[F_R], PROTO_REASON_MAX, &m->text, &m->len);
	if (need & B(F_M)) {
		if (vals[F_M].len > CLMSG_MEMBERS_MAX)
			return -1;
		m->text = vals[F_M].p;
		m->len = vals[F_M].len;
	}
	return 0;
}

/*
 * An entry's fields (the array after its id) into m: -1 with EPROTO if
 * they are malformed, ENOTSUP for another version or an unknown type.
 */
int
clmsg_decode(const struct resp_value *fields, struct clmsg *m)
{
	struct val vals[F_MAX];
	unsigned have;

	memset(m, 0, sizeof(*m));
	memset(vals, 0, sizeof(vals));
	if (fields_sort(fields, vals, &have) == -1) {
		errno = EPROTO;
		return -1;
	}
	if (decode_type(vals, have, m) == -1)
		return -1;
	if (decode_head(vals, m) == -1 || decode_body(vals, m) == -1) {
		errno = EPROTO;
		return -1;
	}
	return 0;
}

/*
 * The entries of an XREAD reply for key (*entries, *n), or, with key
 * NULL, of an XRANGE or XREVRANGE reply.  A nil reply (XREAD BLOCK
 * timed out) has none.  EPROTO if the reply has another shape.
 */
int
clmsg_entries(const struct resp_value *r, const char *key,
    const struct resp_value **entries, size_t *n)
{
	const struct resp_value *s = r;

	*entries = NULL;
	*n = 0;
	if (resp_type(r) == RESP_NIL)
		return 0;
	if (resp_type(r) != RESP_ARRAY)
		goto bad;
	if (key != NULL) {
		/* [[key, entries]]: we ask for one key */
		if (r->n != 1 || resp_type(r->elem) != RESP_ARRAY ||
		    r->elem[0].n != 2 || resp_is(r->elem[0].elem, key) != 1)
			goto bad;
		s = &r->elem[0].elem[1];
		if (resp_type(s) != RESP_ARRAY)
			goto bad;
	}
	*entries = s->elem;
	*n = s->n;
	return 0;
bad:
	errno = EPROTO;
	return -1;
}

/*
 * One entry, [id, fields]: its id and fields.  A deleted entry's fields
 * may be nil; then *fields is NULL.
 */
int
clmsg_entry(const struct resp_value *e, struct redis_id *id,
    const struct resp_value **fields)
{
	const struct resp_value *f;

	*fields = NULL;
	if (resp_type(e) != RESP_ARRAY || e->n != 2 ||
	    resp_type(&e->elem[0]) != RESP_BULK ||
	    redis_id_parse(e->elem[0].str, e->elem[0].len, id) == -1)
		goto bad;
	f = &e->elem[1];
	if (resp_type(f) == RESP_ARRAY)
		*fields = f;
	else if (resp_type(f) != RESP_NIL)
		goto bad;
	return 0;
bad:
	errno = EPROTO;
	return -1;
}

/* A hello's member line for cl, appended to out. */
int
clmsg_member_put(struct buf *out, const struct clmsg_client *cl)
{
	return buf_printf(out, "%" PRIu32 " %s %" PRId64 " %" PRIu32 " %"
	    PRIu32 " %s\n", cl->id, cl->nick, cl->since, cl->timeout, cl->pid,
	    cl->peer);
}

/* A word of a member line, up to stop, NUL-ended in word (w: it). */
struct word {
	char	 buf[PROTO_PEER_MAX + 1];
	struct val v;
};

/* The next word of a member line, up to stop; *p moves past stop. */
static int
member_word(const char **p, const char *end, struct word *w, char stop)
{
	const char *e = memchr(*p, stop, (size_t)(end - *p));

	if (e == NULL || e == *p || (size_t)(e - *p) > PROTO_PEER_MAX)
		return -1;
	memcpy(w->buf, *p, (size_t)(e - *p));
	w->buf[e - *p] = '\0';
	w->v.p = w->buf;
	w->v.len = (size_t)(e - *p);
	*p = e + 1;
	return 0;
}

/*
 * The next member of a hello's list (*p, *len: what is left of it) into
 * cl: 1, or 0 at its end, or -1 (EPROTO) if the line is malformed.
 */
int
clmsg_member_next(const char **p, size_t *len, struct clmsg_client *cl)
{
	const char *s = *p, *end = *p + *len;
	unsigned long long n;
	struct word w;

	if (*len == 0)
		return 0;
	memset(cl, 0, sizeof(*cl));
	if (member_word(&s, end, &w, ' ') == -1 ||
	    get_num(&w.v, UINT32_MAX, &n) == -1)
		goto bad;
	cl->id = (uint32_t)n;
	if (member_word(&s, end, &w, ' ') == -1 ||
	    get_name(&w.v, cl->nick) == -1 ||
	    member_word(&s, end, &w, ' ') == -1 ||
	    get_num(&w.v, INT64_MAX, &n) == -1)
		goto bad;
	cl->since = (int64_t)n;
	if (member_word(&s, end, &w, ' ') == -1 ||
	    get_num(&w.v, PROTO_TIMEOUT_MAX, &n) == -1)
		goto bad;
	cl->timeout = (uint32_t)n;
	if (member_word(&s, end, &w, ' ') == -1 ||
	    get_num(&w.v, INT32_MAX, &n) == -1)
		goto bad;
	cl->pid = (uint32_t)n;
	if (member_word(&s, end, &w, '\n') == -1 ||
	    get_peer(&w.v, cl->peer) == -1)
		goto bad;
	*len -= (size_t)(s - *p);
	*p = s;
	return 1;
bad:
	errno = EPROTO;
	return -1;
}
