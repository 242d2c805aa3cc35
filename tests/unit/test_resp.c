/*
 * test_resp.c - unit tests for common/resp.c and common/respcmd.c.
 *
 * Every reply type, fed whole, at every split point and one byte at a
 * time; nil bulk and nil array; several replies in one read; every
 * protocol error and every limit, at the limit and one past it, caught
 * as soon as the bytes are in; an XREAD reply walked with the accessors;
 * the encoder's bytes, exactly; and a randomized round trip: random
 * trees encoded, fed in random pieces, read back the same.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "resp.h"
#include "unit.h"

#define S(lit)		lit, sizeof(lit) - 1	/* a literal with its NULs */
#define WHOLE		((size_t)-1)

static char	 out[65536];	/* what run() saw, as text */
static size_t	 outlen;

/* Append text to out[]. */
static void
put(const char *s)
{
	size_t n = strlen(s);

	if (outlen + n < sizeof(out)) {
		memcpy(out + outlen, s, n + 1);
		outlen += n;
	}
}

/* n bytes at s, CR and LF as \r and \n, other odd bytes as \xHH. */
static const char *
escape(const char *s, size_t n)
{
	static char e[4096];
	size_t o = 0;

	for (size_t i = 0; i < n && o + 5 < sizeof(e); i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\r' || c == '\n')
			o += (size_t)snprintf(e + o, sizeof(e) - o, "\\%c",
			    c == '\r' ? 'r' : 'n');
		else if (c < 0x20 || c >= 0x7f)
			o += (size_t)snprintf(e + o, sizeof(e) - o, "\\x%02x", c);
		else
			e[o++] = (char)c;
	}
	e[o] = '\0';
	return e;
}

/* A reply as text: +OK -ERR :1 "bulk" nil [a,b]; odd bytes as \xHH. */
static void
render(const struct resp_value *v)
{
	char tmp[32];

	switch (resp_type(v)) {
	case RESP_STATUS:
	case RESP_ERROR:
		put(v->type == RESP_STATUS ? "+" : "-");
		put(v->str);
		break;
	case RESP_INTEGER:
		snprintf(tmp, sizeof(tmp), ":%lld", v->integer);
		put(tmp);
		break;
	case RESP_BULK:
		put("\"");
		for (size_t i = 0; i < v->len; i++) {
			unsigned char c = (unsigned char)v->str[i];

			if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
				snprintf(tmp, sizeof(tmp), "%c", c);
			else
				snprintf(tmp, sizeof(tmp), "\\x%02x", c);
			put(tmp);
		}
		put("\"");
		break;
	case RESP_NIL:
		put("nil");
		break;
	case RESP_ARRAY:
		put("[");
		for (size_t i = 0; i < v->n; i++) {
			if (i > 0)
				put(",");
			render(&v->elem[i]);
		}
		put("]");
		break;
	case RESP_NONE:
		put("?");
		break;
	}
}

/* Drain r into out[]: replies joined by '|', then "!ERRNO" on error. */
static int
drain(struct resp_reader *r)
{
	struct resp_value *v;
	int rc;

	while ((rc = resp_next(r, &v)) == 1) {
		render(v);
		put("|");
		resp_free(v);
	}
	if (rc == -1)
		put(errno == EPROTO ? "!EPROTO" : errno == EMSGSIZE ?
		    "!EMSGSIZE" : errno == ENOBUFS ? "!ENOBUFS" : "!other");
	return rc;
}

/*
 * Feed s (n bytes) in pieces of chunk bytes (the first piece split
 * bytes long if split is not WHOLE), draining after each.  The replies
 * as text; ",N left" if N bytes stayed buffered at the end.
 */
static const char *
run_split(const struct resp_limits *lim, const char *s, size_t n,
    size_t chunk, size_t split)
{
	struct resp_reader r;
	size_t off = 0, k;
	char tmp[32];

	outlen = 0;
	out[0] = '\0';
	if (resp_reader_init(&r, lim) == -1)
		return "init failed";
	while (off < n) {
		k = off == 0 && split != WHOLE ? split : chunk;
		if (k > n - off)
			k = n - off;
		if (resp_feed(&r, s + off, k) == -1) {
			drain(&r);
			break;
		}
		off += k;
		if (drain(&r) == -1)
			break;
	}
	if (outlen > 0 && out[outlen - 1] == '|')
		out[--outlen] = '\0';
	if (resp_buffered(&r) > 0 && r.err == 0) {
		snprintf(tmp, sizeof(tmp), ",%zu left", resp_buffered(&r));
		put(tmp);
	}
	resp_reader_free(&r);
	return out;
}

/* Feed s in pieces of chunk bytes; the replies as text. */
static const char *
run(const struct resp_limits *lim, const char *s, size_t n, size_t chunk)
{
	return run_split(lim, s, n, chunk, WHOLE);
}

/* s gives want whole, one byte at a time, and split at every point. */
static void
same_any_split(const char *what, const char *s, size_t n, const char *want)
{
	char whole[sizeof(out)];
	int ok = 1;

	snprintf(whole, sizeof(whole), "%s", run(NULL, s, n, n));
	CHECK(strcmp(whole, want) == 0, "%s: whole: got '%s', want '%s'",
	    what, whole, want);
	CHECK(strcmp(run(NULL, s, n, 1), want) == 0,
	    "%s: one byte at a time: got '%s'", what, out);
	for (size_t k = 1; k < n && ok; k++)
		ok = strcmp(run_split(NULL, s, n, n, k), want) == 0;
	CHECK(ok, "%s: split at every point: '%s'", what, out);
}

/* Each type, whole, split anywhere and byte by byte. */
static void
test_types(void)
{
	same_any_split("status", S("+OK\r\n"), "+OK");
	same_any_split("empty status", S("+\r\n"), "+");
	same_any_split("error", S("-ERR wrong number of arguments\r\n"),
	    "-ERR wrong number of arguments");
	same_any_split("integer", S(":42\r\n"), ":42");
	same_any_split("negative", S(":-7\r\n"), ":-7");
	same_any_split("zero", S(":0\r\n"), ":0");
	same_any_split("-0", S(":-0\r\n"), ":0");
	same_any_split("LLONG_MAX", S(":9223372036854775807\r\n"),
	    ":9223372036854775807");
	same_any_split("LLONG_MIN", S(":-9223372036854775808\r\n"),
	    ":-9223372036854775808");
	same_any_split("bulk", S("$5\r\nhello\r\n"), "\"hello\"");
	same_any_split("empty bulk", S("$0\r\n\r\n"), "\"\"");
	same_any_split("binary bulk", S("$6\r\na\r\n\0\rb\r\n"),
	    "\"a\\x0d\\x0a\\x00\\x0db\"");
	same_any_split("nil bulk", S("$-1\r\n"), "nil");
	same_any_split("nil array", S("*-1\r\n"), "nil");
	same_any_split("empty array", S("*0\r\n"), "[]");
	same_any_split("array", S("*3\r\n:1\r\n$-1\r\n+x\r\n"),
	    "[:1,nil,+x]");
	same_any_split("nested", S("*2\r\n*2\r\n:1\r\n*1\r\n*0\r\n$1\r\nz\r\n"),
	    "[[:1,[[]]],\"z\"]");
	same_any_split("pipelined replies",
	    S("+PONG\r\n:1\r\n*1\r\n$2\r\nab\r\n-NOAUTH x\r\n$-1\r\n"),
	    "+PONG|:1|[\"ab\"]|-NOAUTH x|nil");
	same_any_split("partial", S("+OK\r\n*2\r\n:1\r"), "+OK,7 left");
}

/* The text a value holds is NUL-terminated, and the tree is one block. */
static void
test_values(void)
{
	struct resp_reader r;
	struct resp_value *v;
	long long n;
	size_t len;

	resp_reader_init(&r, NULL);
	resp_feed(&r, S("*4\r\n$3\r\nabc\r\n+OK\r\n:5\r\n-E\r\n"));
	CHECK(resp_next(&r, &v) == 1 && v != NULL, "a reply");
	CHECK(resp_type(v) == RESP_ARRAY && resp_count(v) == 4, "array of 4");
	CHECK(resp_str(resp_elem(v, 0), &len) != NULL && len == 3 &&
	    v->elem[0].str[3] == '\0', "bulk, NUL-terminated");
	CHECK(resp_is(resp_elem(v, 0), "abc") && !resp_is(resp_elem(v, 0),
	    "ab") && resp_is(resp_elem(v, 1), "OK"), "resp_is");
	CHECK(resp_int(resp_elem(v, 2), &n) == 0 && n == 5, "resp_int");
	CHECK(resp_int(resp_elem(v, 0), &n) == -1 && errno == EINVAL,
	    "resp_int on a bulk: EINVAL");
	CHECK(resp_str(resp_elem(v, 3), NULL) == NULL &&
	    resp_type(resp_elem(v, 3)) == RESP_ERROR && !resp_is(resp_elem(v,
	    3), "E"), "an error is not a string");
	CHECK(resp_elem(v, 4) == NULL && resp_elem(resp_elem(v, 0), 0) ==
	    NULL && resp_elem(NULL, 0) == NULL, "resp_elem: NULL past the end "
	    "or on a non-array");
	CHECK(resp_count(NULL) == 0 && resp_count(resp_elem(v, 2)) == 0 &&
	    resp_type(NULL) == RESP_NONE && resp_str(NULL, &len) == NULL &&
	    resp_int(NULL, &n) == -1, "accessors take NULL");
	resp_free(v);
	CHECK(resp_next(&r, &v) == 0 && v == NULL, "then nothing more");
	CHECK(resp_buffered(&r) == 0 && r.in.data == NULL,
	    "an empty reader holds no memory");
	resp_reader_free(&r);
}

/* The reply of XREAD COUNT 10 STREAMS a b 0 0, walked. */
static void
test_xread(void)
{
	static const char reply[] =
	    "*2\r\n"
	    "*2\r\n$1\r\na\r\n*2\r\n"
	    "*2\r\n$3\r\n1-0\r\n*4\r\n$4\r\nfrom\r\n$5\r\nalice\r\n"
	    "$4\r\ntext\r\n$2\r\nhi\r\n"
	    "*2\r\n$3\r\n2-5\r\n*2\r\n$4\r\nfrom\r\n$3\r\nbob\r\n"
	    "*2\r\n$1\r\nb\r\n*0\r\n";
	struct resp_reader r;
	struct resp_value *v;
	const struct resp_value *stream, *entry, *fields;
	char seen[256] = "";
	size_t i, j, k, len;

	resp_reader_init(&r, NULL);
	resp_feed(&r, reply, sizeof(reply) - 1);
	CHECK(resp_next(&r, &v) == 1, "XREAD reply parsed");
	for (i = 0; (stream = resp_elem(v, i)) != NULL; i++) {
		strcat(seen, resp_str(resp_elem(stream, 0), &len));
		strcat(seen, ":");
		for (j = 0; (entry = resp_elem(resp_elem(stream, 1), j)) !=
		    NULL; j++) {
			strcat(seen, resp_str(resp_elem(entry, 0), &len));
			fields = resp_elem(entry, 1);
			for (k = 0; k + 1 < resp_count(fields); k += 2) {
				strcat(seen, " ");
				strcat(seen, resp_elem(fields, k)->str);
				strcat(seen, "=");
				strcat(seen, resp_elem(fields, k + 1)->str);
			}
			strcat(seen, ";");
		}
	}
	CHECK(strcmp(seen, "a:1-0 from=alice text=hi;2-5 from=bob;b:") == 0,
	    "walked: %s", seen);
	CHECK(resp_elem(resp_elem(resp_elem(resp_elem(v, 0), 1), 7), 0) ==
	    NULL && resp_elem(resp_elem(resp_elem(v, 5), 1), 0) == NULL,
	    "a wrong index anywhere in a chain gives NULL, not a crash");
	resp_free(v);
	resp_reader_free(&r);
	same_any_split("XREAD BLOCK timed out", S("*-1\r\n"), "nil");
}

/* Broken input: EPROTO, as soon as the offending byte is in. */
static void
test_errors(void)
{
	static const char *const bad[] = {
		"_\r\n", ",1.5\r\n", "#t\r\n", "(1\r\n", "!3\r\nerr\r\n",
		"=3\r\ntxt\r\n", "%1\r\n", "~1\r\n", ">1\r\n", "|1\r\n",
		"PING\r\n", " +OK\r\n", "\r\n", "+OK\n", "+O\nK\r\n", "+OK\rx",
		":\r\n", ":1a\r\n", ":+1\r\n", ": 1\r\n", ":-\r\n", ":--1\r\n",
		":9223372036854775808\r\n", ":-9223372036854775809\r\n",
		"$-2\r\n", "$x\r\n", "$\r\n", "$3\r\nabcd\r\n", "$3\r\nabc\rx",
		"*-2\r\n", "*1x\r\n", "*\r\n", "*1\r\n?\r\n", "*2\r\n:1\r\n\n",
	};
	struct resp_reader r;
	struct resp_value *v;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *s = bad[i];

		CHECK(strcmp(run(NULL, s, strlen(s), 1), "!EPROTO") == 0 &&
		    strcmp(run(NULL, s, strlen(s), 64), "!EPROTO") == 0,
		    "bad input %s: %s", escape(s, strlen(s)), out);
	}
	CHECK(strcmp(run(NULL, S("+OK\r\n:1\r\n_\r\n+never\r\n"), 64),
	    "+OK|:1|!EPROTO") == 0, "replies before the error come out: %s",
	    out);
	/* caught without waiting for a CR that never comes */
	CHECK(strcmp(run(NULL, S("+OK\r\n_"), 64), "+OK|!EPROTO") == 0,
	    "an unknown type byte fails at once: %s", out);
	CHECK(strcmp(run(NULL, S("+a\nb"), 1), "!EPROTO") == 0,
	    "a bare LF fails at once: %s", out);
	resp_reader_init(&r, NULL);
	resp_feed(&r, S("~0\r\n"));
	CHECK(resp_next(&r, &v) == -1 && errno == EPROTO && v == NULL,
	    "RESP3 set: EPROTO");
	errno = 0;
	CHECK(resp_next(&r, &v) == -1 && errno == EPROTO, "the error sticks");
	CHECK(resp_feed(&r, S("+OK\r\n")) == -1 && errno == EPROTO,
	    "feeding after the error fails too");
	resp_reader_free(&r);
}

/* Every limit: at it passes, one past it fails, before the bytes come. */
static void
test_limits(void)
{
	struct resp_limits lim = { 4, 3, 2, 6, 64 };
	struct resp_reader r;
	char big[200];

	CHECK(strcmp(run(&lim, S("$4\r\nabcd\r\n"), 1), "\"abcd\"") == 0,
	    "bulk at max_bulk: %s", out);
	CHECK(strcmp(run(&lim, S("$5\r\n"), 1), "!EMSGSIZE") == 0,
	    "bulk past max_bulk fails at its header: %s", out);
	CHECK(strcmp(run(&lim, S("+abcd\r\n"), 1), "+abcd") == 0 &&
	    strcmp(run(&lim, S("-abcde"), 1), "!EMSGSIZE") == 0,
	    "status and error lines: max_bulk too, before the CR: %s", out);
	CHECK(strcmp(run(&lim, S("*3\r\n:1\r\n:2\r\n:3\r\n"), 2),
	    "[:1,:2,:3]") == 0 && strcmp(run(&lim, S("*4\r\n"), 2),
	    "!EMSGSIZE") == 0, "max_elems: %s", out);
	CHECK(strcmp(run(&lim, S("*1\r\n*1\r\n:1\r\n"), 3), "[[:1]]") == 0 &&
	    strcmp(run(&lim, S("*1\r\n*1\r\n*0\r\n"), 3), "!EMSGSIZE") == 0 &&
	    strcmp(run(&lim, S("*1\r\n*1\r\n*-1\r\n"), 3), "!EMSGSIZE") == 0,
	    "max_depth, even for an empty or nil array: %s", out);
	CHECK(strcmp(run(&lim, S("*2\r\n*3\r\n:1\r\n:2\r\n:3\r\n:4\r\n"), 5),
	    "[[:1,:2,:3],:4]") == 0, "max_total, reached: %s", out);
	CHECK(strcmp(run(&lim, S("*3\r\n*3\r\n"), 5), "!EMSGSIZE") == 0,
	    "max_total, passed: fails at the header: %s", out);
	memset(big, 'x', sizeof(big));
	memcpy(big, "+", 1);
	CHECK(strcmp(run(&(struct resp_limits){ 64, 3, 2, 6, 64 }, big, 65,
	    7), "!EMSGSIZE") == 0, "max_reply, a line: %s", out);
	CHECK(strcmp(run(&(struct resp_limits){ 10, 3, 2, 6, 10 },
	    S("$5\r\nab"), 7), "!EMSGSIZE") == 0 && strcmp(run(&(struct
	    resp_limits){ 10, 3, 2, 6, 10 }, S("$4\r\nabcd\r\n"), 7),
	    "\"abcd\"") == 0, "max_reply, a bulk: at its header: %s", out);
	CHECK(strcmp(run(NULL, S("*100000000\r\n"), 64), "!EMSGSIZE") == 0 &&
	    strcmp(run(NULL, S("$1000000000\r\n"), 64), "!EMSGSIZE") == 0,
	    "huge announced sizes fail at once, nothing allocated: %s", out);
	CHECK(strcmp(run(NULL, S(":0000000000000000000000001\r\n"), 64),
	    "!EMSGSIZE") == 0, "a number line past RESP_NUM_LINE: %s", out);
	/* a reader not drained refuses to grow past max_reply */
	resp_reader_init(&r, &lim);
	for (int i = 0; i < 16; i++)
		resp_feed(&r, S("+abcd\r\n"));
	CHECK(resp_feed(&r, S("+x\r\n")) == -1 && errno == ENOBUFS,
	    "feeding without draining: ENOBUFS");
	resp_reader_free(&r);
	lim.max_depth = 0;
	CHECK(resp_reader_init(&r, &lim) == -1 && errno == EINVAL,
	    "max_depth 0: EINVAL");
	lim.max_depth = RESP_DEPTH_CAP + 1;
	CHECK(resp_reader_init(&r, &lim) == -1, "max_depth past the cap");
	lim.max_depth = 2;
	lim.max_bulk = 65;
	CHECK(resp_reader_init(&r, &lim) == -1, "max_bulk past max_reply");
}

/* The bytes queued in b are exactly want (n bytes). */
static void
same_bytes(const char *what, const struct buf *b, const char *want,
    size_t n)
{
	CHECK(b->len == n && memcmp(buf_head(b), want, n) == 0, "%s: %s",
	    what, escape(buf_head(b), b->len));
}

/* The encoder's bytes, exactly. */
static void
test_encoder(void)
{
	static const char *const argv[] = { "SET", "k", "v\0x" };
	static const size_t lens[] = { 3, 1, 3 };
	struct resp_cmd c;
	struct buf b;

	buf_init(&b, 0);
	CHECK(resp_cmd(&b, "PING", (char *)NULL) == 0, "PING");
	same_bytes("PING", &b, S("*1\r\n$4\r\nPING\r\n"));
	buf_free(&b);
	resp_cmdv(&b, 3, argv, lens);
	same_bytes("argv with lengths", &b,
	    S("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\nv\0x\r\n"));
	buf_free(&b);
	resp_cmdv(&b, 2, argv, NULL);
	same_bytes("argv of strings", &b, S("*2\r\n$3\r\nSET\r\n$1\r\nk\r\n"));
	buf_free(&b);

	resp_begin(&c, &b);
	resp_arg_str(&c, "XADD");
	resp_arg_str(&c, "chat");
	resp_arg_str(&c, "MAXLEN");
	resp_arg_str(&c, "~");
	resp_arg_uint(&c, 10000);
	resp_arg_str(&c, "*");
	resp_arg_str(&c, "text");
	resp_arg(&c, "", 0);
	CHECK(resp_end(&c) == 0, "XADD built");
	resp_cmd(&b, "XREAD", "COUNT", "100", "BLOCK", "0", "STREAMS", "chat",
	    "0-0", (char *)NULL);
	same_bytes("two commands pipelined in one buffer", &b,
	    S("*8\r\n$4\r\nXADD\r\n$4\r\nchat\r\n$6\r\nMAXLEN\r\n$1\r\n~\r\n"
	    "$5\r\n10000\r\n$1\r\n*\r\n$4\r\ntext\r\n$0\r\n\r\n"
	    "*8\r\n$5\r\nXREAD\r\n$5\r\nCOUNT\r\n$3\r\n100\r\n$5\r\nBLOCK\r\n"
	    "$1\r\n0\r\n$7\r\nSTREAMS\r\n$4\r\nchat\r\n$3\r\n0-0\r\n"));
	buf_free(&b);

	resp_begin(&c, &b);
	resp_arg_int(&c, LLONG_MIN);
	resp_arg_int(&c, -1);
	resp_arg_int(&c, 0);
	resp_arg_uint(&c, ULLONG_MAX);
	resp_end(&c);
	same_bytes("numbers", &b, S("*4\r\n$20\r\n-9223372036854775808\r\n"
	    "$2\r\n-1\r\n$1\r\n0\r\n$20\r\n18446744073709551615\r\n"));
	buf_free(&b);
}

/* A command that fails leaves the buffer as it was. */
static void
test_encoder_fail(void)
{
	struct resp_cmd c;
	struct buf b;
	char big[600];

	buf_init(&b, 600);
	resp_cmd(&b, "PING", (char *)NULL);
	buf_consume(&b, 4);		/* a head already sent: off > 0 */
	resp_begin(&c, &b);
	resp_arg_str(&c, "SET");
	memset(big, 'x', sizeof(big));
	resp_arg(&c, big, sizeof(big));
	resp_arg_str(&c, "after");
	CHECK(resp_end(&c) == -1 && errno == ENOBUFS, "past the limit: ENOBUFS");
	same_bytes("nothing of it left", &b, S("$4\r\nPING\r\n"));
	resp_begin(&c, &b);
	CHECK(resp_end(&c) == -1 && errno == EINVAL, "no argument: EINVAL");
	resp_cmd(&b, "GET", "k", (char *)NULL);
	same_bytes("a command after a failed one", &b,
	    S("$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"));
	buf_free(&b);
	resp_begin(&c, &b);
	resp_arg(&c, big, sizeof(big));
	CHECK(resp_end(&c) == -1 && b.len == 0 && b.data == NULL,
	    "a failed first command: the buffer holds no memory");
}

/* Encode a random tree of depth at most d into b, rendered into want. */
static void
random_tree(struct buf *b, char *want, size_t size, int d)
{
	static const char *const words[] = { "", "a", "OK", "x y", "1-0" };
	int kind = rand() % (d > 0 ? 7 : 5);
	size_t n = strlen(want);
	const char *w = words[rand() % 5];

	switch (kind) {
	case 0:
		buf_printf(b, "+%s\r\n", w);
		snprintf(want + n, size - n, "+%s", w);
		break;
	case 1:
		buf_printf(b, "-%s\r\n", w);
		snprintf(want + n, size - n, "-%s", w);
		break;
	case 2:
		kind = rand() - RAND_MAX / 2;
		buf_printf(b, ":%d\r\n", kind);
		snprintf(want + n, size - n, ":%d", kind);
		break;
	case 3:
		buf_printf(b, "$%zu\r\n%s\r\n", strlen(w), w);
		snprintf(want + n, size - n, "\"%s\"", w);
		break;
	case 4:
		buf_append(b, rand() % 2 ? "$-1\r\n" : "*-1\r\n", 5);
		snprintf(want + n, size - n, "nil");
		break;
	default:
		kind = rand() % 4;
		buf_printf(b, "*%d\r\n", kind);
		snprintf(want + n, size - n, "[");
		for (int i = 0; i < kind; i++) {
			if (i > 0)
				strncat(want, ",", size - strlen(want) - 1);
			random_tree(b, want, size, d - 1);
		}
		strncat(want, "]", size - strlen(want) - 1);
		break;
	}
}

/* Random replies in random pieces come back as they were sent. */
static void
test_random(void)
{
	static char want[sizeof(out)];
	struct buf b;
	int bad = 0, i;

	srand(7);
	for (i = 0; i < 2000 && !bad; i++) {
		buf_init(&b, 0);
		want[0] = '\0';
		for (int k = rand() % 4 + 1; k > 0; k--) {
			random_tree(&b, want, sizeof(want) - 4, 4);
			if (k > 1)
				strcat(want, "|");
		}
		if (strcmp(run(NULL, buf_head(&b), b.len,
		    (size_t)(rand() % 9 + 1)), want) != 0)
			bad = 1;
		buf_free(&b);
	}
	CHECK(!bad, "2000 random pipelines read back (run %d: '%s', want '%s')",
	    i, out, want);
}

int
main(void)
{
	test_types();
	test_values();
	test_xread();
	test_errors();
	test_limits();
	test_encoder();
	test_encoder_fail();
	test_random();
	return unit_done();
}
