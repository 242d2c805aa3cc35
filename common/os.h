/*
 * os.h - small wrappers around the Linux calls we use, and clocks.
 *
 * Each wrapper returns -1 with errno set and never logs.
 */
#ifndef FORKCHAT_OS_H
#define FORKCHAT_OS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define OS_NO_DEADLINE	0		/* a deadline that is not set */

int64_t	os_now_ms(void);		/* CLOCK_MONOTONIC, milliseconds */
int64_t	os_wall_ms(void);		/* CLOCK_REALTIME, ms since 1970 */
int64_t	os_nearer(int64_t, int64_t);	/* the nearer of two deadlines */
int	os_timeout(int64_t, int64_t);	/* poll timeout until a deadline */
int	os_subreaper(void);		/* PR_SET_CHILD_SUBREAPER */
int	os_children(pid_t *, int);	/* our children, from /proc */
int	os_set_name(const char *);	/* PR_SET_NAME: what ps -o comm shows */
int	os_close_except(int, int);	/* close every fd > 2 but these */
int	os_signals_default(void);	/* every caught signal back to SIG_DFL */
int	os_random(void *, size_t);	/* getrandom(2), all of it */
pid_t	os_fork_sibling(void);		/* clone(CLONE_PARENT): our parent's child */
int	os_unsetenv(const char *);	/* unsetenv(3), the text blanked too */
int	os_sched_batch(void);		/* SCHED_BATCH for us and our forks */
void	os_heap_trim(void);		/* free heap pages back to the kernel */
ssize_t	os_read_head(const char *, char *, size_t); /* one read, NUL-ended */
const char *os_status_text(int, char *, size_t); /* "signal 9", "status 1" */
int	os_cloexec(int, bool);		/* FD_CLOEXEC on or off */
int	os_memfd(const char *);		/* memfd_create(2), close-on-exec */
int	os_self_exe(char *, size_t);	/* readlink /proc/self/exe */
ssize_t	os_read_file(const char *, void *, size_t); /* regular files only */
const char *os_file_error(int);		/* strerror(), EINVAL: not regular */
int	os_file_privacy(const char *);	/* OS_FILE_* bits, or -1 */

#define OS_FILE_SHARED		0x1	/* group or others may read it */
#define OS_FILE_FOREIGN_LINK	0x2	/* a symlink to another user's file */

#endif
