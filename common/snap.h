/*
 * snap.h - a snapshot of a process's state as typed records, to hand it
 * to the program that takes over (a live upgrade) or back (a rollback).
 *
 * A snapshot is a header (magic, version) and records, each a u32 type,
 * a u32 length and that many bytes of fields.  snap_begin(), the
 * snap_u32/u64/str/bytes() fields and snap_end() write one; snap_next()
 * reads the next as a struct msg, whose typed getters (msg.h) read the
 * fields back, and msg_end() checks that each was whole.  A field that
 * does not fit marks the writer failed; nothing is ever half-written.
 */
#ifndef FORKCHAT_SNAP_H
#define FORKCHAT_SNAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "msg.h"

struct snap {
	struct buf b;
	size_t	 rec;			/* where the open record starts */
	bool	 failed;
};

/* A snapshot being read: what is left of it. */
struct snap_reader {
	const char *p;
	size_t	 left;
};

void	 snap_init(struct snap *, uint32_t);
void	 snap_begin(struct snap *, uint32_t);
void	 snap_u32(struct snap *, uint32_t);
void	 snap_u64(struct snap *, uint64_t);
void	 snap_str(struct snap *, const char *);
void	 snap_bytes(struct snap *, const void *, size_t);
void	 snap_end(struct snap *);
void	 snap_free(struct snap *);

int	 snap_open(struct snap_reader *, const void *, size_t, uint32_t *);
int	 snap_next(struct snap_reader *, uint32_t *, struct msg *);

#endif
