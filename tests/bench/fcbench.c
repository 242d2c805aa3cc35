/*
 * fcbench.c - benchmark client for forkchat-style line chat servers.
 *
 * One process, one epoll loop, non-blocking sockets.  Every mode first
 * opens -n connections (-P at a time) and waits for each greeting; all
 * but the connect mode then pass a barrier: one client sends a marker
 * and we wait until every other client has it, so the flood of "***
 * guestN joined" notices is behind us before anything is measured (the
 * server relays in one global order).
 *
 *   default  messages: -s senders (clients 0..s-1) send -m messages of
 *            -b bytes, "B <sender> <seq> <t_ns> xxx..", at -r msgs/s each
 *            (0: as fast as the window allows) with at most -w in flight
 *            behind the slowest receiver.  Reports deliveries/s, latency
 *            percentiles (receive time - embedded CLOCK_MONOTONIC send
 *            time), lost/dup/out-of-order, and our own CPU use.
 *   -c       connect: -n connects, -P at a time, each closed after its
 *            greeting; connections/s and connect->greeting latency.
 *   -i       idle: hold -n clients, then PSS summed over the process tree
 *            of -S PID (smaps_rollup), per client, and the root's RSS;
 *            and the machine's memory per client: how much MemAvailable
 *            fell since before we connected, less what we grew by
 *            ourselves, and how much PageTables, Slab and KernelStack
 *            grew.  With -B, then a burst of traffic as in the default
 *            mode (-s, -m, -b, -w), idle again (-W), and the same
 *            figures ("burst_" keys).  -N skips the barrier, for a
 *            server that relays nothing (the fork floor).
 *   -x       scale: hold -n clients, one client sends -m (default 1)
 *            broadcasts one after another; time until all others have
 *            each, and memory as with -i.  With -K, then SIGINT -S PID
 *            and time until it and every descendant are gone (pidfds)
 *            and every client closed.
 *
 * -p may list several ports, "-p 2001,2002,2003": client i connects to
 * the (i mod count)-th, so clients and senders spread over the servers
 * of a cluster, which deliver in one order all the same; -A adds the
 * other servers' trees to the server CPU, -R names one more process
 * (Redis) whose CPU is reported apart.
 *
 * Every socket is closed with a reset (SO_LINGER 0), so that we leave
 * no TIME_WAIT behind to slow down later connects.  -D FILE writes the
 * latency distribution for a plot.
 *
 * Output: one line of key=value on stdout, a summary on stderr.
 * This file reads the options and sets the limits; fcbench.h says
 * which file does what.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#include "fcbench.h"

struct options opt = { .host = "127.0.0.1", .n = 10, .s = 1, .m = 1000,
	.b = 64, .w = 64, .mode = M_MSGS, .deadline_ns = 60 * NS,
	.settle_ns = NS };

/* Descriptors: need is a must, want (pidfds too) is nice to have. */
static void
raise_nofile(rlim_t need, rlim_t want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		die("getrlimit: %s", strerror(errno));
	if (rl.rlim_cur >= want)
		return;
	if (rl.rlim_max < want) {	/* root may raise the hard limit */
		struct rlimit up = { want, want };

		if (setrlimit(RLIMIT_NOFILE, &up) == 0)
			return;
	}
	rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
	if (rl.rlim_cur < need || setrlimit(RLIMIT_NOFILE, &rl) == -1)
		die("cannot raise RLIMIT_NOFILE to %llu (hard limit %llu); "
		    "try ulimit -n", (unsigned long long)need,
		    (unsigned long long)rl.rlim_max);
}

/* Print usage and exit 2. */
_Noreturn static void
usage(void)
{
	fprintf(stderr,
	    "usage: fcbench -p PORT[,PORT...] [-h HOST] [-n CLIENTS]\n"
	    "         [-L LABEL] [-T SECS] [-s SENDERS] [-m MSGS] [-b BYTES]\n"
	    "         [-r RATE] [-w WINDOW] [-S PID [-A PID...] [-R PID]]\n"
	    "       fcbench -c -p PORT -n CONNECTS [-P PARALLEL]\n"
	    "       fcbench -i -p PORT -n CLIENTS -S PID [-W SETTLE_MS]\n"
	    "         [-B [-s SENDERS] [-m MSGS] [-b BYTES] [-w WINDOW] | -N]\n"
	    "       fcbench -x -p PORT -n CLIENTS [-m BROADCASTS]\n"
	    "         [-S PID [-K]]\n"
	    "  -r 0: as fast as the window allows; -w 0: no window\n"
	    "  -P: connects in flight (default 1 with -c, else 64)\n"
	    "  -T: deadline of each phase (default 60 s)\n"
	    "  -D FILE: latency percentiles to FILE (all but -i)\n"
	    "  -N: no barrier, for a server that relays nothing\n"
	    "  -p 1,2,3: client i connects to the (i mod 3)-th port\n"
	    "  -A PID: (messages) one more server tree in server_cpu_pct\n"
	    "  -R PID: (messages) that tree's CPU apart, other_cpu_pct\n");
	exit(2);
}

/* A decimal option value in lo..hi, or exit 2. */
static long
num(const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < lo || v > hi) {
		fprintf(stderr, "fcbench: '%s' is not a number in %ld..%ld\n",
		    s, lo, hi);
		exit(2);
	}
	return v;
}

/* "-p PORT[,PORT...]": every port, into sa[] (the address comes later). */
static void
ports(char *list)
{
	char *save = NULL, *p;

	for (p = strtok_r(list, ",", &save); p != NULL;
	    p = strtok_r(NULL, ",", &save)) {
		if (nsa == PORTS_MAX)
			die("-p: more than %d ports", PORTS_MAX);
		sa[nsa].sin_family = AF_INET;
		sa[nsa++].sin_port = htons((uint16_t)num(p, 1, 65535));
	}
	opt.port = nsa > 0 ? ntohs(sa[0].sin_port) : 0;
}

/* Options, limits, then the mode. */
int
main(int argc, char **argv)
{
	int o, rc;

	while ((o = getopt(argc, argv,
	    "h:p:n:s:m:b:r:w:cP:iS:A:R:xKBND:T:W:L:")) != -1) {
		switch (o) {
		case 'h': opt.host = optarg; break;
		case 'p': ports(optarg); break;
		case 'n': opt.n = (int)num(optarg, 1, 1000000); break;
		case 's': opt.s = (int)num(optarg, 1, 100000); break;
		case 'm': opt.m = (uint32_t)num(optarg, 1, 100000000); break;
		case 'b': opt.b = (uint32_t)num(optarg, 1, 4000); break;
		case 'r': opt.r = strtod(optarg, NULL); break;
		case 'w': opt.w = (uint32_t)num(optarg, 0, 100000000); break;
		case 'c': opt.mode = M_CONNECT; break;
		case 'P': opt.P = (int)num(optarg, 1, 100000); break;
		case 'i': opt.mode = M_IDLE; break;
		case 'S': opt.spid = (pid_t)num(optarg, 1, 1 << 30); break;
		case 'A':
			if (opt.nalso == PORTS_MAX)
				die("-A: more than %d", PORTS_MAX);
			opt.also[opt.nalso++] = (pid_t)num(optarg, 1, 1 << 30);
			break;
		case 'R': opt.rpid = (pid_t)num(optarg, 1, 1 << 30); break;
		case 'x': opt.mode = M_SCALE; break;
		case 'K': opt.kill = true; break;
		case 'B': opt.burst = true; break;
		case 'N': opt.nobarrier = true; break;
		case 'D': opt.dump = optarg; break;
		case 'T':
			opt.deadline_ns = (uint64_t)num(optarg, 1, 86400) * NS;
			break;
		case 'W': opt.settle_ns = (uint64_t)num(optarg, 0, 3600000) *
			1000000ULL; break;
		case 'L': opt.label = optarg; break;
		default: usage();
		}
	}
	if (opt.port == 0 || optind != argc || opt.r < 0)
		usage();
	if (opt.P == 0)
		opt.P = opt.mode == M_CONNECT ? 1 : 64;
	if (opt.mode == M_SCALE && opt.m == 1000)
		opt.m = 1;		/* the -m default means one broadcast */
	for (int i = 0; i < nsa; i++)
		if (inet_pton(AF_INET, opt.host, &sa[i].sin_addr) != 1)
			die("-h wants an IPv4 address, got '%s'", opt.host);
	raise_nofile((rlim_t)opt.n + 64,
	    (rlim_t)opt.n * (opt.kill ? 2 : 1) + 64);
	signal(SIGPIPE, SIG_IGN);
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		die("epoll_create1: %s", strerror(errno));
	conns = xcalloc((size_t)opt.n, sizeof(*conns));
	switch (opt.mode) {
	case M_CONNECT: rc = run_connect(); break;
	case M_IDLE: rc = run_idle(); break;
	case M_SCALE: rc = run_scale(); break;
	default: rc = run_msgs(); break;
	}
	fflush(stdout);
	return rc;
}
