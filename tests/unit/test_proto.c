/*
 * test_proto.c - unit tests for common/proto.c: nick syntax, reserved
 * guest names and the duration format of /who.
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

int
main(void)
{
	test_nick_valid();
	test_nick_reserved();
	test_duration();
	return unit_done();
}
