/*
 * fcproc.c - what fcbench reads from /proc.
 *
 * A server's process tree is its root and every process whose parent
 * chain leads to it, found by one scan of /proc; its memory is the PSS
 * (smaps_rollup) and page tables (VmPTE) summed over the tree.  The
 * machine's memory comes from /proc/meminfo, its CPU from /proc/stat.
 * Nothing here exits: a process that is gone is skipped, a call that
 * cannot go on returns -1.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fcproc.h"

#define STAT_FIELDS	14	/* of /proc/PID/stat after the state */

/* n decimal numbers separated by blanks at p, into v; -1 if not. */
static int
numbers(const char *p, long long *v, int n)
{
	char *end;

	for (int i = 0; i < n; i++) {
		errno = 0;
		v[i] = strtoll(p, &end, 10);
		if (end == p || errno != 0)
			return -1;
		p = end;
	}
	return 0;
}

/* The pid a /proc entry is named after, or 0 if it is not a process. */
static pid_t
pid_named(const char *name)
{
	char *end;
	long v;

	if (!isdigit((unsigned char)name[0]))
		return 0;
	errno = 0;
	v = strtol(name, &end, 10);
	return errno != 0 || *end != '\0' || v > INT_MAX ? 0 : (pid_t)v;
}

/* Parse /proc/PID/stat: ppid, pgrp, state and CPU ticks. */
int
proc_stat(pid_t pid, pid_t *ppid, pid_t *pgrp, char *state, uint64_t *ticks)
{
	char path[64], buf[1024], *p;
	long long v[STAT_FIELDS];
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	(void)close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* ") S ppid pgrp session tty tpgid flags minflt cminflt majflt
	 *  cmajflt utime stime cutime cstime" */
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ' || p[2] == '\0' ||
	    numbers(p + 3, v, STAT_FIELDS) == -1)
		return -1;
	*state = p[2];
	*ppid = (pid_t)v[0];
	*pgrp = (pid_t)v[1];
	*ticks = (uint64_t)(v[10] + v[11] + v[12] + v[13]);
	return 0;
}

struct ent {
	pid_t	 pid, ppid;
	uint64_t ticks;
	int	 in;		/* 0 unknown, 1 in the tree, -1 not */
};

/* bsearch/qsort order of /proc entries: by pid. */
static int
cmp_ent(const void *a, const void *b)
{
	const struct ent *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

/* The /proc entry of pid, or NULL. */
static struct ent *
ent_find(struct ent *e, int ne, pid_t pid)
{
	struct ent key = { .pid = pid };

	return bsearch(&key, e, (size_t)ne, sizeof(*e), cmp_ent);
}

/* Is e[i] root or below it?  Walks up once, remembering the answer. */
static int
ent_in(struct ent *e, int ne, struct ent *x, pid_t root)
{
	struct ent *path[64];
	int np = 0, ans;

	while (x != NULL && x->in == 0 && x->pid != root && np < 64) {
		path[np++] = x;
		x = x->ppid > 1 ? ent_find(e, ne, x->ppid) : NULL;
	}
	if (x == NULL || np == 64)
		ans = -1;
	else if (x->pid == root)
		ans = x->in = 1;
	else
		ans = x->in;
	while (np > 0)
		path[--np]->in = ans;
	return ans;
}

/* Make room for more /proc entries. */
static int
ent_grow(struct ent **e, int *cap)
{
	int ncap = *cap ? *cap * 2 : 4096;
	struct ent *p;

	if ((p = realloc(*e, (size_t)ncap * sizeof(*p))) == NULL)
		return -1;
	*e = p;
	*cap = ncap;
	return 0;
}

/* Find root and all its descendants by scanning /proc; -1: no memory. */
int
proc_tree(pid_t root, struct proc_tree *t)
{
	struct ent *e = NULL;
	int ne = 0, cap = 0;
	struct dirent *d;
	DIR *dir;

	memset(t, 0, sizeof(*t));
	if ((dir = opendir("/proc")) == NULL)
		return -1;
	while ((d = readdir(dir)) != NULL) {
		pid_t pid, ppid, pgrp;
		uint64_t ticks;
		char state;

		if ((pid = pid_named(d->d_name)) == 0 ||
		    proc_stat(pid, &ppid, &pgrp, &state, &ticks) == -1)
			continue;
		if (ne == cap && ent_grow(&e, &cap) == -1) {
			free(e);
			closedir(dir);
			return -1;
		}
		e[ne++] = (struct ent){ pid, ppid, ticks, 0 };
	}
	closedir(dir);
	if (ne > 0)
		qsort(e, (size_t)ne, sizeof(*e), cmp_ent);
	if ((t->pids = calloc((size_t)ne + 1, sizeof(pid_t))) == NULL) {
		free(e);
		return -1;
	}
	t->pids[t->n++] = root;
	for (int i = 0; i < ne; i++) {
		if (ent_in(e, ne, &e[i], root) != 1)
			continue;
		t->ticks += e[i].ticks;
		if (e[i].pid != root)
			t->pids[t->n++] = e[i].pid;
	}
	free(e);
	return 0;
}

/* Sum "Key:  N kB" from a /proc file; -1 if missing. */
long
proc_kib(pid_t pid, const char *file, const char *key)
{
	char path[64], buf[4096], *p;
	size_t kl = strlen(key);
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	(void)close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	for (p = buf; p != NULL && *p; p = strchr(p, '\n'), p = p ? p + 1 : p)
		if (strncmp(p, key, kl) == 0 && p[kl] == ':')
			return strtol(p + kl + 1, NULL, 10);
	return -1;
}

/* CPU ticks used so far by the tree of root; 0 if we cannot tell. */
uint64_t
proc_tree_ticks(pid_t root)
{
	struct proc_tree t;

	if (root <= 0 || proc_tree(root, &t) == -1)
		return 0;
	free(t.pids);
	return t.ticks;
}

/* The value of "Key: N kB" in a meminfo text, or -1. */
static long
meminfo_kib(const char *buf, const char *key)
{
	const char *p = buf;
	size_t kl = strlen(key);

	while (p != NULL && *p != '\0') {
		if (strncmp(p, key, kl) == 0 && p[kl] == ':')
			return strtol(p + kl + 1, NULL, 10);
		if ((p = strchr(p, '\n')) != NULL)
			p++;
	}
	return -1;
}

/* The machine's memory now; -1 if /proc/meminfo cannot be read. */
int
proc_meminfo(struct proc_sys *m)
{
	char buf[8192];
	ssize_t n;
	int fd;

	memset(m, 0, sizeof(*m));
	if ((fd = open("/proc/meminfo", O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	(void)close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	m->total = meminfo_kib(buf, "MemTotal");
	m->avail = meminfo_kib(buf, "MemAvailable");
	m->pagetables = meminfo_kib(buf, "PageTables");
	m->slab = meminfo_kib(buf, "Slab");
	m->kstack = meminfo_kib(buf, "KernelStack");
	return m->total > 0 && m->avail >= 0 ? 0 : -1;
}

/*
 * Memory of the tree of root and of the machine.  Our own memory is
 * read just before the machine's, so that what we grew by in between
 * two measurements can be taken out of the machine's figures.
 */
void
proc_mem(pid_t root, struct proc_mem *m)
{
	struct proc_tree t;
	long v, anon, pte;

	memset(m, 0, sizeof(*m));
	if (proc_tree(root, &t) == 0) {
		for (int i = 0; i < t.n; i++) {
			v = proc_kib(t.pids[i], "smaps_rollup", "Pss");
			if (v < 0)
				continue;	/* gone, or a zombie */
			m->procs++;
			m->pss_kib += v;
			if ((v = proc_kib(t.pids[i], "status", "VmPTE")) > 0)
				m->pte_kib += v;
		}
		free(t.pids);
	}
	m->root_rss_kib = proc_kib(root, "status", "VmRSS");
	anon = proc_kib(getpid(), "status", "RssAnon");
	pte = proc_kib(getpid(), "status", "VmPTE");
	m->self_kib = (anon > 0 ? anon : 0) + (pte > 0 ? pte : 0);
	(void)proc_meminfo(&m->sys);
}

/* Processes in process group pgrp but its leader; -1 if unknown. */
int
proc_strays(pid_t pgrp)
{
	struct dirent *d;
	DIR *dir;
	int n = 0;

	if ((dir = opendir("/proc")) == NULL)
		return -1;
	while ((d = readdir(dir)) != NULL) {
		pid_t pid, ppid, pg;
		uint64_t ticks;
		char state;

		if ((pid = pid_named(d->d_name)) == 0)
			continue;
		if (pid != pgrp &&
		    proc_stat(pid, &ppid, &pg, &state, &ticks) == 0 &&
		    pg == pgrp)
			n++;
	}
	closedir(dir);
	return n;
}

/* Has pid exited (gone, or a zombie)? */
int
proc_exited(pid_t pid)
{
	pid_t ppid, pgrp;
	uint64_t ticks;
	char state;

	return proc_stat(pid, &ppid, &pgrp, &state, &ticks) == -1 ||
	    state == 'Z' || state == 'X';
}

/* Busy and total jiffies of all CPUs, from the "cpu" line of /proc/stat. */
void
proc_jiffies(uint64_t *busy, uint64_t *total)
{
	long long v[8];
	char line[512];
	FILE *f;

	*busy = *total = 0;
	if ((f = fopen("/proc/stat", "re")) == NULL)
		return;
	if (fgets(line, sizeof(line), f) != NULL &&
	    strncmp(line, "cpu ", 4) == 0 && numbers(line + 4, v, 8) == 0) {
		for (int i = 0; i < 8; i++)
			*total += (uint64_t)v[i];
		/* Busy: all but idle and iowait. */
		*busy = *total - (uint64_t)(v[3] + v[4]);
	}
	fclose(f);
}
