/*
 * proto.c - the chat protocol's shared rules: nick syntax, durations.
 *
 * Public: nick_valid, nick_reserved, proto_duration.  Pure code.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "proto.h"

/* 1-16 of A-Z a-z 0-9 _ - */
bool
nick_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > PROTO_NICK_MAX)
		return false;
	return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789_-") == n;
}

/* "guest" and digits, in any case: kept for automatic names. */
bool
nick_reserved(const char *s)
{
	size_t n = strlen(s);

	return n > 5 && strncasecmp(s, "guest", 5) == 0 &&
	    strspn(s + 5, "0123456789") == n - 5;
}

/* Seconds as "2h05m", "3m07s", "42s"; the length written. */
size_t
proto_duration(char *buf, size_t size, long long s)
{
	int n;

	if (s < 0)
		s = 0;
	if (s >= 3600)
		n = snprintf(buf, size, "%lldh%02lldm", s / 3600, s % 3600 / 60);
	else if (s >= 60)
		n = snprintf(buf, size, "%lldm%02llds", s / 60, s % 60);
	else
		n = snprintf(buf, size, "%llds", s);
	return n < 0 ? 0 : (size_t)n;
}
