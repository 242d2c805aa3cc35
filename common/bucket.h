/*
 * bucket.h - a token bucket: so many events at once, then one per
 * interval.  Pure arithmetic on a clock the caller reads; nothing waits
 * here: bucket_next() says when the caller's deadline is.
 */
#ifndef FORKCHAT_BUCKET_H
#define FORKCHAT_BUCKET_H

#include <stdbool.h>
#include <stdint.h>

struct bucket {
	int64_t	 milli;		/* tokens held, in thousandths */
	int64_t	 at;		/* when it was last refilled (ms) */
	int64_t	 every_ms;	/* one token comes back this often */
	int64_t	 burst;		/* most tokens held */
};

void	 bucket_init(struct bucket *, int64_t, unsigned, int64_t);
bool	 bucket_take(struct bucket *, int64_t);
int64_t	 bucket_next(struct bucket *, int64_t);

#endif
