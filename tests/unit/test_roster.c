/*
 * test_roster.c - unit tests for master/roster.c, the cluster's servers
 * and their clients as read from the stream.
 *
 * Members found by server and id, and by nick in any case (one member
 * left out, as a claim needs); renames move a member between nick
 * chains; the forms a TARGET takes (#N, #N@SERVER, NICK, guestN@SERVER);
 * how everyone is shown a nick; the counts /stats shows; the whole
 * roster written into a live upgrade's snapshot and read back the same,
 * and records out of place refused.
 */
#include <stdio.h>
#include <string.h>

#include "roster.h"
#include "state.h"
#include "unit.h"

/* A client with this id and nick. */
static struct clmsg_client
client(uint32_t id, const char *nick)
{
	struct clmsg_client c;

	memset(&c, 0, sizeof(c));
	c.id = id;
	(void)snprintf(c.nick, sizeof(c.nick), "%s", nick);
	(void)snprintf(c.peer, sizeof(c.peer), "127.0.0.1:%u", 40000 + id);
	return c;
}

/* Servers, members, nicks, renames and removals. */
static void
test_members(void)
{
	struct clmsg_client ca = client(1, "Alice"), cb = client(1, "guest1"),
	    cc = client(2, "guest2");
	struct peer *self = roster_init("alpha", 10), *beta;
	struct member *a, *b, *c;
	unsigned n, clients;

	CHECK(self != NULL && roster_self() == self &&
	    roster_peer("alpha") == self && roster_peer("beta") == NULL,
	    "this server first, alone");
	beta = roster_peer_add("beta", 20);
	CHECK(roster_peer("beta") == beta && beta->alive && beta->inc == 20,
	    "a server heard of");
	a = roster_add(self, &ca);
	b = roster_add(beta, &cb);
	c = roster_add(beta, &cc);
	CHECK(roster_find(self, 1) == a && roster_find(beta, 1) == b &&
	    roster_find(beta, 2) == c && roster_find(self, 2) == NULL,
	    "found by server and id: #1 of each is another client");
	CHECK(roster_nick("alice", NULL) == a && roster_nick("ALICE", NULL) ==
	    a && roster_nick("alice", a) == NULL, "by nick, in any case; "
	    "but the one left out");
	roster_rename(a, "ann");
	CHECK(roster_nick("alice", NULL) == NULL && roster_nick("Ann", NULL) ==
	    a && strcmp(a->c.nick, "ann") == 0, "a rename moves the nick");
	n = roster_count(&clients);
	CHECK(n == 2 && clients == 3 && beta->nmembers == 2, "2 servers, 3 "
	    "clients");
	beta->alive = false;
	n = roster_count(&clients);
	CHECK(n == 1 && clients == 1, "a gone server is not counted");
	beta->alive = true;
	roster_remove(c);
	CHECK(roster_find(beta, 2) == NULL && beta->nmembers == 1 &&
	    roster_nick("guest2", NULL) == NULL, "removed from both hashes");
}

/* The forms of a TARGET. */
static void
test_targets(void)
{
	struct peer *self = roster_self(), *beta = roster_peer("beta");
	struct member *mine, *a = roster_find(self, 1), *b = roster_find(beta, 1);

	mine = roster_add(self, &(struct clmsg_client){ .id = 7, .nick =
	    "guest7", .peer = "1.2.3.4:5" });
	CHECK(roster_target("#1") == a && roster_target("#7") == mine,
	    "#N is this server's");
	CHECK(roster_target("#1@beta") == b && roster_target("#1@alpha") == a,
	    "#N@SERVER");
	CHECK(roster_target("ann") == a && roster_target("ANN@alpha") == a,
	    "a nick, and NICK@SERVER");
	CHECK(roster_target("guest1@beta") == b && roster_target("guest1") ==
	    NULL && roster_target("guest7") == mine, "guestN alone is this "
	    "server's; guestN@SERVER another's");
	CHECK(roster_target("#9@beta") == NULL && roster_target("#1@gamma") ==
	    NULL && roster_target("#x") == NULL && roster_target("#") == NULL &&
	    roster_target("#4294967296@beta") == NULL && roster_target("bob") ==
	    NULL, "what names no one");
}

/* How everyone sees a nick. */
static void
test_display(void)
{
	char buf[ROSTER_DISPLAY_MAX];

	CHECK(strcmp(roster_display("guest12", "web1", buf, sizeof(buf)),
	    "guest12@web1") == 0, "guestN is shown with its server");
	CHECK(strcmp(roster_display("alice", "web1", buf, sizeof(buf)),
	    "alice") == 0, "a chosen nick as it is");
	CHECK(strcmp(roster_display("guest", "web1", buf, sizeof(buf)),
	    "guest") == 0 && strcmp(roster_display("Guest3", "b", buf,
	    sizeof(buf)), "Guest3@b") == 0, "guest alone is a nick; Guest3 "
	    "is reserved like guest3");
	CHECK(strcmp(roster_display("guest4294967295", "0123456789abcdef", buf,
	    sizeof(buf)), "guest4294967295@0123456789abcdef") == 0,
	    "the longest fits");
}

/*
 * Read the records of s into the roster, from the skip-th on, until one
 * does not read (as a takeover stops there): how many did; -1 if all.
 */
static int
restore_all(const struct snap *s, int skip)
{
	struct snap_reader r;
	struct msg m;
	uint32_t ver, type;
	int n = 0;

	(void)snap_open(&r, buf_head(&s->b), s->b.len, &ver);
	while (snap_next(&r, &type, &m) == 1) {
		if (skip-- > 0)
			continue;
		if (roster_restore(type, &m) == -1)
			return n;
		n++;
	}
	return -1;
}

/* The roster as it is, one line a peer: "name inc seq flags: members". */
static void
describe(char *out, size_t size)
{
	const struct member *m;
	const struct peer *p;
	size_t n = 0;

	out[0] = '\0';
	TAILQ_FOREACH(p, roster_peers(), entry) {
		n += (size_t)snprintf(out + n, size - n, "%s %llu %llu %d%d%d "
		    "%lld:", p->name, (unsigned long long)p->inc,
		    (unsigned long long)p->seq, p->alive, p->gone_sent,
		    p->collecting, (long long)p->heard_ms);
		TAILQ_FOREACH(m, &p->members, entry)
			n += (size_t)snprintf(out + n, size - n, " #%u %s %s "
			    "%lld %u %u %lld %d", m->c.id, m->c.nick, m->c.peer,
			    (long long)m->c.since, m->c.timeout, m->c.pid,
			    (long long)m->active_ms, m->seen);
		n += (size_t)snprintf(out + n, size - n, "\n");
	}
}

/* The whole roster through a snapshot, and what is refused. */
static void
test_snapshot(void)
{
	char before[2048], after[2048];
	struct peer *beta = roster_peer("beta"), *gamma;
	struct member *m;
	struct snap s;

	beta->seq = 99;
	beta->heard_ms = 123456;
	beta->gone_sent = true;
	gamma = roster_peer_add("gamma", 30);
	gamma->alive = false;
	m = roster_find(roster_self(), 7);
	m->active_ms = 4242;
	m->seen = true;
	describe(before, sizeof(before));
	snap_init(&s, 1);
	CHECK(roster_save(&s) == 0, "written");
	roster_clear();
	CHECK(roster_self() == NULL && TAILQ_EMPTY(roster_peers()) &&
	    roster_nick("ann", NULL) == NULL, "cleared");
	(void)roster_init("alpha", 10);
	CHECK(restore_all(&s, 0) == -1, "every record read back");
	describe(after, sizeof(after));
	CHECK(strcmp(before, after) == 0, "the same roster, in the same "
	    "order:\n%s", after);
	CHECK(roster_nick("ANN", NULL) == roster_find(roster_self(), 1) &&
	    roster_target("guest1@beta") == roster_find(roster_peer("beta"), 1),
	    "found by nick and by id again");
	CHECK(restore_all(&s, 0) == 0, "read twice: this server's record "
	    "again is refused");
	CHECK(restore_all(&s, 3) == 0, "and another server's again");
	roster_clear();
	(void)roster_init("alpha", 10);
	CHECK(restore_all(&s, 1) == 0, "a client before any server is "
	    "refused");
	roster_clear();
	(void)roster_init("other", 10);
	CHECK(restore_all(&s, 0) == 0, "another server's roster is refused");
	roster_clear();
	(void)roster_init("alpha", 11);
	CHECK(restore_all(&s, 0) == 0, "so is one of another incarnation");
	roster_clear();
	snap_free(&s);
	/* this server and one client: then the client twice */
	(void)roster_init("alpha", 10);
	(void)roster_add(roster_self(), &(struct clmsg_client){ .id = 3,
	    .nick = "guest3", .peer = "1.2.3.4:5" });
	snap_init(&s, 1);
	(void)roster_save(&s);
	roster_clear();
	(void)roster_init("alpha", 10);
	CHECK(restore_all(&s, 0) == -1 && restore_all(&s, 1) == 0,
	    "the same client twice is refused");
	roster_clear();
	snap_free(&s);
}

int
main(void)
{
	test_members();
	test_targets();
	test_display();
	test_snapshot();
	return unit_done();
}
