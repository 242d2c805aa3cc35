/*
 * test_clmsg.c - unit tests for common/clmsg.c, the cluster's entries
 * on the Redis stream.
 *
 * Every type written as an XADD and read back the same; the command's
 * head; fields that are missing, doubled, malformed, or carry a line
 * break or an escape; another version or type; unknown fields skipped;
 * the shapes of XREAD and XRANGE replies; a hello's member lines.  The
 * replies are real RESP, read with resp.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clmsg.h"
#include "unit.h"

/* Read one whole reply from RESP text; NULL if it is not one. */
static struct resp_value *
reply_of(const char *text, size_t len)
{
	struct resp_reader r;
	struct resp_value *v = NULL;

	if (resp_reader_init(&r, NULL) == -1)
		return NULL;
	if (resp_feed(&r, text, len) == -1 || resp_next(&r, &v) != 1)
		v = NULL;
	resp_reader_free(&r);
	return v;
}

/*
 * Write m as XADD, read the command back, decode its fields (from the
 * seventh argument on) into out: clmsg_decode()'s result.  *cmd gets
 * the command, for the caller to look at and free.
 */
static int
round_trip(const struct clmsg *m, struct clmsg *out, struct resp_value **cmd)
{
	struct resp_value fields;
	struct buf b;
	int rc;

	buf_init(&b, 0);
	*cmd = NULL;
	if (clmsg_xadd(&b, "chat", 1000, m) == -1)
		return -2;
	*cmd = reply_of(buf_head(&b), b.len);
	buf_free(&b);
	if (*cmd == NULL || (*cmd)->n < 6)
		return -2;
	memset(&fields, 0, sizeof(fields));
	fields.type = RESP_ARRAY;
	fields.elem = (*cmd)->elem + 6;
	fields.n = (*cmd)->n - 6;
	rc = clmsg_decode(&fields, out);
	return rc;
}

/* A message of type t from alpha, incarnation 77, number 5. */
static struct clmsg
base(enum clmsg_type t)
{
	struct clmsg m;

	memset(&m, 0, sizeof(m));
	m.type = t;
	(void)snprintf(m.server, sizeof(m.server), "alpha");
	m.inc = 77;
	m.seq = 5;
	m.id = 12;
	(void)snprintf(m.nick, sizeof(m.nick), "ann");
	return m;
}

/* Every type, written and read back with the fields it carries. */
static void
test_round_trip(void)
{
	struct clmsg m, d;
	struct resp_value *cmd;

	m = base(CL_SAY);
	m.text = "hello\tthere";
	m.len = strlen(m.text);
	CHECK(round_trip(&m, &d, &cmd) == 0 && d.type == CL_SAY &&
	    strcmp(d.server, "alpha") == 0 && d.inc == 77 && d.seq == 5 &&
	    d.id == 12 && strcmp(d.nick, "ann") == 0 && d.len == m.len &&
	    memcmp(d.text, m.text, m.len) == 0, "say: every field back");
	CHECK(cmd != NULL && resp_is(&cmd->elem[0], "XADD") == 1 &&
	    resp_is(&cmd->elem[1], "chat") == 1 &&
	    resp_is(&cmd->elem[2], "MAXLEN") == 1 &&
	    resp_is(&cmd->elem[3], "~") == 1 &&
	    resp_is(&cmd->elem[4], "1000") == 1 &&
	    resp_is(&cmd->elem[5], "*") == 1, "XADD key MAXLEN ~ N *");
	resp_free(cmd);

	m = base(CL_JOIN);
	m.client.id = 12;
	(void)snprintf(m.client.peer, sizeof(m.client.peer), "[::1]:4242");
	m.client.pid = 999;
	m.client.since = 1700000000123;
	m.client.timeout = 30;
	CHECK(round_trip(&m, &d, &cmd) == 0 && d.type == CL_JOIN &&
	    d.client.id == 12 && strcmp(d.client.nick, "ann") == 0 &&
	    strcmp(d.client.peer, "[::1]:4242") == 0 && d.client.pid == 999 &&
	    d.client.since == 1700000000123 && d.client.timeout == 30,
	    "join: the client");
	resp_free(cmd);

	m = base(CL_KICK);
	(void)snprintf(m.to, sizeof(m.to), "beta");
	m.to_id = 3;
	m.text = "spam";
	m.len = 4;
	CHECK(round_trip(&m, &d, &cmd) == 0 && d.type == CL_KICK &&
	    strcmp(d.to, "beta") == 0 && d.to_id == 3 && d.len == 4 &&
	    memcmp(d.text, "spam", 4) == 0, "kick: target and reason");
	resp_free(cmd);

	m = base(CL_TIMEOUT);
	(void)snprintf(m.to, sizeof(m.to), "beta");
	m.to_id = 4;
	m.secs = 604800;
	CHECK(round_trip(&m, &d, &cmd) == 0 && d.secs == 604800 &&
	    d.to_id == 4, "tmo: seconds");
	resp_free(cmd);

	m = base(CL_HELLO);
	m.ask = true;
	m.last = true;
	m.text = "1 bob 5 0 10 1.2.3.4:5\n";
	m.len = strlen(m.text);
	CHECK(round_trip(&m, &d, &cmd) == 0 && d.ask && !d.first && d.last &&
	    d.len == m.len, "hello: flags and members");
	resp_free(cmd);

	m = base(CL_GONE);
	(void)snprintf(m.gone, sizeof(m.gone), "gamma");
	m.gone_inc = 18446744073709551615ULL;
	CHECK(round_trip(&m, &d, &cmd) == 0 && strcmp(d.gone, "gamma") == 0 &&
	    d.gone_inc == 18446744073709551615ULL, "gone: server and a "
	    "64-bit incarnation");
	resp_free(cmd);

	m = base(CL_LEAVE);
	m.text = "";
	m.len = 0;
	CHECK(round_trip(&m, &d, &cmd) == 0 && d.type == CL_LEAVE &&
	    d.len == 0, "leave: an empty reason");
	resp_free(cmd);

	m = base(CL_NONE);
	CHECK(round_trip(&m, &d, &cmd) == -2 && errno == EINVAL,
	    "no XADD for no type");
	for (int t = CL_HELLO; t < CL_TYPE_MAX; t++)
		CHECK(strcmp(clmsg_type_name((enum clmsg_type)t), "?") != 0,
		    "type %d has a name: %s", t,
		    clmsg_type_name((enum clmsg_type)t));
}

/* Decode fields given as strings; sets errno. */
static int
decode_words(struct clmsg *m, int n, ...)
{
	struct resp_value *v;
	struct buf b;
	const char *argv[64];
	va_list ap;
	int rc;

	va_start(ap, n);
	for (int i = 0; i < n && i < 64; i++)
		argv[i] = va_arg(ap, const char *);
	va_end(ap);
	buf_init(&b, 0);
	if (resp_cmdv(&b, n, argv, NULL) == -1)
		return -2;
	v = reply_of(buf_head(&b), b.len);
	buf_free(&b);
	if (v == NULL)
		return -2;
	rc = clmsg_decode(v, m);
	resp_free(v);
	return rc;
}

#define HEADV	"v", "1", "t", "say", "s", "alpha", "i", "1", "n", "2"

/* What is refused, and why. */
static void
test_bad(void)
{
	struct clmsg m;

	CHECK(decode_words(&m, 16, HEADV, "c", "1", "k", "ann", "x", "hi") ==
	    0 && m.type == CL_SAY, "a good say");
	CHECK(decode_words(&m, 18, HEADV, "c", "1", "k", "ann", "x", "hi",
	    "zz", "later") == 0, "an unknown field is skipped");
	CHECK(decode_words(&m, 14, HEADV, "c", "1", "k", "ann") == -1 &&
	    errno == EPROTO, "say without x: EPROTO");
	CHECK(decode_words(&m, 18, HEADV, "c", "1", "k", "ann", "x", "hi",
	    "x", "twice") == -1 && errno == EPROTO, "a field twice: EPROTO");
	CHECK(decode_words(&m, 16, HEADV, "c", "1", "k", "ann", "x",
	    "a\r\nb") == -1 && errno == EPROTO, "a line break in text");
	CHECK(decode_words(&m, 16, HEADV, "c", "1", "k", "ann", "x",
	    "\033[2J") == -1 && errno == EPROTO, "an escape in text");
	CHECK(decode_words(&m, 16, HEADV, "c", "1", "k", "a b", "x", "hi") ==
	    -1 && errno == EPROTO, "a nick that is not one");
	CHECK(decode_words(&m, 16, HEADV, "c", "-1", "k", "ann", "x", "hi") ==
	    -1 && decode_words(&m, 16, HEADV, "c", "4294967296", "k", "ann",
	    "x", "hi") == -1 && decode_words(&m, 16, HEADV, "c", "", "k",
	    "ann", "x", "hi") == -1, "ids: digits that fit 32 bits");
	CHECK(decode_words(&m, 16, "v", "2", "t", "say", "s", "alpha", "i",
	    "1", "n", "2", "c", "1", "k", "ann", "x", "hi") == -1 &&
	    errno == ENOTSUP, "version 2: ENOTSUP");
	CHECK(decode_words(&m, 10, "v", "1", "t", "shout", "s", "alpha", "i",
	    "1", "n", "2") == -1 && errno == ENOTSUP, "an unknown type: "
	    "ENOTSUP");
	CHECK(decode_words(&m, 9, "v", "1", "t", "beat", "s", "alpha", "i",
	    "1", "n") == -1 && errno == EPROTO, "an odd number of words");
	CHECK(decode_words(&m, 10, "v", "1", "t", "beat", "s",
	    "alpha.example", "i", "1", "n", "2") == -1 && errno == EPROTO,
	    "a server name that is not one");
	CHECK(decode_words(&m, 10, "v", "1", "t", "beat", "s", "alpha", "i",
	    "18446744073709551616", "n", "2") == -1, "an incarnation past "
	    "64 bits");
	CHECK(decode_words(&m, 18, "v", "1", "t", "tmo", "s", "alpha", "i",
	    "1", "n", "2", "c", "1", "k", "ann", "ts", "beta", "tc", "3",
	    "o", "604801") == -1, "a timeout past a week");
}

/* XREAD and XRANGE replies, nil, and other shapes. */
static void
test_shapes(void)
{
	static const char xread[] = "*1\r\n*2\r\n$4\r\nchat\r\n*2\r\n"
	    "*2\r\n$3\r\n5-1\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n"
	    "*2\r\n$3\r\n6-0\r\n*-1\r\n";
	static const char xrange[] = "*1\r\n*2\r\n$3\r\n7-2\r\n*0\r\n";
	const struct resp_value *e, *f;
	struct resp_value *v;
	struct redis_id id;
	size_t n;

	v = reply_of(xread, sizeof(xread) - 1);
	CHECK(v != NULL && clmsg_entries(v, "chat", &e, &n) == 0 && n == 2,
	    "XREAD: two entries of the key");
	CHECK(v != NULL && clmsg_entry(&e[0], &id, &f) == 0 && id.ms == 5 &&
	    id.seq == 1 && f != NULL && f->n == 2, "an entry: id and fields");
	CHECK(v != NULL && clmsg_entry(&e[1], &id, &f) == 0 && id.ms == 6 &&
	    f == NULL, "a deleted entry: nil fields");
	CHECK(v != NULL && clmsg_entries(v, "other", &e, &n) == -1 &&
	    errno == EPROTO, "another key: EPROTO");
	resp_free(v);
	v = reply_of(xrange, sizeof(xrange) - 1);
	CHECK(v != NULL && clmsg_entries(v, NULL, &e, &n) == 0 && n == 1 &&
	    clmsg_entry(&e[0], &id, &f) == 0 && id.ms == 7 && id.seq == 2,
	    "XRANGE: the entries themselves");
	CHECK(v != NULL && clmsg_entries(v, "chat", &e, &n) == -1,
	    "XRANGE's shape is not XREAD's");
	resp_free(v);
	v = reply_of("*-1\r\n", 5);
	CHECK(v != NULL && clmsg_entries(v, "chat", &e, &n) == 0 && n == 0,
	    "nil: no entries (XREAD BLOCK timed out)");
	resp_free(v);
	v = reply_of(":3\r\n", 4);
	CHECK(v != NULL && clmsg_entries(v, "chat", &e, &n) == -1,
	    "an integer: EPROTO");
	CHECK(v != NULL && clmsg_entry(v, &id, &f) == -1, "not an entry");
	resp_free(v);
}

/* A hello's member lines, written and read back. */
static void
test_members(void)
{
	struct clmsg_client a = { .id = 7, .nick = "bob", .peer =
	    "127.0.0.1:5000", .since = 1700000000000, .timeout = 60,
	    .pid = 4321 }, b = { .id = 8, .nick = "guest8", .peer =
	    "[::1]:1", .pid = 1 }, c;
	const char *p;
	size_t len;
	struct buf out;
	int ok;

	buf_init(&out, 0);
	CHECK(clmsg_member_put(&out, &a) == 0 && clmsg_member_put(&out, &b) ==
	    0, "two member lines");
	p = buf_head(&out);
	len = out.len;
	ok = clmsg_member_next(&p, &len, &c) == 1 && c.id == 7 &&
	    strcmp(c.nick, "bob") == 0 && c.since == 1700000000000 &&
	    c.timeout == 60 && c.pid == 4321 &&
	    strcmp(c.peer, "127.0.0.1:5000") == 0;
	ok = ok && clmsg_member_next(&p, &len, &c) == 1 && c.id == 8 &&
	    strcmp(c.peer, "[::1]:1") == 0;
	CHECK(ok && clmsg_member_next(&p, &len, &c) == 0, "read back, then "
	    "the end");
	buf_free(&out);
	p = "7 bob 1 0 2 x:1";		/* no line end */
	len = strlen(p);
	CHECK(clmsg_member_next(&p, &len, &c) == -1 && errno == EPROTO,
	    "a line without its end");
	p = "7 b@b 1 0 2 x:1\n";
	len = strlen(p);
	CHECK(clmsg_member_next(&p, &len, &c) == -1, "a bad nick");
	p = "7 bob 1 0 2  x:1\n";
	len = strlen(p);
	CHECK(clmsg_member_next(&p, &len, &c) == -1, "two blanks");
}

int
main(void)
{
	test_round_trip();
	test_bad();
	test_shapes();
	test_members();
	return unit_done();
}
