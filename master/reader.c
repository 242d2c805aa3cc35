/*
 * reader.c - reading the cluster's stream (see reader.h).
 *
 * One XREAD BLOCK at a time on LINK_READ, from the id of the last entry
 * read; its reply brings the entries after it, in stream order (at most
 * READ_COUNT), or nothing after READ_BLOCK_MS.  Each entry moves the
 * position on, whatever it is; one that does not decode (not
 * forkchatd's, another version, malformed) is skipped, and said once.
 * The rest go to the function given to reader_init(), then the batch
 * function hears that the reply is done: it asks for the next one.
 * Where to read from after each connect is sync.c's business: it sets
 * the position reader_pos() gives.  A live upgrade carries the position
 * and the counters (SNAP_CL_READ).
 *
 * Public: reader_init, reader_next, reader_pos, reader_answered_ms,
 * reader_counts, reader_save, reader_restore.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "link.h"
#include "log.h"
#include "os.h"
#include "reader.h"
#include "state.h"

#define READ_COUNT	1000		/* entries per XREAD */
#define READ_BLOCK_MS	1000		/* XREAD BLOCK waits this long */

static struct {
	char	 key[CONFIG_KEY_MAX + 1];
	struct redis_id pos;		/* the last entry read */
	int64_t	 answered_ms;		/* when XREAD last answered */
	uint64_t read;			/* entries read */
	uint64_t skipped;		/* not ours to read, or malformed */
	reader_entry *entry;
	reader_batch *batch;
} rd;

static link_reply reader_reply;

/* Read the stream at key; each entry to entry, each reply's end to batch. */
void
reader_init(const char *key, reader_entry *entry, reader_batch *batch)
{
	(void)snprintf(rd.key, sizeof(rd.key), "%s", key);
	rd.entry = entry;
	rd.batch = batch;
}

/* Ask for the next entries after the last one read (the link is up). */
void
reader_next(void)
{
	char id[REDIS_ID_MAX];
	struct resp_cmd c;

	(void)redis_id_format(&rd.pos, id, sizeof(id));
	resp_begin(&c, link_out(LINK_READ));
	resp_arg_str(&c, "XREAD");
	resp_arg_str(&c, "COUNT");
	resp_arg_uint(&c, READ_COUNT);
	resp_arg_str(&c, "BLOCK");
	resp_arg_uint(&c, READ_BLOCK_MS);
	resp_arg_str(&c, "STREAMS");
	resp_arg_str(&c, rd.key);
	resp_arg_str(&c, id);
	if (resp_end(&c) == -1)
		log_panic("queueing XREAD: %s", strerror(errno));
	link_expect(LINK_READ, reader_reply, 0, READ_BLOCK_MS);
}

/* An entry we cannot read: said once at warning, then at debug. */
static void
reader_bad(const struct redis_id *id, int err)
{
	static bool said;
	char text[REDIS_ID_MAX];

	rd.skipped++;
	(void)redis_id_format(id, text, sizeof(text));
	if (!said)
		log_warning("cluster: skipping entry %s of %s: %s (this is said "
		    "once; /stats counts them)", text, rd.key, err == ENOTSUP ?
		    "another version of forkchatd, or not forkchatd's" :
		    "malformed");
	else
		log_debug("cluster: skipping entry %s", text);
	said = true;
}

/* One entry read: the position moves on; decoded, it is handed on. */
static int
reader_one(const struct redis_id *id, const struct resp_value *f)
{
	struct clmsg m;

	rd.pos = *id;
	rd.read++;
	if (f == NULL)
		return 0;		/* deleted */
	if (clmsg_decode(f, &m) == -1) {
		reader_bad(id, errno);
		return 0;
	}
	return rd.entry(&m);
}

/* What XREAD brought: every entry past the last one, in order. */
static void
reader_reply(const struct resp_value *v, uintptr_t arg)
{
	const struct resp_value *e, *f;
	struct redis_id id;
	size_t n;
	int want = 0;

	(void)arg;
	if (resp_type(v) == RESP_ERROR) {
		link_drop("Redis refused XREAD: %s", v->str);
		return;
	}
	rd.answered_ms = os_now_ms();
	if (clmsg_entries(v, rd.key, &e, &n) == -1) {
		link_drop("Redis answered XREAD with something else");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (clmsg_entry(&e[i], &id, &f) == -1) {
			link_drop("Redis answered XREAD with something else");
			return;
		}
		if (redis_id_cmp(&id, &rd.pos) > 0)
			want |= reader_one(&id, f);
	}
	rd.batch(want);
}

/* Where reading stands: the last entry read (sync.c may move it). */
struct redis_id *
reader_pos(void)
{
	return &rd.pos;
}

/* When XREAD last answered (monotonic ms; 0: never). */
int64_t
reader_answered_ms(void)
{
	return rd.answered_ms;
}

/* Entries read, and of them skipped, for /stats. */
void
reader_counts(uint64_t *read, uint64_t *skipped)
{
	*read = rd.read;
	*skipped = rd.skipped;
}

/* A live upgrade: the position and the counters. */
int
reader_save(struct snap *s)
{
	snap_begin(s, SNAP_CL_READ);
	snap_u64(s, rd.pos.ms);
	snap_u64(s, rd.pos.seq);
	snap_u64(s, rd.read);
	snap_u64(s, rd.skipped);
	snap_end(s);
	return s->failed ? -1 : 0;
}

/* SNAP_CL_READ: read on from where the old binary stopped. */
int
reader_restore(struct msg *m)
{
	if (msg_u64(m, &rd.pos.ms) == -1 || msg_u64(m, &rd.pos.seq) == -1 ||
	    msg_u64(m, &rd.read) == -1 || msg_u64(m, &rd.skipped) == -1 ||
	    msg_end(m) == -1)
		return -1;
	return 0;
}
