/*
 * buf.c - a byte queue that takes memory on demand and gives it back.
 *
 * Public: buf_init, buf_append, buf_printf, buf_reserve, buf_commit,
 * buf_consume, buf_free, buf_freed_peak, buf_freed_reset.  An empty
 * queue holds no memory: workers are many and most of them are idle, so
 * an idle one must cost next to nothing.  free() alone does not quite
 * do that (see buf_freed_peak).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

#define BUF_MIN		512

/*
 * The largest buffer freed since a reset.  Thread-local, so it lies next
 * to the thread's control block, on a page each forked process writes
 * anyway: as a plain static, every worker's first free would copy one
 * more page of the binary's data for itself.
 */
static _Thread_local size_t freed_peak;

/* An empty queue that will refuse to hold more than limit bytes. */
void
buf_init(struct buf *b, size_t limit)
{
	memset(b, 0, sizeof(*b));
	b->limit = limit;
}

/* Make room for n more bytes at the tail; return where they go. */
char *
buf_reserve(struct buf *b, size_t n)
{
	size_t need, cap;
	char *p;

	/* The limit, or (no limit) sizes that would overflow the doubling. */
	if ((b->limit != 0 && n > b->limit - b->len) ||
	    n > SIZE_MAX / 4 - b->len) {
		errno = ENOBUFS;
		return NULL;
	}
	need = b->len + n;
	if (b->data != NULL && need <= b->cap) {
		if (b->off + need > b->cap) {
			/* Enough room once the consumed head is gone. */
			memmove(b->data, b->data + b->off, b->len);
			b->off = 0;
		}
		return b->data + b->off + b->len;
	}
	for (cap = b->cap ? b->cap : BUF_MIN; cap < need; cap *= 2)
		;
	if (b->data != NULL && b->off > 0) {
		memmove(b->data, b->data + b->off, b->len);
		b->off = 0;
	}
	if ((p = realloc(b->data, cap)) == NULL)
		return NULL;
	b->data = p;
	b->cap = cap;
	return b->data + b->len;
}

/* Count n bytes written at buf_reserve()'s pointer as queued. */
void
buf_commit(struct buf *b, size_t n)
{
	b->len += n;
}

/* Queue a copy of n bytes. */
int
buf_append(struct buf *b, const void *data, size_t n)
{
	char *p;

	if (n == 0)
		return 0;
	if ((p = buf_reserve(b, n)) == NULL)
		return -1;
	memcpy(p, data, n);
	b->len += n;
	return 0;
}

/* Drop n bytes from the head; an emptied queue frees its memory. */
void
buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		buf_free(b);
		return;
	}
	b->off += n;
	b->len -= n;
}

/* Free the memory; the queue stays usable and keeps its limit. */
void
buf_free(struct buf *b)
{
	if (b->cap > freed_peak)
		freed_peak = b->cap;
	free(b->data);
	b->data = NULL;
	b->off = b->len = b->cap = 0;
}

/* Append formatted text (no NUL). */
int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	char *p;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || (p = buf_reserve(b, (size_t)n + 1)) == NULL)
		return -1;
	va_start(ap, fmt);
	(void)vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	buf_commit(b, (size_t)n);
	return 0;
}

/*
 * The largest buffer this process freed since buf_freed_reset().  The
 * C library keeps what a big buffer freed as its own, dirty pages
 * that an idle process goes on paying for; a caller that sees a big
 * one gone can give them back (os_heap_trim) and reset.
 */
size_t
buf_freed_peak(void)
{
	return freed_peak;
}

void
buf_freed_reset(void)
{
	freed_peak = 0;
}
