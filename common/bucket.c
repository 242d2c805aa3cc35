/*
 * bucket.c - token buckets, for anything a client may do only so often.
 *
 * Public: bucket_init, bucket_take, bucket_next.  Pure code.
 */
#include "bucket.h"

/* A full bucket of burst tokens, one more every every_ms, from now. */
void
bucket_init(struct bucket *b, int64_t every_ms, unsigned burst, int64_t now)
{
	b->every_ms = every_ms > 0 ? every_ms : 1;
	b->burst = (int64_t)burst * 1000;
	b->milli = b->burst;
	b->at = now;
}

/* Add what the time since the last refill has earned. */
static void
bucket_refill(struct bucket *b, int64_t now)
{
	if (now <= b->at)
		return;
	b->milli += (now - b->at) * 1000 / b->every_ms;
	if (b->milli > b->burst)
		b->milli = b->burst;
	b->at = now;
}

/* Take a token if there is one; false (nothing taken) if not. */
bool
bucket_take(struct bucket *b, int64_t now)
{
	bucket_refill(b, now);
	if (b->milli < 1000)
		return false;
	b->milli -= 1000;
	return true;
}

/* When a token will be there: now, if one is. */
int64_t
bucket_next(struct bucket *b, int64_t now)
{
	bucket_refill(b, now);
	if (b->milli >= 1000)
		return now;
	return now + ((1000 - b->milli) * b->every_ms + 999) / 1000;
}
