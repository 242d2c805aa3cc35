/*
 * pipe.c - /pipe jobs: a configured program run on one line of text.
 *
 * A job is a child of the worker, in a process group of its own, started
 * with execve(): argv from the configuration (never a shell), a minimal
 * environment, stdin and stdout on pipes, stderr on /dev/null, default
 * signal dispositions, and no other descriptor.  PR_SET_PDEATHSIG kills
 * it if its worker dies first; the master, a subreaper, then reaps it.
 *
 * The worker is a child subreaper from its first job on: whatever the
 * job starts and leaves behind, even in a process group or session of
 * its own (setsid, a double fork), becomes the worker's child when its
 * parent dies.  When the job ends, its group is killed, and so is every
 * child the worker then has but the job: strays, killed and reaped
 * level by level (a stray's orphans are ours by the time it is reaped),
 * until none is left.  pipe_busy() is true until then.
 *
 * The worker writes the text and a newline, closes stdin, and reads
 * stdout through the same poll() as everything else, so its client
 * keeps chatting while a job runs.  Output lines go back as "[NAME]
 * line", cleaned like typed text; past pipe_max_output they are cut and
 * the job killed.  Past pipe_timeout the group gets SIGTERM, and SIGKILL
 * a second later.  SIGCHLD reaches the worker through its own self-pipe,
 * made when the first job starts; the job is always reaped here.
 * Everything it has to say, to the client or to the master, is queued
 * in the struct out given to pipe_start(); this module calls common/
 * and out.c only.
 *
 * Public: pipe_start, pipe_busy, pipe_pollfds, pipe_events,
 * pipe_deadline, pipe_tick, pipe_stop, pipe_abort.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "line.h"
#include "log.h"
#include "os.h"
#include "pipe.h"
#include "sigpipe.h"
#include "sock.h"

#define KILL_AFTER_MS	1000		/* SIGTERM, then SIGKILL */
#define EX_NOEXEC	127

struct job {
	pid_t	 pid;			/* 0: no job; set until reaped */
	int	 in_fd, out_fd;		/* its stdin, stdout; -1 once closed */
	struct out *to;			/* its output and its start and end */
	char	 name[CONFIG_NAME_MAX + 1];
	struct buf text;		/* for stdin, not yet written */
	struct line_reader lr;		/* cleans the output */
	size_t	 got;			/* output bytes read */
	size_t	 max;			/* pipe_max_output */
	unsigned timeout;		/* pipe_timeout, seconds */
	int64_t	 deadline;		/* SIGTERM then */
	int64_t	 kill_at;		/* SIGKILL then, once SIGTERM went */
	bool	 timed_out, cut, killed;
	bool	 stopped;		/* /pipe stop */
	bool	 aborted;		/* its client left: no report */
};

/* The client's one job, if any. */
static struct job job = { .in_fd = -1, .out_fd = -1 };
static bool chld_caught;		/* SIGCHLD goes to our self-pipe */
static unsigned strays;			/* left by a job: killed, not reaped */

/* Is a job running, or anything it started not reaped yet? */
bool
pipe_busy(void)
{
	return job.pid != 0 || strays > 0;
}

/* Close one of the job's pipe ends, once. */
static void
job_close(int *fd)
{
	if (*fd != -1)
		(void)close(*fd);
	*fd = -1;
}

/* Signal the job's whole process group. */
static void
job_signal(int sig)
{
	if (job.pid != 0 && kill(-job.pid, sig) == -1 && errno != ESRCH)
		log_error("kill(-%ld, %d): %s", (long)job.pid, sig,
		    strerror(errno));
}

/* In the job's child: become the program, or exit 127. */
static _Noreturn void
job_exec(const struct pipe_prog *prog, int in, int out, int null,
    pid_t worker)
{
	static char path[] = "PATH=/usr/local/bin:/usr/bin:/bin";
	static char lang[] = "LANG=C.UTF-8";
	char *const env[] = { path, lang, NULL };
	sigset_t none;

	/* Our own group, so a timeout can kill everything it started. */
	if (setpgid(0, 0) == -1 ||
	    prctl(PR_SET_PDEATHSIG, SIGKILL, 0UL, 0UL, 0UL) == -1 ||
	    getppid() != worker)		/* the worker died already */
		_exit(EX_NOEXEC);
	/*
	 * Ignored signals stay ignored across execve(): undo ours, but
	 * SIGUSR2, the master's live upgrade, which a service manager may
	 * send the whole control group.
	 */
	sigemptyset(&none);
	if (os_signals_default() == -1 || signal(SIGUSR2, SIG_IGN) == SIG_ERR ||
	    sigprocmask(SIG_SETMASK, &none, NULL) == -1 ||
	    dup2(in, STDIN_FILENO) == -1 || dup2(out, STDOUT_FILENO) == -1 ||
	    dup2(null, STDERR_FILENO) == -1 || os_close_except(-1, -1) == -1)
		_exit(EX_NOEXEC);
	execve(prog->argv[0], prog->argv, env);
	_exit(EX_NOEXEC);
}

/*
 * The first time: route SIGCHLD to a self-pipe of the worker's own, and
 * become the subreaper of what jobs leave behind.
 */
static int
job_catch_sigchld(void)
{
	if (chld_caught)
		return 0;
	if (os_subreaper() == -1 || sigpipe_open() == -1 ||
	    sigpipe_catch(SIGCHLD) == -1)
		return -1;
	chld_caught = true;
	return 0;
}

/* Fork and exec; the pipe ends are ours on success. */
static pid_t
job_fork(const struct pipe_prog *prog, int in[2], int out[2], int null)
{
	sigset_t all, old;
	pid_t pid, self = getpid();
	int saved;

	sigfillset(&all);
	if (sigprocmask(SIG_BLOCK, &all, &old) == -1)
		return -1;
	if ((pid = fork()) == 0)
		job_exec(prog, in[0], out[1], null, self);
	saved = errno;
	(void)sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid > 0 && setpgid(pid, pid) == -1 && errno != EACCES &&
	    errno != ESRCH)
		log_debug("setpgid(%ld): %s", (long)pid, strerror(errno));
	errno = saved;
	return pid;
}

/* Tell the master a job started or was reaped (for /ps and its logs). */
static void
job_tell_master(enum msg_type type, int status)
{
	struct msg_build b;

	msg_b_init(&b);
	msg_b_u32(&b, (uint32_t)job.pid);
	if (type == MSG_JOB_END)
		msg_b_u32(&b, (uint32_t)status);
	msg_b_str(&b, job.name, strlen(job.name));
	out_send(job.to, type, &b);
}

/* A start that failed: close what it opened, errno kept. */
static void
job_unopen(const int in[2], const int out[2], int null)
{
	int saved = errno;

	for (int i = 0; i < 2; i++) {
		if (in[i] != -1)
			(void)close(in[i]);
		if (out[i] != -1)
			(void)close(out[i]);
	}
	if (null != -1)
		(void)close(null);
	errno = saved;
}

/* The job just forked: its pipe ends, and the limits it runs under. */
static void
job_begin(pid_t pid, int in_fd, int out_fd, const struct config *cfg,
    const struct pipe_prog *prog)
{
	memset(&job, 0, sizeof(job));
	job.pid = pid;
	job.in_fd = in_fd;
	job.out_fd = out_fd;
	(void)snprintf(job.name, sizeof(job.name), "%s", prog->name);
	job.max = cfg->pipe_max_output;
	job.timeout = cfg->pipe_timeout;
	job.deadline = os_now_ms() + (int64_t)cfg->pipe_timeout * 1000;
	buf_init(&job.text, 0);
	line_init(&job.lr, cfg->max_line);
}

/*
 * Start a job on text, its output for to; -1 with errno set if it could
 * not start.
 */
int
pipe_start(struct out *to, const struct config *cfg,
    const struct pipe_prog *prog, const char *text, size_t len)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, null = -1;
	pid_t pid;

	if (access(prog->argv[0], X_OK) == -1 || job_catch_sigchld() == -1 ||
	    pipe2(in, O_CLOEXEC) == -1 || pipe2(out, O_CLOEXEC) == -1 ||
	    (null = open("/dev/null", O_WRONLY | O_CLOEXEC)) == -1 ||
	    (pid = job_fork(prog, in, out, null)) == -1) {
		job_unopen(in, out, null);
		return -1;
	}
	(void)close(in[0]);
	(void)close(out[1]);
	(void)close(null);
	job_begin(pid, in[1], out[0], cfg, prog);
	job.to = to;
	if (sock_nonblock(job.in_fd) == -1 ||
	    sock_nonblock(job.out_fd) == -1 ||
	    buf_append(&job.text, text, len) == -1 ||
	    buf_append(&job.text, "\n", 1) == -1) {
		pipe_abort();		/* started, so it must be reaped */
		return 0;
	}
	job_tell_master(MSG_JOB, 0);
	return 0;
}

/* Kill the job now (its client is leaving); it is reaped as usual. */
void
pipe_abort(void)
{
	if (job.pid == 0)
		return;
	job.killed = job.aborted = true;
	job_signal(SIGKILL);
	job_close(&job.in_fd);
	job_close(&job.out_fd);
}

/* Descriptors to poll for the job: self-pipe, stdin, stdout. */
int
pipe_pollfds(struct pollfd *p)
{
	int n = 0;

	if (chld_caught) {
		p[n].fd = sigpipe_fd();
		p[n++].events = POLLIN;
	}
	if (job.in_fd != -1) {
		p[n].fd = job.in_fd;
		p[n++].events = POLLOUT;
	}
	if (job.out_fd != -1) {
		p[n].fd = job.out_fd;
		p[n++].events = POLLIN;
	}
	return n;
}

/* One cleaned output line to the client, as "[NAME] line". */
static void
job_line(const char *line, size_t len)
{
	out_tell(job.to, "[", 1);
	out_tell(job.to, job.name, strlen(job.name));
	out_tell(job.to, "] ", 2);
	out_tell(job.to, line, len);
	out_tell(job.to, "\r\n", 2);
}

/* Output bytes through the line reader, to the client. */
static void
job_output(const char *p, size_t n)
{
	enum line_result r;
	size_t used;

	while (n > 0) {
		r = line_feed(&job.lr, p, n, &used);
		p += used;
		n -= used;
		if (r == LINE_OK)
			job_line(job.lr.buf, job.lr.len);
		else if (r == LINE_TOOLONG)
			job_line("(line too long, cut)", 20);
		else if (r == LINE_NOMEM)
			break;
	}
}

/* Output that did not end with a newline still makes a line. */
static void
job_flush_partial(void)
{
	if (!job.lr.done && job.lr.len > 0)
		job_output("\n", 1);
}

/* Read what the job wrote; at EOF, the last unterminated line too. */
static void
job_read(void)
{
	char buf[4096];
	ssize_t n;

	while (job.out_fd != -1) {
		n = read(job.out_fd, buf, sizeof(buf));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			job_flush_partial();
			job_close(&job.out_fd);
			return;
		}
		if ((size_t)n > job.max - job.got) {
			n = (ssize_t)(job.max - job.got);
			job.cut = true;
		}
		job.got += (size_t)n;
		job_output(buf, (size_t)n);
		if (job.cut) {
			job_flush_partial();
			pipe_abort();
		}
	}
}

/* Feed the text to the job's stdin, then close it. */
static void
job_write(void)
{
	ssize_t n;

	while (job.in_fd != -1 && job.text.len > 0) {
		n = write(job.in_fd, buf_head(&job.text), job.text.len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0)
			break;			/* EPIPE: it does not read */
		buf_consume(&job.text, (size_t)n);
	}
	buf_free(&job.text);
	job_close(&job.in_fd);
}

/* How the job ended, for the client's last line. */
static void
job_report(int status)
{
	if (job.cut)
		out_say(job.to, "*** end of /pipe %s: output cut at %zu "
		    "bytes", job.name, job.max);
	else if (job.stopped)
		out_say(job.to, "*** end of /pipe %s: stopped", job.name);
	else if (job.timed_out)
		out_say(job.to, "*** end of /pipe %s: killed after %u s "
		    "(pipe_timeout)", job.name, job.timeout);
	else if (WIFSIGNALED(status))
		out_say(job.to, "*** end of /pipe %s: killed by signal %d",
		    job.name, WTERMSIG(status));
	else if (WEXITSTATUS(status) == EX_NOEXEC)
		out_say(job.to, "*** end of /pipe %s: could not run it "
		    "(status 127)", job.name);
	else if (WEXITSTATUS(status) != 0)
		out_say(job.to, "*** end of /pipe %s: exited with status %d",
		    job.name, WEXITSTATUS(status));
	else
		out_say(job.to, "*** end of /pipe %s", job.name);
}

/*
 * Kill every child but a running job: what finished jobs left behind,
 * reparented to us.  Each is counted until it is reaped.
 */
static void
job_kill_strays(void)
{
	pid_t kids[64];
	int n;

	strays = 0;
	if ((n = os_children(kids, 64)) == -1) {
		log_debug("worker: listing its children: %s", strerror(errno));
		return;
	}
	for (int i = 0; i < n; i++) {
		if (kids[i] == job.pid)
			continue;
		if (kill(kids[i], SIGKILL) == -1 && errno != ESRCH)
			log_error("kill(%ld, SIGKILL): %s", (long)kids[i],
			    strerror(errno));
		log_info("pipe job %s of client #%u left process %ld "
		    "running: killed", job.name, job.to->id, (long)kids[i]);
		strays++;
	}
}

/* The job was reaped: last output, the report, forget it. */
static void
job_reaped(int status)
{
	job_read();
	/* Whatever it left running in its group goes with it. */
	job.killed = true;
	job_signal(SIGKILL);
	if (!job.aborted || job.cut || job.timed_out || job.stopped)
		job_report(status);
	job_tell_master(MSG_JOB_END, status);
	job_close(&job.in_fd);
	job_close(&job.out_fd);
	buf_free(&job.text);
	line_free(&job.lr);
	job.pid = 0;
	job_kill_strays();
}

/* SIGCHLD: reap, with waitpid(-1) until nothing is left. */
static void
job_reap(void)
{
	bool reaped_stray = false;
	pid_t pid;
	int s, status;

	while ((s = sigpipe_next()) > 0)
		;		/* SIGCHLD is all that comes here */
	if (s == -1)
		log_error("worker for a pipe job: reading its signal pipe: %s",
		    strerror(errno));
	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (pid == job.pid) {
			job_reaped(status);
		} else {
			log_debug("worker reaped process %ld, left by a pipe "
			    "job", (long)pid);
			reaped_stray = true;
		}
	}
	/* A stray's own orphans are ours now: they go too. */
	if (reaped_stray && job.pid == 0)
		job_kill_strays();
}

/* Handle the job's ready descriptors. */
void
pipe_events(const struct pollfd *p, int n)
{
	for (int i = 0; i < n; i++) {
		if (p[i].revents == 0)
			continue;
		if (chld_caught && p[i].fd == sigpipe_fd())
			job_reap();
		else if (p[i].fd == job.in_fd)
			job_write();
		else if (p[i].fd == job.out_fd)
			job_read();
	}
}

/* When the job next needs attention, or 0 for never. */
int64_t
pipe_deadline(void)
{
	if (job.pid == 0 || job.killed)
		return 0;
	return job.kill_at != 0 ? job.kill_at : job.deadline;
}

/* "/pipe stop": SIGTERM to the group now, SIGKILL a second later. */
void
pipe_stop(int64_t now)
{
	if (job.pid == 0 || job.killed || job.kill_at != 0)
		return;
	job.stopped = true;
	job.kill_at = now + KILL_AFTER_MS;
	job_signal(SIGTERM);
}

/* Time the job out: SIGTERM to its group, SIGKILL a second later. */
void
pipe_tick(int64_t now)
{
	if (job.pid == 0 || job.killed)
		return;
	if (job.kill_at == 0 && now >= job.deadline) {
		job.timed_out = true;
		job.kill_at = now + KILL_AFTER_MS;
		job_signal(SIGTERM);
	} else if (job.kill_at != 0 && now >= job.kill_at) {
		pipe_abort();
	}
}
