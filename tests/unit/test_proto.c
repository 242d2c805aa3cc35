/*
 * test_proto.c - unit tests for common/proto.c: nick syntax, reserved
 * guest names, the seconds of /timeout, the duration format of /who,
 * and cutting text without splitting a UTF-8 character.
 */
#include <string.h>

#include "proto.h"
#include "unit.h"

/* nick_valid: 1-16 of A-Z a-z 0-9 _ - and nothing else. */
static void
test_nick_valid(void)
{
	static const char *good[] = { "a", "Z", "0", "_", "-", "alice",
	    "Bob_the-2nd", "ABCDEFGHIJKLMNOP", "abcdefghijklmnop",
	    "0123456789_-AbCd", "guest1" };
	static const char *bad[] = { "", "abcdefghijklmnopq",
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "a b", " a", "a ", "#chan", "a#",
	    "caf\xc3\xa9", "\xc3\xa9", "a\tb", "a.b", "a/b", "a@b", "a\nb",
	    "a\x7f", "\xff" };
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CHECK(nick_valid(good[i]), "nick_valid(\"%s\") is true",
		    good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(!nick_valid(bad[i]), "nick_valid(bad #%zu, %zu bytes) "
		    "is false", i, strlen(bad[i]));
	CHECK(strlen("ABCDEFGHIJKLMNOP") == PROTO_NICK_MAX &&
	    nick_valid("ABCDEFGHIJKLMNOP") &&
	    !nick_valid("ABCDEFGHIJKLMNOPQ"),
	    "16 characters accepted, 17 refused");
}

/* nick_reserved: "guest" and one or more digits, in any case. */
static void
test_nick_reserved(void)
{
	static const char *yes[] = { "guest1", "GUEST42", "Guest0",
	    "gUeSt007", "guest12345678901" };
	static const char *no[] = { "guest", "GUEST", "guestx", "guest1a",
	    "myguest1", "guest_1", "guest-1", "gues1", "guest 1", "",
	    "alice", "1guest" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		CHECK(nick_reserved(yes[i]), "nick_reserved(\"%s\") is true",
		    yes[i]);
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		CHECK(!nick_reserved(no[i]), "nick_reserved(\"%s\") is false",
		    no[i]);
}

/* True if proto_duration(s) writes want and returns its length. */
static int
dur(long long s, const char *want)
{
	char	 buf[32];
	size_t	 n;

	memset(buf, 'x', sizeof(buf));
	n = proto_duration(buf, sizeof(buf), s);
	return n == strlen(want) && strcmp(buf, want) == 0;
}

/* proto_duration: "42s", "3m07s", "2h05m"; negative is "0s". */
static void
test_duration(void)
{
	char	 small[4];
	size_t	 n;

	CHECK(dur(0, "0s"), "0 -> 0s");
	CHECK(dur(1, "1s"), "1 -> 1s");
	CHECK(dur(59, "59s"), "59 -> 59s");
	CHECK(dur(60, "1m00s"), "60 -> 1m00s");
	CHECK(dur(187, "3m07s"), "187 -> 3m07s");
	CHECK(dur(3599, "59m59s"), "3599 -> 59m59s");
	CHECK(dur(3600, "1h00m"), "3600 -> 1h00m");
	CHECK(dur(7500, "2h05m"), "7500 -> 2h05m");
	CHECK(dur(90061, "25h01m"), "90061 -> 25h01m");
	CHECK(dur(-1, "0s"), "-1 -> 0s");
	CHECK(dur(-100000, "0s"), "-100000 -> 0s");
	n = proto_duration(small, sizeof(small), 3599);
	CHECK(n == 6 && strcmp(small, "59m") == 0,
	    "short buffer: truncated, NUL-terminated, full length returned");
}

/* proto_seconds: digits only, 0 .. PROTO_TIMEOUT_MAX. */
static void
test_seconds(void)
{
	static const char *bad[] = { "", "-1", "+1", " 1", "1 ", "1s", "0x10",
	    "604801", "99999999999999999999", "1.5" };
	uint32_t v = 7;

	CHECK(proto_seconds("0", 1, &v) == 0 && v == 0, "\"0\" is 0");
	CHECK(proto_seconds("300", 3, &v) == 0 && v == 300, "\"300\"");
	CHECK(proto_seconds("604800", 6, &v) == 0 && v == PROTO_TIMEOUT_MAX,
	    "the maximum, a week");
	CHECK(proto_seconds("0007", 4, &v) == 0 && v == 7, "leading zeros");
	CHECK(proto_seconds("12x", 2, &v) == 0 && v == 12,
	    "only the given length is read");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(proto_seconds(bad[i], strlen(bad[i]), &v) == -1,
		    "\"%s\" is refused", bad[i]);
}

/* proto_cut: at most max bytes, never inside a character. */
static void
test_cut(void)
{
	/* "a" then U+00E9 (2 bytes), U+65E5 (3), U+1F600 (4) */
	static const char s[] = "a\xc3\xa9\xe6\x97\xa5\xf0\x9f\x98\x80";
	static const size_t want[] = { 0, 1, 1, 3, 3, 3, 6, 6, 6, 6, 10 };

	for (size_t max = 0; max <= 10; max++)
		CHECK(proto_cut(s, 10, max) == want[max],
		    "proto_cut to %zu bytes keeps %zu", max, want[max]);
	CHECK(proto_cut(s, 10, 200) == 10, "short text is kept whole");
	CHECK(proto_cut("abcdef", 6, 3) == 3, "ASCII is cut at max");
	{
		char buf[8];	/* what vsnprintf() leaves of s: 7 bytes, NUL */

		memcpy(buf, s, 7);
		buf[7] = '\0';
		CHECK(proto_cut(buf, 10, 7) == 6, "only the bytes before max "
		    "are read: the emoji cut after its lead goes whole");
	}
}

int
main(void)
{
	test_nick_valid();
	test_nick_reserved();
	test_seconds();
	test_duration();
	test_cut();
	return unit_done();
}
