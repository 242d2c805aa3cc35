/*
 * test_snap.c - unit tests for common/snap.c: records written field by
 * field read back the same with msg.h's getters; a snapshot cut short,
 * or not one at all, is refused.
 */
#include <string.h>

#include "snap.h"
#include "unit.h"

int
main(void)
{
	struct snap s;
	struct snap_reader r;
	struct msg m;
	uint32_t v = 0, type = 0, ver = 0;
	uint64_t big = 0;
	char str[32];
	const char *p;
	size_t n;

	snap_init(&s, 7);
	snap_begin(&s, 1);
	snap_u32(&s, 42);
	snap_u64(&s, 1ULL << 40);
	snap_str(&s, "alice");
	snap_bytes(&s, "queued\n", 7);
	snap_end(&s);
	snap_begin(&s, 2);
	snap_end(&s);
	CHECK(!s.failed, "two records written");
	CHECK(snap_open(&r, buf_head(&s.b), s.b.len, &ver) == 0 && ver == 7,
	    "opened: version 7");
	CHECK(snap_next(&r, &type, &m) == 1 && type == 1, "the first record");
	CHECK(msg_u32(&m, &v) == 0 && v == 42 && msg_u64(&m, &big) == 0 &&
	    big == 1ULL << 40 && msg_str(&m, str, sizeof(str)) == 0 &&
	    strcmp(str, "alice") == 0 && msg_rest(&m, &p, &n) == 0 &&
	    n == 7 && memcmp(p, "queued\n", 7) == 0 && msg_end(&m) == 0,
	    "its fields read back the same");
	CHECK(snap_next(&r, &type, &m) == 1 && type == 2 && m.left == 0 &&
	    msg_end(&m) == 0, "an empty record");
	CHECK(snap_next(&r, &type, &m) == 0, "then the end");
	CHECK(snap_open(&r, buf_head(&s.b), s.b.len - 3, &ver) == 0 &&
	    snap_next(&r, &type, &m) == 1 && snap_next(&r, &type, &m) == -1,
	    "a snapshot cut short: -1 at the cut");
	CHECK(snap_open(&r, "not a snapshot", 14, &ver) == -1,
	    "something else is refused");
	snap_free(&s);
	return unit_done();
}
