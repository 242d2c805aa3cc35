/*
 * resp.h - RESP2, the protocol Redis speaks: replies in, commands out.
 *
 * Reading.  Bytes go in with resp_feed() as they arrive, split anywhere;
 * resp_next() hands out one whole reply at a time as a tree of struct
 * resp_value, made in one allocation that resp_free() gives back.  After
 * each feed, call resp_next() until it returns 0: the reader then holds
 * at most one incomplete reply, and resp_feed() refuses (ENOBUFS) to
 * grow past max_reply when it was not drained.
 *
 * Only RESP2 is understood.  We never send HELLO 3, and Redis then never
 * sends a RESP3 type; a RESP3 type byte (_ , # ( ! = % ~ > |), an inline
 * reply or any other unknown byte is a protocol error.
 *
 * Rules, checked as the bytes arrive (the error comes as soon as the
 * bytes that break a rule are in, whatever follows; a bulk's closing
 * CR LF is checked once both bytes are in):
 *   - a line ends with CR LF; a bare LF, or CR then anything but LF, is
 *     EPROTO; so is a number line (":", "$", "*") that is not an
 *     optional '-' and digits fitting a long long, a length below -1, or
 *     a bulk body not followed by CR LF;
 *   - EMSGSIZE: a "+" or "-" line longer than max_bulk bytes (type byte
 *     aside), a number line longer than RESP_NUM_LINE bytes, a bulk
 *     longer than max_bulk, an array of more than max_elems elements, an
 *     array header (even *0 or *-1) inside max_depth arrays, a reply of
 *     more than max_total values (arrays count, the root counts; an
 *     array's elements count when its header arrives), a line that
 *     cannot end (CR LF) within max_reply bytes from the reply's start,
 *     a bulk header whose body and CR LF would end past them.
 * A protocol error sticks: every later call fails the same way, and the
 * connection is to be dropped.
 *
 * Writing.  A command is an array of bulk strings appended to a struct
 * buf: resp_begin(), one resp_arg*() per argument, resp_end(); or
 * resp_cmdv() for an argv, or resp_cmd(b, "AUTH", pw, (char *)NULL)
 * for strings (the NULL cast, as for execl(3)).  Several
 * commands in one buffer are a pipeline.  A command that failed
 * (ENOBUFS past the buffer's limit, ENOMEM) leaves nothing behind.
 *
 * Every call that can fail returns -1 with errno set.
 */
#ifndef FORKCHAT_RESP_H
#define FORKCHAT_RESP_H

#include <stddef.h>

#include "buf.h"

/* Default limits, for resp_reader_init(r, NULL). */
#define RESP_MAX_BULK	((size_t)1024 * 1024)	/* bytes in one string */
#define RESP_MAX_ELEMS	((size_t)65536)		/* elements in one array */
#define RESP_MAX_DEPTH	((size_t)8)		/* arrays inside arrays */
#define RESP_MAX_TOTAL	((size_t)131072)	/* values in one reply */
#define RESP_MAX_REPLY	((size_t)16 * 1024 * 1024) /* bytes, on the wire */

#define RESP_DEPTH_CAP	((size_t)32)	/* the most max_depth may be */
#define RESP_NUM_LINE	((size_t)24)	/* a ":", "$", "*" line, type byte in */

struct resp_limits {
	size_t	 max_bulk;
	size_t	 max_elems;
	size_t	 max_depth;
	size_t	 max_total;
	size_t	 max_reply;
};

enum resp_type {
	RESP_NONE = 0,		/* no such value: resp_type(NULL) */
	RESP_STATUS,		/* +OK: str */
	RESP_ERROR,		/* -ERR message: str */
	RESP_INTEGER,		/* :42: integer */
	RESP_BULK,		/* $3 abc: str, binary safe */
	RESP_NIL,		/* $-1 or *-1 */
	RESP_ARRAY		/* *2 ...: elem[0 .. n - 1] */
};

struct resp_value {
	enum resp_type	 type;
	long long	 integer;	/* RESP_INTEGER */
	const char	*str;		/* STATUS, ERROR, BULK: len bytes + NUL */
	size_t		 len;
	struct resp_value *elem;	/* RESP_ARRAY: n values */
	size_t		 n;
};

/* A reader; all fields are private to resp.c. */
struct resp_reader {
	struct buf	 in;		/* bytes not yet handed out as replies */
	struct resp_limits lim;
	int		 err;		/* a protocol error: it sticks */
	int		 body_due;	/* the scan waits for a bulk's body */
	size_t		 body;		/* its length */
	size_t		 scan;		/* bytes of the reply scanned so far */
	size_t		 seen;		/* of the line at scan, searched for CR */
	size_t		 nodes;		/* values the reply has announced */
	size_t		 bytes;		/* its strings' bytes, a NUL each */
	size_t		 depth;		/* arrays open at the scan point */
	size_t		 left[RESP_DEPTH_CAP];	/* elements each still owes */
};

int	resp_reader_init(struct resp_reader *, const struct resp_limits *);
int	resp_feed(struct resp_reader *, const void *, size_t);
int	resp_next(struct resp_reader *, struct resp_value **);
size_t	resp_buffered(const struct resp_reader *);
void	resp_reader_free(struct resp_reader *);
void	resp_free(struct resp_value *);

enum resp_type	 resp_type(const struct resp_value *);
const struct resp_value *resp_elem(const struct resp_value *, size_t);
size_t	resp_count(const struct resp_value *);
const char *resp_str(const struct resp_value *, size_t *);
int	resp_int(const struct resp_value *, long long *);
int	resp_is(const struct resp_value *, const char *);

/* A command being built; the fields are private to resp.c. */
struct resp_cmd {
	struct buf	*out;
	size_t		 start;		/* out->len when the command began */
	size_t		 argc;
	int		 err;		/* the first failure: it sticks */
};

void	resp_begin(struct resp_cmd *, struct buf *);
void	resp_arg(struct resp_cmd *, const void *, size_t);
void	resp_arg_str(struct resp_cmd *, const char *);
void	resp_arg_int(struct resp_cmd *, long long);
void	resp_arg_uint(struct resp_cmd *, unsigned long long);
int	resp_end(struct resp_cmd *);
int	resp_cmdv(struct buf *, int, const char *const [], const size_t []);
int	resp_cmd(struct buf *, const char *, ...)
	    __attribute__((sentinel));

#endif
