# tests/bench/table.awk - the tables of a bench run, from its results file.
#
#   awk -f table.awk RESULTS              the table of the aims (Markdown)
#   awk -v details=1 -f table.awk RESULTS every figure, every server
#   awk -v sweep=fc -f table.awk RESULTS  the scaling sweep of one server,
#                                         for the plot
#
# RESULTS holds one line of key=value per server, scenario and run (what
# fcbench printed, plus server=, run= and the stop figures), and lines
# "# params k=v ...", "# machine: ..." and "# command: ..." from ./run.
# Headline figures are medians [min-max] over the runs; a ratio is the
# ratio of the medians; an aim "in every run" is checked on every run.
# S6 (a cluster, forkchatd alone) is set against forkchatd's S2: one
# server under the same load, in the same run.

# Split "k=v k=v" fields from position `from` into the array kv.
function parse(kv, from,    i, eq) {
	for (i = from; i <= NF; i++) {
		eq = index($i, "=")
		if (eq > 0)
			kv[substr($i, 1, eq - 1)] = substr($i, eq + 1)
	}
}

# Sorted values of key in scenario sc for server srv, into a[1..n].
function values(sc, srv, key, a,    c, i, j, t) {
	c = cnt[sc, srv, key]
	for (i = 1; i <= c; i++)
		a[i] = val[sc, srv, key, i]
	for (i = 2; i <= c; i++) {
		t = a[i]
		for (j = i - 1; j >= 1 && a[j] > t; j--)
			a[j + 1] = a[j]
		a[j + 1] = t
	}
	return c
}

# Median (and MIN, MAX, N) of key; "" when no run has it.
function median(sc, srv, key,    a, c) {
	c = values(sc, srv, key, a)
	N = c
	if (c == 0)
		return ""
	MIN = a[1]
	MAX = a[c]
	return (c % 2) ? a[(c + 1) / 2] : (a[c / 2] + a[c / 2 + 1]) / 2
}

# Digits grouped by thin spaces, as the README writes them: 13 628.
function group(x,    s, neg, out) {
	s = sprintf("%.0f", x)
	neg = (substr(s, 1, 1) == "-")
	if (neg)
		s = substr(s, 2)
	out = ""
	while (length(s) > 3) {
		out = " " substr(s, length(s) - 2) out
		s = substr(s, 1, length(s) - 3)
	}
	return (neg ? "-" : "") s out
}

# x in the unit of kind: rate, us (shown as us or ms), ms, kib, mib, s,
# pct, int, raw.
function fmt(x, kind) {
	if (x == "")
		return "n/a"
	if (kind == "raw")
		return sprintf("%.6g", x)
	if (kind == "rate")
		return x >= 1e6 ? sprintf("%.2f M", x / 1e6) : group(x)
	if (kind == "us")
		return x >= 999.5 ? fmt(x / 1000, "ms") : sprintf("%.0f µs", x)
	if (kind == "ms")
		return x >= 99.95 ? sprintf("%.0f ms", x) : sprintf("%.1f ms", x)
	if (kind == "kib")
		return sprintf("%.1f KiB", x)
	if (kind == "mib")
		return sprintf("%.1f MiB", x / 1024)
	if (kind == "s")
		return sprintf("%.1f s", x)
	if (kind == "pct")
		return sprintf("%.0f %%", x)
	return group(x)
}

# Median [min-max] of key, formatted; sets MED.
function cell(sc, srv, key, kind,    m) {
	m = median(sc, srv, key)
	MED = m
	if (m == "")
		return "n/a"
	if (N == 1 || MIN == MAX)
		return fmt(m, kind)
	return sprintf("%s [%s–%s]", fmt(m, kind), fmt(MIN, kind),
	    fmt(MAX, kind))
}

# Medians of several keys ("a/b/c"), formatted, joined by " / ".
function cells(sc, srv, keys, kind,    k, n, i, s, m) {
	n = split(keys, k, "/")
	s = ""
	for (i = 1; i <= n; i++) {
		m = median(sc, srv, k[i])
		s = s (i > 1 ? " / " : "") fmt(m, kind)
	}
	return s
}

# Ratio of two medians, or "-".
function ratio(a, b) {
	return (a == "" || b == "" || b == 0) ? "-" : sprintf("%.2f", a / b)
}

# Did a run of scenario sc hold fewer clients than asked?
function is_partial(sc) {
	return partial[sc, "fc"] || partial[sc, "ref"]
}

# One row of the Markdown table, unless its scenario was not run.
function out(label, fc, cmp, r, aim, verdict) {
	if (skip)
		return
	printf "| %s | %s | %s | %s | %s | %s |\n", label, fc, cmp, r, aim,
	    verdict
}

# A row measured on both servers: value, reference, ratio, aim.  test
# is "ratio>=X", "ratio<=X", "<X", "<=X", "=X" (on the median) or
# "max<X", "max=X" (on every run); "" for a row without an aim.
function row(label, sc, key, kind, test, aim,    a, b, fm, rm, r, v) {
	skip = !(sc in seen_sc)
	a = cell(sc, "fc", key, kind)
	fm = MED
	b = cell(sc, "ref", key, kind)
	rm = MED
	r = ratio(fm, rm)
	v = verdict(sc, "fc", key, fm, r, test)
	out(label, a, b, r, aim, v)
}

# Like row, but against the fork floor, with refchat shown too.
function row_floor(label, sc, key, kind, test, aim,    a, b, c, fm, lm, r) {
	skip = !(sc in seen_sc)
	a = cell(sc, "fc", key, kind)
	fm = MED
	b = cell(sc, "floor", key, kind)
	lm = MED
	c = cell(sc, "ref", key, kind)
	r = ratio(fm, lm)
	out(label, a, "fork floor " b "; refchat " c, r, aim,
	    verdict(sc, "fc", key, fm, r, test))
}

# A row measured on forkchatd, refchat and the fork floor: ratios to
# both.
function row_both(label, sc, key, kind, test, aim,    a, b, c, fm, rm, lm) {
	skip = !(sc in seen_sc)
	a = cell(sc, "fc", key, kind)
	fm = MED
	b = cell(sc, "ref", key, kind)
	rm = MED
	c = cell(sc, "floor", key, kind)
	lm = MED
	out(label, a, "refchat " b "; fork floor " c, ratio(fm, rm) " / " \
	    ratio(fm, lm), aim, verdict(sc, "fc", key, fm, "", test))
}

# A row of several figures without an aim: forkchatd, refchat and, if
# it ran this scenario, the fork floor.
function row_multi(label, sc, keys, kind,    k, n, i, r, b) {
	skip = !(sc in seen_sc)
	n = split(keys, k, "/")
	r = ""
	for (i = 1; i <= n; i++)
		r = r (i > 1 ? " / " : "") ratio(median(sc, "fc", k[i]),
		    median(sc, "ref", k[i]))
	b = cells(sc, "ref", keys, kind)
	if (cnt[sc, "floor", k[1]] > 0)
		b = "refchat " b "; fork floor " cells(sc, "floor", keys, kind)
	out(label, cells(sc, "fc", keys, kind), b, r, "", "")
}

# A row of S6 (forkchatd only: a cluster) against S2 of forkchatd (one
# server, the same load), each figure of keys ("a/b") and its ratio;
# test and aim on the first key, as in row.
function row_s6(label, keys, kind, test, aim,    k, n, i, r, v, one) {
	skip = !("S6" in seen_sc)
	n = split(keys, k, "/")
	r = ""
	for (i = 1; i <= n; i++)
		r = r (i > 1 ? " / " : "") ratio(median("S6", "fc", k[i]),
		    median("S2", "fc", k[i]))
	v = verdict("S6", "fc", k[1], median("S6", "fc", k[1]), r, test)
	one = "-"
	if (cnt["S2", "fc", k[1]] > 0)
		one = "one server (S2): " cells("S2", "fc", keys, kind)
	out(label, cells("S6", "fc", keys, kind), one, r, aim, v)
}

# met, missed or n/a for one aim.
function verdict(sc, srv, key, m, r, test,    a, c, i, lim, ok) {
	if (test == "")
		return ""
	if (m == "" || (is_partial(sc) && key !~ /^(clients|left|exit|lost)$/))
		return "n/a"
	ok = 1
	if (test ~ /^max/) {		# every run
		c = values(sc, srv, key, a)
		lim = substr(test, 5) + 0
		for (i = 1; i <= c; i++)
			if ((test ~ /^max</ && !(a[i] < lim)) ||
			    (test ~ /^max=/ && a[i] != lim))
				ok = 0
	} else if (test ~ /^ratio>=/)
		ok = r != "-" && r + 0 >= substr(test, 8) + 0
	else if (test ~ /^ratio<=/)
		ok = r != "-" && r + 0 <= substr(test, 8) + 0
	else if (test ~ /^<=/)
		ok = m <= substr(test, 3) + 0
	else if (test ~ /^</)
		ok = m < substr(test, 2) + 0
	else if (test ~ /^=/)
		ok = m == substr(test, 2) + 0
	return ok ? "met" : "**missed**"
}

/^# params / {
	parse(P, 3)
	next
}
/^# machine: / || /^# command: / {
	sub(/^# /, "")
	if ($0 ~ /^machine/)
		machine = $0
	else
		command = $0
	next
}
/^#/ { next }
{
	delete kv
	parse(kv, 1)
	srv = kv["server"]
	sc = kv["scenario"]
	servers[srv] = 1
	if (!(sc in seen_sc)) {
		seen_sc[sc] = 1
		order[++nsc] = sc
	}
	if ("error" in kv)
		err[sc, srv] = err[sc, srv] " run" kv["run"] ":" kv["error"]
	if (kv["partial"] == 1) {
		err[sc, srv] = err[sc, srv] " run" kv["run"] ":partial(" \
		    kv["clients"] "/" kv["clients_wanted"] \
		    (kv["low_memory"] == 1 ? ",low_memory" : "") ")"
		partial[sc, srv] = 1
	}
	if ("lost" in kv)
		kv["lost"] += kv["dup"] + kv["ooo"] + kv["bad"]
	if ("procs_left" in kv)
		kv["left"] += kv["procs_left"] + (kv["stray"] > 0 ? kv["stray"] : 0)
	if ("error" in kv)
		next
	for (k in kv) {
		if (k == "server" || k == "scenario" || k == "mode")
			continue
		c = ++cnt[sc, srv, k]
		val[sc, srv, k, c] = kv[k] + 0
		keys[sc, k] = 1
	}
}

# Every figure of every scenario: medians [min-max] per server.
function print_details(    i, sc, k, n, list, j, t) {
	printf "%-8s %-28s %-28s %-28s %s\n", "scen.", "key", "forkchatd",
	    "refchat", "forkfloor"
	for (i = 1; i <= nsc; i++) {
		sc = order[i]
		n = 0
		for (k in keys)
			if (index(k, sc SUBSEP) == 1)
				list[++n] = substr(k, length(sc) + 2)
		for (j = 2; j <= n; j++) {	# sorted, for a stable file
			t = list[j]
			for (k = j - 1; k >= 1 && list[k] > t; k--)
				list[k + 1] = list[k]
			list[k + 1] = t
		}
		for (j = 1; j <= n; j++)
			printf "%-8s %-28s %-28s %-28s %s\n", sc, list[j],
			    cell(sc, "fc", list[j], "raw"),
			    cell(sc, "ref", list[j], "raw"),
			    cell(sc, "floor", list[j], "raw")
	}
}

# The sweep of one server: clients, then median min max of PSS per
# client, whole-system memory per client, broadcast max and p50.
function print_sweep(srv,    i, sc, n) {
	print "# clients pss med min max  sys med min max  bmax med min max  bp50 med"
	for (i = 1; i <= nsc; i++) {
		sc = order[i]
		if (sc !~ /^S5/)
			continue	# a partial run is plotted where it got
		n = median(sc, srv, "clients")
		if (n == "")
			continue
		printf "%d", n
		printf " %s %s %s", median(sc, srv, "pss_per_client_kib"), MIN, MAX
		printf " %s %s %s", median(sc, srv, "sys_per_client_kib"), MIN, MAX
		printf " %s %s %s", median(sc, srv, "max_us") / 1000, MIN / 1000,
		    MAX / 1000
		printf " %s\n", median(sc, srv, "p50_us") / 1000
	}
}

END {
	if (details) {
		print_details()
		exit 0
	}
	if (sweep != "") {
		print_sweep(sweep)
		exit 0
	}
	n4 = group(P["s4n"])
	n5 = group(P["s5n"])
	print "| scenario | forkchatd | reference | ratio | aim | |"
	print "|---|---|---|---|---|---|"
	row("S1 fan-out: " group(P["s1n"]) " clients, 1 sender, " \
	    group(P["s1m"]) " × 64 B, window 64: deliveries/s", "S1",
	    "deliveries_per_s", "rate", "ratio>=0.6", "≥ 0.6× reference")
	row_multi("S1 latency p50 / p99", "S1", "p50_us/p99_us", "us")
	row_multi("S1 server tree / its master alone: CPU (% of one core)",
	    "S1", "server_cpu_pct/master_cpu_pct", "pct")
	row("S2 " group(P["s2n"]) " clients, " P["s2s"] " senders × " \
	    P["s2r"] " msg/s: latency p99", "S2", "p99_us", "us", "ratio<=4",
	    "≤ 4× reference")
	row_multi("S2 latency p50 / max", "S2", "p50_us/max_us", "us")
	row_multi("S2 server tree / its master alone: CPU (% of one core)",
	    "S2", "server_cpu_pct/master_cpu_pct", "pct")
	row("S1 lost + duplicated + out of order, worst run", "S1", "lost",
	    "int", "max=0", "0")
	row("S2 lost + duplicated + out of order, worst run", "S2", "lost",
	    "int", "max=0", "0")
	row_floor("S3 connect → greeting p99, one after another", "S3seq",
	    "p99_us", "us", "<1000", "< 1 ms")
	row_floor("S3 connections/s, one after another", "S3seq",
	    "conn_per_s", "int", "ratio>=0.8", "≥ 0.8× fork floor")
	row_floor("S3 connections/s, 16 at a time", "S3par", "conn_per_s",
	    "int", "ratio>=0.8", "≥ 0.8× fork floor")
	row_floor("S3 connect → greeting p50, one after another", "S3seq",
	    "p50_us", "us", "", "")
	row_floor("S3 connect → greeting p99, 16 at a time", "S3par",
	    "p99_us", "us", "", "")
	row_both("S4 " n4 " idle clients: PSS per client (whole tree)", "S4",
	    "pss_per_client_kib", "kib", "<=40", "≤ 40 KiB")
	row("S4 the same after a burst (" group(P["s4burst"]) " lines " \
	    "fanned out), idle again", "S4", "burst_pss_per_client_kib", "kib",
	    "<=40", "≤ 40 KiB")
	row_both("S4 whole system per client: MemAvailable drop", "S4",
	    "sys_per_client_kib", "kib", "<=100", "≤ 100 KiB (reported)")
	row_both("S4 the same summed from its parts: PSS + PageTables + " \
	    "Slab + KernelStack growth", "S4", "parts_per_client_kib", "kib",
	    "", "")
	row_multi("S4 PageTables / Slab / KernelStack growth per client", "S4",
	    "pagetables_per_client_kib/slab_per_client_kib/kstack_per_client_kib",
	    "kib")
	row("S4 whole system per client after the burst", "S4",
	    "burst_sys_per_client_kib", "kib", "", "")
	row_multi("S4 master (root) RSS", "S4", "root_rss_kib", "mib")
	row("S5 clients held, fewest in a run", "S5", "clients", "int",
	    "max=" P["s5n"], n5)
	row("S5 one broadcast to " group(P["s5n"] - 1) ": max", "S5",
	    "max_us", "us", "max<250000", "< 250 ms in every run")
	row_multi("S5 broadcast p50", "S5", "p50_us", "us")
	row("S5 broadcast never delivered (3 s without progress), worst run",
	    "S5", "lost", "int", "max=0", "0")
	row("S5 setup of " n5 " clients (connect, every \"joined\" delivered)",
	    "S5", "setup_s", "s", "ratio<=2", "≤ 2× reference")
	row_multi("S5 per client: PSS / whole system (MemAvailable drop) / " \
	    "summed from its parts", "S5",
	    "pss_per_client_kib/sys_per_client_kib/parts_per_client_kib", "kib")
	row_multi("S5 PageTables / Slab / KernelStack growth per client", "S5",
	    "pagetables_per_client_kib/slab_per_client_kib/kstack_per_client_kib",
	    "kib")
	row("S5 SIGINT → whole tree gone", "S5", "tree_gone_ms", "ms", "", "")
	for (i = 1; i <= nsc; i++) {	# the sweep, smallest first
		sc = order[i]
		if (sc !~ /^S5x/)
			continue
		n = group(substr(sc, 4))
		row_multi("S5 at " n " clients: broadcast p50 / max", sc,
		    "p50_us/max_us", "us")
		row_multi("S5 at " n " clients: PSS / whole system per client",
		    sc, "pss_per_client_kib/sys_per_client_kib", "kib")
	}
	row("S5 processes left after the stop, worst run", "S5", "left", "int",
	    "max=0", "0")
	row("S5 server exit status, worst run", "S5", "exit", "int", "max=0",
	    "0")
	s6runs = cnt["S6", "fc", "run"]
	row_s6("S6 cluster: " P["s6servers"] " servers × " \
	    group(P["s6n"] / P["s6servers"]) " clients and Redis, " P["s2s"] \
	    " senders × " P["s2r"] " msg/s (" s6runs " run" \
	    (s6runs == 1 ? "" : "s") (s6runs < P["runs"] ? ", to keep " \
	    "`make bench` under 10 minutes" : "") "): deliveries/s",
	    "deliveries_per_s", "rate", "", "")
	row_s6("S6 latency p50 / p99 / max", "p50_us/p99_us/max_us", "us", "",
	    "")
	row_s6("S6 lost + duplicated + out of order, worst run", "lost", "int",
	    "max=0", "0")
	row_s6("S6 the servers' trees CPU (% of one core)", "server_cpu_pct",
	    "pct", "", "")
	row_s6("S6 Redis CPU (% of one core)", "other_cpu_pct", "pct", "", "")
	row_s6("S6 machine busy (% of all CPUs)", "machine_busy_pct", "pct",
	    "", "")
	for (k in err) {
		split(k, p, SUBSEP)
		printf "\nerrors: %s %s:%s", p[1], p[2], err[k]
		had_err = 1
	}
	if (had_err)
		print ""
	print ""
	print machine
	print command
}
