/*
 * worker_stub.c - the worker.c and pipe.c calls command.c makes, for
 * fuzz_command.c: each one checks what it is given and records nothing
 * else.
 *
 * What is checked, for every line: frames for the master have a type a
 * worker may send, at most MSG_MAX_PAYLOAD bytes, and the layout the
 * master parses (relay.c, admin.c): MSG_NICK passes nick_valid(),
 * MSG_PRIVMSG/MSG_KICK/MSG_TIMEOUT are "target NUL rest" with a target
 * of 1..PROTO_TARGET_MAX bytes, MSG_TIMEOUT's rest a u32 worth at most
 * PROTO_TIMEOUT_MAX, /oper is followed by worker_oper_sent(), a /quit
 * reason is at most PROTO_REASON_MAX bytes and never ends inside a
 * character, /pipe text lies inside the line.  For
 * lines that came through the line reader (as in the server) every text
 * that reaches a client, the sender included, must also be clean:
 * valid UTF-8, no control but TAB, no CR or LF, no NUL.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "proto.h"
#include "worker.h"
#include "worker_stub.h"

#define SAY_MAX		1024	/* worker_say()'s buffer in worker.c */
#define QUIT_MAX	PROTO_REASON_MAX
#define CALLS_MAX	32	/* stub calls one line may make (/help: 15) */

bool	stub_busy;

/* Counts a call; a line that makes too many is a loop. */
static void
stub_call(struct worker *w, const char *what)
{
	STUB_CHECK(++w->calls <= CALLS_MAX, "%s: more than %d calls for one "
	    "line", what, CALLS_MAX);
}

/*
 * True if s[0..n) is text a terminal may show: valid UTF-8 (no overlong
 * forms, surrogates or values past U+10FFFF), no C0 control but TAB
 * (when tab_ok), no DEL, no C1 control.
 */
bool
stub_utf8_text(const char *str, size_t n, bool tab_ok)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned char lo, hi;
	size_t	 i, k, need;
	uint32_t c;

	for (i = 0; i < n; i += need) {
		lo = 0x80;
		hi = 0xBF;
		if (s[i] < 0x80) {
			if ((s[i] < 0x20 && !(tab_ok && s[i] == '\t')) ||
			    s[i] == 0x7F)
				return false;
			need = 1;
			continue;
		}
		if (s[i] >= 0xC2 && s[i] <= 0xDF) {
			need = 2;
			c = s[i] & 0x1Fu;
		} else if (s[i] >= 0xE0 && s[i] <= 0xEF) {
			need = 3;
			c = s[i] & 0x0Fu;
			lo = s[i] == 0xE0 ? 0xA0 : 0x80;
			hi = s[i] == 0xED ? 0x9F : 0xBF;
		} else if (s[i] >= 0xF0 && s[i] <= 0xF4) {
			need = 4;
			c = s[i] & 0x07u;
			lo = s[i] == 0xF0 ? 0x90 : 0x80;
			hi = s[i] == 0xF4 ? 0x8F : 0xBF;
		} else {
			return false;
		}
		for (k = 1; k < need; k++) {
			if (i + k >= n || s[i + k] < lo || s[i + k] > hi)
				return false;
			c = c << 6 | (s[i + k] & 0x3Fu);
			lo = 0x80;
			hi = 0xBF;
		}
		if (c <= 0x9F)		/* C1 */
			return false;
	}
	return true;
}

/* "target NUL rest": checks the target; returns rest and its length. */
static const char *
stub_target(const char *what, const char *p,
    size_t len, size_t *rlen)
{
	const char *nul = memchr(p, '\0', len);
	size_t	 tlen;

	STUB_CHECK(nul != NULL, "%s: no NUL after the target", what);
	tlen = (size_t)(nul - p);
	STUB_CHECK(tlen >= 1 && tlen <= PROTO_TARGET_MAX, "%s: target of %zu "
	    "bytes", what, tlen);
	STUB_CHECK(memchr(p, ' ', tlen) == NULL, "%s: space in the target",
	    what);
	STUB_CHECK(stub_utf8_text(p, tlen, true), "%s: target is not clean "
	    "text", what);
	*rlen = len - tlen - 1;
	return nul + 1;
}

/* MSG_TIMEOUT: "target NUL" and a u32, a week at most. */
static void
stub_timeout(const char *p, size_t len)
{
	const char *num;
	size_t	 nlen;
	uint32_t v;

	num = stub_target("MSG_TIMEOUT", p, len, &nlen);
	STUB_CHECK(memchr(p, '\t', (size_t)(num - 1 - p)) == NULL,
	    "MSG_TIMEOUT: TAB in the target");
	STUB_CHECK(nlen == sizeof(v), "MSG_TIMEOUT: %zu bytes of seconds",
	    nlen);
	memcpy(&v, num, sizeof(v));
	STUB_CHECK(v <= PROTO_TIMEOUT_MAX, "MSG_TIMEOUT: %lu seconds",
	    (unsigned long)v);
}

/* MSG_NICK: "name NUL", what the master will take as a nick. */
static void
stub_nick(const char *p, size_t len)
{
	char	 name[PROTO_NICK_MAX + 1];

	STUB_CHECK(len >= 2 && len <= PROTO_NICK_MAX + 1 && p[len - 1] == '\0',
	    "MSG_NICK of %zu bytes", len);
	memcpy(name, p, len);
	STUB_CHECK(nick_valid(name), "MSG_NICK: '%s' is not a nick", name);
	STUB_CHECK(strlen(name) == len - 1, "MSG_NICK: NUL inside the nick");
}

/* The checks for one frame to the master, by type. */
static void
stub_frame(struct worker *w, enum msg_type type, const char *p, size_t len)
{
	const char *rest;
	size_t	 rlen;

	if (!w->realistic) {
		/* raw bytes: NULs in the text defeat any layout check */
		STUB_CHECK(type != MSG_NICK || (len >= 2 &&
		    len <= PROTO_NICK_MAX + 1), "MSG_NICK of %zu bytes", len);
		STUB_CHECK(type != MSG_OPER || (len >= 1 && len <= 256),
		    "MSG_OPER of %zu bytes", len);
		if (type == MSG_OPER)
			w->oper_sends++;
		return;
	}
	switch (type) {
	case MSG_SAY:
		STUB_CHECK(len >= 1 && (p == w->line || p == w->line + 1) &&
		    p + len == w->line + w->len, "MSG_SAY is not the line");
		break;
	case MSG_ME:
		STUB_CHECK(len >= 1 && p[0] != ' ' && p[0] != '\t' &&
		    p[len - 1] != ' ' && p[len - 1] != '\t',
		    "MSG_ME text not trimmed");
		break;
	case MSG_PRIVMSG:
		rest = stub_target("MSG_PRIVMSG", p, len, &rlen);
		STUB_CHECK(rlen >= 1 && rest[0] != ' ', "MSG_PRIVMSG: text "
		    "empty or not trimmed");
		STUB_CHECK(stub_utf8_text(rest, rlen, true),
		    "MSG_PRIVMSG: text is not clean");
		return;
	case MSG_KICK:
		rest = stub_target("MSG_KICK", p, len, &rlen);
		STUB_CHECK(memchr(p, '\t', (size_t)(rest - 1 - p)) == NULL,
		    "MSG_KICK: TAB in the target");
		STUB_CHECK(rlen == 0 || (rest[0] != ' ' && rest[0] != '\t'),
		    "MSG_KICK: reason not trimmed");
		STUB_CHECK(stub_utf8_text(rest, rlen, true),
		    "MSG_KICK: reason is not clean");
		return;
	case MSG_TIMEOUT:
		stub_timeout(p, len);
		return;
	case MSG_NICK:
		stub_nick(p, len);
		return;
	case MSG_OPER:
		STUB_CHECK(len >= 1 && len <= PROTO_PASSWORD_MAX,
		    "MSG_OPER of %zu bytes", len);
		w->oper_sends++;
		return;
	case MSG_WHO:
	case MSG_PS:
	case MSG_STATS:
		STUB_CHECK(len == 0, "type %d with %zu bytes", (int)type, len);
		return;
	default:
		STUB_FAIL("a worker does not send type %d", (int)type);
	}
	STUB_CHECK(stub_utf8_text(p, len, true), "type %d: text is not clean",
	    (int)type);
}

/* A frame for the master. */
void
worker_send(struct worker *w, enum msg_type type, const struct iovec *iov,
    int n)
{
	char	*p;
	size_t	 len = 0, off = 0;

	stub_call(w, "worker_send");
	STUB_CHECK(n >= 0 && n <= 3, "worker_send with %d iovecs", n);
	for (int i = 0; i < n; i++) {
		STUB_CHECK(iov[i].iov_len <= MSG_MAX_PAYLOAD - len,
		    "frame of more than %zu bytes", (size_t)MSG_MAX_PAYLOAD);
		len += iov[i].iov_len;
	}
	if ((p = malloc(len + 1)) == NULL)
		STUB_FAIL("out of memory");
	for (int i = 0; i < n; i++) {
		if (iov[i].iov_len > 0)
			memcpy(p + off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	/* a single iovec is looked at in place, to see where it points */
	stub_frame(w, type, n == 1 ? iov[0].iov_base : p, len);
	free(p);
}

/* No C0 control but TAB, no DEL: what a reply must hold at least. */
static bool
stub_no_controls(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((s[i] >= 0 && s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7F)
			return false;
	return true;
}

/*
 * Bytes for the client: a line, with no control byte, and valid UTF-8
 * even where a reply quotes only part of what the client typed.
 */
void
worker_tell(struct worker *w, const char *data, size_t len)
{
	stub_call(w, "worker_tell");
	STUB_CHECK(len >= 2 && data[len - 2] == '\r' && data[len - 1] == '\n',
	    "worker_tell without CRLF");
	if (!w->realistic)
		return;
	STUB_CHECK(stub_no_controls(data, len - 2), "a reply with a control "
	    "byte: %.*s", (int)len - 2, data);
	STUB_CHECK(stub_utf8_text(data, len - 2, true),
	    "a reply that is not valid UTF-8: %.*s", (int)len - 2, data);
}

/* A line for the client, formatted as worker.c does. */
void
worker_say(struct worker *w, const char *fmt, ...)
{
	char	 line[SAY_MAX];
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	STUB_CHECK(n >= 0, "worker_say: vsnprintf failed");
	if ((size_t)n > sizeof(line) - 3)
		n = (int)sizeof(line) - 3;
	line[n++] = '\r';
	line[n++] = '\n';
	worker_tell(w, line, (size_t)n);
}

/* "/quit": the reason goes to the master, then to everyone. */
void
worker_quit(struct worker *w, const char *why)
{
	size_t	 len = strlen(why);

	stub_call(w, "worker_quit");
	STUB_CHECK(len <= QUIT_MAX, "quit reason of %zu bytes", len);
	if (!w->realistic)
		return;		/* "/quit \0" gives "": only raw bytes can */
	STUB_CHECK(len >= 1, "empty quit reason");
	STUB_CHECK(stub_utf8_text(why, len, true),
	    "quit reason is not clean text");
}

/* After MSG_OPER, and only then. */
void
worker_oper_sent(struct worker *w)
{
	stub_call(w, "worker_oper_sent");
	STUB_CHECK(w->oper_sends == 1, "worker_oper_sent after %d MSG_OPER",
	    w->oper_sends);
	w->oper_sends = 0;
}

/* pipe.c's call; command.c has no business making it. */
void
worker_job(struct worker *w, enum msg_type type, pid_t pid, const char *name,
    int status)
{
	(void)w;
	(void)pid;
	(void)status;
	STUB_FAIL("command.c called worker_job(%d, %s)", (int)type, name);
}

/* The configuration in force. */
const struct config *
worker_config(const struct worker *w)
{
	return w->cfg;
}

/* Whether a /pipe job is running: as the input said. */
bool
pipe_busy(void)
{
	return stub_busy;
}

/* "/pipe NAME text": prog must be the configured one, text in the line. */
int
pipe_start(struct worker *w, const struct config *cfg,
    const struct pipe_prog *prog, const char *text, size_t len)
{
	stub_call(w, "pipe_start");
	STUB_CHECK(cfg == w->cfg, "pipe_start with another configuration");
	STUB_CHECK(prog >= cfg->pipes && prog < cfg->pipes + cfg->npipes,
	    "pipe_start with a program not configured");
	STUB_CHECK(text >= w->line && text + len <= w->line + w->len,
	    "pipe_start text is not inside the line");
	/* the rest of the line, without blanks at either end */
	for (const char *p = text + len; p < w->line + w->len; p++)
		STUB_CHECK(*p == ' ' || *p == '\t', "pipe_start text is cut "
		    "short");
	STUB_CHECK(len == 0 || (text[0] != ' ' && text[0] != '\t' &&
	    text[len - 1] != ' ' && text[len - 1] != '\t'),
	    "pipe_start text not trimmed");
	STUB_CHECK(!w->realistic || stub_utf8_text(text, len, true),
	    "pipe_start text is not clean");
	if (w->start_fails) {
		errno = ENOEXEC;
		return -1;
	}
	return 0;
}
