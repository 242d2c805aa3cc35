/*
 * cluster.c - several servers, one chat (see forkchatd(8), CLUSTER).
 *
 * With `cluster` set, everything more than one client sees goes through
 * a Redis stream that every server reads in the same order (stream.c),
 * and is shown when it is read back (apply.c), the sender's own server
 * included.  This file is what the rest of the master calls: it turns a
 * client's join, leave, line, nick claim, private message, kick or
 * timeout into an entry, answers at once what needs no other server
 * (an unknown target, a nick in use, the link being down), and lists
 * /who and /stats.  Rights are checked before we are called (admin.c):
 * the servers of one cluster trust each other.
 *
 * A live upgrade (SIGUSR2) goes unseen by the other servers and by
 * every client: the new binary is the same server, of the same
 * incarnation, numbering its entries on, reading on from the same
 * entry, with the same roster and the entries not yet read back (the
 * snapshot's SNAP_CLUSTER and SNAP_CL_* records, each module its own).
 * The two connections to Redis are not handed over: they close with the
 * exec and the new binary connects again, as after any drop of the
 * link.  That is correct with nothing more, since the stream is made
 * for drops: what we wrote is kept until read back and sent again,
 * everyone skips what it has applied by its number, and the handshake
 * reads on from our position.  An XADD or an XREAD on its way at the
 * exec is then simply made again (and the old master need not wait for
 * Redis to be quiet first); passing the sockets would mean carrying the
 * replies owed on each, what was read of one, and where each goes.
 * Clients are told nothing of that reconnect, unless it fails.  As in a
 * reload, the cluster, its key and our name stay as they were.
 *
 * Public: cluster_on, cluster_start, cluster_keep, cluster_reloaded,
 * cluster_stop, cluster_busy, cluster_close, cluster_event,
 * cluster_deadline, cluster_tick, cluster_end_turn, cluster_join,
 * cluster_leave, cluster_say, cluster_nick, cluster_privmsg,
 * cluster_kick, cluster_timeout, cluster_who, cluster_stats;
 * cluster_save, cluster_restore, cluster_restored, cluster_resume for a
 * live upgrade.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cluster.h"
#include "conf.h"
#include "fan.h"
#include "link.h"
#include "log.h"
#include "os.h"
#include "proto.h"
#include "roster.h"
#include "stream.h"

#define NAME	ROSTER_DISPLAY_MAX
#define NAME_CHARS	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" \
			"0123456789_-"

static bool on;
static char name[CLMSG_NAME_MAX + 1];	/* server_name, or made up */

/* The cluster a snapshot says this server is in, as configured then. */
static struct {
	char	 address[REDIS_ADDR_MAX];
	char	 key[CONFIG_KEY_MAX + 1];
	char	 server_name[CONFIG_NAME_MAX + 1];
} was;

/* Is this server part of a cluster? */
bool
cluster_on(void)
{
	return on;
}

/*
 * server_name's default: the host name and the first listen port (the
 * pid for port 0), every other character made '-', cut to 16.
 */
static void
cluster_default_name(const struct config *cfg, char *out, size_t size)
{
	char host[256], port[16], both[sizeof(host) + sizeof(port)];
	const char *colon;
	size_t n;

	if (gethostname(host, sizeof(host)) == -1 || host[0] == '\0')
		(void)snprintf(host, sizeof(host), "forkchatd");
	host[sizeof(host) - 1] = '\0';
	host[strcspn(host, ".")] = '\0';	/* the short name */
	colon = cfg->nlisten > 0 ? strrchr(cfg->listen[0], ':') : NULL;
	if (colon == NULL || strcmp(colon + 1, "0") == 0)
		(void)snprintf(port, sizeof(port), "%ld", (long)getpid());
	else
		(void)snprintf(port, sizeof(port), "%s", colon + 1);
	n = strlen(port) + 1;		/* the port, and room for '-' */
	(void)snprintf(both, sizeof(both), "%.*s-%s",
	    (int)(size - 1 > n ? size - 1 - n : 0), host, port);
	(void)snprintf(out, size, "%.*s", (int)(size - 1), both);
	for (char *p = out; *p != '\0'; p++)
		if (strchr(NAME_CHARS, *p) == NULL)
			*p = '-';
}

/*
 * Join the cluster cfg names, if it names one: read the Redis password,
 * start the link.  -1 with err set if the password cannot be read.
 */
int
cluster_start(const struct config *cfg, char *err, size_t errlen)
{
	char pw[PASSWORD_MAX + 2];
	unsigned char r[2];
	uint64_t inc;

	if (cfg->cluster == NULL)
		return 0;
	if (conf_cluster_password(cfg, pw, sizeof(pw), err, errlen) == -1)
		return -1;
	if (cfg->server_name[0] != '\0')
		(void)snprintf(name, sizeof(name), "%s", cfg->server_name);
	else
		cluster_default_name(cfg, name, sizeof(name));
	/* Later runs have larger ones, so an old run's entries are known. */
	if (os_random(r, sizeof(r)) == -1)
		r[0] = r[1] = 0;
	inc = (uint64_t)os_wall_ms() * 1000 + (uint64_t)(r[0] << 8 | r[1]) %
	    1000;
	if (stream_start(cfg, name, pw, inc) == -1) {
		(void)snprintf(err, errlen, "cluster: cannot start: %s",
		    strerror(errno));
		return -1;
	}
	explicit_bzero(pw, sizeof(pw));
	on = true;
	log_notice("cluster: this is server %s, joining the chat at %s, key "
	    "%s", name, cfg->cluster, cfg->cluster_key);
	return 0;
}

/* Are two optional strings the same (both unset counts)? */
static bool
same(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/*
 * next keeps the cluster, key and server name the server runs with: a
 * reload or an upgrade (what) cannot change them.
 */
static void
cluster_keep_as(struct config *next, const char *cluster, const char *key,
    const char *server_name, const char *what)
{
	char err[CONFIG_ERR_MAX];

	if (same(cluster, next->cluster) &&
	    strcmp(key, next->cluster_key) == 0 &&
	    strcmp(server_name, next->server_name) == 0)
		return;
	log_warning("%s: cluster, cluster_key and server_name cannot change "
	    "while running; keeping the old ones (restart to change them)",
	    what);
	free(next->cluster);
	next->cluster = NULL;
	if (cluster != NULL)
		(void)config_set(next, "cluster", cluster, err, sizeof(err));
	(void)snprintf(next->cluster_key, sizeof(next->cluster_key), "%s",
	    key);
	(void)snprintf(next->server_name, sizeof(next->server_name), "%s",
	    server_name);
}

/* A reload keeps cluster, cluster_key and server_name: they cannot change. */
void
cluster_keep(struct config *next)
{
	cluster_keep_as(next, conf.cluster, conf.cluster_key,
	    conf.server_name, "reload");
}

/* The reloaded configuration is in force: timeout and Redis password. */
void
cluster_reloaded(const char *password)
{
	if (on)
		stream_set(&conf, password);
}

/* The server is stopping: the others drop our clients at once. */
void
cluster_stop(void)
{
	if (on)
		stream_stop();
}

/* Is the goodbye to the cluster still on its way? */
bool
cluster_busy(int64_t now)
{
	return on && stream_busy(now);
}

/* The end: close the link. */
void
cluster_close(void)
{
	if (on)
		stream_close();
	on = false;
}

/* A connection to Redis is ready. */
void
cluster_event(struct src *s, int events)
{
	link_event(s, events);
}

/* The cluster's nearest deadline, if any. */
int64_t
cluster_deadline(void)
{
	return on ? stream_deadline() : OS_NO_DEADLINE;
}

/* Deadlines that passed. */
void
cluster_tick(int64_t now)
{
	if (on)
		stream_tick(now);
}

/* End of a loop turn: what was queued for Redis goes out. */
void
cluster_end_turn(void)
{
	if (on)
		stream_end_turn();
}

/* An entry about client c, of type t. */
static void
cluster_entry(struct clmsg *m, enum clmsg_type t, const struct child *c)
{
	memset(m, 0, sizeof(*m));
	m->type = t;
	m->id = c->client.id;
	memcpy(m->nick, c->client.nick, sizeof(m->nick));
}

/* Is the link down (and c told why, then)? */
static bool
cluster_cut_off(struct child *c, const char *what)
{
	if (stream_state() != STREAM_DOWN)
		return false;
	fan_line(c, "ERR the cluster link is down (%s): %s; try again later",
	    link_why(), what);
	return true;
}

/* A client joined here: the cluster is told (and it, if we are cut off). */
void
cluster_join(struct child *c)
{
	struct clmsg m;

	cluster_entry(&m, CL_JOIN, c);
	m.client.id = c->client.id;
	memcpy(m.client.nick, c->client.nick, sizeof(m.client.nick));
	memcpy(m.client.peer, c->client.peer, sizeof(m.client.peer));
	m.client.since = os_wall_ms();
	m.client.timeout = c->client.read_timeout;
	m.client.pid = (uint32_t)c->pid;
	stream_publish(&m);
	if (stream_state() == STREAM_DOWN)
		fan_line(c, "*** cluster link down (%s): you see this "
		    "server's clients only until it is back", link_why());
}

/* A client here left (not during shutdown: the bye says it all). */
void
cluster_leave(struct child *c, const char *why)
{
	struct clmsg m;

	if (server.phase != PHASE_RUNNING)
		return;
	cluster_entry(&m, CL_LEAVE, c);
	m.text = why;
	m.len = strlen(why);
	if (m.len > PROTO_REASON_MAX)
		m.len = proto_cut(why, m.len, PROTO_REASON_MAX);
	stream_publish(&m);
}

/* A chat line (or an action, me) from a client here. */
void
cluster_say(struct child *c, bool me, const char *text, size_t len)
{
	struct clmsg m;

	cluster_entry(&m, me ? CL_ME : CL_SAY, c);
	m.text = text;
	m.len = len;
	stream_publish(&m);
}

/* "/nick NAME": claimed through the stream, unless clearly taken. */
void
cluster_nick(struct child *c, const char *nick)
{
	struct member *other = roster_nick(nick,
	    roster_find(roster_self(), c->client.id));
	struct clmsg m;

	if (cluster_cut_off(c, "nicks must be unique across servers"))
		return;
	if (other != NULL) {
		fan_line(c, "ERR nick %s is already in use on %s; pick another",
		    nick, other->peer->name);
		return;
	}
	cluster_entry(&m, CL_NICK, c);
	(void)snprintf(m.nick, sizeof(m.nick), "%s", nick);
	stream_publish(&m);
}

/*
 * The client target names, for a request of type t from c; NULL (and c
 * told) if there is none, or it is another server's and we are cut off.
 */
static struct member *
cluster_target(struct child *c, const char *target)
{
	struct member *t = roster_target(target);

	if (t == NULL) {
		fan_line(c, "ERR no such client: %s (see /who)", target);
		return NULL;
	}
	if (t->peer != roster_self() && cluster_cut_off(c,
	    "other servers' clients cannot be reached"))
		return NULL;
	return t;
}

/* An entry from c aimed at client t. */
static void
cluster_aim(struct clmsg *m, enum clmsg_type type, const struct child *c,
    const struct member *t)
{
	cluster_entry(m, type, c);
	(void)snprintf(m->to, sizeof(m->to), "%s", t->peer->name);
	m->to_id = t->c.id;
}

/* An entry of type for the client target names, with a text. */
static void
cluster_aim_text(struct child *c, enum clmsg_type type, const char *target,
    const char *text, size_t len)
{
	struct member *t = cluster_target(c, target);
	struct clmsg m;

	if (t == NULL)
		return;
	cluster_aim(&m, type, c, t);
	m.text = text;
	m.len = len;
	stream_publish(&m);
}

/* "/msg TARGET text" to a client chat.c did not find here. */
void
cluster_privmsg(struct child *c, const char *target, const char *text,
    size_t len)
{
	cluster_aim_text(c, CL_MSG, target, text, len);
}

/* "/kick TARGET [reason]" from an operator: done where the target is. */
void
cluster_kick(struct child *c, const char *target, const char *why,
    size_t len)
{
	cluster_aim_text(c, CL_KICK, target, why, len);
}

/* "/timeout TARGET SECONDS" from an operator: done where the target is. */
void
cluster_timeout(struct child *c, const char *target, uint32_t secs)
{
	struct member *t = cluster_target(c, target);
	struct clmsg m;

	if (t == NULL)
		return;
	cluster_aim(&m, CL_TIMEOUT, c, t);
	m.secs = secs;
	stream_publish(&m);
}

/* One /who line: id@server, nick, pid, peer, and times. */
static void
cluster_who_line(struct child *to, uint32_t id, const char *srv,
    const char *nick, long pid, const char *peer, long long since_s,
    long long idle_s, unsigned timeout)
{
	char who[32], since[16], idle[16], tmo[16];

	(void)snprintf(who, sizeof(who), "#%u@%s", id, srv);
	(void)proto_duration(since, sizeof(since), since_s);
	(void)proto_duration(idle, sizeof(idle), idle_s);
	if (timeout == 0)
		(void)snprintf(tmo, sizeof(tmo), "none");
	else
		(void)proto_duration(tmo, sizeof(tmo), timeout);
	fan_line(to, "%-22s %-16s pid %-7ld %-22s connected %-7s idle %-7s "
	    "timeout %s", who, nick, pid, peer, since, idle, tmo);
}

/* "/who": this server's clients, then every other server's. */
void
cluster_who(struct child *to)
{
	int64_t now = os_now_ms(), wall = os_wall_ms();
	unsigned n = children.nclients, servers = 1;
	const struct member *mb;
	const struct peer *p;
	const struct child *o;
	char nick[NAME];

	TAILQ_FOREACH(o, &children.clients, entry)
		cluster_who_line(to, o->client.id, name, roster_display(
		    o->client.nick, name, nick, sizeof(nick)), (long)o->pid,
		    o->client.peer, (now - o->client.since_ms) / 1000,
		    (now - o->client.active_ms) / 1000,
		    o->client.read_timeout);
	TAILQ_FOREACH(p, roster_peers(), entry) {
		if (p == roster_self() || !p->alive)
			continue;
		servers++;
		n += p->nmembers;
		TAILQ_FOREACH(mb, &p->members, entry)
			cluster_who_line(to, mb->c.id, p->name,
			    roster_name(mb, nick, sizeof(nick)), (long)mb->c.pid,
			    mb->c.peer, (wall - mb->c.since) / 1000,
			    (now - mb->active_ms) / 1000, mb->c.timeout);
	}
	fan_line(to, "*** end of /who (%u client%s on %u server%s)", n,
	    n == 1 ? "" : "s", servers, servers == 1 ? "" : "s");
}

/* /stats: the cluster's lines. */
void
cluster_stats(struct child *to)
{
	static const char *const states[] = { "off", "down", "syncing", "up" };
	struct stream_stats s;
	enum stream_state state = stream_state();
	unsigned servers, clients;
	char pos[REDIS_ID_MAX];

	stream_stats(&s);
	servers = roster_count(&clients);
	if (state == STREAM_DOWN)
		fan_line(to, "cluster: server %s, link down (%s), Redis %s, "
		    "key %s", name, link_why(), conf.cluster,
		    conf.cluster_key);
	else
		fan_line(to, "cluster: server %s, link %s, Redis %s, key %s",
		    name, states[state], conf.cluster, conf.cluster_key);
	fan_line(to, "cluster: %u server%s, %u client%s", servers,
	    servers == 1 ? "" : "s", clients, clients == 1 ? "" : "s");
	fan_line(to, "cluster: stream at %s; entries: %llu read, %llu "
	    "written, %u kept for Redis, %llu skipped; link up %llu time%s",
	    stream_position(pos, sizeof(pos)), (unsigned long long)s.read,
	    (unsigned long long)s.written, s.queued,
	    (unsigned long long)s.skipped, (unsigned long long)s.ups,
	    s.ups == 1 ? "" : "s");
}

/* A live upgrade: the cluster we are in, then the stream's records. */
int
cluster_save(struct snap *s)
{
	if (!on)
		return 0;
	snap_begin(s, SNAP_CLUSTER);
	snap_str(s, conf.cluster);
	snap_str(s, conf.cluster_key);
	snap_str(s, conf.server_name);
	snap_str(s, name);
	snap_end(s);
	return s->failed ? -1 : stream_save(s);
}

/* A record of cluster_save()'s; -1 if it does not read or is out of place. */
int
cluster_restore(uint32_t type, struct msg *m)
{
	if (type != SNAP_CLUSTER)
		return on ? stream_restore(type, m) : -1;
	if (on || msg_str(m, was.address, sizeof(was.address)) == -1 ||
	    msg_str(m, was.key, sizeof(was.key)) == -1 ||
	    msg_str(m, was.server_name, sizeof(was.server_name)) == -1 ||
	    msg_str(m, name, sizeof(name)) == -1 || msg_end(m) == -1)
		return -1;
	on = true;
	return 0;
}

/* Did the snapshot, if it had a cluster, give all of it? */
bool
cluster_restored(void)
{
	return !on || stream_restored();
}

/*
 * After a live upgrade (takeover.c, once nothing can hand the server
 * back): the cluster the snapshot gave goes on, the link connects
 * again.  A server that was in none stays out of one.
 */
void
cluster_resume(void)
{
	if (!on) {
		if (conf.cluster == NULL)
			return;
		log_warning("upgrade: this server was in no cluster: "
		    "cluster = %s waits for a restart", conf.cluster);
		free(conf.cluster);
		conf.cluster = NULL;
		return;
	}
	cluster_keep_as(&conf, was.address, was.key, was.server_name,
	    "upgrade");
	if (stream_resume(&conf) == -1) {
		log_error("cluster: cannot connect to %s again: %s; this server "
		    "chats alone until a restart", conf.cluster,
		    strerror(errno));
		return;
	}
	log_notice("cluster: this is still server %s, in the chat at %s, key "
	    "%s", name, conf.cluster, conf.cluster_key);
}
