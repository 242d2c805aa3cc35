/*
 * stream.c - the cluster's Redis stream, written and read (stream.h).
 *
 * Out.  Each entry this server writes gets the next number of its
 * incarnation.  What clients said (lines, joins, leaves, nicks, private
 * messages, kicks, timeouts) is kept, in order, until this server reads
 * it back from the stream: with the link up it is sent at once (XADD
 * MAXLEN ~ STREAM_MAXLEN) and applied when read back, in stream order
 * like everyone else's; with the link down it is applied at once, here
 * alone, and kept.  When the link drops, what was sent but not yet read
 * back is applied here at once, in order.  When the link comes back,
 * everything kept is sent again, in order, then a hello with our
 * clients.  Every server skips an entry whose number it has applied
 * (apply.c), so a line sent twice, or said here during the outage and
 * read back later, is shown once.  Heartbeats, hellos, and the
 * declarations below are not kept: the next ones replace them.
 *
 * In.  LINK_READ loops on XREAD BLOCK from the id of the last entry
 * read.  Where to start, after each connect, is sync.c's business: it
 * also says when entries were lost (a Redis that lost its data, ids gone
 * backwards, a trimmed stream), and then our hello asks every server
 * for its clients.
 *
 * Membership.  A heartbeat every cluster_timeout / 3; a server not heard
 * from for cluster_timeout, counted from when our own link came up, is
 * declared gone (an entry, so that every server drops its clients at
 * the same point of the story).  A stopping server says bye.
 *
 * Live upgrade.  The same server goes on in the new binary: our
 * incarnation and numbering, the position, the epoch, the entries kept
 * and the roster cross the exec (each module below writes its records),
 * the connections to Redis do not (see link.c): the new binary
 * connects anew, and that is a reconnect like any other, but unseen by
 * clients unless it fails (cluster.c says why this is enough).
 *
 * Public: stream_start, stream_set, stream_publish, stream_stop,
 * stream_busy, stream_close, stream_deadline, stream_tick,
 * stream_end_turn, stream_state, stream_position, stream_stats,
 * stream_save, stream_restore, stream_restored, stream_resume.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "apply.h"
#include "fan.h"
#include "link.h"
#include "log.h"
#include "os.h"
#include "outbox.h"
#include "reader.h"
#include "roster.h"
#include "stream.h"
#include "sync.h"

#define STREAM_MAXLEN	100000UL	/* entries Redis keeps, about */
#define HELLO_PART	200		/* clients per hello entry */
#define OUTBOX_MAX	100000U		/* entries kept while Redis is away */

/* What a reply to XADD confirms, besides the entry. */
enum sent {
	SENT_ENTRY,
	SENT_BYE,		/* our bye: we may stop */
	SENT_ASK		/* a hello that asks for every server's */
};

/* The stream as this server writes and reads it. */
static struct {
	enum stream_state state;
	char	 key[CONFIG_KEY_MAX + 1];
	char	 name[CLMSG_NAME_MAX + 1];	/* server_name */
	uint64_t inc;			/* our incarnation */
	uint64_t seq;			/* our entries numbered so far */
	unsigned timeout_s;		/* cluster_timeout */
	int64_t	 beat_at;		/* the next heartbeat */
	int64_t	 up_ms;			/* when the link last synced */
	bool	 resuming;		/* after an upgrade; clients think it up */
	bool	 asking;		/* a hello asking for every server's
					 * clients, not yet taken by Redis */
	bool	 stopping;
	bool	 bye_sent;		/* and answered */
	int64_t	 bye_due;
	struct stream_stats stats;
} st = { .state = STREAM_OFF };

static void stream_send(const struct clmsg *);

/* A fresh entry of ours, of type t, numbered. */
static void
stream_head(struct clmsg *m, enum clmsg_type t)
{
	m->type = t;
	(void)snprintf(m->server, sizeof(m->server), "%s", st.name);
	m->inc = st.inc;
	m->seq = ++st.seq;
}

/* An entry that is not kept (heartbeat, gone, bye), sent now. */
static void
stream_direct(struct clmsg *m, enum clmsg_type t)
{
	stream_head(m, t);
	stream_send(m);
}

/* Apply every kept entry not applied yet (the link went down). */
static void
stream_apply_kept(void)
{
	const struct outent *e;

	for (e = outbox_first(); e != NULL; e = e->next)
		if (e->m.seq > roster_self()->seq)
			(void)apply_entry(&e->m);
}

/*
 * What clients said, to the stream: sent, or applied here and kept
 * while the link is down.  m's text is copied; its head is filled in.
 */
void
stream_publish(struct clmsg *m)
{
	const struct clmsg *e;

	if (st.state == STREAM_OFF || st.stopping)
		return;
	stream_head(m, m->type);
	e = outbox_add(m, OUTBOX_MAX);
	if (st.state == STREAM_UP)
		stream_send(e);
	else if (st.state == STREAM_DOWN)
		(void)apply_entry(e);
}

/* XADD's answer: an id, or an error that takes the link down. */
static void
stream_added(const struct resp_value *v, uintptr_t sent)
{
	if (resp_type(v) != RESP_BULK) {
		link_drop("Redis refused XADD: %s", resp_type(v) ==
		    RESP_ERROR ? v->str : "not an id");
		return;
	}
	if (sent == SENT_BYE)
		st.bye_sent = true;
	else if (sent == SENT_ASK)
		st.asking = false;
}

/* Send one entry now (the link is up). */
static void
stream_send(const struct clmsg *m)
{
	if (clmsg_xadd(link_out(LINK_CMD), st.key, STREAM_MAXLEN, m) == -1) {
		link_drop("cannot queue for Redis: %s", strerror(errno));
		return;
	}
	link_expect(LINK_CMD, stream_added, m->type == CL_BYE ? SENT_BYE :
	    m->ask ? SENT_ASK : SENT_ENTRY, 0);
	st.stats.written++;
}

/* Say bye: the others drop our clients at once. */
static void
stream_bye(void)
{
	struct clmsg m;

	memset(&m, 0, sizeof(m));
	stream_direct(&m, CL_BYE);
}


/* Our clients, in hello entries of HELLO_PART; ask: everyone answers. */
static void
stream_hello(bool ask)
{
	struct child *c = TAILQ_FIRST(&children.clients);
	struct clmsg_client cl;
	struct clmsg m;
	struct buf list;
	bool first = true;

	do {
		buf_init(&list, 0);
		for (unsigned n = 0; c != NULL && n < HELLO_PART; n++) {
			memset(&cl, 0, sizeof(cl));
			cl.id = c->client.id;
			memcpy(cl.nick, c->client.nick, sizeof(cl.nick));
			memcpy(cl.peer, c->client.peer, sizeof(cl.peer));
			cl.since = os_wall_ms() - (os_now_ms() -
			    c->client.since_ms);
			cl.timeout = c->client.read_timeout;
			cl.pid = (uint32_t)c->pid;
			if (clmsg_member_put(&list, &cl) == -1)
				log_panic("out of memory writing a hello");
			c = TAILQ_NEXT(c, entry);
		}
		memset(&m, 0, sizeof(m));
		m.ask = ask && first;
		st.asking |= m.ask;	/* until Redis has it */
		m.first = first;
		m.last = c == NULL;
		m.text = list.len > 0 ? buf_head(&list) : "";
		m.len = list.len;
		stream_direct(&m, CL_HELLO);
		buf_free(&list);
		first = false;
	} while (c != NULL && st.state == STREAM_UP);
}

/* Ask for the next entries, unless the link is down or we are stopping. */
static void
stream_read_next(void)
{
	if (st.state == STREAM_UP && !st.stopping)
		reader_next();
}

/* One entry read: ours is forgotten from what is kept; then applied. */
static int
stream_entry(const struct clmsg *m)
{
	if (st.stopping)
		return 0;		/* too late for it */
	if (m->inc == st.inc && strcmp(m->server, st.name) == 0)
		outbox_trim(m->seq);
	return apply_entry(m);
}

/* A reply's entries are applied: a hello if asked, and read on. */
static void
stream_read_done(int want)
{
	if ((want & APPLY_HELLO) && st.state == STREAM_UP)
		stream_hello(false);
	stream_read_next();
}

/* How long Redis may take to answer: half cluster_timeout, 1 s at least. */
static unsigned
stream_link_ms(unsigned timeout_s)
{
	return timeout_s < 2 ? 1000 : timeout_s * 500;
}

/* How often we send a heartbeat. */
static int64_t
stream_beat_ms(void)
{
	return (int64_t)st.timeout_s * 1000 / 3;
}

/*
 * Synced: read on from pos, send what was kept, say hello (or bye, if
 * we stopped meanwhile; and ask again if a hello that asked may not
 * have reached Redis).  Clients were told the link was down, or it
 * never was up; but the new link of a live upgrade is the same link
 * to them, and to /stats.
 */
static void
stream_synced(bool ask)
{
	const struct outent *e;
	bool told = !st.resuming;
	struct peer *p;

	st.resuming = false;
	/* A gone we wrote may have been lost with the link: anew. */
	TAILQ_FOREACH(p, roster_peers(), entry)
		p->gone_sent = false;
	st.state = STREAM_UP;
	st.up_ms = os_now_ms();
	st.beat_at = st.up_ms + stream_beat_ms();
	st.stats.ups += told;
	for (e = outbox_first(); e != NULL && st.state == STREAM_UP;
	    e = e->next)
		stream_send(&e->m);
	if (st.state == STREAM_UP && st.stopping)
		stream_bye();
	else if (st.state == STREAM_UP)
		stream_hello(ask || st.asking);
	stream_read_next();
	if (st.state == STREAM_UP && told)
		fan_all_line(NULL, "*** cluster link restored");
}

/* The link is up: find where to read from (sync.c), then go on. */
static void
stream_link_up(void)
{
	st.state = STREAM_SYNCING;
	sync_start(reader_pos(), stream_synced);
}

/*
 * The link is down: chat goes on here.  What was sent and not read
 * back is applied now; clients hear of it if it was up.
 */
static void
stream_link_down(const char *why)
{
	bool was_up = st.state == STREAM_UP || st.resuming;

	st.state = STREAM_DOWN;
	st.resuming = false;
	if (st.stopping) {
		link_close();		/* no reconnecting to say bye late */
		return;
	}
	if (was_up)		/* why holds no control character (link.c) */
		fan_all_line(NULL, "*** cluster link lost: %s", why);
	stream_apply_kept();
}

static const struct link_hooks stream_hooks = { stream_link_up,
    stream_link_down };

/*
 * Join the cluster of cfg as name, incarnation inc: the link starts
 * connecting, and the stream follows.  -1 (EINVAL) for a bad address.
 */
int
stream_start(const struct config *cfg, const char *name,
    const char *password, uint64_t inc)
{
	(void)snprintf(st.key, sizeof(st.key), "%s", cfg->cluster_key);
	sync_init(cfg->cluster_key);
	reader_init(cfg->cluster_key, stream_entry, stream_read_done);
	(void)snprintf(st.name, sizeof(st.name), "%s", name);
	st.inc = inc;
	st.timeout_s = cfg->cluster_timeout;
	(void)roster_init(name, inc);
	link_init(&stream_hooks);
	st.state = STREAM_DOWN;
	return link_open(cfg->cluster, password,
	    stream_link_ms(cfg->cluster_timeout));
}

/* A reload: the timeout, and the password for the next connect. */
void
stream_set(const struct config *cfg, const char *password)
{
	st.timeout_s = cfg->cluster_timeout;
	link_set(password, stream_link_ms(cfg->cluster_timeout));
	if (st.state == STREAM_UP && st.beat_at > os_now_ms() +
	    stream_beat_ms())
		st.beat_at = os_now_ms() + stream_beat_ms();
}

/* The server is stopping: say bye, so its clients go at once. */
void
stream_stop(void)
{
	if (st.state == STREAM_OFF || st.stopping)
		return;
	st.stopping = true;
	st.bye_due = os_now_ms() + stream_link_ms(st.timeout_s);
	if (st.state == STREAM_UP)
		stream_bye();
	else if (!st.resuming)
		link_close();		/* nobody to say bye to: stop trying */
	/* else an upgrade's new link says it once synced (or drops) */
}

/* Is the bye still on its way (the loop waits for it, not past due)? */
bool
stream_busy(int64_t now)
{
	return st.stopping && (st.state == STREAM_UP || st.resuming) &&
	    !st.bye_sent && now < st.bye_due;
}

/* The end: the link closed, what was kept dropped (and said so). */
void
stream_close(void)
{
	unsigned n;

	if (st.state == STREAM_OFF)
		return;
	link_close();
	if ((n = outbox_count()) > 0)
		log_notice("cluster: %u entr%s said while Redis was away never "
		    "reached the other servers", n, n == 1 ? "y" : "ies");
	outbox_trim(UINT64_MAX);
	roster_clear();
	st.state = STREAM_OFF;
}

/*
 * When server p will have been silent for cluster_timeout, counted from
 * when our link came up; OS_NO_DEADLINE if that does not matter.
 */
static int64_t
stream_silent_at(const struct peer *p)
{
	if (p == roster_self() || !p->alive || p->gone_sent)
		return OS_NO_DEADLINE;
	return (p->heard_ms > st.up_ms ? p->heard_ms : st.up_ms) +
	    st.timeout_s * 1000LL;
}

/*
 * The nearest deadline: the link's, a heartbeat, a silent server (once
 * we have read after it went silent: we declare no one gone while we
 * are the one not reading).
 */
int64_t
stream_deadline(void)
{
	int64_t d = link_deadline(), now = os_now_ms(), silent;
	struct peer *p;

	if (st.stopping)
		return stream_busy(now) ? os_nearer(d, st.bye_due) : d;
	if (st.state != STREAM_UP)
		return d;
	d = os_nearer(d, st.beat_at);
	TAILQ_FOREACH(p, roster_peers(), entry) {
		silent = stream_silent_at(p);
		if (silent != OS_NO_DEADLINE && (silent > now ||
		    reader_answered_ms() >= silent))
			d = os_nearer(d, silent);
	}
	return d;
}

/* Deadlines that passed: the link's, a heartbeat, silent servers. */
void
stream_tick(int64_t now)
{
	struct clmsg m;
	struct peer *p;
	int64_t silent;

	link_tick(now);
	if (st.state != STREAM_UP || st.stopping)
		return;
	if (now >= st.beat_at) {
		memset(&m, 0, sizeof(m));
		stream_direct(&m, CL_BEAT);
		st.beat_at = now + stream_beat_ms();
	}
	TAILQ_FOREACH(p, roster_peers(), entry) {
		silent = stream_silent_at(p);
		/* Silent, though we read after it should have spoken. */
		if (silent == OS_NO_DEADLINE || now < silent ||
		    reader_answered_ms() < silent || st.state != STREAM_UP)
			continue;
		log_info("cluster: no heartbeat from %s for %u s: declaring "
		    "it gone", p->name, st.timeout_s);
		p->gone_sent = true;
		memset(&m, 0, sizeof(m));
		(void)snprintf(m.gone, sizeof(m.gone), "%s", p->name);
		m.gone_inc = p->inc;
		stream_direct(&m, CL_GONE);
	}
}

/* End of a loop turn: what was queued for Redis goes out. */
void
stream_end_turn(void)
{
	link_flush();
}

/* Where the stream stands. */
enum stream_state
stream_state(void)
{
	return st.state;
}

/* The id of the last entry read, as text. */
const char *
stream_position(char *buf, size_t size)
{
	if (redis_id_format(reader_pos(), buf, size) == -1)
		(void)snprintf(buf, size, "?");
	return buf;
}

/* Counters for /stats. */
void
stream_stats(struct stream_stats *s)
{
	*s = st.stats;
	reader_counts(&s->read, &s->skipped);
	s->queued = outbox_count();
}

/*
 * A live upgrade: the stream's record (the state as clients know it: a
 * link being made again after an upgrade is still up to them), then
 * those of the modules below.
 */
int
stream_save(struct snap *s)
{
	snap_begin(s, SNAP_CL_STREAM);
	snap_str(s, st.key);
	snap_str(s, st.name);
	snap_u64(s, st.inc);
	snap_u64(s, st.seq);
	snap_u32(s, (uint32_t)(st.resuming ? STREAM_UP : st.state));
	snap_u32(s, st.asking);
	snap_u64(s, st.stats.written);
	snap_u64(s, st.stats.ups);
	snap_end(s);
	if (s->failed || reader_save(s) == -1 || link_save(s) == -1 ||
	    sync_save(s) == -1 || outbox_save(s) == -1 || roster_save(s) == -1)
		return -1;
	return 0;
}

/* SNAP_CL_STREAM: the same server again, its link to be made anew. */
static int
stream_restore_own(struct msg *m)
{
	uint32_t state, asking;

	if (msg_str(m, st.key, sizeof(st.key)) == -1 ||
	    msg_str(m, st.name, sizeof(st.name)) == -1 ||
	    msg_u64(m, &st.inc) == -1 || msg_u64(m, &st.seq) == -1 ||
	    msg_u32(m, &state) == -1 || msg_u32(m, &asking) == -1 ||
	    msg_u64(m, &st.stats.written) == -1 ||
	    msg_u64(m, &st.stats.ups) == -1 || msg_end(m) == -1 ||
	    (state != STREAM_DOWN && state != STREAM_SYNCING &&
	    state != STREAM_UP))
		return -1;
	st.asking = asking != 0;
	st.resuming = state == STREAM_UP;
	/* Down, lines are shown here at once; else kept until synced. */
	st.state = state == STREAM_DOWN ? STREAM_DOWN : STREAM_SYNCING;
	sync_init(st.key);
	reader_init(st.key, stream_entry, stream_read_done);
	(void)roster_init(st.name, st.inc);
	return 0;
}

static unsigned restored;		/* bit t - SNAP_CL_STREAM: read */
#define ONCE(t)		(1U << ((t) - SNAP_CL_STREAM))
#define NEEDED		(ONCE(SNAP_CL_STREAM) | ONCE(SNAP_CL_READ) | \
			 ONCE(SNAP_CL_LINK) | ONCE(SNAP_CL_SYNC) | \
			 ONCE(SNAP_CL_PEER))

/* A record of stream_save()'s, to its module; -1 if bad or out of place. */
int
stream_restore(uint32_t type, struct msg *m)
{
	if (type < SNAP_CL_STREAM || type > SNAP_CL_MEMBER ||
	    (type != SNAP_CL_STREAM && st.state == STREAM_OFF) ||
	    (type <= SNAP_CL_SYNC && (restored & ONCE(type))))
		return -1;
	restored |= ONCE(type);
	switch (type) {
	case SNAP_CL_STREAM:
		return stream_restore_own(m);
	case SNAP_CL_READ:
		return reader_restore(m);
	case SNAP_CL_LINK:
		return link_restore(m);
	case SNAP_CL_SYNC:
		return sync_restore(m);
	case SNAP_CL_OUT:
		return outbox_restore(m);
	default:
		return roster_restore(type, m);
	}
}

/* Did a snapshot give the stream whole? */
bool
stream_restored(void)
{
	return (restored & NEEDED) == NEEDED;
}

/* After a live upgrade: the link anew; -1 (EINVAL): we chat alone. */
int
stream_resume(const struct config *cfg)
{
	int saved;

	st.timeout_s = cfg->cluster_timeout;
	link_init(&stream_hooks);
	if (link_reopen(cfg->cluster, stream_link_ms(st.timeout_s)) == 0)
		return 0;
	saved = errno;
	stream_link_down(strerror(saved));	/* and for good */
	errno = saved;
	return -1;
}
