/*
 * fcstat.c - what fcbench measured, and how it says so: the clock, the
 * latency samples and their percentiles (and -D's distribution), our own
 * CPU, the key=value line on stdout and the summary on stderr.  Also
 * the few calls every part needs: die() for setup we cannot do without,
 * xcalloc().  Nothing here calls another part of fcbench.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "fcbench.h"

struct stats st;

/* Now, CLOCK_MONOTONIC, in ns: the clock embedded in every message. */
uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS + (uint64_t)ts.tv_nsec;
}

/* Print a message and exit 1: setup we cannot do without. */
_Noreturn void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "fcbench: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

/* calloc or die. */
void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (p == NULL)
		die("out of memory (%zu x %zu)", n, size);
	return p;
}

/* Remember why the first connection failed; count every failure. */
void
note_failure(const char *fmt, ...)
{
	va_list ap;

	if (st.failed++ == 0) {
		va_start(ap, fmt);
		vsnprintf(st.fail_why, sizeof(st.fail_why), fmt, ap);
		va_end(ap);
	}
}

/* Record one latency sample (ns). */
void
lat_add(uint64_t v)
{
	if (st.nlat == st.latcap) {
		st.latcap = st.latcap ? st.latcap * 2 : 65536;
		st.lat = realloc(st.lat, st.latcap * sizeof(*st.lat));
		if (st.lat == NULL)
			die("out of memory for latencies");
	}
	st.lat[st.nlat++] = v;
}

/* qsort order for latencies. */
static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* q-quantile of the sorted latencies, in microseconds. */
double
pct_us(double q)
{
	if (st.nlat == 0)
		return -1;
	return (double)st.lat[(size_t)(q * (double)(st.nlat - 1) + 0.5)] /
	    1e3;
}

/*
 * -D: the latency distribution for a plot, as lines "x percentile us",
 * x = -log10(1 - percentile/100) in steps of 0.01 (so the tail gets as
 * many points as the body) up to the last sample, then the maximum at
 * x = log10(samples).  The latencies must be sorted.
 */
static void
lat_dump(void)
{
	const double step = 0.977237220955810;	/* 10^-0.01 */
	double tail = 1;			/* 1 - q */
	double xmax;
	size_t i;
	FILE *f;

	if (opt.dump == NULL || st.nlat == 0)
		return;
	xmax = log10((double)st.nlat);
	if ((f = fopen(opt.dump, "we")) == NULL) {
		fprintf(stderr, "fcbench: %s: %s\n", opt.dump, strerror(errno));
		return;
	}
	fprintf(f, "# %s: %zu samples\n# x percentile latency_us\n",
	    opt.label ? opt.label : "latency", st.nlat);
	for (int k = 0; k < 100 * xmax; k++) {
		i = (size_t)((1 - tail) * (double)(st.nlat - 1) + 0.5);
		fprintf(f, "%.2f %.5f %.1f\n", k / 100.0, 100 * (1 - tail),
		    (double)st.lat[i] / 1e3);
		tail *= step;
	}
	fprintf(f, "%.2f 100 %.1f\n", xmax,
	    (double)st.lat[st.nlat - 1] / 1e3);
	if (fclose(f) == EOF)
		fprintf(stderr, "fcbench: %s: %s\n", opt.dump, strerror(errno));
}

/* The run is over: sort the latencies, and write them out for -D. */
void
lat_finish(void)
{
	qsort(st.lat, st.nlat, sizeof(*st.lat), cmp_u64);
	lat_dump();
}

/* Our own CPU time so far (user + system), seconds. */
double
cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Start of the output line, common to every mode. */
void
out_head(const char *mode)
{
	printf("scenario=%s mode=%s clients_wanted=%d clients=%d failed=%d",
	    opt.label ? opt.label : mode, mode, opt.n, st.ready, st.failed);
}

/* Say why connections failed, if any did. */
void
out_fail_why(void)
{
	if (st.failed > 0)
		fprintf(stderr, "fcbench: %d connection(s) failed; first: %s\n",
		    st.failed, st.fail_why);
}

/* How long the setup took and whether it was cut short. */
void
out_setup(double setup_s)
{
	printf(" setup_s=%.2f connect_s=%.2f partial=%d low_memory=%d", setup_s,
	    st.connect_s, st.partial, st.low_memory);
}

/* Latency, loss and rate figures of a messages run. */
void
out_msgs(const struct run *m)
{
	double elapsed = m->elapsed, cpu = m->cpu, srv_cpu_pct = m->srv_pct;
	uint64_t expected = (uint64_t)opt.s * opt.m * (uint64_t)(st.ready0 - 1);
	uint64_t sent = 0;

	for (int s = 0; s < opt.s; s++)
		sent += snd[s].next;
	lat_finish();
	printf(" senders=%d msgs=%u bytes=%u rate=%g window=%u sent=%" PRIu64
	    " expected=%" PRIu64 " deliveries=%" PRIu64 " lost=%" PRIu64
	    " dup=%" PRIu64 " ooo=%" PRIu64 " bad=%" PRIu64 " echo=%" PRIu64
	    " closed=%d elapsed_s=%.3f deliveries_per_s=%.0f msgs_per_s=%.0f",
	    opt.s, opt.m, opt.b, opt.r, opt.w, sent, expected, st.deliveries,
	    expected - st.deliveries, st.dups, st.ooo, st.bad, st.echo,
	    st.closed, elapsed, (double)st.deliveries / elapsed,
	    (double)sent / elapsed);
	if (st.nlat > 0)	/* no samples, no latency keys */
		printf(" p50_us=%.1f p90_us=%.1f p99_us=%.1f p999_us=%.1f "
		    "max_us=%.1f", pct_us(0.5), pct_us(0.9), pct_us(0.99),
		    pct_us(0.999), pct_us(1.0));
	printf(" client_cpu_s=%.3f client_cpu_pct=%.1f", cpu,
	    100 * cpu / elapsed);
	if (srv_cpu_pct >= 0)
		printf(" server_cpu_pct=%.1f master_cpu_pct=%.1f", srv_cpu_pct,
		    m->root_pct);
	if (m->other_pct >= 0)
		printf(" other_cpu_pct=%.1f", m->other_pct);
	if (m->busy_pct >= 0)
		printf(" machine_busy_pct=%.1f", m->busy_pct);
	printf(" notices=%" PRIu64 " errs=%" PRIu64 " other=%" PRIu64,
	    st.notices, st.errs, st.other);
	fprintf(stderr, "%s: %d clients, %d sender(s) x %u msgs of %u B: "
	    "%.0f deliveries/s, latency p50 %.0f us p99 %.0f us max %.0f us "
	    "(-1: none), lost %" PRIu64 " dup %" PRIu64 " ooo %" PRIu64
	    "; our CPU %.0f%%, server tree%s CPU %.0f%%, machine %.0f%% busy",
	    opt.label ? opt.label : "msgs", st.ready, opt.s, opt.m, opt.b,
	    (double)st.deliveries / elapsed, pct_us(0.5), pct_us(0.99),
	    pct_us(1.0), expected - st.deliveries, st.dups, st.ooo,
	    100 * cpu / elapsed, opt.nalso > 0 ? "s" : "", srv_cpu_pct,
	    m->busy_pct);
	if (m->other_pct >= 0)
		fprintf(stderr, ", -R tree CPU %.0f%%", m->other_pct);
	fprintf(stderr, "\n");
}

/* One figure of the output line: " PREFIXKEY=V". */
void
out_kv(const char *pfx, const char *key, double v)
{
	if (v == (double)(long)v)
		printf(" %s%s=%ld", pfx, key, (long)v);
	else
		printf(" %s%s=%.1f", pfx, key, v);
}

/*
 * Memory of the tree and of the machine, totals and per client, keys
 * named with prefix pfx.  The machine's figures are what it lost since
 * base, less what we grew by ourselves: the server's processes and
 * every kernel structure the clients cost, ours included (sockets).
 */
void
out_mem(const char *pfx, const struct proc_mem *base,
    const struct proc_mem *m)
{
	double n = st.ready > 0 ? st.ready : 1;
	long self = m->self_kib - base->self_kib;
	long drop = base->sys.avail - m->sys.avail;

	out_kv(pfx, "procs", m->procs);
	out_kv(pfx, "pss_total_kib", (double)m->pss_kib);
	out_kv(pfx, "pss_per_client_kib", (double)m->pss_kib / n);
	out_kv(pfx, "pss_marginal_kib", (double)(m->pss_kib - base->pss_kib) /
	    n);
	out_kv(pfx, "pte_per_client_kib", (double)m->pte_kib / n);
	out_kv(pfx, "root_rss_kib", (double)m->root_rss_kib);
	out_kv(pfx, "memavail_drop_kib", (double)drop);
	out_kv(pfx, "bench_growth_kib", (double)self);
	out_kv(pfx, "sys_per_client_kib", (double)(drop - self) / n);
	out_kv(pfx, "pagetables_per_client_kib", (double)(m->sys.pagetables -
	    base->sys.pagetables) / n);
	out_kv(pfx, "slab_per_client_kib", (double)(m->sys.slab -
	    base->sys.slab) / n);
	out_kv(pfx, "kstack_per_client_kib", (double)(m->sys.kstack -
	    base->sys.kstack) / n);
	/* The same from its parts: what each grew by since base. */
	out_kv(pfx, "parts_per_client_kib", ((double)(m->pss_kib -
	    base->pss_kib) +
	    (double)(m->sys.pagetables - base->sys.pagetables) +
	    (double)(m->sys.slab - base->sys.slab) +
	    (double)(m->sys.kstack - base->sys.kstack)) / n);
	fprintf(stderr, "memory%s%s: %d processes, PSS %ld KiB = %.1f KiB per "
	    "client (%.1f KiB above the idle server), page tables %.1f KiB "
	    "per client, root RSS %ld KiB; machine: %.1f KiB per client "
	    "(MemAvailable -%ld KiB, of it ours %ld KiB), PageTables %.1f, "
	    "Slab %.1f, KernelStack %.1f KiB per client\n", *pfx ? " " : "",
	    pfx, m->procs, m->pss_kib, (double)m->pss_kib / n,
	    (double)(m->pss_kib - base->pss_kib) / n, (double)m->pte_kib / n,
	    m->root_rss_kib, (double)(drop - self) / n, drop, self,
	    (double)(m->sys.pagetables - base->sys.pagetables) / n,
	    (double)(m->sys.slab - base->sys.slab) / n,
	    (double)(m->sys.kstack - base->sys.kstack) / n);
}

/* Print the shutdown figures. */
void
out_shutdown(int procs, uint64_t t0, int stray, int npolled)
{
	double root = st.t_root_gone ? (double)(st.t_root_gone - t0) / 1e6 :
	    -1.0;
	double tree = st.t_tree_gone ? (double)(st.t_tree_gone - t0) / 1e6 :
	    -1.0;
	double cl = st.t_clients_closed ?
	    (double)(st.t_clients_closed - t0) / 1e6 : -1.0;

	printf(" procs_at_sigint=%d shutdown_ms=%.1f tree_gone_ms=%.1f "
	    "clients_closed_ms=%.1f procs_left=%d clients_left=%d stray=%d "
	    "byes=%" PRIu64 " polled_pids=%d", procs, root, tree, cl,
	    npidfds - st.pids_gone, st.ready, stray, st.byes, npolled);
	fprintf(stderr, "shutdown: SIGINT to a tree of %d processes; root "
	    "gone after %.0f ms, all after %.0f ms, clients closed after "
	    "%.0f ms; %d processes and %d clients left, %d strays, %" PRIu64
	    " goodbyes\n", procs, root, tree, cl, npidfds - st.pids_gone,
	    st.ready, stray, st.byes);
}
