/*
 * sync.c - where to read the cluster's stream from, after each connect.
 *
 * Four commands go out on LINK_CMD at once: SET KEY:epoch RANDOM NX, GET
 * KEY:epoch, the stream's first id (XRANGE COUNT 1) and its last
 * (XREVRANGE COUNT 1).  The epoch is a token the first server to find
 * none leaves there; a Redis that lost its data has none, so the next
 * server to connect leaves a new one (each offers a fresh random one).
 * Then, from the answers:
 *   - the first time: read from the last entry on (the past is not ours);
 *   - another epoch: Redis lost the stream: read the new one from its
 *     start, and ask every server to announce its clients (a hello);
 *   - a last id before ours: the ids went backwards (old data): read from
 *     that last id, and ask;
 *   - a first id past ours: entries we had not read were trimmed: read on
 *     from ours, and ask;
 *   - else read on from ours.
 * The caller's hook hears the verdict; a failed command drops the link
 * (link.c), and the handshake starts again at the next connect.  A live
 * upgrade carries the epoch (SNAP_CL_SYNC), so that the new binary's
 * first handshake knows the stream it reads on; one cut short by the
 * exec is made again from the start.
 *
 * Public: sync_init, sync_start, sync_save, sync_restore.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "clmsg.h"
#include "config.h"
#include "link.h"
#include "log.h"
#include "os.h"
#include "state.h"
#include "sync.h"

#define TOKEN_MAX	40		/* an epoch token, as read */

/* The handshake, and what it keeps between connects. */
static struct {
	char	 key[CONFIG_KEY_MAX + 1];
	char	 epoch_key[CONFIG_KEY_MAX + 8];
	char	 epoch[TOKEN_MAX];	/* the stream's, as last read */
	bool	 synced;		/* epoch and *pos mean something */
	char	 offer[TOKEN_MAX];	/* ours, for a Redis with none */
	char	 got[TOKEN_MAX];	/* this handshake's GET */
	struct redis_id first, last;	/* this handshake's; 0-0: none */
	struct redis_id *pos;		/* the caller's: where to read from */
	sync_done *done;
} sy;

/* The stream's key; KEY:epoch beside it. */
void
sync_init(const char *key)
{
	(void)snprintf(sy.key, sizeof(sy.key), "%s", key);
	(void)snprintf(sy.epoch_key, sizeof(sy.epoch_key), "%s:epoch", key);
}

/* The answers are in: where to read from, and whether to ask for hellos. */
static void
sync_where(void)
{
	static const struct redis_id none;
	struct redis_id *pos = sy.pos;
	const char *why = NULL;
	char text[REDIS_ID_MAX];
	bool ask = true;

	if (!sy.synced)
		*pos = sy.last;		/* the first time: from the end */
	else if (strcmp(sy.got, sy.epoch) != 0) {
		why = "Redis lost the stream (restarted empty?)";
		*pos = none;
	} else if (redis_id_cmp(&sy.last, pos) < 0) {
		why = "the stream's ids went backwards (old data?)";
		*pos = sy.last;
	} else if (redis_id_cmp(pos, &none) != 0 &&
	    redis_id_cmp(&sy.first, pos) > 0) {
		why = "entries were trimmed or lost while we were away";
	} else
		ask = false;
	(void)snprintf(sy.epoch, sizeof(sy.epoch), "%s", sy.got);
	sy.synced = true;
	(void)redis_id_format(pos, text, sizeof(text));
	if (why != NULL)
		log_notice("cluster: %s: reading %s from %s, asking every "
		    "server for its clients", why, sy.key, text);
	else
		log_info("cluster: reading %s from %s", sy.key, text);
	sy.done(ask);
}

/* SET NX's answer: OK, or nil if the epoch was there. */
static void
sync_set_reply(const struct resp_value *v, uintptr_t arg)
{
	(void)arg;
	if (resp_type(v) == RESP_ERROR)
		link_drop("Redis refused SET %s: %s", sy.epoch_key, v->str);
}

/* GET's answer: the stream's epoch. */
static void
sync_get_reply(const struct resp_value *v, uintptr_t arg)
{
	(void)arg;
	if (resp_type(v) != RESP_BULK || v->len >= sizeof(sy.got) ||
	    v->len == 0) {
		link_drop("Redis has no readable %s", sy.epoch_key);
		return;
	}
	memcpy(sy.got, v->str, v->len + 1);
}

/* XRANGE or XREVRANGE COUNT 1: the first or last id (arg 1), or 0-0. */
static void
sync_end_reply(const struct resp_value *v, uintptr_t last)
{
	const struct resp_value *e, *f;
	struct redis_id id = { 0, 0 };
	size_t n;

	if (resp_type(v) == RESP_ERROR) {
		link_drop("Redis refused to read %s: %s", sy.key, v->str);
		return;
	}
	if (clmsg_entries(v, NULL, &e, &n) == -1 || n > 1 ||
	    (n == 1 && clmsg_entry(e, &id, &f) == -1)) {
		link_drop("Redis answered XRANGE with something else");
		return;
	}
	if (!last)
		sy.first = id;
	else {
		sy.last = id;
		sync_where();
	}
}

/* Queue one handshake command for LINK_CMD, and where its reply goes. */
static void
sync_ask(link_reply *fn, uintptr_t arg, const char *a0, const char *a1,
    const char *a2, const char *a3, const char *a4, const char *a5)
{
	if (resp_cmd(link_out(LINK_CMD), a0, a1, a2, a3, a4, a5,
	    (char *)NULL) == -1)
		log_panic("queueing the cluster handshake: %s",
		    strerror(errno));
	link_expect(LINK_CMD, fn, arg, 0);
}

/*
 * The link is up: ask where the stream stands.  pos is where reading
 * stopped (updated before done is called).  The epoch we offer is new
 * each time, so a Redis that lost everything gets another one than it
 * had, whoever comes first.
 */
void
sync_start(struct redis_id *pos, sync_done *done)
{
	unsigned char r[8];

	if (os_random(r, sizeof(r)) == -1)
		log_panic("getrandom() failed: %s", strerror(errno));
	for (size_t i = 0; i < sizeof(r); i++)
		(void)snprintf(sy.offer + 2 * i, 3, "%02x", r[i]);
	sy.pos = pos;
	sy.done = done;
	memset(&sy.first, 0, sizeof(sy.first));
	memset(&sy.last, 0, sizeof(sy.last));
	sy.got[0] = '\0';
	sync_ask(sync_set_reply, 0, "SET", sy.epoch_key, sy.offer, "NX", NULL,
	    NULL);
	sync_ask(sync_get_reply, 0, "GET", sy.epoch_key, NULL, NULL, NULL,
	    NULL);
	sync_ask(sync_end_reply, 0, "XRANGE", sy.key, "-", "+", "COUNT", "1");
	sync_ask(sync_end_reply, 1, "XREVRANGE", sy.key, "+", "-", "COUNT",
	    "1");
}

/* A live upgrade: the epoch last read, if any. */
int
sync_save(struct snap *s)
{
	snap_begin(s, SNAP_CL_SYNC);
	snap_u32(s, sy.synced);
	snap_bytes(s, sy.epoch, strlen(sy.epoch));	/* any bytes Redis had */
	snap_end(s);
	return s->failed ? -1 : 0;
}

/* SNAP_CL_SYNC: -1 if it does not read. */
int
sync_restore(struct msg *m)
{
	uint32_t synced;
	const char *p;
	size_t len;

	if (msg_u32(m, &synced) == -1 || msg_rest(m, &p, &len) == -1 ||
	    len >= sizeof(sy.epoch) || memchr(p, '\0', len) != NULL)
		return -1;
	memcpy(sy.epoch, p, len);
	sy.epoch[len] = '\0';
	sy.synced = synced != 0;
	return 0;
}
