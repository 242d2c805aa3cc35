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
 * All the state a live upgrade would carry is the struct st below,
 * sync.c's epoch, the roster and the link's address: see cluster.c.
 *
 * Public: stream_start, stream_set, stream_publish, stream_stop,
 * stream_busy, stream_close, stream_deadline, stream_tick,
 * stream_end_turn, stream_state, stream_position, stream_stats.
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
#include "roster.h"
#include "stream.h"
#include "sync.h"

#define STREAM_MAXLEN	100000UL	/* entries Redis keeps, about */
#define READ_COUNT	1000		/* entries per XREAD */
#define READ_BLOCK_MS	1000		/* XREAD BLOCK waits this long */
#define HELLO_PART	200		/* clients per hello entry */
#define OUTBOX_MAX	100000U		/* entries kept while Redis is away */

/* An entry kept until it is read back. */
struct outent {
	struct outent *next;
	struct clmsg m;
	char	*text;			/* m.text's own copy */
};

/* The stream as this server writes and reads it. */
static struct {
	enum stream_state state;
	char	 key[CONFIG_KEY_MAX + 1];
	char	 name[CLMSG_NAME_MAX + 1];	/* server_name */
	uint64_t inc;			/* our incarnation */
	uint64_t seq;			/* our entries numbered so far */
	struct redis_id pos;		/* the last entry read */
	struct outent *out, **out_end;	/* kept, oldest first */
	unsigned nout;
	unsigned timeout_s;		/* cluster_timeout */
	int64_t	 beat_at;		/* the next heartbeat */
	int64_t	 up_ms;			/* when the link last synced */
	int64_t	 read_ms;		/* when XREAD last answered */
	bool	 overflow;		/* said that entries were dropped */
	bool	 stopping;
	bool	 bye_sent;		/* and answered */
	int64_t	 bye_due;
	struct stream_stats stats;
} st = { .state = STREAM_OFF };

static void stream_send(const struct clmsg *);
static void stream_read_next(void);
static link_reply stream_read_reply;

/* A fresh entry of ours, of type t, numbered. */
static void
stream_head(struct clmsg *m, enum clmsg_type t)
{
	m->type = t;
	(void)snprintf(m->server, sizeof(m->server), "%s", st.name);
	m->inc = st.inc;
	m->seq = ++st.seq;
}

/* Forget kept entries up to number seq: they are in the stream. */
static void
outbox_trim(uint64_t seq)
{
	struct outent *e;

	while ((e = st.out) != NULL && e->m.seq <= seq) {
		if ((st.out = e->next) == NULL)
			st.out_end = &st.out;
		st.nout--;
		free(e->text);
		free(e);
	}
}

/* Apply every kept entry not applied yet (the link went down). */
static void
outbox_apply(void)
{
	struct outent *e;

	for (e = st.out; e != NULL; e = e->next)
		if (e->m.seq > roster_self()->seq)
			(void)apply_entry(&e->m);
}

/* A kept copy of m, its text too. */
static struct outent *
outent_new(const struct clmsg *m)
{
	struct outent *e = calloc(1, sizeof(*e));

	if (e != NULL && (m->len == 0 || (e->text = malloc(m->len)) != NULL)) {
		e->m = *m;
		if (m->len > 0)
			memcpy(e->text, m->text, m->len);
		e->m.text = e->text != NULL ? e->text : "";
		return e;
	}
	free(e);
	log_panic("out of memory keeping a cluster entry");
}

/*
 * What clients said, to the stream: sent, or applied here and kept
 * while the link is down.  m's text is copied; its head is filled in.
 */
void
stream_publish(struct clmsg *m)
{
	struct outent *e;

	if (st.state == STREAM_OFF || st.stopping)
		return;
	if (st.nout >= OUTBOX_MAX && (e = st.out) != NULL) {
		if (!st.overflow)
			log_warning("cluster: more than %u entries kept for "
			    "Redis: the oldest will not reach the other "
			    "servers", OUTBOX_MAX);
		st.overflow = true;
		outbox_trim(e->m.seq);
	}
	stream_head(m, m->type);
	e = outent_new(m);
	*st.out_end = e;
	st.out_end = &e->next;
	st.nout++;
	if (st.state == STREAM_UP)
		stream_send(&e->m);
	else if (st.state == STREAM_DOWN)
		(void)apply_entry(&e->m);
}

/* XADD's answer: an id, or an error that takes the link down. */
static void
stream_added(const struct resp_value *v, uintptr_t bye)
{
	if (resp_type(v) != RESP_BULK) {
		link_drop("Redis refused XADD: %s", resp_type(v) ==
		    RESP_ERROR ? v->str : "not an id");
		return;
	}
	if (bye)
		st.bye_sent = true;
}

/* Send one entry now (the link is up). */
static void
stream_send(const struct clmsg *m)
{
	if (clmsg_xadd(link_out(LINK_CMD), st.key, STREAM_MAXLEN, m) == -1) {
		link_drop("cannot queue for Redis: %s", strerror(errno));
		return;
	}
	link_expect(LINK_CMD, stream_added, m->type == CL_BYE, 0);
	st.stats.written++;
}

/* An entry that is not kept (heartbeat, gone, bye), sent now. */
static void
stream_direct(struct clmsg *m, enum clmsg_type t)
{
	stream_head(m, t);
	stream_send(m);
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
		m.first = first;
		m.last = c == NULL;
		m.text = list.len > 0 ? buf_head(&list) : "";
		m.len = list.len;
		stream_direct(&m, CL_HELLO);
		buf_free(&list);
		first = false;
	} while (c != NULL && st.state == STREAM_UP);
}

/* Ask for the next entries after the last one read. */
static void
stream_read_next(void)
{
	char id[REDIS_ID_MAX];
	struct resp_cmd c;

	if (st.state != STREAM_UP || st.stopping)
		return;
	(void)redis_id_format(&st.pos, id, sizeof(id));
	resp_begin(&c, link_out(LINK_READ));
	resp_arg_str(&c, "XREAD");
	resp_arg_str(&c, "COUNT");
	resp_arg_uint(&c, READ_COUNT);
	resp_arg_str(&c, "BLOCK");
	resp_arg_uint(&c, READ_BLOCK_MS);
	resp_arg_str(&c, "STREAMS");
	resp_arg_str(&c, st.key);
	resp_arg_str(&c, id);
	if (resp_end(&c) == -1)
		log_panic("queueing XREAD: %s", strerror(errno));
	link_expect(LINK_READ, stream_read_reply, 0, READ_BLOCK_MS);
}

/* An entry we cannot read: said once at warning, then at debug. */
static void
stream_bad(const struct redis_id *id, int err)
{
	static bool said;
	char text[REDIS_ID_MAX];

	st.stats.skipped++;
	(void)redis_id_format(id, text, sizeof(text));
	if (!said)
		log_warning("cluster: skipping entry %s of %s: %s (this is said "
		    "once; /stats counts them)", text, st.key, err == ENOTSUP ?
		    "another version of forkchatd, or not forkchatd's" :
		    "malformed");
	else
		log_debug("cluster: skipping entry %s", text);
	said = true;
}

/* One entry read: ours is forgotten from what is kept; then applied. */
static int
stream_entry(const struct redis_id *id, const struct resp_value *f)
{
	struct clmsg m;

	st.pos = *id;
	st.stats.read++;
	if (f == NULL || st.stopping)
		return 0;		/* deleted; or too late for it */
	if (clmsg_decode(f, &m) == -1) {
		stream_bad(id, errno);
		return 0;
	}
	if (m.inc == st.inc && strcmp(m.server, st.name) == 0)
		outbox_trim(m.seq);
	return apply_entry(&m);
}

/* What XREAD brought: every entry past the last one, in order. */
static void
stream_read_reply(const struct resp_value *v, uintptr_t arg)
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
	st.read_ms = os_now_ms();
	if (clmsg_entries(v, st.key, &e, &n) == -1) {
		link_drop("Redis answered XREAD with something else");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (clmsg_entry(&e[i], &id, &f) == -1) {
			link_drop("Redis answered XREAD with something else");
			return;
		}
		if (redis_id_cmp(&id, &st.pos) > 0)
			want |= stream_entry(&id, f);
	}
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

/* Text from Redis, for clients: no control characters. */
static void
stream_clean(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
			*s = '?';
}

/* Synced: read on from pos, send what was kept, say hello. */
static void
stream_synced(bool ask)
{
	struct outent *e;
	struct peer *p;

	/* A gone we wrote may have been lost with the link: anew. */
	TAILQ_FOREACH(p, roster_peers(), entry)
		p->gone_sent = false;
	st.state = STREAM_UP;
	st.overflow = false;
	st.up_ms = os_now_ms();
	st.beat_at = st.up_ms + stream_beat_ms();
	st.stats.ups++;
	for (e = st.out; e != NULL; e = e->next)
		if (st.state == STREAM_UP)
			stream_send(&e->m);
	if (st.state == STREAM_UP)
		stream_hello(ask);
	stream_read_next();
	/* Clients here were told the link was down (or it never was up). */
	if (st.state == STREAM_UP)
		fan_all_line(NULL, "*** cluster link restored");
}

/* The link is up: find where to read from (sync.c), then go on. */
static void
stream_link_up(void)
{
	st.state = STREAM_SYNCING;
	sync_start(&st.pos, stream_synced);
}

/*
 * The link is down: chat goes on here.  What was sent and not read
 * back is applied now; clients hear of it if it was up.
 */
static void
stream_link_down(const char *why)
{
	enum stream_state was = st.state;
	char text[256];

	st.state = STREAM_DOWN;
	if (st.stopping) {
		link_close();		/* no reconnecting to say bye late */
		return;
	}
	if (was == STREAM_UP) {
		(void)snprintf(text, sizeof(text), "%s", why);
		stream_clean(text);
		fan_all_line(NULL, "*** cluster link lost: %s", text);
	}
	outbox_apply();
}

/*
 * Join the cluster of cfg as name, incarnation inc: the link starts
 * connecting, and the stream follows.  -1 (EINVAL) for a bad address.
 */
int
stream_start(const struct config *cfg, const char *name,
    const char *password, uint64_t inc)
{
	static const struct link_hooks hooks = { stream_link_up,
	    stream_link_down };

	(void)snprintf(st.key, sizeof(st.key), "%s", cfg->cluster_key);
	sync_init(cfg->cluster_key);
	(void)snprintf(st.name, sizeof(st.name), "%s", name);
	st.inc = inc;
	st.timeout_s = cfg->cluster_timeout;
	st.out_end = &st.out;
	(void)roster_init(name, inc);
	link_init(&hooks);
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
	struct clmsg m;

	if (st.state == STREAM_OFF || st.stopping)
		return;
	if (st.state == STREAM_UP) {
		memset(&m, 0, sizeof(m));
		stream_direct(&m, CL_BYE);
		st.bye_due = os_now_ms() + stream_link_ms(st.timeout_s);
	}
	if (st.state != STREAM_UP)
		link_close();		/* nobody to say bye to: stop trying */
	st.stopping = true;
}

/* Is the bye still on its way (the loop waits for it, not past due)? */
bool
stream_busy(int64_t now)
{
	return st.stopping && st.state == STREAM_UP && !st.bye_sent &&
	    now < st.bye_due;
}

/* The end: the link closed, what was kept dropped (and said so). */
void
stream_close(void)
{
	if (st.state == STREAM_OFF)
		return;
	link_close();
	if (st.nout > 0)
		log_notice("cluster: %u entr%s said while Redis was away never "
		    "reached the other servers", st.nout,
		    st.nout == 1 ? "y" : "ies");
	outbox_trim(UINT64_MAX);
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
		    st.read_ms >= silent))
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
		    st.read_ms < silent || st.state != STREAM_UP)
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
	if (redis_id_format(&st.pos, buf, size) == -1)
		(void)snprintf(buf, size, "?");
	return buf;
}

/* Counters for /stats. */
void
stream_stats(struct stream_stats *s)
{
	*s = st.stats;
	s->queued = st.nout;
}
