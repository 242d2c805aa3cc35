/*
 * psview.c - "/ps" as the client sees it, drawn by its own worker.
 *
 * The master sends its table of who is who (MSG_PS_TABLE records: the
 * master, the forker, every worker and spare with its client and its
 * job, the jobs it adopted), then MSG_PS_END; reading /proc for every
 * process is left to the worker that asked, so that the master's loop
 * never waits on it.  The tree is what the kernel says: every process
 * whose chain of parents reaches the master, each under its parent,
 * with its real state and age; the table only names roles, a job by
 * its process group, so that whatever a job started is listed as part
 * of it.  Anything else under the master is an orphan.
 *
 * Public: psview_add, psview_draw.
 */
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "num.h"
#include "os.h"
#include "proto.h"
#include "psview.h"

#define PS_FIELDS	19		/* /proc/PID/stat fields 4 to 22 */
#define PS_DEPTH_MAX	32		/* deeper than any tree of ours */

/* One row of the master's table. */
struct who {
	pid_t	 pid, job;
	uint32_t role, id;
	char	 nick[PROTO_NICK_MAX + 1];
	char	 name[PROTO_NICK_MAX + 1];	/* the job's */
	char	 version[32];			/* forkchatd's, or "" */
};

/* One process, as /proc tells it. */
struct proc {
	pid_t	 pid, ppid, pgid;
	char	 state;
	unsigned long long start;	/* clock ticks after boot */
};

/* What a drawing needs, for its duration. */
struct view {
	struct out *out;
	struct proc *all;		/* by ppid, then pid */
	size_t	 n;
	double	 hz, base;		/* ticks a second; "now" in seconds */
	size_t	 listed;
	char	 prefix[PS_DEPTH_MAX * 3 + 1];	/* the tree's lines */
};

static struct who *table;		/* MSG_PS_TABLE so far */
static size_t ntable, cap;

/* Forget the table. */
static void
psview_reset(void)
{
	free(table);
	table = NULL;
	ntable = cap = 0;
}

/* One record of m into w; -1 if m is not one. */
static int
psview_record(struct msg *m, struct who *w)
{
	uint32_t pid, job;

	if (msg_u32(m, &pid) == -1 || msg_u32(m, &w->role) == -1 ||
	    msg_u32(m, &w->id) == -1 || msg_str(m, w->nick, sizeof(w->nick))
	    == -1 || msg_u32(m, &job) == -1 ||
	    msg_str(m, w->name, sizeof(w->name)) == -1 ||
	    msg_str(m, w->version, sizeof(w->version)) == -1 ||
	    w->role < MSG_PS_MASTER || w->role > MSG_PS_ADOPTED)
		return -1;
	w->pid = (pid_t)pid;
	w->job = (pid_t)job;
	return 0;
}

/* MSG_PS_TABLE: keep its records; -1 if it is malformed. */
int
psview_add(struct msg *m)
{
	struct who *grown;

	while (m->left > 0) {
		if (ntable == cap) {
			cap = cap ? cap * 2 : 64;
			if ((grown = realloc(table, cap * sizeof(*table))) ==
			    NULL) {
				psview_reset();
				return -1;
			}
			table = grown;
		}
		if (psview_record(m, &table[ntable]) == -1) {
			psview_reset();
			return -1;
		}
		ntable++;
	}
	return msg_end(m);
}

/* Read one /proc/PID/stat; -1 if the process is gone. */
static int
psview_read(pid_t pid, struct proc *p)
{
	char path[64], buf[1024], *s;
	unsigned long long v[PS_FIELDS];
	const char *q;

	(void)snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if (os_read_head(path, buf, sizeof(buf)) <= 0)
		return -1;
	/* "pid (comm) S ppid pgrp ... starttime": comm may hold ")". */
	if ((s = strrchr(buf, ')')) == NULL || s[1] != ' ' || s[2] == '\0')
		return -1;
	p->state = s[2];
	q = s + 3;
	for (int i = 0; i < PS_FIELDS; i++) {
		if (*q++ != ' ')
			return -1;
		if (*q == '-')
			q++;		/* negative fields: never used */
		if (num_parse(q, &q, &v[i]) == -1)
			return -1;
	}
	p->pid = pid;
	p->ppid = (pid_t)v[0];		/* field 4 */
	p->pgid = (pid_t)v[1];		/* field 5 */
	p->start = v[PS_FIELDS - 1];	/* field 22: starttime */
	return 0;
}

/* Every process on the system; NULL on failure. */
static struct proc *
psview_scan(size_t *n)
{
	struct proc *all = NULL, *grown;
	size_t size = 0;
	struct dirent *de;
	unsigned long long pid;
	DIR *d;

	*n = 0;
	if ((d = opendir("/proc")) == NULL)
		return NULL;
	while ((de = readdir(d)) != NULL) {
		if (*n == size) {
			size = size ? size * 2 : 256;
			if ((grown = realloc(all, size * sizeof(*all))) == NULL)
				break;
			all = grown;
		}
		if (num_whole(de->d_name, &pid) == 0 &&
		    psview_read((pid_t)pid, &all[*n]) == 0)
			(*n)++;
	}
	(void)closedir(d);
	return all;
}

/* qsort order: by parent, then pid; so a process's children are a run. */
static int
psview_by_parent(const void *a, const void *b)
{
	const struct proc *x = a, *y = b;

	if (x->ppid != y->ppid)
		return (x->ppid > y->ppid) - (x->ppid < y->ppid);
	return (x->pid > y->pid) - (x->pid < y->pid);
}

/* The table's row for pid, or NULL. */
static const struct who *
psview_who(pid_t pid)
{
	for (size_t i = 0; i < ntable; i++)
		if (table[i].pid == pid && table[i].role != MSG_PS_ADOPTED)
			return &table[i];
	return NULL;
}

/* The row whose job leads process group pgid, or NULL. */
static const struct who *
psview_job(pid_t pgid)
{
	for (size_t i = 0; i < ntable; i++)
		if (table[i].job == pgid && pgid != 0)
			return &table[i];
	return NULL;
}

/*
 * ROLE for a process: "worker", "pipe rev" for a job and its program,
 * and what sets it apart: "worker (leaving)", "spare (0.1.0)" for one
 * that runs another forkchatd than the master, after a live upgrade.
 */
static void
psview_role(const struct proc *p, char *role, size_t size,
    const struct who **w)
{
	static const char *const names[] = { [MSG_PS_MASTER] = "master",
	    [MSG_PS_FORKER] = "forker", [MSG_PS_SPARE] = "spare",
	    [MSG_PS_WORKER] = "worker", [MSG_PS_LEAVING] = "worker",
	    [MSG_PS_ADOPTED] = "pipe" };
	const char *leaving, *v;

	if ((*w = psview_who(p->pid)) != NULL) {
		leaving = (*w)->role == MSG_PS_LEAVING ? "leaving" : "";
		v = (*w)->version[0] != '\0' &&
		    strcmp((*w)->version, table[0].version) != 0 ?
		    (*w)->version : "";
		(void)snprintf(role, size, "%s%s%s%s%s%s", names[(*w)->role],
		    *leaving || *v ? " (" : "", leaving, *leaving && *v ?
		    ", " : "", v, *leaving || *v ? ")" : "");
	} else if ((*w = psview_job(p->pgid)) != NULL) {
		(void)snprintf(role, size, "pipe %s", (*w)->name);
	} else {
		(void)snprintf(role, size, "orphan");
	}
}

/* One line: pid, parent, state, age, client, nick, then the tree. */
static void
psview_line(struct view *v, const struct proc *p, const char *branch)
{
	const struct who *w;
	char role[64], age[16], id[16] = "-";
	const char *nick = "-";

	psview_role(p, role, sizeof(role), &w);
	if (w != NULL && w->id != 0) {
		(void)snprintf(id, sizeof(id), "#%u", w->id);
		if (w->nick[0] != '\0')
			nick = w->nick;
	}
	(void)proto_duration(age, sizeof(age),
	    (long long)(v->base - (double)p->start / v->hz));
	out_say(v->out, "%7ld %7ld %c %-7s %-6s %-16s %s%s%s", (long)p->pid,
	    (long)p->ppid, p->state, age, id, nick, v->prefix, branch, role);
	v->listed++;
}

/* The children of pid: their first index in v->all, and how many. */
static size_t
psview_children(const struct view *v, pid_t pid, size_t *count)
{
	size_t lo = 0, hi = v->n, first;

	while (lo < hi) {		/* the first with ppid >= pid */
		size_t mid = lo + (hi - lo) / 2;

		if (v->all[mid].ppid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	first = lo;
	while (lo < v->n && v->all[lo].ppid == pid)
		lo++;
	*count = lo - first;
	return first;
}

/*
 * Every descendant of pid, depth first, each after its parent and
 * under it: a stack of the children still to draw at each depth, not
 * recursion, so the depth is bounded here (a deeper process is listed
 * at PS_DEPTH_MAX's indentation).
 */
static void
psview_tree(struct view *v, pid_t pid)
{
	struct { size_t next, end, len; } st[PS_DEPTH_MAX];
	size_t depth = 0, count, i;
	bool last;

	st[0].next = psview_children(v, pid, &count);
	st[0].end = st[0].next + count;
	st[0].len = 0;
	for (;;) {
		if (st[depth].next == st[depth].end) {
			if (depth == 0)
				return;
			v->prefix[st[--depth].len] = '\0';
			continue;
		}
		i = st[depth].next++;
		last = st[depth].next == st[depth].end;
		v->prefix[st[depth].len] = '\0';
		psview_line(v, &v->all[i], last ? "`- " : "|- ");
		if (depth + 1 == PS_DEPTH_MAX)
			continue;
		(void)snprintf(v->prefix + st[depth].len, sizeof(v->prefix) -
		    st[depth].len, "%s", last ? "   " : "|  ");
		depth++;
		st[depth].len = st[depth - 1].len + 3;
		st[depth].next = psview_children(v, v->all[i].pid, &count);
		st[depth].end = st[depth].next + count;
	}
}

/* MSG_PS_END: the tree, from the master down, to the client; -1 if bad. */
int
psview_draw(struct out *out, struct msg *m)
{
	struct view v = { .out = out };
	const struct proc *master = NULL;
	uint64_t up;

	if (msg_u64(m, &up) == -1 || msg_end(m) == -1 || ntable == 0 ||
	    table[0].role != MSG_PS_MASTER)
		return -1;
	if ((v.all = psview_scan(&v.n)) == NULL) {
		out_say(out, "ERR cannot read /proc");
		psview_reset();
		return 0;
	}
	for (size_t i = 0; i < v.n; i++)
		if (v.all[i].pid == table[0].pid)
			master = &v.all[i];
	/* Ages against the master's start: /proc/uptime may be a namespace's. */
	v.hz = (double)sysconf(_SC_CLK_TCK);
	if (master != NULL) {
		v.base = (double)master->start / v.hz + (double)up / 1000;
		out_say(out, "%7s %7s %c %-7s %-6s %-16s %s", "PID", "PPID", 'S',
		    "AGE", "CLIENT", "NICK", "ROLE");
		psview_line(&v, master, "");
		qsort(v.all, v.n, sizeof(*v.all), psview_by_parent);
		psview_tree(&v, table[0].pid);
	}
	out_say(out, "*** end of /ps (%zu process%s)", v.listed,
	    v.listed == 1 ? "" : "es");
	free(v.all);
	psview_reset();
	return 0;
}
