/*
 * reader.h - the cluster's stream as this server reads it: XREAD BLOCK
 * on the link's LINK_READ connection from the id of the last entry
 * read, each entry after it decoded and handed on in stream order.
 */
#ifndef FORKCHAT_READER_H
#define FORKCHAT_READER_H

#include <stdint.h>

#include "clmsg.h"
#include "msg.h"
#include "redis.h"
#include "snap.h"

/* An entry read (its strings point into the reply): apply.h's bits. */
typedef int reader_entry(const struct clmsg *);
/* A reply's entries all handed on: their bits, or'ed. */
typedef void reader_batch(int);

void	 reader_init(const char *, reader_entry *, reader_batch *);
void	 reader_next(void);
struct redis_id *reader_pos(void);
int64_t	 reader_answered_ms(void);
void	 reader_counts(uint64_t *, uint64_t *);
int	 reader_save(struct snap *);
int	 reader_restore(struct msg *);

#endif
