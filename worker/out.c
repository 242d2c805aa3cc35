/*
 * out.c - a worker's two output queues, and what went wrong with them.
 *
 * Lines for the client are cut to OUT_LINE_MAX bytes and always end in
 * CRLF; bytes relayed from the master go as they are.  Frames for the
 * master carry the client's id.  A failure is recorded in the struct
 * (see out.h), never acted on here: this module calls common/ only.
 *
 * Public: out_init, out_open_client, out_close_client, out_reserve,
 * out_tell, out_say, out_send, out_sendv, out_send_text, out_send_str_text.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "os.h"
#include "out.h"
#include "proto.h"

/* Empty queues, no client yet: limits in bytes for each queue. */
void
out_init(struct out *o, size_t client_limit, size_t master_limit)
{
	buf_init(&o->to_client, client_limit);
	msgq_init(&o->to_master, master_limit);
	o->id = 0;
	o->client_gone = true;
	o->full = false;
	o->unread = 0;
	o->error = 0;
	o->frames = 0;
	o->sent_at = 0;
}

/* A client arrived: its lines may be queued from now on. */
void
out_open_client(struct out *o, uint32_t id, size_t limit)
{
	buf_init(&o->to_client, limit);
	o->id = id;
	o->client_gone = false;
	o->full = false;
}

/* The client's socket is closed: what is queued for it goes nowhere. */
void
out_close_client(struct out *o)
{
	buf_free(&o->to_client);
	o->client_gone = true;
}

/*
 * Room for n more bytes at once: one allocation for a whole channel
 * read, not a doubling per line.  Past the limit it fails, and the line
 * that does not fit finds the client too slow as it would anyway.
 */
void
out_reserve(struct out *o, size_t n)
{
	if (!o->client_gone)
		(void)buf_reserve(&o->to_client, n);
}

/* Queue bytes for the client; one that does not fit sets full. */
void
out_tell(struct out *o, const char *data, size_t len)
{
	if (o->client_gone || o->full)
		return;
	if (buf_append(&o->to_client, data, len) == -1) {
		o->full = true;
		o->unread = o->to_client.len;
	}
}

/* Queue a formatted line for the client, cut if need be, CRLF added. */
void
out_say(struct out *o, const char *fmt, ...)
{
	char line[OUT_LINE_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 3)	/* never inside a character */
		n = (int)proto_cut(line, (size_t)n, sizeof(line) - 3);
	line[n++] = '\r';
	line[n++] = '\n';
	out_tell(o, line, (size_t)n);
}

/* Count a frame queued, or record why it was not. */
static void
out_sent(struct out *o, int r)
{
	if (r == -1) {
		o->error = errno != 0 ? errno : EIO;
		return;
	}
	o->frames++;
	o->sent_at = os_now_ms();
}

/* Queue a frame built with msg_b_*. */
void
out_send(struct out *o, enum msg_type type, const struct msg_build *b)
{
	if (o->error == 0)
		out_sent(o, msg_put_build(&o->to_master, type, o->id, b));
}

/* Queue a frame whose payload is n pieces, one after the other. */
void
out_sendv(struct out *o, enum msg_type type, const struct iovec *iov, int n)
{
	if (o->error == 0)
		out_sent(o, msg_putv(&o->to_master, type, o->id, iov, n));
}

/* Queue a frame of one text field (or none, len 0). */
void
out_send_text(struct out *o, enum msg_type type, const char *text,
    size_t len)
{
	struct iovec iov = { .iov_base = (void *)(uintptr_t)text,
	    .iov_len = len };

	out_sendv(o, type, &iov, len > 0 ? 1 : 0);
}

/*
 * Queue a frame of a str field (WORD) and a text field (REST), without
 * copying REST.  A NUL inside WORD would end the str early and move the
 * rest of WORD into the text: refused with EMSGSIZE, as msg_b_str does.
 */
void
out_send_str_text(struct out *o, enum msg_type type, const char *word,
    size_t wlen, const char *rest, size_t rlen)
{
	struct iovec iov[3] = {
		{ .iov_base = (void *)(uintptr_t)word, .iov_len = wlen },
		{ .iov_base = (void *)(uintptr_t)"", .iov_len = 1 },
		{ .iov_base = (void *)(uintptr_t)rest, .iov_len = rlen },
	};

	if (memchr(word, '\0', wlen) != NULL) {
		errno = EMSGSIZE;
		if (o->error == 0)
			out_sent(o, -1);	/* recorded like any failure */
		return;
	}
	out_sendv(o, type, iov, 3);
}
