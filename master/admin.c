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
#include <sys/wait.h>
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
	char b = ok ? 1 : 0;
	struct iovec iov = { .iov_base = &b, .iov_len = 1 };

	(void)relay_send(c, MSG_OPER_RESULT, &iov, 1);
}

/* "/oper PASSWORD" */
void
admin_oper(struct child *c, const char *p, size_t len)
{
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
}

/* Split "target NUL arg" and find the target; NULL (client told) if not. */
static struct child *
admin_target(struct child *c, const char *cmd, const char *p, size_t len,
    const char **arg, size_t *alen)
{
	const char *nul = memchr(p, '\0', len);
	struct child *t;

	if (!admin_may(c)) {
		relay_notice(c, "ERR /%s is for operators: /oper PASSWORD first",
		    cmd);
		return NULL;
	}
	if (nul == NULL || nul == p || !relay_clean(nul + 1,
	    len - (size_t)(nul + 1 - p))) {
		relay_notice(c, "ERR usage: /%s NICK|#ID ...", cmd);
		return NULL;
	}
	if ((t = relay_find(p)) == NULL) {
		relay_notice(c, "ERR no such client: %s (see /who)", p);
		return NULL;
	}
	*arg = nul + 1;
	*alen = len - (size_t)(nul + 1 - p);
	return t;
}

/* "/kick TARGET [reason]": target told, closed; everyone else told. */
void
admin_kick(struct child *c, const char *p, size_t len)
{
	char line[512];
	const char *why;
	struct child *t;
	size_t wlen;
	int n;

	if ((t = admin_target(c, "kick", p, len, &why, &wlen)) == NULL)
		return;
	if (wlen > 200)
		wlen = 200;
	n = snprintf(line, sizeof(line), "*** you were kicked by %s%s%.*s\r\n",
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
}

/* "/timeout TARGET SECONDS": the target's worker enforces it. */
void
admin_timeout(struct child *c, const char *p, size_t len)
{
	const char *num;
	struct child *t;
	size_t nlen;
	unsigned long secs;
	uint32_t s32;
	char *end, buf[16];

	if ((t = admin_target(c, "timeout", p, len, &num, &nlen)) == NULL)
		return;
	if (nlen == 0 || nlen >= sizeof(buf))
		goto bad;
	memcpy(buf, num, nlen);
	buf[nlen] = '\0';
	errno = 0;
	secs = strtoul(buf, &end, 10);
	if (buf[0] < '0' || buf[0] > '9' || *end != '\0' || errno != 0 ||
	    secs > PROTO_TIMEOUT_MAX)
		goto bad;
	t->read_timeout = s32 = (uint32_t)secs;
	(void)relay_send(t, MSG_SET_TIMEOUT,
	    &(struct iovec){ &s32, sizeof(s32) }, 1);
	log_notice("client #%u (%s): read timeout set to %lu s by #%u (%s)",
	    t->id, t->nick, secs, c->id, c->nick);
	if (secs == 0)
		relay_notice(t, "*** your read timeout was turned off by %s",
		    c->nick);
	else
		relay_notice(t, "*** your read timeout was set to %lu s by %s: "
		    "send a line at least that often", secs, c->nick);
	if (t != c)
		relay_notice(c, "*** read timeout of %s is now %s%s", t->nick,
		    secs ? buf : "off", secs ? " s" : "");
	return;
bad:
	relay_notice(c, "ERR SECONDS must be a whole number from 0 (no "
	    "timeout) to %d", PROTO_TIMEOUT_MAX);
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
void
admin_job(struct child *c, const struct msg_hdr *h, const char *p)
{
	struct msg_job mj;
	char how[32];

	if (h->len != sizeof(mj))
		return;
	memcpy(&mj, p, sizeof(mj));
	mj.name[sizeof(mj.name) - 1] = '\0';
	if (h->type == MSG_JOB) {
		c->job_pid = mj.pid;
		c->job_ms = os_now_ms();
		(void)snprintf(c->job_name, sizeof(c->job_name), "%s", mj.name);
		M.stats.pipe_jobs++;
		log_info("client #%u (%s) started pipe job %ld: %s", c->id,
		    c->nick, (long)mj.pid, mj.name);
		return;
	}
	if (WIFSIGNALED(mj.status))
		(void)snprintf(how, sizeof(how), "signal %d", WTERMSIG(mj.status));
	else
		(void)snprintf(how, sizeof(how), "status %d",
		    WEXITSTATUS(mj.status));
	log_info("pipe job %ld (%s) of client #%u reaped: %s", (long)mj.pid,
	    mj.name, c->id, how);
	c->job_pid = 0;
}
