/*
 * snap.c - a process's state as typed records (see snap.h).
 *
 * Layout: "FCSNAP1\n", u32 version, then records: u32 type, u32 length,
 * the fields.  Host byte order: a snapshot never leaves the machine, it
 * goes from one program to the next in the same process.
 *
 * Public: snap_init, snap_begin, snap_u32, snap_u64, snap_str,
 * snap_bytes, snap_end, snap_free, snap_open, snap_next.
 */
#include <errno.h>
#include <string.h>

#include "snap.h"

#define SNAP_MAGIC	"FCSNAP1\n"
#define SNAP_MAGIC_LEN	8

/* Append bytes, or fail the whole snapshot. */
static void
snap_put(struct snap *s, const void *p, size_t n)
{
	if (!s->failed && buf_append(&s->b, p, n) == -1)
		s->failed = true;
}

/* An empty snapshot of this version. */
void
snap_init(struct snap *s, uint32_t version)
{
	buf_init(&s->b, 0);
	s->rec = 0;
	s->failed = false;
	snap_put(s, SNAP_MAGIC, SNAP_MAGIC_LEN);
	snap_put(s, &version, sizeof(version));
}

/* Start a record of this type; its length comes at snap_end(). */
void
snap_begin(struct snap *s, uint32_t type)
{
	uint32_t len = 0;

	s->rec = s->b.len;
	snap_put(s, &type, sizeof(type));
	snap_put(s, &len, sizeof(len));
}

/* A u32 field. */
void
snap_u32(struct snap *s, uint32_t v)
{
	snap_put(s, &v, sizeof(v));
}

/* A u64 field. */
void
snap_u64(struct snap *s, uint64_t v)
{
	snap_put(s, &v, sizeof(v));
}

/* A str field: the bytes of a string and its NUL. */
void
snap_str(struct snap *s, const char *str)
{
	snap_put(s, str, strlen(str) + 1);
}

/* A field of n bytes, the record's last (msg_rest reads it back). */
void
snap_bytes(struct snap *s, const void *p, size_t n)
{
	if (n > 0)
		snap_put(s, p, n);
}

/* Close the open record: write its length. */
void
snap_end(struct snap *s)
{
	size_t len;
	uint32_t l;

	if (s->failed)
		return;
	len = s->b.len - s->rec - 8;
	if (len > UINT32_MAX) {
		s->failed = true;
		return;
	}
	l = (uint32_t)len;
	memcpy(s->b.data + s->b.off + s->rec + 4, &l, sizeof(l));
}

/* Free what the writer holds. */
void
snap_free(struct snap *s)
{
	buf_free(&s->b);
}

/* Start reading a snapshot: its version in *version; -1 if not one. */
int
snap_open(struct snap_reader *r, const void *p, size_t len,
    uint32_t *version)
{
	if (len < SNAP_MAGIC_LEN + sizeof(*version) ||
	    memcmp(p, SNAP_MAGIC, SNAP_MAGIC_LEN) != 0) {
		errno = EBADMSG;
		return -1;
	}
	memcpy(version, (const char *)p + SNAP_MAGIC_LEN, sizeof(*version));
	r->p = (const char *)p + SNAP_MAGIC_LEN + sizeof(*version);
	r->left = len - SNAP_MAGIC_LEN - sizeof(*version);
	return 0;
}

/*
 * The next record: 1 with its type and its fields in *m (read them with
 * msg_u32 and the others), 0 at the end, -1 (EBADMSG) if cut short.
 */
int
snap_next(struct snap_reader *r, uint32_t *type, struct msg *m)
{
	uint32_t len;

	if (r->left == 0)
		return 0;
	if (r->left < 8) {
		errno = EBADMSG;
		return -1;
	}
	memcpy(type, r->p, sizeof(*type));
	memcpy(&len, r->p + 4, sizeof(len));
	if (len > r->left - 8) {
		errno = EBADMSG;
		return -1;
	}
	memset(m, 0, sizeof(*m));
	m->fd = -1;
	m->h.len = len;
	m->p = r->p + 8;
	m->left = len;
	r->p += 8 + (size_t)len;
	r->left -= 8 + (size_t)len;
	return 1;
}
