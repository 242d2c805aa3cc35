/*
 * fcmode.c - fcbench's modes, each one scenario of the bench: messages
 * (senders, a window, a rate: deliveries/s, latency, loss), connect
 * (connections/s, connect -> greeting), idle (memory per client of the
 * server's tree and of the machine, and after a burst) and scale (one
 * broadcast to many, memory, then SIGINT and the time until the whole
 * tree is gone).  Each sets up its clients, measures, prints its line.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fcbench.h"

/* Processes we watch without a pidfd (out of descriptors): polled. */
static pid_t *polled;
static int *polled_k, npolled, polled_first, pidfds_open;

/* ---- messages ----------------------------------------------------------- */

/* Senders' state, the bitmap, and the latency array. */
static void
msgs_alloc(void)
{
	uint64_t bits = (uint64_t)opt.n * (uint64_t)opt.s * opt.m;

	if (opt.s > opt.n || opt.s < 1)
		die("-s must be 1..-n");
	if (bits > 8ULL * 1024 * 1024 * 1024)
		die("-n x -s x -m too large for the sequence bitmap");
	st.seen = xcalloc((size_t)(bits / 64 + 2), sizeof(uint64_t));
	st.rmax = xcalloc((size_t)opt.n * (size_t)opt.s, sizeof(uint32_t));
	sender_alloc();
	st.latcap = (size_t)opt.s * opt.m * (size_t)(opt.n - 1) + 1;
	st.lat = xcalloc(st.latcap, sizeof(uint64_t));
}

/* Has every receiver got every message of every sender? */
static bool
msgs_done(void)
{
	for (int s = 0; s < opt.s; s++)
		if (snd[s].acked < opt.m)
			return false;
	return true;
}

/* Give up on connections still in flight at the connect deadline. */
static void
drop_inflight(void)
{
	for (int i = 0; i < opt.n; i++)
		if (conns[i].state == C_CONNECTING ||
		    conns[i].state == C_GREETING)
			conn_close(i);
}

/*
 * Clients connected and past the barrier; false (and a line) if not.
 * With partial_ok, a connect deadline leaves us with the clients we have.
 */
static bool
setup_clients(const char *mode, bool partial_ok, double *setup_s)
{
	uint64_t t0 = mono_ns();
	const char *err = NULL;
	bool ok;

	ok = loop_connect(opt.n, opt.P, t0 + opt.deadline_ns);
	st.connect_s = (double)(mono_ns() - t0) / 1e9;
	if (!ok && partial_ok && st.ready >= 2) {
		fprintf(stderr, "fcbench: %s after %.1f s: going on with %d "
		    "of %d clients (%d in flight dropped)\n", st.low_memory ?
		    "low memory" : "connect deadline", st.connect_s, st.ready,
		    opt.n, st.inflight);
		drop_inflight();
		st.partial = ok = true;
	}
	if (!ok)
		err = st.ready < 2 ? "too_few_clients" : "connect_timeout";
	else if (!partial_ok && st.ready < opt.n)
		err = "not_all_connected";
	else if (conns[0].state != C_READY)
		err = "first_client_not_connected";
	else if (!opt.nobarrier && !loop_barrier(mono_ns() + opt.deadline_ns))
		err = "barrier_timeout";
	*setup_s = (double)(mono_ns() - t0) / 1e9;
	if (err == NULL)
		return true;
	out_head(mode);
	printf(" setup_s=%.2f connect_s=%.2f error=%s\n", *setup_s,
	    st.connect_s, err);
	out_fail_why();
	fprintf(stderr, "fcbench: setup failed (%s): %d of %d clients ready, "
	    "%d in flight, barrier %u of %d, after %.1f s\n", err, st.ready,
	    opt.n, st.inflight, st.barrier_got, st.ready - 1, *setup_s);
	return false;
}

/* CPU ticks used so far by the server trees (-S and every -A). */
static uint64_t
servers_ticks(void)
{
	uint64_t ticks = proc_tree_ticks(opt.spid);

	for (int i = 0; i < opt.nalso; i++)
		ticks += proc_tree_ticks(opt.also[i]);
	return ticks;
}

/* CPU ticks used so far by the -S server's root process alone. */
static uint64_t
root_ticks(void)
{
	uint64_t ticks = 0;
	pid_t ppid, pgrp;
	char state;

	if (opt.spid > 0 && proc_stat(opt.spid, &ppid, &pgrp, &state,
	    &ticks) == -1)
		ticks = 0;
	return ticks;
}

/* CPU ticks since t0 (ns), as % of one core. */
static double
cpu_pct(uint64_t ticks, uint64_t t0)
{
	return 100.0 * (double)ticks / (double)sysconf(_SC_CLK_TCK) /
	    ((double)(mono_ns() - t0) / 1e9);
}

/* Send and receive until every message is everywhere or time is up. */
static void
msgs_measure(struct run *m)
{
	uint64_t t0, t1, deadline, ticks0, ticks1, r0, r1, b0, b1, j0, j1;
	uint64_t m0, m1;
	double cpu0;

	ticks0 = servers_ticks();
	m0 = root_ticks();
	r0 = proc_tree_ticks(opt.rpid);
	proc_jiffies(&b0, &j0);
	cpu0 = cpu_s();
	t0 = mono_ns();
	deadline = t0 + opt.deadline_ns;
	st.t_first_send = st.t_progress = t0;
	st.nlat = 0;
	st.ready0 = st.ready;
	for (int s = 0; s < opt.s; s++)
		sender_pump(s, t0);
	while (!msgs_done()) {
		uint64_t now = mono_ns(), stall = st.t_progress + STALL_NS;

		if (now >= deadline || now >= stall)
			break;
		loop_once(stall < deadline ? stall : deadline);
	}
	t1 = st.t_last_delivery > t0 ? st.t_last_delivery : mono_ns();
	m->cpu = cpu_s() - cpu0;
	proc_jiffies(&b1, &j1);
	ticks1 = servers_ticks();
	m1 = root_ticks();
	r1 = proc_tree_ticks(opt.rpid);
	m->elapsed = (double)(t1 - t0) / 1e9;
	m->srv_pct = opt.spid <= 0 ? -1 : cpu_pct(ticks1 - ticks0, t0);
	m->root_pct = opt.spid <= 0 ? -1 : cpu_pct(m1 - m0, t0);
	m->other_pct = opt.rpid <= 0 ? -1 : cpu_pct(r1 - r0, t0);
	m->busy_pct = j1 > j0 ? 100.0 * (double)(b1 - b0) /
	    (double)(j1 - j0) : -1;
}

/* Default mode: senders, window, rate. */
int
run_msgs(void)
{
	struct run m;
	double setup_s;

	msgs_alloc();
	if (!setup_clients("msgs", false, &setup_s))
		return 1;
	msgs_measure(&m);
	out_head("msgs");
	out_msgs(&m);
	out_setup(setup_s);
	printf("\n");
	return st.deliveries == (uint64_t)opt.s * opt.m * (uint64_t)(opt.n - 1)
	    && st.dups == 0 && st.ooo == 0 && st.bad == 0 ? 0 : 3;
}

/* ---- connect ------------------------------------------------------------ */

/* -c: connect, wait for the greeting, close; P at a time. */
int
run_connect(void)
{
	uint64_t t0, t1;
	double el;
	bool ok;

	t0 = mono_ns();
	ok = loop_connect(opt.n, opt.P, t0 + opt.deadline_ns);
	t1 = mono_ns();
	el = (double)(t1 - t0) / 1e9;
	lat_finish();
	printf("scenario=%s mode=connect connects=%d parallel=%d ok=%zu "
	    "failed=%d complete=%d elapsed_s=%.3f conn_per_s=%.0f p50_us=%.1f "
	    "p90_us=%.1f p99_us=%.1f max_us=%.1f client_cpu_pct=%.1f\n",
	    opt.label ? opt.label : "connect", opt.n, opt.P, st.nlat,
	    st.failed, ok, el, (double)st.nlat / el, pct_us(0.5), pct_us(0.9),
	    pct_us(0.99), pct_us(1.0), 100 * cpu_s() / el);
	fprintf(stderr, "%s: %zu of %d connects (%d at a time): %.0f/s, "
	    "connect->greeting p50 %.0f us p99 %.0f us max %.0f us\n",
	    opt.label ? opt.label : "connect", st.nlat, opt.n, opt.P,
	    (double)st.nlat / el, pct_us(0.5), pct_us(0.99), pct_us(1.0));
	out_fail_why();
	return ok && st.failed == 0 ? 0 : 3;
}

/* ---- idle: memory ------------------------------------------------------- */

/* qsort order for longs. */
static int
cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

/* The median of n longs (reordered). */
static long
median_long(long *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_long);
	return v[n / 2];
}

/*
 * Memory of the server tree, and of the machine as the median of
 * SYS_LOOKS looks SYS_GAP_NS apart, events handled meanwhile: someone
 * else's process that lives for a moment shows in one look, not in the
 * median.  What the machine has is shared: others' work moves it.
 */
static void
mem_measure(struct proc_mem *m)
{
	long av[SYS_LOOKS], pt[SYS_LOOKS], sl[SYS_LOOKS], ks[SYS_LOOKS];
	struct proc_sys sys;
	uint64_t until;

	proc_mem(opt.spid, m);
	for (int k = 0; k < SYS_LOOKS; k++) {
		until = mono_ns() + SYS_GAP_NS;
		while (k > 0 && mono_ns() < until)
			loop_once(until);
		if (proc_meminfo(&sys) == -1)
			sys = m->sys;
		av[k] = sys.avail;
		pt[k] = sys.pagetables;
		sl[k] = sys.slab;
		ks[k] = sys.kstack;
	}
	m->sys.avail = median_long(av, SYS_LOOKS);
	m->sys.pagetables = median_long(pt, SYS_LOOKS);
	m->sys.slab = median_long(sl, SYS_LOOKS);
	m->sys.kstack = median_long(ks, SYS_LOOKS);
}

/*
 * Before the baseline, wait until the machine's memory holds still
 * (MemAvailable within QUIET_KIB over QUIET_LOOKS looks), QUIET_MAX_NS
 * at most: a server stopped just before goes on giving memory back for
 * a while (what waited for an RCU grace period, emptied slabs), which
 * would otherwise count against the next.  Returns the seconds waited,
 * negative if the memory never settled.
 */
static double
machine_quiet(void)
{
	uint64_t t0 = mono_ns(), until;
	long v[QUIET_LOOKS], lo, hi;
	struct proc_sys sys;

	for (int k = 0; mono_ns() < t0 + QUIET_MAX_NS; k++) {
		if (proc_meminfo(&sys) == -1)
			return 0;
		v[k % QUIET_LOOKS] = sys.avail;
		if (k + 1 >= QUIET_LOOKS) {
			lo = hi = v[0];
			for (int j = 1; j < QUIET_LOOKS; j++) {
				lo = v[j] < lo ? v[j] : lo;
				hi = v[j] > hi ? v[j] : hi;
			}
			if (hi - lo <= QUIET_KIB)
				return (double)(mono_ns() - t0) / 1e9;
		}
		until = mono_ns() + QUIET_GAP_NS;
		while (mono_ns() < until)
			loop_once(until);
	}
	fprintf(stderr, "fcbench: MemAvailable did not settle in %.0f s: "
	    "the machine's figures will be noisy\n",
	    (double)QUIET_MAX_NS / 1e9);
	return -(double)(mono_ns() - t0) / 1e9;
}

/* Handle events for the settling time (-W): let the server go idle. */
static void
settle(void)
{
	uint64_t until = mono_ns() + opt.settle_ns;

	while (mono_ns() < until)
		loop_once(until);
}

/*
 * -i -B: a burst of traffic to idle clients (-s senders x -m lines,
 * window -w), then idle again: what the burst left in memory.
 */
static void
idle_burst(const struct proc_mem *base)
{
	struct proc_mem m;
	struct run r;
	uint64_t expected = (uint64_t)opt.s * opt.m * (uint64_t)(st.ready - 1);

	msgs_measure(&r);
	out_kv("burst_", "deliveries_per_s", (double)st.deliveries /
	    r.elapsed);
	out_kv("burst_", "lost", (double)(expected - st.deliveries));
	settle();
	mem_measure(&m);
	out_mem("burst_", base, &m);
}

/* -i: hold the clients, let things settle, measure memory. */
int
run_idle(void)
{
	struct proc_mem base, m;
	double setup_s, quiet;

	if (opt.spid <= 0)
		die("-i needs -S PID");
	if (opt.burst && opt.nobarrier)
		die("-B needs a server that relays: not with -N");
	if (opt.burst)
		msgs_alloc();
	quiet = machine_quiet();
	mem_measure(&base);
	if (!setup_clients("idle", true, &setup_s))
		return 1;
	settle();
	mem_measure(&m);
	out_head("idle");
	out_kv("", "mem_quiet_s", quiet);
	out_mem("", &base, &m);
	out_setup(setup_s);
	if (opt.burst)
		idle_burst(&base);
	printf("\n");
	out_fail_why();
	return st.ready == opt.n ? 0 : 3;
}

/* ---- scale: a broadcast to many, then SIGINT ---------------------------- */

/* Check the polled processes in order, stopping at the first alive. */
static void
poll_pids(uint64_t now)
{
	while (polled_first < npolled && proc_exited(polled[polled_first]))
		loop_pid_gone(polled_k[polled_first++], now);
}

/* Watch process k of the tree: a pidfd while descriptors last. */
static void
watch_pid(int k, pid_t pid, int budget)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int fd;

	if (pidfds_open < budget) {
		if ((fd = (int)syscall(SYS_pidfd_open, pid, 0)) == -1) {
			loop_pid_gone(k, mono_ns());	/* already gone */
			return;
		}
		ev.data.u64 = PIDFD_TAG | (uint64_t)k;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == -1)
			die("epoll_ctl pidfd: %s", strerror(errno));
		pidfds_open++;
		return;
	}
	polled[npolled] = pid;
	polled_k[npolled++] = k;
}

/* -K: SIGINT the server; time until it, its tree and our clients end. */
static void
shutdown_measure(void)
{
	struct rlimit rl;
	struct proc_tree t;
	pid_t ppid, pgrp = -1;
	uint64_t t0, deadline, ticks, now;
	int budget;
	char state;

	if (proc_tree(opt.spid, &t) == -1)
		die("cannot scan /proc for the tree of %d", (int)opt.spid);
	if (proc_stat(opt.spid, &ppid, &pgrp, &state, &ticks) == -1 ||
	    pgrp != opt.spid)
		pgrp = -1;	/* not a group leader: no stray check */
	getrlimit(RLIMIT_NOFILE, &rl);
	budget = (int)rl.rlim_cur - opt.n - 32;
	npidfds = t.n;
	st.pids_gone_at = xcalloc((size_t)t.n, sizeof(uint64_t));
	polled = xcalloc((size_t)t.n, sizeof(pid_t));
	polled_k = xcalloc((size_t)t.n, sizeof(int));
	for (int k = 0; k < t.n; k++)
		watch_pid(k, t.pids[k], budget);
	st.t_clients_closed = 0;
	t0 = mono_ns();
	if (kill(opt.spid, SIGINT) == -1)
		die("kill %d: %s", (int)opt.spid, strerror(errno));
	deadline = t0 + opt.deadline_ns;
	while ((st.pids_gone < npidfds || st.ready > 0) &&
	    (now = mono_ns()) < deadline) {
		/* Polled ones are looked at every 5 ms; pidfds wake us. */
		loop_once(polled_first < npolled && now + 5000000 < deadline ?
		    now + 5000000 : deadline);
		poll_pids(mono_ns());
	}
	out_shutdown(t.n, t0, pgrp > 0 ? proc_strays(pgrp) : -1, npolled);
	free(t.pids);
}

/* -x: hold the clients, broadcast -m times, optionally shut down. */
int
run_scale(void)
{
	struct proc_mem base = { 0 }, m = { 0 };
	struct run r;
	double setup_s, quiet = 0;

	opt.s = 1;
	opt.w = 1;		/* one broadcast at a time */
	opt.r = 0;
	msgs_alloc();
	if (opt.spid > 0) {
		quiet = machine_quiet();
		mem_measure(&base);
	}
	if (!setup_clients("scale", true, &setup_s))
		return 1;
	msgs_measure(&r);
	if (opt.spid > 0)
		mem_measure(&m);
	out_head("scale");
	out_msgs(&r);
	if (opt.spid > 0) {
		out_kv("", "mem_quiet_s", quiet);
		out_mem("", &base, &m);
	}
	out_setup(setup_s);
	if (opt.kill && opt.spid > 0)
		shutdown_measure();
	printf("\n");
	out_fail_why();
	return 0;
}
