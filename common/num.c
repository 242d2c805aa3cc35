/*
 * num.c - parse unsigned decimal numbers strictly.
 *
 * Public: num_parse (a number at the start of a string, and where it
 * ends), num_whole (the whole string is one number), num_env (an
 * environment variable that holds one).  -1 with errno set
 * (EINVAL: no digit, or junk after; ERANGE: too large).
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>

#include "num.h"

/* Digits at s: the value, and (end != NULL) the first byte after them. */
int
num_parse(const char *s, const char **end, unsigned long long *out)
{
	unsigned long long n = 0, d;
	const char *p;

	for (p = s; *p >= '0' && *p <= '9'; p++) {
		d = (unsigned long long)(*p - '0');
		if (n > (ULLONG_MAX - d) / 10) {
			errno = ERANGE;
			return -1;
		}
		n = n * 10 + d;
	}
	if (p == s) {
		errno = EINVAL;
		return -1;
	}
	if (end != NULL)
		*end = p;
	*out = n;
	return 0;
}

/* The whole of s is one number. */
int
num_whole(const char *s, unsigned long long *out)
{
	const char *end;

	if (num_parse(s, &end, out) == -1)
		return -1;
	if (*end != '\0') {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/* Environment variable name as a number up to max; -1 if unset or not. */
long long
num_env(const char *name, long long max)
{
	const char *v = getenv(name);
	unsigned long long n;

	if (v == NULL || num_whole(v, &n) == -1 || n > (unsigned long long)max)
		return -1;
	return (long long)n;
}
