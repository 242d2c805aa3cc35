/*
 * outbox.c - the entries this server wrote to the cluster's stream and
 * has not read back yet (see outbox.h).
 *
 * A list, oldest first, each entry with its own copy of its text.  The
 * numbers of a server's entries only grow, so what has been read back
 * is always a head of the list: outbox_trim() takes it off.  Past a
 * limit (Redis away for long), the oldest go.  A live upgrade writes
 * every entry as one record of the snapshot, and the new binary reads
 * them back in the same order.
 *
 * Public: outbox_add, outbox_trim, outbox_first, outbox_count,
 * outbox_save, outbox_restore.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "clsnap.h"
#include "log.h"
#include "outbox.h"
#include "state.h"

static struct {
	struct outent *head, **tail;
	unsigned n;
	uint64_t last;			/* the newest entry's number */
	bool	 dropped;		/* said that the oldest went */
} ob = { .tail = &ob.head };

/* Forget kept entries up to number seq: they are in the stream. */
void
outbox_trim(uint64_t seq)
{
	struct outent *e;

	while ((e = ob.head) != NULL && e->m.seq <= seq) {
		if ((ob.head = e->next) == NULL)
			ob.tail = &ob.head;
		ob.n--;
		free(e->text);
		free(e);
	}
	if (ob.n == 0)
		ob.dropped = false;	/* a streak of drops ends */
}

/* Keep a copy of m (its text too); NULL if out of memory. */
static const struct clmsg *
outbox_keep(const struct clmsg *m)
{
	struct outent *e = calloc(1, sizeof(*e));

	if (e == NULL || (m->len > 0 && (e->text = malloc(m->len)) == NULL)) {
		free(e);
		return NULL;
	}
	e->m = *m;
	if (m->len > 0)
		memcpy(e->text, m->text, m->len);
	e->m.text = e->text != NULL ? e->text : "";
	*ob.tail = e;
	ob.tail = &e->next;
	ob.n++;
	ob.last = m->seq;
	return &e->m;
}

/*
 * Keep m, numbered, until it is read back; if max are kept already, the
 * oldest goes (said once, until the outbox has been empty).  The copy.
 */
const struct clmsg *
outbox_add(const struct clmsg *m, unsigned max)
{
	const struct clmsg *e;

	if (ob.n >= max && ob.head != NULL) {
		if (!ob.dropped)
			log_warning("cluster: more than %u entries kept for "
			    "Redis: the oldest will not reach the other "
			    "servers", max);
		ob.dropped = true;
		outbox_trim(ob.head->m.seq);
	}
	if ((e = outbox_keep(m)) == NULL)
		log_panic("out of memory keeping a cluster entry");
	return e;
}

/* The oldest entry kept, or NULL; e->next are the later ones. */
const struct outent *
outbox_first(void)
{
	return ob.head;
}

/* How many entries are kept. */
unsigned
outbox_count(void)
{
	return ob.n;
}

/* Every entry kept, oldest first, a record each (SNAP_CL_OUT). */
int
outbox_save(struct snap *s)
{
	for (const struct outent *e = ob.head; e != NULL; e = e->next) {
		snap_begin(s, SNAP_CL_OUT);
		clsnap_msg_put(s, &e->m);
		snap_end(s);
	}
	return s->failed ? -1 : 0;
}

/* One record of outbox_save(), kept after those read before it. */
int
outbox_restore(struct msg *m)
{
	struct clmsg c;

	if (clsnap_msg_get(m, &c) == -1 || msg_end(m) == -1 ||
	    (ob.head != NULL && c.seq <= ob.last))
		return -1;
	if (outbox_keep(&c) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}
