/*
 * fcproc.h - what fcbench reads from /proc: a server's process tree, its
 * memory and CPU, and the whole machine's memory and CPU.
 */
#ifndef FCPROC_H
#define FCPROC_H

#include <stdint.h>
#include <sys/types.h>

/* A process and every descendant of it. */
struct proc_tree {
	pid_t	*pids;		/* root first */
	int	 n;
	uint64_t ticks;		/* utime+stime+cutime+cstime over the tree */
};

/* Whole-machine memory, KiB, from /proc/meminfo. */
struct proc_sys {
	long	 total, avail;		/* MemTotal, MemAvailable */
	long	 pagetables, slab, kstack; /* PageTables, Slab, KernelStack */
};

/* Memory of a server's tree, and of the machine, at one moment. */
struct proc_mem {
	int	 procs;
	long	 pss_kib, pte_kib, root_rss_kib;
	long	 self_kib;	/* our own RssAnon + VmPTE */
	struct proc_sys sys;
};

int	 proc_stat(pid_t, pid_t *, pid_t *, char *, uint64_t *);
int	 proc_tree(pid_t, struct proc_tree *);
uint64_t proc_tree_ticks(pid_t);
long	 proc_kib(pid_t, const char *, const char *);
int	 proc_meminfo(struct proc_sys *);
void	 proc_mem(pid_t, struct proc_mem *);
int	 proc_strays(pid_t);
int	 proc_exited(pid_t);
void	 proc_jiffies(uint64_t *, uint64_t *);

#endif
