/*
 * proto.c - the chat protocol's shared rules: nick syntax, seconds,
 * durations, cutting text at a character boundary.
 *
 * Public: nick_char, nick_valid, nick_reserved, proto_seconds, proto_duration,
 * proto_cut.  Pure code.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "proto.h"

/* May c be part of a nick: A-Z a-z 0-9 _ - ? */
bool
nick_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* 1-16 of A-Z a-z 0-9 _ - */
bool
nick_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > PROTO_NICK_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!nick_char(s[i]))
			return false;
	return true;
}

/* "guest" and digits, in any case: kept for automatic names. */
bool
nick_reserved(const char *s)
{
	size_t n = strlen(s);

	return n > 5 && strncasecmp(s, "guest", 5) == 0 &&
	    strspn(s + 5, "0123456789") == n - 5;
}

/*
 * SECONDS as typed (s[0..n), digits only) into *out: 0 for none, at
 * most PROTO_TIMEOUT_MAX.  -1 if it is not such a number.
 */
int
proto_seconds(const char *s, size_t n, uint32_t *out)
{
	uint32_t v = 0;

	if (n == 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint32_t)(s[i] - '0');
		if (v > PROTO_TIMEOUT_MAX)
			return -1;
	}
	*out = v;
	return 0;
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

/*
 * How much of s[0..n) to keep so that it fits max bytes without ending
 * inside a UTF-8 character: n if it fits, else max, less the start of a
 * character that would not end by max.  Only s[0..max) is read, so s
 * may be a buffer that holds just that much (what vsnprintf() left).
 */
size_t
proto_cut(const char *s, size_t n, size_t max)
{
	unsigned char lead;
	size_t k = max, need;

	if (n <= max)
		return n;
	while (k > 0 && max - k < 3 && ((unsigned char)s[k - 1] & 0xC0) == 0x80)
		k--;
	if (k == 0)
		return 0;
	lead = (unsigned char)s[k - 1];
	need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
	return k - 1 + need > max ? k - 1 : max;
}
