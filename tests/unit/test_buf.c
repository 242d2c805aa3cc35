/*
 * test_buf.c - unit tests for common/buf.c, the byte queue.
 *
 * Append and consume, memory given back when the queue empties, the
 * limit (ENOBUFS), reserve/commit, compaction of a consumed head, large
 * growth, reuse after buf_free, and a randomized run against a model.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "unit.h"

/* The byte at stream position i: a pattern that shows order. */
static char
pat(size_t i)
{
	return (char)(i * 7 + i / 251);
}

/* Fill p with n pattern bytes starting at stream position from. */
static void
fill(char *p, size_t n, size_t from)
{
	for (size_t i = 0; i < n; i++)
		p[i] = pat(from + i);
}

/* True if the queue holds exactly the pattern bytes [from, from + n). */
static int
holds(const struct buf *b, size_t from, size_t n)
{
	const char *p;

	if (b->len != n)
		return 0;
	if (n == 0)
		return 1;
	if (b->data == NULL || b->off + b->len > b->cap)
		return 0;
	p = buf_head(b);
	for (size_t i = 0; i < n; i++)
		if (p[i] != pat(from + i))
			return 0;
	return 1;
}

/* Append, consume, and the memory given back when empty. */
static void
test_basic(void)
{
	struct buf b;

	buf_init(&b, 0);
	CHECK(b.data == NULL && b.len == 0 && b.cap == 0 && b.off == 0 &&
	    b.limit == 0, "buf_init: empty, no memory");
	CHECK(buf_append(&b, "", 0) == 0 && b.data == NULL,
	    "appending 0 bytes takes no memory");
	CHECK(buf_append(&b, "hello", 5) == 0 && b.len == 5 &&
	    b.data != NULL && b.cap >= 5 && memcmp(buf_head(&b), "hello", 5)
	    == 0, "append 5 bytes");
	CHECK(buf_append(&b, ", world", 7) == 0 && b.len == 12 &&
	    memcmp(buf_head(&b), "hello, world", 12) == 0,
	    "second append goes at the tail");
	buf_consume(&b, 0);
	CHECK(b.len == 12 && memcmp(buf_head(&b), "hello, world", 12) == 0,
	    "consume 0 changes nothing");
	buf_consume(&b, 7);
	CHECK(b.len == 5 && memcmp(buf_head(&b), "world", 5) == 0,
	    "consume 7 leaves the tail at the head");
	CHECK(buf_append(&b, "!", 1) == 0 && b.len == 6 &&
	    memcmp(buf_head(&b), "world!", 6) == 0,
	    "append after consume keeps order");
	buf_consume(&b, 6);
	CHECK(b.data == NULL && b.len == 0 && b.cap == 0 && b.off == 0,
	    "consuming everything frees the memory");
	CHECK(buf_append(&b, "abc", 3) == 0 && b.len == 3, "append again");
	buf_consume(&b, 100);
	CHECK(b.data == NULL && b.len == 0 && b.cap == 0 && b.off == 0,
	    "consuming more than queued empties and frees");
	buf_consume(&b, 1);
	CHECK(b.data == NULL && b.len == 0,
	    "consume on an empty queue is a no-op");
	buf_free(&b);
	CHECK(b.data == NULL && b.len == 0 && b.cap == 0,
	    "buf_free on an empty queue is harmless");
}

/* The limit: ENOBUFS, nothing changed, counts queued bytes only. */
static void
test_limit(void)
{
	struct buf	 b;
	char		 big[200];
	char		*p;

	fill(big, sizeof(big), 0);
	buf_init(&b, 100);
	CHECK(b.limit == 100 && b.data == NULL, "buf_init keeps the limit");
	CHECK(buf_append(&b, big, 60) == 0 && holds(&b, 0, 60),
	    "60 of 100 bytes queued");
	errno = 0;
	CHECK(buf_append(&b, big + 60, 41) == -1 && errno == ENOBUFS,
	    "61 more bytes: -1, errno ENOBUFS");
	CHECK(holds(&b, 0, 60), "refused append leaves the queue as it was");
	CHECK(buf_append(&b, big + 60, 40) == 0 && holds(&b, 0, 100),
	    "exactly up to the limit is fine");
	errno = 0;
	CHECK(buf_append(&b, big + 100, 1) == -1 && errno == ENOBUFS &&
	    holds(&b, 0, 100), "one byte past the limit: ENOBUFS");
	errno = 0;
	CHECK(buf_reserve(&b, 1) == NULL && errno == ENOBUFS &&
	    holds(&b, 0, 100), "buf_reserve past the limit: NULL, ENOBUFS");
	buf_consume(&b, 50);
	CHECK(buf_append(&b, big + 100, 50) == 0 && holds(&b, 50, 100),
	    "after consuming 50, 50 more fit: the limit is on queued bytes");
	errno = 0;
	CHECK(buf_append(&b, big, 200) == -1 && errno == ENOBUFS &&
	    holds(&b, 50, 100), "append larger than the limit refused");
	buf_free(&b);
	CHECK(b.limit == 100 && b.data == NULL && b.len == 0,
	    "buf_free keeps the limit");
	CHECK(buf_append(&b, big, 100) == 0 && holds(&b, 0, 100),
	    "queue reusable after buf_free, up to the limit");
	errno = 0;
	CHECK(buf_append(&b, big, 1) == -1 && errno == ENOBUFS,
	    "and the limit still applies");
	buf_free(&b);

	buf_init(&b, 10);
	errno = 0;
	CHECK(buf_append(&b, big, 11) == -1 && errno == ENOBUFS &&
	    b.data == NULL, "refused first append takes no memory");
	p = buf_reserve(&b, 10);
	CHECK(p != NULL && b.len == 0, "reserve up to the limit");
	buf_free(&b);
}

/* buf_reserve and buf_commit: write in place, count what was used. */
static void
test_reserve(void)
{
	struct buf	 b;
	char		*p;

	buf_init(&b, 0);
	p = buf_reserve(&b, 64);
	CHECK(p != NULL && b.len == 0 && b.cap >= 64,
	    "reserve 64: room, nothing queued yet");
	if (p == NULL)
		return;
	memcpy(p, "abcdefgh", 8);
	buf_commit(&b, 3);
	CHECK(b.len == 3 && memcmp(buf_head(&b), "abc", 3) == 0,
	    "commit 3 of what was written");
	p = buf_reserve(&b, 10);
	CHECK(p == buf_head(&b) + 3, "next reserve points at the tail");
	if (p == NULL)
		return;
	memcpy(p, "XYZ", 3);
	buf_commit(&b, 3);
	CHECK(b.len == 6 && memcmp(buf_head(&b), "abcXYZ", 6) == 0,
	    "reserve/commit appends in order");
	p = buf_reserve(&b, 5);
	buf_commit(&b, 0);
	CHECK(p != NULL && b.len == 6, "commit 0 queues nothing");
	CHECK(buf_append(&b, "123", 3) == 0 &&
	    memcmp(buf_head(&b), "abcXYZ123", 9) == 0,
	    "buf_append after reserve/commit");
	buf_consume(&b, 9);
	CHECK(b.data == NULL, "emptied by consume: memory freed");

	p = buf_reserve(&b, 5);
	CHECK(p != NULL && b.len == 0 && buf_reserve(&b, 0) == p,
	    "reserve 0 on a queue with memory: the tail pointer");
	buf_free(&b);
	errno = 0;
	p = buf_reserve(&b, 0);
	CHECK(p != NULL || errno != 0,
	    "reserve 0 on an empty queue: not NULL, or NULL with errno");
	p = buf_reserve(&b, 100);
	CHECK(p != NULL && b.data != NULL && b.len == 0,
	    "reserve on an empty queue allocates");
	buf_commit(&b, 0);
	buf_consume(&b, 0);
	CHECK(b.data == NULL && b.len == 0,
	    "reserve without commit, then consume: freed again");
	buf_free(&b);
}

/* Consume part of the head, then append more than the tail's room. */
static void
test_compact(void)
{
	struct buf	 b;
	char		 src[4096];
	size_t		 cap;
	char		*p;

	fill(src, sizeof(src), 0);

	/* Consumed head larger than what is left: room after a move. */
	buf_init(&b, 0);
	buf_append(&b, src, 1);
	cap = b.cap;
	buf_consume(&b, 1);
	CHECK(b.data == NULL, "setup: learned the first allocation size");
	buf_append(&b, src, cap);
	CHECK(holds(&b, 0, cap) && b.cap == cap, "queue filled to its cap");
	buf_consume(&b, cap / 2 + cap / 4);
	CHECK(holds(&b, cap / 2 + cap / 4, cap - cap / 2 - cap / 4),
	    "consumed three quarters");
	CHECK(buf_append(&b, src + cap, cap / 2) == 0,
	    "append more than the tail room, less than the free room");
	CHECK(holds(&b, cap / 2 + cap / 4, cap / 4 + cap / 2) &&
	    b.cap == cap && b.off == 0,
	    "compacted in place: data intact, in order, same cap");

	/* Consumed head smaller than what is left: overlapping move. */
	buf_free(&b);
	buf_append(&b, src, cap);
	buf_consume(&b, cap / 4);
	CHECK(buf_append(&b, src + cap, cap / 8) == 0 &&
	    holds(&b, cap / 4, cap - cap / 4 + cap / 8) && b.cap == cap,
	    "overlapping compaction: data intact, in order");

	/* Half consumed, then more than the whole free room: grows. */
	buf_free(&b);
	buf_append(&b, src, cap);
	buf_consume(&b, cap / 2);
	CHECK(buf_append(&b, src + cap, cap) == 0 &&
	    holds(&b, cap / 2, cap / 2 + cap) && b.cap >= cap / 2 + cap,
	    "consume half, append a whole cap: grows, data intact");

	/* The same through buf_reserve. */
	buf_free(&b);
	buf_append(&b, src, cap);
	buf_consume(&b, cap / 2);
	p = buf_reserve(&b, cap / 2 + 1);
	CHECK(p == buf_head(&b) + cap / 2, "reserve past the tail room: "
	    "pointer at the tail of the moved data");
	if (p == NULL)
		return;
	memcpy(p, src + cap, cap / 2 + 1);
	buf_commit(&b, cap / 2 + 1);
	CHECK(holds(&b, cap / 2, cap + 1), "reserve/commit after compaction: "
	    "data intact, in order");
	buf_free(&b);
}

/* Large growth: a few MiB in odd chunks, consumed in other chunks. */
static void
test_large(void)
{
	enum { TOTAL = 3 * 1024 * 1024 + 17 };
	struct buf	 b;
	static char	 src[TOTAL];
	size_t		 in = 0, out = 0, n;
	int		 bad = 0;

	fill(src, sizeof(src), 0);
	buf_init(&b, 0);
	while (in < TOTAL) {
		n = TOTAL - in < 65521 ? TOTAL - in : 65521;
		if (buf_append(&b, src + in, n) == -1)
			bad++;
		in += n;
	}
	CHECK(bad == 0 && holds(&b, 0, TOTAL), "3 MiB appended, all there");
	CHECK(b.cap >= TOTAL && b.cap < 2 * (size_t)TOTAL,
	    "capacity grows geometrically, not wildly (%zu)", b.cap);
	CHECK(buf_append(&b, "x", 1) == 0 && b.len == TOTAL + 1 &&
	    buf_head(&b)[TOTAL] == 'x', "one more byte after large growth");
	buf_free(&b);

	/* Streaming: the queue stays small while bytes pass through. */
	in = out = 0;
	bad = 0;
	while (out < TOTAL) {
		n = TOTAL - in < 4099 ? TOTAL - in : 4099;
		if (buf_append(&b, src + in, n) == -1)
			bad++;
		in += n;
		n = in == TOTAL ? b.len : b.len > 3001 ? b.len - 1234 :
		    b.len / 2;
		if (!holds(&b, out, in - out))
			bad++;
		buf_consume(&b, n);
		out += n;
	}
	CHECK(bad == 0 && b.data == NULL,
	    "3 MiB streamed through in odd chunks, intact, freed at the end");
	buf_free(&b);
}

/* Random operations checked against a flat model of the stream. */
static void
test_random(void)
{
	enum { SPAN = 1 << 20 };
	static char	 src[SPAN];
	struct buf	 b;
	size_t		 head = 0, tail = 0, n;
	int		 bad = 0, frees = 0, refused = 0;
	char		*p;

	fill(src, sizeof(src), 0);
	srand(7);
	buf_init(&b, 20000);
	for (int i = 0; i < 20000 && tail < SPAN - 40000; i++) {
		n = rand() % 8 ? 300 : 9000;
		n = (size_t)rand() % n;
		switch (rand() % 3) {
		case 0:
			if (buf_append(&b, src + tail, n) == 0)
				tail += n;
			else if (errno == ENOBUFS && tail - head + n > 20000)
				refused++;
			else
				bad++;
			break;
		case 1:
			/* n + 1: reserving 0 bytes is the reported bug. */
			if ((p = buf_reserve(&b, n + 1)) != NULL) {
				memcpy(p, src + tail, n / 2);
				buf_commit(&b, n / 2);
				tail += n / 2;
			} else if (errno == ENOBUFS &&
			    tail - head + n + 1 > 20000) {
				refused++;
			} else {
				bad++;
			}
			break;
		default:
			buf_consume(&b, n);
			head = head + n > tail ? tail : head + n;
			if (head == tail && b.data != NULL)
				bad++;
			else if (head == tail)
				frees++;
			break;
		}
		if (!holds(&b, head, tail - head) || b.len > b.limit)
			bad++;
	}
	CHECK(bad == 0, "random: queue always matches the model, "
	    "freed whenever emptied");
	CHECK(refused > 10 && frees > 10 && tail > 100000,
	    "random: exercised (%zu bytes, %d refused, %d emptied)", tail,
	    refused, frees);
	buf_free(&b);
	CHECK(b.data == NULL && b.len == 0 && b.cap == 0 && b.limit == 20000,
	    "buf_free at the end");
}

int
main(void)
{
	test_basic();
	test_limit();
	test_reserve();
	test_compact();
	test_large();
	test_random();
	return unit_done();
}
