/*
 * command_check.c - the bytes command.c queued, checked as their readers
 * will take them.
 *
 * check_frames() reads the frames for the master back with msg_get()
 * and the getters, in the layout master/relay.c and master/admin.c
 * read (msg.h's enum comments): a frame they would refuse kills a
 * worker in the server.  One line makes at most one frame.  For lines
 * that came through the line reader (as in the server) every text must
 * also be clean: valid UTF-8, no control but TAB.  Raw lines (NULs, CRs
 * and controls included) only have to give frames the master can take
 * apart, or none.
 *
 * check_replies() checks the client's lines: each ends in CRLF, holds
 * no other LF and fits in OUT_LINE_MAX; for realistic lines each is also
 * clean, even where it quotes only part of what the client typed.
 *
 * Public: check_clean, check_frames, check_replies.
 */
#include <string.h>

#include "command_check.h"
#include "out.h"
#include "proto.h"

#define REPLIES_MAX	16	/* lines one command may answer (/help: 14) */
#define TRIM_LEFT	1	/* no blank at the start of a text */
#define TRIM_BOTH	3	/* nor at its end */

/* Bytes a sequence led by c needs, and its second byte's range; 0: bad. */
static size_t
utf8_need(unsigned char c, unsigned char *lo, unsigned char *hi)
{
	*lo = 0x80;
	*hi = 0xBF;
	if (c >= 0xC2 && c <= 0xDF)
		return 2;
	if (c >= 0xE0 && c <= 0xEF) {
		*lo = c == 0xE0 ? 0xA0 : 0x80;	/* no overlong form */
		*hi = c == 0xED ? 0x9F : 0xBF;	/* no surrogate */
		return 3;
	}
	if (c >= 0xF0 && c <= 0xF4) {
		*lo = c == 0xF0 ? 0x90 : 0x80;
		*hi = c == 0xF4 ? 0x8F : 0xBF;	/* nothing past U+10FFFF */
		return 4;
	}
	return 0;
}

/*
 * True if s[0..n) is text a terminal may show: valid UTF-8, no C0
 * control but TAB, no DEL, no C1 control (U+0080..U+009F).
 */
bool
check_clean(const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned char lo, hi;
	size_t i, k, need;

	for (i = 0; i < n; i += need) {
		if (s[i] < 0x80) {
			if ((s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7F)
				return false;
			need = 1;
			continue;
		}
		if ((need = utf8_need(s[i], &lo, &hi)) == 0 || n - i < need)
			return false;
		if (s[i] == 0xC2 && s[i + 1] <= 0x9F)	/* C1 */
			return false;
		for (k = 1; k < need; k++) {
			if (s[i + k] < lo || s[i + k] > hi)
				return false;
			lo = 0x80;
			hi = 0xBF;
		}
	}
	return true;
}

/* True if c is a blank command.c should have trimmed. */
static bool
blank(char c)
{
	return c == ' ' || c == '\t';
}

/* True if p[0..n) has no blank where trim says there must be none. */
static bool
trimmed(const char *p, size_t n, int trim)
{
	return n == 0 || ((!(trim & TRIM_LEFT) || !blank(p[0])) &&
	    (trim != TRIM_BOTH || !blank(p[n - 1])));
}

/* A raw line's str: anything up to a NUL, which must be there. */
static void
check_raw_str(const char *what, struct msg *m)
{
	const char *nul = memchr(m->p, '\0', m->left);

	CHECK(nul != NULL, "%s: no NUL after the target", what);
	m->left -= (size_t)(nul + 1 - m->p);
	m->p = nul + 1;
}

/* A str target, as chat_find() and admin.c take it. */
static void
check_target(const char *what, const struct check_line *l, struct msg *m)
{
	char target[PROTO_TARGET_MAX + 1];
	size_t n;

	if (!l->realistic) {
		check_raw_str(what, m);
		return;
	}
	CHECK(msg_str(m, target, sizeof(target)) == 0,
	    "%s: no target the master can read", what);
	n = strlen(target);
	CHECK(n >= 1, "%s: empty target", what);
	CHECK(strpbrk(target, " \t") == NULL, "%s: blank in the target",
	    what);
	CHECK(check_clean(target, n), "%s: target is not clean", what);
}

/* The text field that ends a frame: min to max bytes, trimmed so. */
static void
check_text(const char *what, const struct check_line *l, struct msg *m,
    size_t min, size_t max, int trim)
{
	const char *p;
	size_t n;

	if (l->realistic)
		CHECK(msg_text(m, &p, &n) == 0, "%s: text the master "
		    "refuses", what);
	else
		(void)msg_rest(m, &p, &n);
	CHECK(n >= min && n <= max, "%s: text of %zu bytes", what, n);
	CHECK(!l->realistic || check_clean(p, n),
	    "%s: text is not clean", what);
	CHECK(!l->realistic || trimmed(p, n, trim),
	    "%s: text not trimmed", what);
}

/* MSG_SAY: the line itself, or all of it but the first '/' of "//". */
static void
check_say(const struct check_line *l, struct msg *m)
{
	const char *want = l->p + (l->p[0] == '/' ? 1 : 0);
	size_t wlen = l->len - (size_t)(want - l->p);

	CHECK(l->len >= 1 && (l->p[0] != '/' || l->p[1] == '/'),
	    "MSG_SAY from a command line");
	CHECK(m->left == wlen && memcmp(m->p, want, wlen) == 0,
	    "MSG_SAY is not the line");
	check_text("MSG_SAY", l, m, 1, MSG_MAX_PAYLOAD, 0);
}

/* MSG_NICK: a str the master takes as a nick, nothing after it. */
static void
check_nick(struct msg *m)
{
	char name[PROTO_NICK_MAX + 1];

	CHECK(msg_str(m, name, sizeof(name)) == 0 && msg_end(m) == 0,
	    "MSG_NICK the master cannot read");
	CHECK(nick_valid(name), "MSG_NICK: '%s' is not a nick", name);
}

/* MSG_TIMEOUT: a target and a u32 of seconds, a week at most. */
static void
check_timeout(const struct check_line *l, struct msg *m)
{
	uint32_t secs;

	check_target("MSG_TIMEOUT", l, m);
	CHECK(msg_u32(m, &secs) == 0 && msg_end(m) == 0,
	    "MSG_TIMEOUT: no u32 of seconds after the target");
	CHECK(secs <= PROTO_TIMEOUT_MAX, "MSG_TIMEOUT: %lu seconds",
	    (unsigned long)secs);
}

/* One frame's payload, by its type. */
static void
check_payload(const struct check_line *l, struct msg *m)
{
	switch (m->h.type) {
	case MSG_SAY:
		check_say(l, m);
		break;
	case MSG_ME:
		check_text("MSG_ME", l, m, 1, MSG_MAX_PAYLOAD, TRIM_BOTH);
		break;
	case MSG_PRIVMSG:
		check_target("MSG_PRIVMSG", l, m);
		check_text("MSG_PRIVMSG", l, m, 1, MSG_MAX_PAYLOAD,
		    TRIM_BOTH);
		break;
	case MSG_KICK:
		check_target("MSG_KICK", l, m);
		check_text("MSG_KICK", l, m, 0, PROTO_REASON_MAX, TRIM_LEFT);
		break;
	case MSG_TIMEOUT:
		check_timeout(l, m);
		break;
	case MSG_NICK:
		check_nick(m);
		break;
	case MSG_OPER:
		check_text("MSG_OPER", l, m, 1, PROTO_PASSWORD_MAX,
		    TRIM_BOTH);
		break;
	case MSG_WHO:
	case MSG_PS:
	case MSG_STATS:
		CHECK(msg_end(m) == 0, "type %u with %u bytes",
		    m->h.type, m->h.len);
		break;
	default:
		FAIL("command.c does not send type %u", m->h.type);
	}
	CHECK(msg_end(m) == 0, "type %u: bytes left over", m->h.type);
}

/* The frames queued for the line: their type, or 0 if none. */
int
check_frames(const struct check_line *l, const struct msgq *q)
{
	struct msgin in;
	struct msg m;
	int r, type = 0;

	msgin_init(&in);
	if (msgq_pending(q) > 0 && buf_append(&in.in, buf_head(&q->out),
	    msgq_pending(q)) == -1)
		FAIL("out of memory");
	while ((r = msg_get(&in, &m)) == 1) {
		CHECK(type == 0, "a second frame (type %u) for one line",
		    m.h.type);
		CHECK(m.h.id == l->id && m.h.flags == 0 && m.fd == -1,
		    "type %u: id %u, flags %u", m.h.type, m.h.id, m.h.flags);
		check_payload(l, &m);
		type = m.h.type;
	}
	CHECK(r == 0 && in.in.len == in.taken,
	    "bytes for the master that are not whole frames");
	msgin_free(&in);
	return type;
}

/* The lines queued for the client. */
void
check_replies(const struct check_line *l, const struct buf *b)
{
	const char *p, *end, *lf;
	int n = 0;

	if (b->len == 0)
		return;			/* and no buffer at all */
	p = buf_head(b);
	end = p + b->len;
	for (; p < end; p = lf + 1) {
		lf = memchr(p, '\n', (size_t)(end - p));
		CHECK(lf != NULL && lf > p && lf[-1] == '\r',
		    "a reply without CRLF");
		CHECK(lf + 1 - p <= OUT_LINE_MAX, "a reply of %zu bytes",
		    (size_t)(lf + 1 - p));
		CHECK(++n <= REPLIES_MAX, "more than %d replies to one "
		    "line", REPLIES_MAX);
		CHECK(!l->realistic ||
		    check_clean(p, (size_t)(lf - 1 - p)), "a reply that is "
		    "not clean text: %.*s", (int)(lf - 1 - p), p);
	}
}
