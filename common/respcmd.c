/*
 * respcmd.c - write Redis commands: arrays of bulk strings, appended.
 *
 * Public: resp_begin, resp_arg, resp_arg_str, resp_arg_int,
 * resp_arg_uint, resp_end (one argument at a time, numbers without
 * printf), resp_cmdv (an argv), resp_cmd (strings up to a NULL).
 *
 * The array header "*N" comes first on the wire but N is known only at
 * the end (Redis refuses a padded count), so the arguments are appended
 * first and resp_end() moves them up to slot the header in front: one
 * memmove of the command's own bytes.  A failure anywhere cuts the
 * buffer back to where the command began, so a pipeline never carries
 * half a command.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "resp.h"

#define DIGITS_MAX	24	/* 20 digits of 2^64 - 1, and a sign */

/* The decimal digits of n, written backwards to end: where they start. */
static char *
digits(char *end, unsigned long long n)
{
	do {
		*--end = (char)('0' + n % 10);
		n /= 10;
	} while (n > 0);
	return end;
}

/* Start a command at the end of out. */
void
resp_begin(struct resp_cmd *c, struct buf *out)
{
	c->out = out;
	c->start = out->len;
	c->argc = 0;
	c->err = 0;
}

/* One argument: len bytes, any bytes. */
void
resp_arg(struct resp_cmd *c, const void *arg, size_t len)
{
	char num[DIGITS_MAX], *d, *w;
	size_t dlen;

	if (c->err != 0)
		return;
	if (len > SIZE_MAX / 2) {
		c->err = ENOBUFS;
		return;
	}
	d = digits(num + sizeof(num), len);
	dlen = (size_t)(num + sizeof(num) - d);
	if ((w = buf_reserve(c->out, 1 + dlen + 2 + len + 2)) == NULL) {
		c->err = errno;
		return;
	}
	*w++ = '$';
	memcpy(w, d, dlen);
	w += dlen;
	*w++ = '\r';
	*w++ = '\n';
	if (len > 0)
		memcpy(w, arg, len);
	w[len] = '\r';
	w[len + 1] = '\n';
	buf_commit(c->out, 1 + dlen + 2 + len + 2);
	c->argc++;
}

/* One argument: a string. */
void
resp_arg_str(struct resp_cmd *c, const char *s)
{
	resp_arg(c, s, strlen(s));
}

/* One argument: a number, in decimal. */
void
resp_arg_uint(struct resp_cmd *c, unsigned long long n)
{
	char num[DIGITS_MAX], *d = digits(num + sizeof(num), n);

	resp_arg(c, d, (size_t)(num + sizeof(num) - d));
}

/* One argument: a number that may be negative, in decimal. */
void
resp_arg_int(struct resp_cmd *c, long long n)
{
	char num[DIGITS_MAX], *d;

	/* 0 - (unsigned)n is |n|, even for LLONG_MIN */
	d = digits(num + sizeof(num), n < 0 ? 0 - (unsigned long long)n :
	    (unsigned long long)n);
	if (n < 0)
		*--d = '-';
	resp_arg(c, d, (size_t)(num + sizeof(num) - d));
}

/*
 * Finish the command: put the array header in front of its arguments.
 * -1 (the first failure's errno; EINVAL for no argument) and nothing of
 * the command left in the buffer, else 0.
 */
int
resp_end(struct resp_cmd *c)
{
	struct buf *b = c->out;
	char num[DIGITS_MAX], *d, *p;
	size_t dlen, body;

	if (c->err == 0 && c->argc == 0)
		c->err = EINVAL;
	d = digits(num + sizeof(num), c->argc);
	dlen = (size_t)(num + sizeof(num) - d);
	if (c->err == 0 && buf_reserve(b, dlen + 3) == NULL)
		c->err = errno;
	if (c->err != 0) {
		b->len = c->start;
		if (b->len == 0)
			buf_free(b);	/* an empty buffer holds no memory */
		errno = c->err;
		return -1;
	}
	/* buf_reserve() may have moved the bytes: find them afterwards */
	p = b->data + b->off + c->start;
	body = b->len - c->start;
	memmove(p + dlen + 3, p, body);
	p[0] = '*';
	memcpy(p + 1, d, dlen);
	p[dlen + 1] = '\r';
	p[dlen + 2] = '\n';
	buf_commit(b, dlen + 3);
	return 0;
}

/* A whole command from argc strings; lens NULL: each is NUL-terminated. */
int
resp_cmdv(struct buf *out, int argc, const char *const argv[],
    const size_t lens[])
{
	struct resp_cmd c;

	resp_begin(&c, out);
	for (int i = 0; i < argc; i++)
		resp_arg(&c, argv[i], lens != NULL ? lens[i] : strlen(argv[i]));
	return resp_end(&c);
}

/* A whole command from strings up to a (char *)NULL. */
int
resp_cmd(struct buf *out, const char *arg, ...)
{
	struct resp_cmd c;
	va_list ap;

	resp_begin(&c, out);
	va_start(ap, arg);
	for (; arg != NULL; arg = va_arg(ap, const char *))
		resp_arg_str(&c, arg);
	va_end(ap);
	return resp_end(&c);
}
