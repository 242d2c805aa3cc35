/*
 * buf.h - a byte queue: append at the tail, consume from the head.
 *
 * Memory is taken on demand and given back when the queue empties, so an
 * idle worker holds no buffer at all.  buf_append() refuses to grow past
 * the queue's limit (ENOBUFS) instead of growing without bound.
 */
#ifndef FORKCHAT_BUF_H
#define FORKCHAT_BUF_H

#include <stddef.h>

struct buf {
	char	*data;
	size_t	 off;		/* first unconsumed byte */
	size_t	 len;		/* bytes queued, from data + off */
	size_t	 cap;
	size_t	 limit;		/* most bytes ever queued; 0 = no limit */
};

void	buf_init(struct buf *, size_t limit);
int	buf_append(struct buf *, const void *, size_t);
char	*buf_reserve(struct buf *, size_t);
void	buf_commit(struct buf *, size_t);
void	buf_consume(struct buf *, size_t);
void	buf_free(struct buf *);
int	buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
size_t	buf_freed_peak(void);
void	buf_freed_reset(void);

static inline const char *
buf_head(const struct buf *b)
{
	return b->data + b->off;
}

#endif
