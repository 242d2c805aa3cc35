/*
 * test_clsnap.c - unit tests for common/clsnap.c: the cluster's entries
 * and clients written into a snapshot's record read back the same,
 * every field, text of any bytes included; a record cut short, of no
 * type, or with too long a text is refused.
 */
#include <string.h>

#include "clsnap.h"
#include "unit.h"

/* m, written as one record and read back into out (text into the snap). */
static int
round_trip(struct snap *s, const struct clmsg *m, struct clmsg *out,
    size_t cut)
{
	struct snap_reader r;
	struct msg rec;
	uint32_t ver, type;

	snap_init(s, 1);
	snap_begin(s, 5);
	clsnap_msg_put(s, m);
	snap_end(s);
	if (s->failed || snap_open(&r, buf_head(&s->b), s->b.len, &ver) ==
	    -1 || snap_next(&r, &type, &rec) != 1 || type != 5)
		return -1;
	rec.left -= cut;		/* as if the record were shorter */
	if (clsnap_msg_get(&rec, out) == -1 || msg_end(&rec) == -1)
		return -1;
	return 0;
}

/* A join: every field, the client's too, and no text. */
static void
test_join(void)
{
	struct clmsg m, out;
	struct snap s;

	memset(&m, 0, sizeof(m));
	m.type = CL_JOIN;
	strcpy(m.server, "web1");
	m.inc = 1764001234567123ULL;
	m.seq = 42;
	m.id = 7;
	strcpy(m.nick, "guest7");
	m.client.id = 7;
	strcpy(m.client.nick, "guest7");
	strcpy(m.client.peer, "[::1]:40000");
	m.client.since = 1764001234567LL;
	m.client.timeout = 300;
	m.client.pid = 4242;
	m.text = "";
	CHECK(round_trip(&s, &m, &out, 0) == 0 && out.type == CL_JOIN &&
	    strcmp(out.server, "web1") == 0 && out.inc == m.inc &&
	    out.seq == 42 && out.id == 7 && strcmp(out.nick, "guest7") == 0 &&
	    out.client.id == 7 && strcmp(out.client.peer, "[::1]:40000") ==
	    0 && out.client.since == m.client.since && out.client.timeout ==
	    300 && out.client.pid == 4242 && out.len == 0,
	    "a join reads back the same");
	snap_free(&s);
}

/* Lines, aims and flags; text of any bytes. */
static void
test_text(void)
{
	static const char text[] = "tab\there, CR\r LF\n NUL\0 and \xff";
	struct clmsg m, out;
	struct snap s;

	memset(&m, 0, sizeof(m));
	m.type = CL_KICK;
	strcpy(m.server, "b");
	m.seq = 9;
	strcpy(m.to, "web2");
	m.to_id = 12;
	m.secs = 60;
	m.text = text;
	m.len = sizeof(text) - 1;
	CHECK(round_trip(&s, &m, &out, 0) == 0 && out.type == CL_KICK &&
	    strcmp(out.to, "web2") == 0 && out.to_id == 12 && out.secs == 60 &&
	    out.len == m.len && memcmp(out.text, text, m.len) == 0,
	    "a kick, its reason of any bytes");
	snap_free(&s);
	memset(&m, 0, sizeof(m));
	m.type = CL_HELLO;
	m.ask = m.last = true;
	strcpy(m.gone, "c");
	m.gone_inc = 5;
	m.text = "1 ann 0 0 1 127.0.0.1:1\n";
	m.len = strlen(m.text);
	CHECK(round_trip(&s, &m, &out, 0) == 0 && out.ask && !out.first &&
	    out.last && strcmp(out.gone, "c") == 0 && out.gone_inc == 5 &&
	    out.len == m.len, "flags, and the last fields");
	snap_free(&s);
}

/* What is refused. */
static void
test_refused(void)
{
	static char big[CLMSG_MEMBERS_MAX + 1];
	struct clmsg m, out;
	struct snap s;

	memset(&m, 0, sizeof(m));
	m.type = CL_SAY;
	m.text = "";
	CHECK(round_trip(&s, &m, &out, 0) == 0, "an empty line reads");
	snap_free(&s);
	CHECK(round_trip(&s, &m, &out, 21) == -1,
	    "a record cut inside its fields is refused");
	snap_free(&s);
	m.type = CL_TYPE_MAX;
	CHECK(round_trip(&s, &m, &out, 0) == -1, "a type that is none");
	snap_free(&s);
	m.type = CL_NONE;
	CHECK(round_trip(&s, &m, &out, 0) == -1, "nor is CL_NONE");
	snap_free(&s);
	m.type = CL_HELLO;
	m.text = big;
	m.len = sizeof(big);
	CHECK(round_trip(&s, &m, &out, 0) == -1, "a text longer than any "
	    "entry's");
	snap_free(&s);
}

int
main(void)
{
	test_join();
	test_text();
	test_refused();
	return unit_done();
}
