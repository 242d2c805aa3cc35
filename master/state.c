/*
 * state.c - the master's state as a whole (see state.h): one definition,
 * so that any module, and a unit test, links without main.c; and its
 * record in a live upgrade's snapshot.
 */
#include "snap.h"
#include "state.h"

struct server server = { .phase = PHASE_RUNNING, .ep = -1 };

/* The counters, ids and order, for the binary that takes over. */
int
server_save(struct snap *s)
{
	const struct stats *t = &server.stats;
	const uint64_t v[] = { t->clients_total, t->clients_peak, t->rejected,
	    t->broadcasts, t->bytes_in, t->bytes_out, t->kicks, t->timeouts,
	    t->pipe_jobs, t->forked, t->reaped, t->crashed, t->killed };

	snap_begin(s, SNAP_SERVER);
	snap_u64(s, (uint64_t)server.started_ms);
	snap_u32(s, server.last_id);
	snap_u64(s, server.seq);
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		snap_u64(s, v[i]);
	snap_end(s);
	return s->failed ? -1 : 0;
}

/* SNAP_SERVER: take them over; -1 if the record is malformed. */
int
server_restore(struct msg *m)
{
	struct stats *t = &server.stats;
	uint64_t *v[] = { &t->clients_total, NULL, &t->rejected,
	    &t->broadcasts, &t->bytes_in, &t->bytes_out, &t->kicks,
	    &t->timeouts, &t->pipe_jobs, &t->forked, &t->reaped, &t->crashed,
	    &t->killed };
	uint64_t started, peak = 0;

	if (msg_u64(m, &started) == -1 || msg_u32(m, &server.last_id) == -1 ||
	    msg_u64(m, &server.seq) == -1)
		return -1;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (msg_u64(m, v[i] != NULL ? v[i] : &peak) == -1)
			return -1;
	server.started_ms = (int64_t)started;
	t->clients_peak = (unsigned)peak;
	return msg_end(m);
}
