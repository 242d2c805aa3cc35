/*
 * os.c - wrappers for the few Linux-specific calls, and the clock.
 *
 * Public: os_now_ms, os_wall_ms, os_subreaper, os_set_name,
 * os_close_except, os_signals_default, os_random, os_fork_sibling,
 * os_unsetenv, os_sched_batch, os_read_head, os_read_file, os_file_error,
 * os_file_privacy, os_status_text, os_nearer, os_timeout, os_cloexec,
 * os_memfd, os_self_exe, os_heap_trim.  Each returns -1 with errno set on
 * failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "os.h"

/* Milliseconds on the monotonic clock: deadlines never jump. */
int64_t
os_now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds since 1970: for telling times to other machines only. */
int64_t
os_wall_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Become the reaper of orphaned descendants. */
int
os_subreaper(void)
{
	return prctl(PR_SET_CHILD_SUBREAPER, 1UL, 0UL, 0UL, 0UL);
}

/* Name this process for ps(1) and /proc/PID/comm (15 bytes kept). */
int
os_set_name(const char *name)
{
	return prctl(PR_SET_NAME, (unsigned long)name, 0UL, 0UL, 0UL);
}

/* Close every descriptor from lo up to hi inclusive. */
static int
os_close_range(unsigned lo, unsigned hi)
{
	struct rlimit rl;

	if (lo > hi)
		return 0;
	if (close_range(lo, hi, 0) == 0)
		return 0;
	if (errno != ENOSYS)
		return -1;
	/* Kernels before 5.9: walk up to the descriptor limit. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return -1;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur - 1 < hi)
		hi = (unsigned)rl.rlim_cur - 1;
	for (unsigned fd = lo; fd <= hi && fd >= lo; fd++)
		(void)close((int)fd);
	return 0;
}

/* Close every descriptor above stderr except a and b (-1 for none). */
int
os_close_except(int a, int b)
{
	unsigned keep[2], lo = STDERR_FILENO + 1;

	keep[0] = a < b ? (unsigned)a : (unsigned)b;
	keep[1] = a < b ? (unsigned)b : (unsigned)a;
	if (a < 0 || b < 0)
		keep[0] = keep[1] = (unsigned)(a < 0 ? b : a);
	for (int i = 0; i < 2; i++) {
		if ((int)keep[i] < (int)lo)
			continue;
		if (os_close_range(lo, keep[i] - 1) == -1)
			return -1;
		lo = keep[i] + 1;
	}
	return os_close_range(lo, ~0U);
}

/* Every signal back to its default action (after fork, before exec). */
int
os_signals_default(void)
{
	struct sigaction sa = { .sa_handler = SIG_DFL };

	sigemptyset(&sa.sa_mask);
	for (int s = 1; s < NSIG; s++) {
		if (s == SIGKILL || s == SIGSTOP)
			continue;
		if (sigaction(s, &sa, NULL) == -1 && errno != EINVAL)
			return -1;
	}
	return 0;
}

/* Fill buf with n random bytes from the kernel. */
int
os_random(void *buf, size_t n)
{
	ssize_t r;

	for (size_t got = 0; got < n; got += (size_t)r) {
		r = getrandom((char *)buf + got, n - got, 0);
		if (r == -1 && errno == EINTR)
			r = 0;
		else if (r == -1)
			return -1;
	}
	return 0;
}

/*
 * fork(), except that the child is our parent's child, not ours: it is
 * our sibling, and our parent reaps it (clone's CLONE_PARENT, which has
 * no libc wrapper of fork's shape).  Unlike fork() it runs no atfork
 * handlers, so it is for single-threaded callers only.
 */
pid_t
os_fork_sibling(void)
{
	return (pid_t)syscall(SYS_clone, (unsigned long)(CLONE_PARENT | SIGCHLD),
	    NULL, NULL, NULL, 0UL);
}

/*
 * unsetenv(), and blank the text too.  unsetenv() only drops the pointer
 * from environ: the text stays in memory, where /proc/PID/environ shows
 * it, for this process and for every fork of it that does not exec.
 */
int
os_unsetenv(const char *name)
{
	extern char **environ;
	char *text[8];
	size_t n = strlen(name), ntext = 0;

	for (char **e = environ; e != NULL && *e != NULL; e++)
		if (strncmp(*e, name, n) == 0 && (*e)[n] == '=' &&
		    ntext < sizeof(text) / sizeof(text[0]))
			text[ntext++] = *e;
	if (unsetenv(name) == -1)
		return -1;
	for (size_t i = 0; i < ntext; i++)
		memset(text[i], 0, strlen(text[i]));
	return 0;
}

/* SCHED_BATCH: run as much, but never preempt another task on waking. */
int
os_sched_batch(void)
{
	struct sched_param sp = { .sched_priority = 0 };

	return sched_setscheduler(0, SCHED_BATCH, &sp);
}

/*
 * Give the heap's free pages back to the kernel.  glibc keeps up to
 * M_TRIM_THRESHOLD (128 KiB) free at the heap's top, and free pages
 * within it, dirty and counted against the process; malloc_trim()
 * returns both.  Elsewhere this does nothing.
 */
void
os_heap_trim(void)
{
#ifdef __GLIBC__
	(void)malloc_trim(0);
#endif
}

/*
 * The start of a small file (a /proc entry, a password file): one read
 * of up to size - 1 bytes into buf, NUL-terminated.  The byte count, or
 * -1 with errno set.
 */
ssize_t
os_read_head(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	do {
		n = read(fd, buf, size - 1);
	} while (n == -1 && errno == EINTR);
	(void)close(fd);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

/*
 * Our own children, as the kernel lists them (/proc/self/task/TID/
 * children): up to max pids into pids; how many, or -1 with errno set.
 * A single-threaded process only: the list is per thread.
 */
int
os_children(pid_t *pids, int max)
{
	char path[64], buf[4096], *p, *end;
	long v;
	int n = 0;

	(void)snprintf(path, sizeof(path), "/proc/self/task/%ld/children",
	    (long)getpid());
	if (os_read_head(path, buf, sizeof(buf)) == -1)
		return -1;
	for (p = buf; n < max; p = end) {
		errno = 0;
		v = strtol(p, &end, 10);
		if (end == p || errno != 0 || v <= 0)
			break;
		pids[n++] = (pid_t)v;
	}
	return n;
}

/* "signal 9" or "status 3": how a process ended, from its wait status. */
const char *
os_status_text(int status, char *buf, size_t size)
{
	if (WIFSIGNALED(status))
		(void)snprintf(buf, size, "signal %d", WTERMSIG(status));
	else
		(void)snprintf(buf, size, "status %d", WEXITSTATUS(status));
	return buf;
}

/* The nearer of two deadlines (ms), OS_NO_DEADLINE meaning none. */
int64_t
os_nearer(int64_t a, int64_t b)
{
	if (a == OS_NO_DEADLINE)
		return b;
	return b == OS_NO_DEADLINE || a < b ? a : b;
}

/* A poll()/epoll_wait() timeout that ends at deadline: -1 for none. */
int
os_timeout(int64_t deadline, int64_t now)
{
	if (deadline == OS_NO_DEADLINE)
		return -1;
	if (deadline <= now)
		return 0;
	return deadline - now > INT_MAX ? INT_MAX : (int)(deadline - now);
}

/*
 * Read all of fd into buf, up to size bytes: the count, or -1.  For a
 * regular file, which never says EAGAIN, so this never waits for a
 * writer.
 */
static ssize_t
os_read_all(int fd, char *buf, size_t size)
{
	size_t off = 0;
	ssize_t n;

	while (off < size) {
		if ((n = read(fd, buf + off, size - off)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0)
			break;
		off += (size_t)n;
	}
	return (ssize_t)off;
}

/*
 * A small regular file, a configuration or password file: up to size
 * bytes of it into buf, not NUL-terminated (ask for one byte more than
 * you take, to see that a file is too big).  Anything but a regular file
 * is refused before a byte is read, with EINVAL: a directory, a device,
 * a FIFO (which could block, or feed us forever) or a socket.  The open
 * never waits (O_NONBLOCK: a FIFO without a writer) and never makes a
 * terminal ours (O_NOCTTY).  The byte count, or -1 with errno set.
 */
ssize_t
os_read_file(const char *path, void *buf, size_t size)
{
	struct stat st;
	ssize_t n = -1;
	int fd, saved;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (fd == -1) {
		/* open(2): ENXIO is a socket, or a device with no driver. */
		if (errno == ENXIO)
			errno = EINVAL;
		return -1;
	}
	if (fstat(fd, &st) == 0) {
		if (S_ISREG(st.st_mode))
			n = os_read_all(fd, buf, size);
		else
			errno = EINVAL;
	}
	saved = errno;
	(void)close(fd);
	errno = saved;
	return n;
}

/*
 * strerror(), except that os_read_file()'s EINVAL is the words it
 * stands for, for messages such as "cannot read FILE: not a regular file".
 */
const char *
os_file_error(int errnum)
{
	return errnum == EINVAL ? "not a regular file" : strerror(errnum);
}

/*
 * Who else could get at the file named path: OS_FILE_SHARED if its group
 * or others may read it, OS_FILE_FOREIGN_LINK if path itself is a
 * symbolic link to a file that our effective user does not own (someone
 * else chooses what we read).  0 if neither; -1 with errno set by lstat()
 * or stat(), as for a missing file or a link to nothing.
 */
int
os_file_privacy(const char *path)
{
	struct stat link, st;
	int flags = 0;

	if (lstat(path, &link) == -1 || stat(path, &st) == -1)
		return -1;
	if (st.st_mode & (S_IRGRP | S_IROTH))
		flags |= OS_FILE_SHARED;
	if (S_ISLNK(link.st_mode) && st.st_uid != geteuid())
		flags |= OS_FILE_FOREIGN_LINK;
	return flags;
}

/* Close fd on exec, or let it cross (a live upgrade's descriptors). */
int
os_cloexec(int fd, bool on)
{
	int fl;

	if ((fl = fcntl(fd, F_GETFD)) == -1)
		return -1;
	fl = on ? fl | FD_CLOEXEC : fl & ~FD_CLOEXEC;
	return fcntl(fd, F_SETFD, fl);
}

/* An anonymous file in memory, close-on-exec (memfd_create(2)). */
int
os_memfd(const char *name)
{
	return memfd_create(name, MFD_CLOEXEC);
}

/* The absolute path of the running program (/proc/self/exe). */
int
os_self_exe(char *buf, size_t size)
{
	ssize_t n = readlink("/proc/self/exe", buf, size - 1);

	if (n == -1)
		return -1;
	if ((size_t)n == size - 1) {
		errno = ENAMETOOLONG;
		return -1;
	}
	buf[n] = '\0';
	return 0;
}
