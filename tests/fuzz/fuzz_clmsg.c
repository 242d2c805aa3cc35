/*
 * fuzz_clmsg.c - libFuzzer target for common/clmsg.c, the cluster's
 * entries as read from Redis.
 *
 * Input: RESP replies, as Redis would send them.  Each is taken as an
 * XREAD reply for the key "k", as an XRANGE reply, and as an entry's
 * fields itself.  Every entry that decodes must keep its promises (names
 * and nicks valid, text free of controls but TAB, numbers in range),
 * must write back as an XADD that decodes to the same message, and a
 * hello's member lines must read back the same when written again.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "clmsg.h"
#include "resp.h"

#define FUZZ_NAME "fuzz_clmsg"
#include "fuzz.h"

/* Text a client may be shown: no control character but TAB. */
static void
check_text(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)p[i];

		CHECK(!((c < 0x20 && c != '\t') || c == 0x7f),
		    "a control byte 0x%02x in text", c);
	}
}

/* Every member line reads back the same once written again. */
static void
check_members(const char *p, size_t len)
{
	struct clmsg_client a, b;
	const char *q;
	size_t qlen;
	struct buf out;

	while (clmsg_member_next(&p, &len, &a) == 1) {
		CHECK(nick_valid(a.nick), "a member's nick is not one");
		buf_init(&out, 0);
		CHECK(clmsg_member_put(&out, &a) == 0, "member_put");
		q = buf_head(&out);
		qlen = out.len;
		CHECK(clmsg_member_next(&q, &qlen, &b) == 1 && qlen == 0 &&
		    memcmp(&a, &b, sizeof(a)) == 0, "a member line changed "
		    "when written again");
		buf_free(&out);
	}
}

/* Two decoded messages say the same. */
static void
check_same(const struct clmsg *a, const struct clmsg *b)
{
	CHECK(a->type == b->type && strcmp(a->server, b->server) == 0 &&
	    a->inc == b->inc && a->seq == b->seq && a->id == b->id &&
	    strcmp(a->nick, b->nick) == 0 && strcmp(a->to, b->to) == 0 &&
	    a->to_id == b->to_id && a->secs == b->secs && a->len == b->len &&
	    (a->len == 0 || memcmp(a->text, b->text, a->len) == 0) &&
	    memcmp(&a->client, &b->client, sizeof(a->client)) == 0 &&
	    a->ask == b->ask && a->first == b->first && a->last == b->last &&
	    strcmp(a->gone, b->gone) == 0 && a->gone_inc == b->gone_inc,
	    "a message changed on its way through XADD");
}

/* m, written as XADD and read back, is m. */
static void
check_round_trip(const struct clmsg *m)
{
	struct resp_reader r;
	struct resp_value *cmd, fields;
	struct clmsg d;
	struct buf b;

	buf_init(&b, 0);
	CHECK(clmsg_xadd(&b, "k", 1000, m) == 0, "xadd: %s", strerror(errno));
	CHECK(resp_reader_init(&r, NULL) == 0, "reader");
	CHECK(resp_feed(&r, buf_head(&b), b.len) == 0 &&
	    resp_next(&r, &cmd) == 1, "the XADD does not read back");
	CHECK(cmd->n >= 6, "a short XADD");
	memset(&fields, 0, sizeof(fields));
	fields.type = RESP_ARRAY;
	fields.elem = cmd->elem + 6;
	fields.n = cmd->n - 6;
	CHECK(clmsg_decode(&fields, &d) == 0, "its own XADD does not decode");
	check_same(m, &d);
	resp_free(cmd);
	resp_reader_free(&r);
	buf_free(&b);
}

/* Decode one entry's fields; what decodes keeps its promises. */
static void
try_fields(const struct resp_value *f)
{
	struct clmsg m;

	if (clmsg_decode(f, &m) == -1) {
		CHECK(errno == EPROTO || errno == ENOTSUP, "errno %d", errno);
		return;
	}
	CHECK(m.type > CL_NONE && m.type < CL_TYPE_MAX, "type %d", m.type);
	CHECK(clmsg_name_valid(m.server), "server name");
	if (m.type == CL_HELLO)
		check_members(m.text, m.len);
	else if (m.len > 0)
		check_text(m.text, m.len);
	check_round_trip(&m);
}

/* Every entry of a reply taken as XREAD (key "k") or XRANGE (NULL). */
static void
try_entries(const struct resp_value *v, const char *key)
{
	const struct resp_value *e, *f;
	struct redis_id id;
	size_t n;

	if (clmsg_entries(v, key, &e, &n) == -1)
		return;
	for (size_t i = 0; i < n; i++)
		if (clmsg_entry(&e[i], &id, &f) == 0 && f != NULL)
			try_fields(f);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct resp_reader r;
	struct resp_value *v;

	if (resp_reader_init(&r, NULL) == -1)
		FAIL("reader");
	if (resp_feed(&r, data, size) == 0) {
		while (resp_next(&r, &v) == 1) {
			try_entries(v, "k");
			try_entries(v, NULL);
			try_fields(v);
			resp_free(v);
		}
	}
	resp_reader_free(&r);
	return 0;
}
