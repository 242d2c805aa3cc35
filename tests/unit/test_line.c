/*
 * test_line.c - unit tests for common/line.c, the client line reader.
 *
 * Feeds byte strings whole, in chunks and one byte at a time, and
 * checks the lines that come out; ends with a randomized run that
 * checks no control byte or invalid UTF-8 ever gets into a line.
 */
#include <stdlib.h>
#include <string.h>

#include "line.h"
#include "unit.h"

#define NLINES	8

/* What a run of feeds produced. */
struct got {
	int	 nok;		/* LINE_OK results */
	int	 ntoolong;	/* LINE_TOOLONG results */
	int	 bad;		/* LINE_NOMEM, or used out of range */
	char	 line[NLINES][256];
	size_t	 len[NLINES];
};

/* Feeds n bytes in pieces of chunk bytes, recording what comes out. */
static void
feed(struct line_reader *r, const char *s, size_t n, size_t chunk,
    struct got *g)
{
	enum line_result rc;
	size_t		 off, end, used;

	memset(g, 0, sizeof(*g));
	for (off = 0; off < n; off = end) {
		end = off + chunk < n ? off + chunk : n;
		while (off < end) {
			rc = line_feed(r, s + off, end - off, &used);
			if (used > end - off || (used == 0 && rc != LINE_MORE) ||
			    rc == LINE_NOMEM) {
				g->bad++;
				return;
			}
			off += used;
			if (rc == LINE_TOOLONG)
				g->ntoolong++;
			if (rc == LINE_OK && g->nok < NLINES &&
			    r->len < sizeof(g->line[0])) {
				memcpy(g->line[g->nok], r->buf, r->len + 1);
				g->len[g->nok] = r->len;
			}
			if (rc == LINE_OK)
				g->nok++;
		}
	}
}

/* Feeds s in pieces of chunk bytes to a fresh reader; max 64. */
static void
run(const char *s, size_t n, size_t chunk, struct got *g)
{
	struct line_reader r;

	line_init(&r, 64);
	feed(&r, s, n, chunk, g);
	line_free(&r);
}

/* True if g holds exactly one line, equal to want. */
static bool
one(const struct got *g, const char *want)
{
	return g->bad == 0 && g->nok == 1 && g->ntoolong == 0 &&
	    g->len[0] == strlen(want) && strcmp(g->line[0], want) == 0;
}

/* True if s, fed whole and one byte at a time, gives the line want. */
static bool
both(const char *s, size_t n, const char *want)
{
	struct got g;

	run(s, n, n, &g);
	if (!one(&g, want))
		return false;
	run(s, n, 1, &g);
	return one(&g, want);
}

#define LIT(s)	(s), sizeof(s) - 1

/* Line endings, several lines per buffer, used, empty lines. */
static void
test_basic(void)
{
	struct line_reader r;
	enum line_result rc;
	size_t		 used;
	struct got	 g;
	const char	*s = "ab\ncd\r\n";

	line_init(&r, 64);
	rc = line_feed(&r, s, 7, &used);
	CHECK(rc == LINE_OK && used == 3 && r.len == 2 &&
	    strcmp(r.buf, "ab") == 0, "LF ends a line, used counts the LF");
	rc = line_feed(&r, s + 3, 4, &used);
	CHECK(rc == LINE_OK && used == 3 && strcmp(r.buf, "cd") == 0,
	    "CR ends a line at once, without waiting for an LF");
	rc = line_feed(&r, s, 0, &used);
	CHECK(rc == LINE_MORE && used == 0, "empty input: LINE_MORE, used 0");
	rc = line_feed(&r, "xy", 2, &used);
	CHECK(rc == LINE_MORE && used == 2, "no LF: LINE_MORE, all used");
	rc = line_feed(&r, "z\n", 2, &used);
	CHECK(rc == LINE_OK && used == 2 && strcmp(r.buf, "xyz") == 0,
	    "line continues across feeds");
	rc = line_feed(&r, "\n", 1, &used);
	CHECK(rc == LINE_OK && r.len == 0 && r.buf[0] == '\0',
	    "empty line is LINE_OK with len 0");
	line_free(&r);
	CHECK(r.buf == NULL && r.len == 0 && r.cap == 0, "line_free clears");
	rc = line_feed(&r, "again\n", 6, &used);
	CHECK(rc == LINE_OK && strcmp(r.buf, "again") == 0,
	    "reader reusable after line_free");
	line_free(&r);

	run(LIT("one\ntwo\r\nthree\n"), 100, &g);
	CHECK(g.bad == 0 && g.nok == 3 && strcmp(g.line[0], "one") == 0 &&
	    strcmp(g.line[1], "two") == 0 && strcmp(g.line[2], "three") == 0,
	    "three lines in one buffer");
	run(LIT("hello, world\r\nbye\n"), 1, &g);
	CHECK(g.bad == 0 && g.nok == 2 && strcmp(g.line[0], "hello, world")
	    == 0 && strcmp(g.line[1], "bye") == 0, "two lines, 1-byte feeds");
	run(LIT("a\n\n\r\nb\n"), 3, &g);
	CHECK(g.nok == 4 && g.len[1] == 0 && g.len[2] == 0 &&
	    strcmp(g.line[3], "b") == 0, "empty lines returned");
}

/* C0 controls, DEL and escape sequences. */
static void
test_controls(void)
{
	struct got g;

	CHECK(both(LIT("a\tb\n"), "a\tb"), "TAB kept");
	CHECK(both(LIT("\x1b[31mred\x1b[0m\n"), "[31mred[0m"),
	    "ESC dropped, escape sequence broken");
	CHECK(both(LIT("a\0b\n"), "ab"), "NUL dropped");
	CHECK(both(LIT("\x01\x07\x08x\x0b\x0c\x1f\n"), "x"),
	    "other C0 controls dropped");
	CHECK(both(LIT("a\x7f" "b\n"), "ab"), "DEL dropped");
	run(LIT("\x1b\x07\x7f\r\n"), 2, &g);
	CHECK(one(&g, ""), "line of only dropped bytes is empty LINE_OK");
}

/* Lone CR, CR LF, CR NUL and LF each end one line. */
static void
test_endings(void)
{
	static const char s[] = "a\rb\r\nc\r\0d\ne\r\r\nf\n";
	struct got g;
	size_t chunk;
	int ok = 0;

	for (chunk = 1; chunk <= sizeof(s) - 1; chunk++) {
		run(s, sizeof(s) - 1, chunk, &g);
		ok += g.bad == 0 && g.nok == 7 && g.ntoolong == 0 &&
		    strcmp(g.line[0], "a") == 0 && strcmp(g.line[1], "b") == 0 &&
		    strcmp(g.line[2], "c") == 0 && strcmp(g.line[3], "d") == 0 &&
		    strcmp(g.line[4], "e") == 0 && g.len[5] == 0 &&
		    strcmp(g.line[6], "f") == 0;
	}
	CHECK(ok == (int)sizeof(s) - 1, "CR, CR LF, CR NUL, LF: one line "
	    "each, CR CR LF two, in every chunk size (%d of %zu)", ok,
	    sizeof(s) - 1);
	run(LIT("a\r\xff\xf1\nb\n"), 1, &g);
	CHECK(g.nok == 2 && strcmp(g.line[1], "b") == 0,
	    "CR IAC NOP LF: two lines, not three");
	run(LIT("a\r\r\0\0b\n"), 1, &g);
	CHECK(g.nok == 3 && g.len[1] == 0 && strcmp(g.line[2], "b") == 0,
	    "only the first NUL after a CR is part of it");
}

/* Layout controls: line and paragraph separators, bidi controls. */
static void
test_layout(void)
{
	CHECK(both(LIT("a\xe2\x80\xa8" "b\xe2\x80\xa9" "c\n"), "abc"),
	    "U+2028 and U+2029 dropped");
	CHECK(both(LIT("1\xe2\x80\xaa" "2\xe2\x80\xab" "3\xe2\x80\xac"
	    "4\xe2\x80\xad" "5\xe2\x80\xae" "6\n"), "123456"),
	    "U+202A..U+202E (embeddings, overrides) dropped");
	CHECK(both(LIT("1\xe2\x81\xa6" "2\xe2\x81\xa7" "3\xe2\x81\xa8"
	    "4\xe2\x81\xa9" "5\n"), "12345"),
	    "U+2066..U+2069 (isolates) dropped");
	CHECK(both(LIT("\xe2\x80\xa7\xe2\x80\xaf\xe2\x81\xa5\xe2\x81\xaa\n"),
	    "\xe2\x80\xa7\xe2\x80\xaf\xe2\x81\xa5\xe2\x81\xaa"),
	    "their neighbours U+2027, U+202F, U+2065, U+206A kept");
}

/*
 * Feeds s to a fresh answering reader in pieces of chunk bytes; the
 * answers, from the first ones on, go to out (*olen bytes).  False if
 * the reader broke its contract on the way.
 */
static bool
answers(bool offer, const char *s, size_t n, size_t chunk, char *out,
    size_t *olen, int *lines)
{
	struct line_reader r;
	enum line_result rc;
	const char *p;
	size_t off, end, used, k;
	bool good = true;

	*olen = 0;
	*lines = 0;
	line_init(&r, 64);
	line_answer(&r, offer);
	p = line_replies(&r, &k);
	memcpy(out, p, k);
	*olen = k;
	for (off = 0; off < n; off = end) {
		end = off + chunk < n ? off + chunk : n;
		while (off < end) {
			rc = line_feed(&r, s + off, end - off, &used);
			good = good && used > 0 && used <= end - off &&
			    rc != LINE_NOMEM;
			off += used;
			*lines += rc == LINE_OK;
			p = line_replies(&r, &k);
			if (*olen + k > 4096)
				return false;
			memcpy(out + *olen, p, k);
			*olen += k;
		}
	}
	line_free(&r);
	return good;
}

/* True if s, fed whole and one byte at a time, is answered with want. */
static bool
answered(bool offer, const char *s, size_t n, const char *want, size_t wn)
{
	char out[4096];
	size_t olen;
	int lines;

	for (size_t chunk = 1; chunk <= n; chunk = chunk == 1 ? n : n + 1)
		if (!answers(offer, s, n, chunk, out, &olen, &lines) ||
		    olen != wn || memcmp(out, want, wn) != 0)
			return false;
	return true;
}

#define ANSWERED(offer, in, want) \
	answered(offer, LIT(in), LIT(want))

/* Telnet answers: binary agreed, TIMING-MARK and AYT, the rest refused. */
static void
test_answers(void)
{
	char out[4096], many[300];
	struct got g;
	size_t olen;
	int lines;

	CHECK(ANSWERED(true, "", "\xff\xfd\x06"),
	    "with an offer: IAC DO TIMING-MARK first");
	CHECK(ANSWERED(true, "\xff\xfb\x06", "\xff\xfd\x06\xff\xfd\x00"),
	    "its WILL TIMING-MARK answers ours; then IAC DO BINARY");
	CHECK(ANSWERED(true, "\xff\xfb\x06\xff\xfb\x00\xff\xfb\x06",
	    "\xff\xfd\x06\xff\xfd\x00\xff\xfe\x06"),
	    "WILL BINARY answers our DO; a second WILL TIMING-MARK is refused");
	CHECK(ANSWERED(true, "\xd1\xff\xf4\xff\xfd\x06",
	    "\xff\xfd\x06\xff\xfd\x00\xff\xfb\x06"),
	    "d1 IAC IP IAC DO TM: the offer, then WILL TIMING-MARK");
	CHECK(ANSWERED(false, "\xd1\xff\xf4\xff\xfd\x06", "\xff\xfb\x06"),
	    "without the offer: only WILL TIMING-MARK");
	CHECK(ANSWERED(false, "\xff\xf5\xff\xfd\x06\xff\xfd\x06",
	    "\xff\xfb\x06\xff\xfb\x06"),
	    "IAC AO IAC DO TM: every DO TIMING-MARK is answered");
	CHECK(ANSWERED(false, "\xff\xfd\x00\xff\xfd\x00\xff\xfe\x00"
	    "\xff\xfe\x00", "\xff\xfb\x00\xff\xfc\x00"),
	    "DO BINARY agreed once, DONT BINARY acknowledged once");
	CHECK(ANSWERED(false, "\xff\xfb\x00\xff\xfb\x00\xff\xfc\x00"
	    "\xff\xfc\x00", "\xff\xfd\x00\xff\xfe\x00"),
	    "WILL BINARY agreed once, WONT BINARY acknowledged once");
	CHECK(ANSWERED(true, "\xff\xfd\x00",
	    "\xff\xfd\x06\xff\xfb\x00\xff\xfd\x00"),
	    "client-initiated DO BINARY agreed, then the offer");
	CHECK(ANSWERED(false, "\xff\xfd\x01\xff\xfb\x1f\xff\xfc\x1f"
	    "\xff\xfe\x01\xff\xfd\x03", "\xff\xfc\x01\xff\xfe\x1f"
	    "\xff\xfc\x03"), "other options refused; refusals not answered");
	CHECK(ANSWERED(false, "\xff\xf6", LINE_AYT), "AYT answered");
	CHECK(ANSWERED(false, "ab\xff\xf3" "c\xff\xf5\xff\xf4" "d\n", ""),
	    "BRK, AO, IP: nothing to answer");
	CHECK(both(LIT("ab\xff\xf3" "c\xff\xf5\xff\xf4" "d\n"), "abcd"),
	    "BRK, AO, IP: the line goes on");
	CHECK(ANSWERED(true, "\xff\xfa\x18\x01\xff\xf0",
	    "\xff\xfd\x06\xff\xfd\x00"), "a subnegotiation speaks telnet");
	CHECK(ANSWERED(true, "hello\r\n", "\xff\xfd\x06"),
	    "a raw client is offered nothing more");
	run(LIT("\xff\xfd\x06\xff\xf6x\n"), 1, &g);
	CHECK(g.nok == 1, "a reader that does not answer still parses");
	for (size_t i = 0; i + 2 <= sizeof(many); i += 2) {
		many[i] = (char)0xff;
		many[i + 1] = (char)0xf6;
	}
	CHECK(answers(false, many, sizeof(many), sizeof(many), out, &olen,
	    &lines) && olen == 150 * (sizeof(LINE_AYT) - 1),
	    "150 AYTs in one feed: LINE_REPLY until all 150 are answered");
}

/* Telnet IAC sequences, whole and split. */
static void
test_telnet(void)
{
	struct got g;

	CHECK(both(LIT("a\xff\xfb\x01" "b\n"), "ab"), "IAC WILL ECHO removed");
	CHECK(both(LIT("\xff\xfd\x03" "a\xff\xfc\x22\xff\xfe\x18\n"), "a"),
	    "IAC DO/WONT/DONT removed");
	CHECK(both(LIT("a\xff\xfa\x18\x01xyz\xff\xf0" "b\n"), "ab"),
	    "IAC SB ... IAC SE removed");
	CHECK(both(LIT("a\xff\xfa\x18\xff\xff\xf0q\xff\xf0" "b\n"), "ab"),
	    "IAC IAC inside SB does not end it");
	CHECK(both(LIT("a\xff\xff" "b\n"), "ab"),
	    "IAC IAC is 0xFF, dropped as invalid UTF-8");
	CHECK(both(LIT("a\xff\xf1" "b\xff\xf9\n"), "ab"),
	    "IAC NOP / IAC GA removed");
	CHECK(both(LIT("a\xff\xfa\n\nx\xff\xf0" "b\n"), "ab"),
	    "LF inside SB does not end the line");
	CHECK(both(LIT("a\xff\xfb\n" "b\n"), "ab"),
	    "LF as option byte does not end the line");
	run(LIT("\xff\xfb\x01\xff\xfa\x1f\x00\x50\xff\xf0hi\r\n"), 1, &g);
	CHECK(one(&g, "hi"), "negotiation split into 1-byte feeds");
	run(LIT("x\xff\xfa" "abc\n" "def\xff\xf0y\n"), 4, &g);
	CHECK(one(&g, "xy"), "SB split across feeds");
}

/* Valid and invalid UTF-8, C1 controls. */
static void
test_utf8(void)
{
	CHECK(both(LIT("caf\xc3\xa9\n"), "caf\xc3\xa9"), "2-byte e-acute kept");
	CHECK(both(LIT("\xe2\x82\xac" "5\n"), "\xe2\x82\xac" "5"),
	    "3-byte euro kept");
	CHECK(both(LIT("\xf0\x9f\x98\x80\n"), "\xf0\x9f\x98\x80"),
	    "4-byte emoji kept");
	CHECK(both(LIT("\xc2\xa0\xf4\x8f\xbf\xbf\n"), "\xc2\xa0\xf4\x8f\xbf\xbf"),
	    "U+00A0 and U+10FFFF kept");
	CHECK(both(LIT("a\xc2\x9b" "31mb\n"), "a31mb"), "C1 CSI (C2 9B) dropped");
	CHECK(both(LIT("a\xc2\x80\xc2\x9f" "b\n"), "ab"), "C1 range dropped");
	CHECK(both(LIT("a\x80" "b\n"), "ab"), "lone continuation dropped");
	CHECK(both(LIT("a\xc0\xaf" "b\xc1\xbf\n"), "ab"), "overlong 2-byte dropped");
	CHECK(both(LIT("a\xe0\x80\xaf\xf0\x82\x82\xac" "b\n"), "ab"),
	    "overlong 3/4-byte dropped");
	CHECK(both(LIT("a\xed\xa0\x80" "b\n"), "ab"), "surrogate dropped");
	CHECK(both(LIT("a\xf4\x90\x80\x80\xf5\x80\x80\x80" "b\n"), "ab"),
	    "above U+10FFFF dropped");
	CHECK(both(LIT("\xe2\x82" "a\n"), "a"),
	    "truncated sequence dropped, breaking byte kept");
	CHECK(both(LIT("\xf0\x9f\x98\xc3\xa9\n"), "\xc3\xa9"),
	    "truncated sequence, next sequence kept");
	CHECK(both(LIT("x\xe2\x82\n"), "x"), "pending sequence at LF dropped");
	CHECK(both(LIT("\xe2\x82\xff\xfb\x01\xac\n"), "\xe2\x82\xac"),
	    "IAC inside a UTF-8 sequence is transparent");
	CHECK(both(LIT("a\xfe\xff\xff" "b\n"), "ab"), "FE and FF dropped");
}

/* max: exact fit, TOOLONG once, discard to LF, buffer bounds. */
static void
test_max(void)
{
	struct line_reader r;
	struct got	 g;
	char		 s[300];
	size_t		 used;

	memset(s, 'x', sizeof(s));
	s[64] = '\n';
	run(s, 65, 65, &g);
	CHECK(g.nok == 1 && g.ntoolong == 0 && g.len[0] == 64,
	    "line of exactly max bytes accepted");
	s[64] = 'x';
	s[65] = '\n';
	memcpy(s + 66, "ok\n", 3);
	run(s, 69, 69, &g);
	CHECK(g.bad == 0 && g.ntoolong == 1 && g.nok == 1 &&
	    strcmp(g.line[0], "ok") == 0,
	    "max+1: TOOLONG once, rest discarded, next line fine");
	memset(s, 'x', sizeof(s));
	s[200] = '\n';
	memcpy(s + 201, "ok\n", 3);
	run(s, 204, 7, &g);
	CHECK(g.ntoolong == 1 && g.nok == 1 && strcmp(g.line[0], "ok") == 0,
	    "long line over several feeds: TOOLONG only once");

	line_init(&r, 64);
	CHECK(line_feed(&r, s, 200, &used) == LINE_TOOLONG && used == 65,
	    "TOOLONG reported at the byte that passes max");
	CHECK(line_feed(&r, s + used, 200 - used, &used) == LINE_MORE &&
	    used == 135, "rest of the line consumed silently");
	CHECK(line_feed(&r, LIT("\xff\xfa\n\xff\xf0\n"), &used) == LINE_MORE &&
	    used == 6, "discarding still parses IAC; its LF gives no line");
	CHECK(line_feed(&r, LIT("y\n"), &used) == LINE_OK &&
	    strcmp(r.buf, "y") == 0, "line after the discarded one is fine");
	line_free(&r);

	memset(s, 'x', sizeof(s));
	memcpy(s + 63, "\xc3\xa9\n", 3);
	run(s, 66, 1, &g);
	CHECK(g.ntoolong == 1 && g.nok == 0,
	    "UTF-8 char that would pass max is TOOLONG, not split");
	line_init(&r, 2000);
	memset(s, 'x', sizeof(s));
	s[299] = '\n';
	feed(&r, s, 300, 300, &g);
	CHECK(g.nok == 1 && r.cap >= 300 && r.cap <= 2001, "buffer grows");
	for (used = 0; used < 6; used++)
		feed(&r, s, 299, 299, &g);
	CHECK(r.len == 1794 && r.cap == 2001, "buffer capped at max + 1");
	feed(&r, LIT("\n\n"), 2, &g);
	CHECK(g.nok == 2 && r.cap <= 1024, "big buffer given back after line");
	line_free(&r);
}

/* True if b[0..n) is strict UTF-8 with no C0 but TAB, no DEL, no C1. */
static bool
clean(const unsigned char *b, size_t n)
{
	size_t		 i, k, j;
	unsigned long	 cp;

	for (i = 0; i < n; i += k) {
		if (b[i] < 0x80) {
			if ((b[i] < 0x20 && b[i] != '\t') || b[i] == 0x7f)
				return false;
			k = 1;
			continue;
		}
		k = b[i] >= 0xf0 ? 4 : b[i] >= 0xe0 ? 3 : 2;
		if (b[i] < 0xc0 || b[i] > 0xf7 || i + k > n)
			return false;
		cp = b[i] & (0x7f >> k);
		for (j = 1; j < k; j++) {
			if ((b[i + j] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (b[i + j] & 0x3f);
		}
		if (cp < 0xa0 || (k == 3 && cp < 0x800) ||
		    (k == 4 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
	}
	return true;
}

/* Random bytes in random chunks: every line is clean and within max. */
static void
test_random(void)
{
	static const unsigned char hot[] = { '\n', '\r', 0xff, 0xfa, 0xf0,
	    0xfb, 0xc3, 0xe2, 0xf0, 0x80, 0x82, 0xa9, 0xac, 0x9f, 0x1b };
	static unsigned char buf[100000];
	struct line_reader r;
	enum line_result rc;
	size_t		 off, n, used;
	int		 lines = 0, wide = 0, longs = 0, dirty = 0, bad = 0;

	srand(1);
	for (off = 0; off < sizeof(buf); off++)
		buf[off] = rand() % 3 ? (unsigned char)(rand() % 256) :
		    hot[rand() % (int)sizeof(hot)];
	line_init(&r, 40);
	for (off = 0; off < sizeof(buf); off += used) {
		n = 1 + (size_t)rand() % 50;
		if (n > sizeof(buf) - off)
			n = sizeof(buf) - off;
		rc = line_feed(&r, (const char *)buf + off, n, &used);
		if (rc == LINE_NOMEM || used > n || (used == 0 && n > 0))
			bad++;
		if (rc == LINE_TOOLONG)
			longs++;
		if (rc != LINE_OK)
			continue;
		lines++;
		if (r.len > r.max || r.cap > r.max + 1 || r.buf[r.len] != '\0' ||
		    !clean((const unsigned char *)r.buf, r.len))
			dirty++;
		if (memchr(r.buf, 0xc3, r.len) || memchr(r.buf, 0xe2, r.len))
			wide++;
	}
	line_free(&r);
	CHECK(bad == 0, "random: used always in range");
	CHECK(dirty == 0, "random: %d lines, all clean UTF-8 within max", lines);
	CHECK(lines > 1000 && wide > 50 && longs > 10,
	    "random: exercised (%d lines, %d with UTF-8, %d too long)",
	    lines, wide, longs);
}

int
main(void)
{
	test_basic();
	test_controls();
	test_endings();
	test_layout();
	test_answers();
	test_telnet();
	test_utf8();
	test_max();
	test_random();
	return unit_done();
}
