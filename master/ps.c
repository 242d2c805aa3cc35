/*
 * ps.c - "/ps": the server's process tree as the kernel sees it.
 *
 * Rather than trust its own tables, the master reads /proc: every
 * process whose chain of parents reaches the master is listed, with its
 * real parent and state.  The tables only name roles: a worker or spare
 * by pid, a pipe job by process group (so whatever a job started is
 * listed as part of it), anything else as an orphan.  This costs one
 * pass over /proc per /ps, which is rare.
 *
 * Public: ps_list.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fan.h"
#include "forker.h"
#include "num.h"
#include "os.h"
#include "proto.h"
#include "ps.h"

#define PS_FIELDS	19		/* /proc/PID/stat fields 4 to 22 */

struct proc {
	pid_t	 pid, ppid, pgid;
	char	 state;
	bool	 ours;			/* the master or a descendant */
	unsigned long long start;	/* clock ticks after boot */
};

/* Read one /proc/PID/stat; -1 if the process is gone. */
static int
ps_read(pid_t pid, struct proc *p)
{
	char path[64], buf[1024], *s;
	unsigned long long v[PS_FIELDS];
	const char *q;

	(void)snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if (os_read_head(path, buf, sizeof(buf)) <= 0)
		return -1;
	/*
	 * "pid (comm) S ppid pgrp ... starttime": comm may hold ")", so
	 * start after the last one.  Fields 4 to 22 are numbers (some may
	 * be negative, which we never use: they just must not stop us).
	 */
	if ((s = strrchr(buf, ')')) == NULL || s[1] != ' ' || s[2] == '\0')
		return -1;
	p->state = s[2];
	q = s + 3;
	for (int i = 0; i < PS_FIELDS; i++) {
		if (*q++ != ' ')
			return -1;
		if (*q == '-')
			q++;
		if (num_parse(q, &q, &v[i]) == -1)
			return -1;
	}
	p->pid = pid;
	p->ppid = (pid_t)v[0];		/* field 4 */
	p->pgid = (pid_t)v[1];		/* field 5 */
	p->start = v[PS_FIELDS - 1];	/* field 22: starttime */
	p->ours = pid == getpid();
	return 0;
}

/* Every process on the system, from /proc; NULL (errno) on failure. */
static struct proc *
ps_scan(size_t *n)
{
	struct proc *all = NULL, *grown;
	size_t cap = 0;
	struct dirent *de;
	unsigned long long pid;
	DIR *d;

	*n = 0;
	if ((d = opendir("/proc")) == NULL)
		return NULL;
	while ((de = readdir(d)) != NULL) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 256;
			if ((grown = realloc(all, cap * sizeof(*all))) == NULL)
				break;
			all = grown;
		}
		if (num_whole(de->d_name, &pid) == 0 &&
		    ps_read((pid_t)pid, &all[*n]) == 0)
			(*n)++;
	}
	(void)closedir(d);
	return all;
}

/* qsort/bsearch order: by pid. */
static int
ps_cmp(const void *a, const void *b)
{
	pid_t x = ((const struct proc *)a)->pid, y = ((const struct proc *)b)->pid;

	return (x > y) - (x < y);
}

/* Mark the master's descendants: parents first, until nothing moves. */
static void
ps_mark(struct proc *all, size_t n)
{
	struct proc key = { .pid = 0 }, *parent;
	bool moved = true;

	qsort(all, n, sizeof(*all), ps_cmp);
	for (int pass = 0; moved && pass < 64; pass++) {
		moved = false;
		for (size_t i = 0; i < n; i++) {
			if (all[i].ours)
				continue;
			key.pid = all[i].ppid;
			parent = bsearch(&key, all, n, sizeof(*all), ps_cmp);
			if (parent != NULL && parent->ours)
				all[i].ours = moved = true;
		}
	}
}

/* The child (or adopted job) whose pipe job leads process group pgid. */
static const struct child *
ps_job_owner(pid_t pgid, const struct orphan **orphan)
{
	const struct childq *lists[] = { &children.clients,
	    &children.leaving };
	const struct child *c;
	const struct orphan *o;

	*orphan = NULL;
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		TAILQ_FOREACH(c, lists[i], entry)
			if (c->job.pid == pgid)
				return c;
	for (o = spawn_orphans(); o != NULL; o = o->next)
		if (o->pid == pgid)
			*orphan = o;
	return NULL;
}

/* One line: what the tables say a process is, and what /proc says. */
static void
ps_line(struct child *to, const struct proc *p, double age)
{
	const struct child *c = spawn_find(p->pid), *owner;
	const struct orphan *o;
	const char *role = "orphan", *nick = "-", *prog = "";
	char id[16] = "-", agebuf[16];

	if (p->pid == getpid()) {
		role = "master";
	} else if (p->pid == forker_pid()) {
		role = "forker";
	} else if (c != NULL) {
		role = c->state == CHILD_SPARE ? "spare" : "worker";
		if (c->state != CHILD_SPARE) {
			(void)snprintf(id, sizeof(id), "#%u", c->client.id);
			nick = c->client.nick;
		}
		prog = c->state == CHILD_LEAVING ? "(leaving)" : "";
	} else if ((owner = ps_job_owner(p->pgid, &o)) != NULL) {
		role = "pipe";
		(void)snprintf(id, sizeof(id), "#%u", owner->client.id);
		nick = owner->client.nick;
		prog = owner->job.name;
	} else if (o != NULL) {
		role = "pipe";
		(void)snprintf(id, sizeof(id), "#%u", o->id);
		prog = o->name;
	}
	(void)proto_duration(agebuf, sizeof(agebuf), (long long)age);
	fan_line(to, "%7ld %7ld %-7s %-6s %-16s %c %-7s %s", (long)p->pid,
	    (long)p->ppid, role, id, nick, p->state, agebuf, prog);
}

/* MSG_PS "/ps": every live process of the server, pipe jobs included. */
int
ps_list(struct child *to, struct msg *m)
{
	double hz = (double)sysconf(_SC_CLK_TCK), base = 0;
	struct proc *all;
	size_t n, listed = 0;

	(void)m;
	if ((all = ps_scan(&n)) == NULL) {
		fan_line(to, "ERR cannot read /proc: %s", strerror(errno));
		return 0;
	}
	ps_mark(all, n);
	/*
	 * Ages from start times, measured against the master's own: boot
	 * time as /proc/uptime tells it may be a namespace's, not ours.
	 */
	for (size_t i = 0; i < n; i++)
		if (all[i].pid == getpid())
			base = (double)all[i].start / hz +
			    (double)(os_now_ms() - server.started_ms) / 1000;
	fan_line(to, "%7s %7s %-7s %-6s %-16s %c %-7s %s", "PID", "PPID",
	    "ROLE", "CLIENT", "NICK", 'S', "AGE", "PROGRAM");
	for (size_t i = 0; i < n; i++) {
		if (!all[i].ours)
			continue;
		ps_line(to, &all[i], base - (double)all[i].start / hz);
		listed++;
	}
	fan_line(to, "*** end of /ps (%zu process%s)", listed,
	    listed == 1 ? "" : "es");
	free(all);
	return 0;
}
