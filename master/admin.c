/*
 * admin.c - what only operators may do; /stats; pipe job records.
 *
 * Rights live here, in the master, never in a worker: /kick and
 * /timeout arrive as requests, are checked against the client's rights
 * and target, and reach the target's worker as control messages
 * (MSG_CLOSE, MSG_SET_TIMEOUT) on its channel.  Who is an operator is
 * oper.c's business.  In a cluster, a kick or timeout whose rights
 * check passed goes to cluster.c, which finds the target on any server.
 *
 * Public: admin_kick, admin_timeout, admin_stats, admin_job.
 */
#include <stdio.h>
#include <string.h>

#include "admin.h"
#include "chat.h"
#include "cluster.h"
#include "conf.h"
#include "fan.h"
#include "log.h"
#include "os.h"
#include "proto.h"

/* May this client kick and set timeouts? */
static bool
admin_may(const struct child *c)
{
	return c->client.oper || conf.admin == ADMIN_EVERYONE;
}

/*
 * The target named by the str field that starts m (into target), if c
 * may act on it: NULL (the client told why) if not, with *bad set if m
 * is not a target at all.  In a cluster, NULL for cluster.c to find it.
 */
static struct child *
admin_target(struct child *c, const char *cmd, struct msg *m, char *target,
    bool *bad)
{
	struct child *t;

	*bad = msg_str(m, target, PROTO_TARGET_MAX + 1) == -1 ||
	    target[0] == '\0';
	if (*bad)
		return NULL;
	if (!admin_may(c)) {
		fan_line(c, "ERR /%s is for operators: /oper PASSWORD first",
		    cmd);
		return NULL;
	}
	if (cluster_on())
		return NULL;
	if ((t = chat_find(target)) == NULL)
		fan_line(c, "ERR no such client: %s (see /who)", target);
	return t;
}

/* "/kick TARGET [reason]": target told, closed; everyone else told. */
int
admin_kick(struct child *c, struct msg *m)
{
	char line[512], target[PROTO_TARGET_MAX + 1];
	const char *why;
	struct child *t;
	size_t wlen;
	bool bad;
	int n;

	t = admin_target(c, "kick", m, target, &bad);
	if (bad || msg_text(m, &why, &wlen) == -1 || wlen > PROTO_REASON_MAX)
		return -1;
	if (t == NULL && cluster_on() && admin_may(c))
		cluster_kick(c, target, why, wlen);
	if (t == NULL)
		return 0;
	n = snprintf(line, sizeof(line), "*** you were kicked by %s%s%.*s",
	    c->client.nick, wlen ? ": " : "", (int)wlen, why);
	(void)fan_send(t, MSG_CLOSE, &(struct iovec){ line,
	    n < 0 ? 0 : (size_t)n }, 1);
	child_set_state(t, CHILD_LEAVING);	/* no later "left" line */
	server.stats.kicks++;
	log_notice("client #%u (%s) from %s kicked by #%u (%s)%s%.*s",
	    t->client.id, t->client.nick, t->client.peer, c->client.id,
	    c->client.nick, wlen ? ": " : "", (int)wlen, why);
	if (wlen)
		fan_all_line(t, "*** %s was kicked by %s (%.*s)",
		    t->client.nick, c->client.nick, (int)wlen, why);
	else
		fan_all_line(t, "*** %s was kicked by %s", t->client.nick,
		    c->client.nick);
	return 0;
}

/* "/timeout TARGET SECONDS": the target's worker enforces it. */
int
admin_timeout(struct child *c, struct msg *m)
{
	char target[PROTO_TARGET_MAX + 1];
	struct child *t;
	uint32_t secs;
	bool bad, had;

	t = admin_target(c, "timeout", m, target, &bad);
	if (bad || msg_u32(m, &secs) == -1 || msg_end(m) == -1 ||
	    secs > PROTO_TIMEOUT_MAX)
		return -1;
	if (t == NULL && cluster_on() && admin_may(c))
		cluster_timeout(c, target, secs);
	if (t == NULL)
		return 0;
	had = t->client.read_timeout != 0;
	t->client.read_timeout = secs;
	(void)fan_send(t, MSG_SET_TIMEOUT,
	    &(struct iovec){ &secs, sizeof(secs) }, 1);
	log_notice("client #%u (%s): read timeout set to %lu s by #%u (%s)",
	    t->client.id, t->client.nick, (unsigned long)secs, c->client.id,
	    c->client.nick);
	if (secs == 0 && had)
		fan_line(t, "*** your read timeout was turned off by %s",
		    c->client.nick);
	else if (secs == 0)		/* nothing changed for it */
		fan_line(t, "*** you still have no read timeout (%s set it "
		    "to 0)", c->client.nick);
	else
		fan_line(t, "*** your read timeout was set to %lu s by %s: "
		    "send a line at least that often", (unsigned long)secs,
		    c->client.nick);
	if (t != c && secs == 0)
		fan_line(c, "*** read timeout of %s is now off",
		    t->client.nick);
	else if (t != c)
		fan_line(c, "*** read timeout of %s is now %lu s",
		    t->client.nick, (unsigned long)secs);
	return 0;
}

/* MSG_STATS "/stats": uptime and counters. */
int
admin_stats(struct child *to, struct msg *m)
{
	const struct stats *s = &server.stats;
	char up[16];

	(void)m;
	(void)proto_duration(up, sizeof(up),
	    (os_now_ms() - server.started_ms) / 1000);
	fan_line(to, "uptime %s", up);
	fan_line(to, "clients: %u now, %u peak, %llu in all",
	    children.nclients, s->clients_peak,
	    (unsigned long long)s->clients_total);
	fan_line(to, "broadcasts: %llu", (unsigned long long)s->broadcasts);
	fan_line(to, "bytes relayed: %llu in, %llu out",
	    (unsigned long long)s->bytes_in, (unsigned long long)s->bytes_out);
	fan_line(to, "kicks: %llu, timeouts: %llu, pipe jobs: %llu",
	    (unsigned long long)s->kicks, (unsigned long long)s->timeouts,
	    (unsigned long long)s->pipe_jobs);
	fan_line(to, "workers: %llu forked, %llu reaped, %llu crashed",
	    (unsigned long long)s->forked, (unsigned long long)s->reaped,
	    (unsigned long long)s->crashed);
	if (cluster_on())
		cluster_stats(to);
	fan_line(to, "*** end of /stats");
	return 0;
}

/* MSG_JOB, MSG_JOB_END: keep the job's pid for /ps and the reaper. */
int
admin_job(struct child *c, struct msg *m)
{
	char how[32], name[PROTO_NICK_MAX + 1];
	uint32_t pid, status = 0;

	if (msg_u32(m, &pid) == -1 || (m->h.type == MSG_JOB_END &&
	    msg_u32(m, &status) == -1) || msg_str(m, name, sizeof(name)) == -1 ||
	    msg_end(m) == -1 || pid == 0 || pid > INT32_MAX)
		return -1;
	if (m->h.type == MSG_JOB) {
		c->job.pid = (pid_t)pid;
		c->job.since_ms = os_now_ms();
		(void)snprintf(c->job.name, sizeof(c->job.name), "%s", name);
		server.stats.pipe_jobs++;
		log_info("client #%u (%s) started pipe job %ld: %s",
		    c->client.id, c->client.nick, (long)pid, name);
		return 0;
	}
	log_info("pipe job %ld (%s) of client #%u reaped: %s", (long)pid,
	    name, c->client.id, os_status_text((int)status, how, sizeof(how)));
	c->job.pid = 0;
	return 0;
}
