/*
 * test_outbox.c - unit tests for master/outbox.c, the entries a cluster
 * server keeps until it reads them back: kept in order with their own
 * copy of their text, trimmed from the front by number, the oldest
 * dropped past the limit; written into a snapshot and read back the
 * same, in order, and a record out of order refused.
 */
#include <stdio.h>
#include <string.h>

#include "outbox.h"
#include "state.h"
#include "unit.h"

/* Entry number seq of server "a", a line. */
static struct clmsg
line(uint64_t seq, const char *text)
{
	struct clmsg m;

	memset(&m, 0, sizeof(m));
	m.type = CL_SAY;
	(void)snprintf(m.server, sizeof(m.server), "a");
	m.inc = 77;
	m.seq = seq;
	m.id = 1;
	(void)snprintf(m.nick, sizeof(m.nick), "ann");
	m.text = text;
	m.len = strlen(text);
	return m;
}

/* The numbers kept, as "1 2 3". */
static const char *
numbers(void)
{
	static char out[256];
	size_t n = 0;

	out[0] = '\0';
	for (const struct outent *e = outbox_first(); e != NULL; e = e->next)
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%llu",
		    n > 0 ? " " : "", (unsigned long long)e->m.seq);
	return out;
}

/* Kept, trimmed, dropped past the limit. */
static void
test_keep(void)
{
	char text[16];
	struct clmsg m;
	const struct clmsg *k;

	(void)snprintf(text, sizeof(text), "first");
	m = line(1, text);
	k = outbox_add(&m, 10);
	text[0] = 'F';
	CHECK(k != NULL && k->len == 5 && memcmp(k->text, "first", 5) == 0,
	    "its own copy of the text");
	for (uint64_t i = 2; i <= 4; i++) {
		m = line(i, "more");
		(void)outbox_add(&m, 10);
	}
	CHECK(strcmp(numbers(), "1 2 3 4") == 0 && outbox_count() == 4,
	    "kept in order");
	outbox_trim(2);
	CHECK(strcmp(numbers(), "3 4") == 0 && outbox_count() == 2,
	    "read back up to 2: those go");
	m = line(5, "");
	(void)outbox_add(&m, 3);
	m = line(6, "over");
	(void)outbox_add(&m, 3);
	CHECK(strcmp(numbers(), "4 5 6") == 0, "past the limit, the oldest "
	    "goes");
}

/* Written into a snapshot, read back the same. */
static void
test_snapshot(void)
{
	struct snap_reader r;
	struct snap s;
	struct msg m;
	uint32_t ver, type;
	int n = 0, bad = 0;

	snap_init(&s, 1);
	CHECK(outbox_save(&s) == 0, "written");
	outbox_trim(UINT64_MAX);
	CHECK(outbox_first() == NULL && outbox_count() == 0, "emptied");
	(void)snap_open(&r, buf_head(&s.b), s.b.len, &ver);
	while (snap_next(&r, &type, &m) == 1) {
		n++;
		bad += type != SNAP_CL_OUT || outbox_restore(&m) == -1;
	}
	CHECK(n == 3 && bad == 0 && strcmp(numbers(), "4 5 6") == 0 &&
	    outbox_first()->m.len == 4 && memcmp(outbox_first()->m.text,
	    "more", 4) == 0 && outbox_first()->next->m.len == 0 &&
	    strcmp(outbox_first()->m.server, "a") == 0 &&
	    outbox_first()->m.inc == 77, "read back: the same entries, in "
	    "order");
	(void)snap_open(&r, buf_head(&s.b), s.b.len, &ver);
	(void)snap_next(&r, &type, &m);
	CHECK(outbox_restore(&m) == -1 && outbox_count() == 3,
	    "an entry older than the last kept is refused");
	snap_free(&s);
}

int
main(void)
{
	test_keep();
	test_snapshot();
	return unit_done();
}
