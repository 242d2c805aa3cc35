/*
 * log.h - one line per event on stderr.
 *
 * log_init() picks the format: timestamps for a terminal or a file, or
 * "<N>" priority prefixes when journald reads the stream.  Each line is
 * written with a single write(2), so lines from the master and its
 * workers never interleave.  log_fatal() exits, log_panic() aborts:
 * these are the only calls in common/ that end the process.
 *
 * A line that a client can cause (a refused connection, a wrong
 * password) goes through a struct log_limit: the first is logged, the
 * rest are counted until the interval ends, then summed up in one line
 * ("312 more refused connections in the last 10 s"), so no client can
 * flood the log.  The owner calls log_limit_tick() by its deadline.
 */
#ifndef FORKCHAT_LOG_H
#define FORKCHAT_LOG_H

#include <stdarg.h>
#include <stdint.h>

enum log_level {
	LL_ERROR = 3,		/* values are syslog priorities */
	LL_WARNING = 4,
	LL_NOTICE = 5,
	LL_INFO = 6,
	LL_DEBUG = 7
};

void	log_init(int journal);
int	log_journal_stream(void);
void	log_set_level(enum log_level);
int	log_enabled(enum log_level);
int	log_level_parse(const char *, enum log_level *);
const char *log_level_name(enum log_level);

void	log_msg(enum log_level, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	log_vmsg(enum log_level, const char *, va_list)
	    __attribute__((format(printf, 2, 0)));
_Noreturn void log_fatal(int, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
_Noreturn void log_panic(const char *, ...)
	    __attribute__((format(printf, 1, 2)));

struct log_limit {
	const char *what;		/* "refused connections" */
	enum log_level level;
	int64_t	 interval_ms;
	int64_t	 until;			/* the open interval ends; 0: none */
	unsigned more;			/* lines held back in it */
};

#define LOG_LIMIT(what, level, secs) \
	{ (what), (level), (int64_t)(secs) * 1000, 0, 0 }

void	log_limited(struct log_limit *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int64_t	log_limit_deadline(const struct log_limit *);
void	log_limit_tick(struct log_limit *, int64_t);
void	log_limit_flush(struct log_limit *);

#define log_error(...)		log_msg(LL_ERROR, __VA_ARGS__)
#define log_warning(...)	log_msg(LL_WARNING, __VA_ARGS__)
#define log_notice(...)		log_msg(LL_NOTICE, __VA_ARGS__)
#define log_info(...)		log_msg(LL_INFO, __VA_ARGS__)
#define log_debug(...)		log_msg(LL_DEBUG, __VA_ARGS__)

#endif
