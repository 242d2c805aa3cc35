/*
 * test_bucket.c - unit tests for common/bucket.c: a burst at once, then
 * one per interval, never more than the burst held, and the deadline of
 * the next token.
 */
#include "bucket.h"
#include "unit.h"

int
main(void)
{
	struct bucket b;
	int n = 0;

	bucket_init(&b, 1000, 3, 5000);
	while (bucket_take(&b, 5000))
		n++;
	CHECK(n == 3, "a full bucket gives its burst at once: %d", n);
	CHECK(bucket_next(&b, 5000) == 6000, "the next token in 1 s");
	CHECK(!bucket_take(&b, 5999), "not a moment before");
	CHECK(bucket_take(&b, 6000), "one at 6 s");
	CHECK(!bucket_take(&b, 6000), "and only one");
	CHECK(bucket_next(&b, 6500) == 7000, "half earned: 500 ms to go");
	n = 0;
	while (bucket_take(&b, 100000))
		n++;
	CHECK(n == 3, "a long quiet spell fills it to the burst, no more: %d",
	    n);
	CHECK(bucket_next(&b, 100000) == 101000, "then one per second again");
	bucket_init(&b, 200, 1, 0);
	CHECK(bucket_take(&b, 0) && !bucket_take(&b, 199) &&
	    bucket_take(&b, 200), "five a second: one every 200 ms");
	CHECK(bucket_next(&b, 50) == 200 || bucket_next(&b, 250) == 400,
	    "deadlines follow the interval");
	CHECK(!bucket_take(&b, 100) && b.milli >= 0,
	    "a clock read out of order earns nothing");
	return unit_done();
}
