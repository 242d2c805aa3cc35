/*
 * admin.c - operators and what only they may do; /ps, /stats; job records.
 *
 * Rights live here, in the master, never in a worker: /kick and
 * /timeout arrive as requests, are checked against the client's rights
 * and target, and reach the target's worker as control messages
 * (MSG_CLOSE, MSG_SET_TIMEOUT) on its channel.  /oper compares in
 * constant time; the worker slows repeated failures down.
 *
 * Public: admin_oper, admin_kick, admin_timeout, admin_stats, admin_job.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "master.h"
#include "os.h"
#include "proto.h"


/* Equal strings, in time that depends on the secret's length only. */
static bool
secret_equal(const char *guess, size_t glen, const char *secret)
{
	size_t slen = strlen(secret);
	volatile unsigned char diff = glen != slen;

	for (size_t i = 0; i < slen; i++)
		diff |= (unsigned char)(secret[i] ^ (i < glen ? guess[i] : 0));
	return diff == 0;
}

/* May this client kick and set timeouts? */
static bool
admin_may(const struct child *c)
{
	return c->oper || M.cfg.admin == ADMIN_EVERYONE;
}

/* Answer /oper; the worker gets the verdict to pace retries. */
static void
admin_verdict(struct child *c, bool ok)
{
	uint32_t v = ok ? 1 : 0;
	struct iovec iov = { .iov_base = &v, .iov_len = sizeof(v) };

	(void)relay_send(c, MSG_OPER_RESULT, &iov, 1);
}

/* "/oper PASSWORD" */
int
admin_oper(struct child *c, struct msg *m)
{
	const char *p;
	size_t len;

	if (msg_text(m, &p, &len) == -1 || len > PROTO_PASSWORD_MAX)
		return -1;
	if (M.cfg.admin == ADMIN_EVERYONE) {
		relay_notice(c, "*** no password needed: everyone may /kick "
		    "and /timeout here (admin = everyone)");
		admin_verdict(c, true);
	} else if (c->oper) {
		relay_notice(c, "*** you are already an operator");
		admin_verdict(c, true);
	} else if (M.password[0] != '\0' &&
	    secret_equal(p, len, M.password)) {
		c->oper = true;
		log_notice("client #%u (%s) from %s is now an operator", c->id,
		    c->nick, c->peer);
		relay_notice(c, "*** you are now an operator");
		admin_verdict(c, true);
	} else {
		log_warning("client #%u (%s) from %s: wrong operator password",
		    c->id, c->nick, c->peer);
		admin_verdict(c, false);
	}
	return 0;
}

/*
 * The target named by the str field that starts m, if c may act on
 * it: NULL (the client told why) if not, with *bad set if m is not a
 * target at all.
 */
static struct child *
admin_target(struct child *c, const char *cmd, struct msg *m, bool *bad)
{
	char target[PROTO_TARGET_MAX + 1];
	struct child *t;

	*bad = msg_str(m, target, sizeof(target)) == -1 || target[0] == '\0';
	if (*bad)
		return NULL;
	if (!admin_may(c)) {
		relay_notice(c, "ERR /%s is for operators: /oper PASSWORD first",
		    cmd);
		return NULL;
	}
	if ((t = relay_find(target)) == NULL)
		relay_notice(c, "ERR no such client: %s (see /who)", target);
	return t;
}

/* "/kick TARGET [reason]": target told, closed; everyone else told. */
int
admin_kick(struct child *c, struct msg *m)
{
	char line[512];
	const char *why;
	struct child *t;
	size_t wlen;
	bool bad;
	int n;

	t = admin_target(c, "kick", m, &bad);
	if (bad || msg_text(m, &why, &wlen) == -1 || wlen > PROTO_REASON_MAX)
		return -1;
	if (t == NULL)
		return 0;
	n = snprintf(line, sizeof(line), "*** you were kicked by %s%s%.*s",
	    c->nick, wlen ? ": " : "", (int)wlen, why);
	(void)relay_send(t, MSG_CLOSE, &(struct iovec){ line,
	    n < 0 ? 0 : (size_t)n }, 1);
	child_set_state(t, CHILD_LEAVING);	/* no later "left" line */
	M.stats.kicks++;
	log_notice("client #%u (%s) from %s kicked by #%u (%s)%s%.*s", t->id,
	    t->nick, t->peer, c->id, c->nick, wlen ? ": " : "", (int)wlen, why);
	if (wlen)
		relay_notice_all(t, "*** %s was kicked by %s (%.*s)", t->nick,
		    c->nick, (int)wlen, why);
	else
		relay_notice_all(t, "*** %s was kicked by %s", t->nick,
		    c->nick);
	return 0;
}

/* "/timeout TARGET SECONDS": the target's worker enforces it. */
int
admin_timeout(struct child *c, struct msg *m)
{
	struct child *t;
	uint32_t secs;
	bool bad;

	t = admin_target(c, "timeout", m, &bad);
	if (bad || msg_u32(m, &secs) == -1 || msg_end(m) == -1 ||
	    secs > PROTO_TIMEOUT_MAX)
		return -1;
	if (t == NULL)
		return 0;
	t->read_timeout = secs;
	(void)relay_send(t, MSG_SET_TIMEOUT,
	    &(struct iovec){ &secs, sizeof(secs) }, 1);
	log_notice("client #%u (%s): read timeout set to %lu s by #%u (%s)",
	    t->id, t->nick, (unsigned long)secs, c->id, c->nick);
	if (secs == 0)
		relay_notice(t, "*** your read timeout was turned off by %s",
		    c->nick);
	else
		relay_notice(t, "*** your read timeout was set to %lu s by %s: "
		    "send a line at least that often", (unsigned long)secs,
		    c->nick);
	if (t != c && secs == 0)
		relay_notice(c, "*** read timeout of %s is now off", t->nick);
	else if (t != c)
		relay_notice(c, "*** read timeout of %s is now %lu s", t->nick,
		    (unsigned long)secs);
	return 0;
}

/* "/stats": uptime and counters. */
void
admin_stats(struct child *to)
{
	const struct stats *s = &M.stats;
	char up[16];

	(void)proto_duration(up, sizeof(up), (os_now_ms() - M.started_ms) / 1000);
	relay_notice(to, "uptime %s", up);
	relay_notice(to, "clients: %u now, %u peak, %llu in all", M.nclients,
	    s->clients_peak, (unsigned long long)s->clients_total);
	relay_notice(to, "broadcasts: %llu", (unsigned long long)s->broadcasts);
	relay_notice(to, "bytes relayed: %llu in, %llu out",
	    (unsigned long long)s->bytes_in, (unsigned long long)s->bytes_out);
	relay_notice(to, "kicks: %llu, timeouts: %llu, pipe jobs: %llu",
	    (unsigned long long)s->kicks, (unsigned long long)s->timeouts,
	    (unsigned long long)s->pipe_jobs);
	relay_notice(to, "workers: %llu forked, %llu reaped, %llu crashed",
	    (unsigned long long)s->forked, (unsigned long long)s->reaped,
	    (unsigned long long)s->crashed);
	relay_notice(to, "*** end of /stats");
}

/* MSG_JOB / MSG_JOB_END: keep the job's pid for /ps and the reaper. */
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
		c->job_pid = (pid_t)pid;
		c->job_ms = os_now_ms();
		(void)snprintf(c->job_name, sizeof(c->job_name), "%s", name);
		M.stats.pipe_jobs++;
		log_info("client #%u (%s) started pipe job %ld: %s", c->id,
		    c->nick, (long)pid, name);
		return 0;
	}
	log_info("pipe job %ld (%s) of client #%u reaped: %s", (long)pid,
	    name, c->id, exit_text((int)status, how, sizeof(how)));
	c->job_pid = 0;
	return 0;
}
