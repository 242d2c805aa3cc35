/*
 * log.c - one line per event on stderr, written with one write(2).
 *
 * Format on a terminal or file: "2026-11-23T17:52:37.123Z notice [1201] text".
 * Under journald (log_init(1)): "<5>[1201] text"; journald adds the time.
 * Public: log_init, log_journal_stream, log_set_level, log_enabled,
 * log_level_parse, log_level_name, log_msg, log_vmsg, log_fatal,
 * log_panic; log_limited, log_limit_deadline, log_limit_tick,
 * log_limit_flush.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "num.h"
#include "os.h"

#define LOG_LINE_MAX	1024

static int log_journal;
static enum log_level log_threshold = LL_INFO;

static const char *const level_names[] = {
	[LL_ERROR] = "error",
	[LL_WARNING] = "warning",
	[LL_NOTICE] = "notice",
	[LL_INFO] = "info",
	[LL_DEBUG] = "debug",
};

/* Choose the line format: timestamps, or journald priority prefixes. */
void
log_init(int journal)
{
	log_journal = journal;
}

/* Is stderr journald's stream ($JOURNAL_STREAM names its device:inode)? */
int
log_journal_stream(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (js == NULL || num_parse(js, &js, &dev) == -1 || *js++ != ':' ||
	    num_whole(js, &ino) == -1 || fstat(STDERR_FILENO, &st) == -1)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

/* Drop messages less urgent than this level. */
void
log_set_level(enum log_level level)
{
	log_threshold = level;
}

/* Tell whether a message at this level would be written. */
int
log_enabled(enum log_level level)
{
	return level <= log_threshold;
}

/* Turn "warning" into LL_WARNING; -1 for an unknown name. */
int
log_level_parse(const char *s, enum log_level *out)
{
	for (int l = LL_ERROR; l <= LL_DEBUG; l++) {
		if (strcmp(s, level_names[l]) == 0) {
			*out = (enum log_level)l;
			return 0;
		}
	}
	return -1;
}

/* The name of a level, as the configuration spells it. */
const char *
log_level_name(enum log_level level)
{
	if (level < LL_ERROR || level > LL_DEBUG)
		return "?";
	return level_names[level];
}

/* Write the line prefix into buf; return its length. */
static size_t
log_prefix(char *buf, size_t size, enum log_level level)
{
	struct timespec ts;
	struct tm tm;
	int n;

	if (log_journal)
		return (size_t)snprintf(buf, size, "<%d>[%ld] ", (int)level,
		    (long)getpid());
	if (clock_gettime(CLOCK_REALTIME, &ts) == -1 ||
	    gmtime_r(&ts.tv_sec, &tm) == NULL)
		memset(&tm, 0, sizeof(tm));
	n = snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s [%ld] ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000,
	    log_level_name(level), (long)getpid());
	return n < 0 ? 0 : (size_t)n;
}

/* Format one line and write it whole; keeps errno. */
void
log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];
	size_t len;
	int saved = errno, n;

	if (!log_enabled(level))
		return;
	len = log_prefix(line, sizeof(line), level);
	if (len >= sizeof(line))
		len = 0;
	n = vsnprintf(line + len, sizeof(line) - len, fmt, ap);
	if (n < 0)
		n = 0;
	len += (size_t)n;
	if (len > sizeof(line) - 2)
		len = sizeof(line) - 2;		/* cut, keep the newline */
	line[len++] = '\n';
	/* stderr may be a pipe shared with every worker: one write. */
	while (write(STDERR_FILENO, line, len) == -1 && errno == EINTR)
		;
	errno = saved;
}

/* Log at a level. */
void
log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(level, fmt, ap);
	va_end(ap);
}

/* Log an error that ends the process with this exit status. */
void
log_fatal(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LL_ERROR, fmt, ap);
	va_end(ap);
	exit(status);
}

/* A broken invariant is a bug: say so and dump core. */
void
log_panic(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(LL_ERROR, fmt, ap);
	va_end(ap);
	abort();
}

/*
 * A line a client can cause: logged if no interval is open (and one
 * opens), else only counted, for log_limit_tick() to sum up.
 */
void
log_limited(struct log_limit *l, const char *fmt, ...)
{
	int64_t now = os_now_ms();
	va_list ap;

	log_limit_tick(l, now);		/* an interval over is closed first */
	if (l->until != 0) {
		l->more++;
		return;
	}
	l->until = now + l->interval_ms;
	va_start(ap, fmt);
	log_vmsg(l->level, fmt, ap);
	va_end(ap);
}

/* When the open interval ends, if lines are held back in it; else 0. */
int64_t
log_limit_deadline(const struct log_limit *l)
{
	return l->more > 0 ? l->until : 0;
}

/* Sum up the lines held back, in one line, and start afresh. */
void
log_limit_flush(struct log_limit *l)
{
	if (l->more > 0)
		log_msg(l->level, "%u more %s in the last %lld s", l->more,
		    l->what, (long long)(l->interval_ms / 1000));
	l->more = 0;
	l->until = 0;
}

/*
 * At or after the deadline: the sum, and a new interval if there was
 * one to sum up (a steady stream gives one line per interval); an
 * interval that held nothing back just closes.
 */
void
log_limit_tick(struct log_limit *l, int64_t now)
{
	unsigned more = l->more;

	if (l->until == 0 || now < l->until)
		return;
	log_limit_flush(l);
	if (more > 0)
		l->until = now + l->interval_ms;
}
