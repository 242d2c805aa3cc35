# tests/bench/bench.gp - the plot of a bench run (gnuplot 5.2 or later).
#
#   gnuplot -e "lat='DIR/lat'; sweepfc='F'; sweepref='F'; sweepn=N;
#               out='X.svg'; head='text'" tests/bench/bench.gp
#
# lat holds fcbench -D files named SCENARIO.SERVER.RUN ("x percentile
# latency_us" lines, x = -log10(1 - percentile/100)); sweepfc and sweepref
# are table.awk -v sweep=SERVER output, sweepn their lines.  Top: the latency distribution of
# every scenario, one line per run, the tail stretched so p99.9 is as wide
# as p50-p90; S6 (the same load as S2 on a cluster of three forkchatd and
# Redis) is drawn with S2.  Bottom: memory per client and broadcast time against the
# number of clients, medians with min-max bars.

set terminal svg size 1200,1560 dynamic enhanced font 'sans,11' background rgb 'white'
set output out

c_fc = '#c0392b'
c_ref = '#2471a3'
c_floor = '#1e8449'
c_cluster = '#d68910'

array scen[5] = ['S1', 'S2', 'S3seq', 'S3par', 'S5']
array what[5] = ['S1 fan-out: send → receive', \
    'S2 steady load: send → receive (S6: the same on a cluster of 3 and Redis)', \
    'S3 one connect after another: connect → greeting', \
    'S3 16 connects at a time: connect → greeting', \
    'S5 one broadcast to every other client: send → receive']

runs(sc, srv) = system(sprintf("ls %s/%s.%s.* 2>/dev/null", lat, sc, srv))

set multiplot layout 4,2 title head noenhanced font 'sans,12'
set lmargin 10
set rmargin 4
set grid
set key top left noenhanced opaque box
set logscale y
set format y '%g'
set xtics ('0' 0, '50' log10(2), '90' 1, '99' 2, '99.9' 3, '99.99' 4, \
    '99.999' 5, '99.9999' 6, '99.99999' 7)
set xlabel 'percentile'
set ylabel 'latency (ms)'
set xrange [0:*]

# The plot command for scenario i, one clause per run file, one key
# entry per server (a plot "for" over an empty list would still plot);
# "cluster" is S6's forkchatd, in S2's panel.
do for [i = 1:5] {
	cmd = ''
	do for [srv in 'fc ref floor cluster'] {
		list = srv eq 'cluster' ? (scen[i] eq 'S2' ? \
		    runs('S6', 'fc') : '') : runs(scen[i], srv)
		color = srv eq 'fc' ? c_fc : srv eq 'ref' ? c_ref : \
		    srv eq 'floor' ? c_floor : c_cluster
		name = srv eq 'fc' ? 'forkchatd' : srv eq 'ref' ? \
		    'refchat (reference)' : srv eq 'floor' ? 'fork floor' : \
		    'forkchatd, cluster of 3 (S6)'
		do for [k = 1:words(list)] {
			cmd = cmd . (strlen(cmd) ? ', ' : '') . sprintf( \
			    "'%s' using 1:($3 / 1000) with lines lw 1.5 lc rgb '%s' title '%s'", \
			    word(list, k), color, k == 1 ? name : '')
		}
	}
	set title what[i] noenhanced
	if (strlen(cmd) == 0) {
		set multiplot next
	} else {
		eval 'plot ' . cmd
	}
}

# The sweep: x is the number of clients.
set xtics auto
set logscale x
set xrange [*:*]
unset xlabel		# in the title: a key below would cover it
set format x '%g'
have_sweep = exists('sweepn') ? sweepn > 0 : 0

set title 'Memory per client against clients: PSS of the server tree; whole machine'
set key below
unset logscale y
set yrange [0:*]
set ylabel 'KiB per client'
if (have_sweep) {
	plot sweepfc using 1:2:3:4 with yerrorlines lw 1.5 lc rgb c_fc \
	        title 'forkchatd PSS', \
	    sweepfc using 1:5:6:7 with yerrorlines lw 1.5 dt 2 lc rgb c_fc \
	        title 'forkchatd whole system', \
	    sweepref using 1:2:3:4 with yerrorlines lw 1.5 lc rgb c_ref \
	        title 'refchat PSS', \
	    sweepref using 1:5:6:7 with yerrorlines lw 1.5 dt 2 lc rgb c_ref \
	        title 'refchat whole system'
} else {
	set multiplot next
}

set title 'One broadcast to every other client, against clients: until the last has it (max), p50'
set key below
set logscale y
set yrange [*:*]
set ylabel 'ms'
if (have_sweep) {
	plot sweepfc using 1:8:9:10 with yerrorlines lw 1.5 lc rgb c_fc \
	        title 'forkchatd max', \
	    sweepfc using 1:11 with linespoints lw 1.5 dt 2 lc rgb c_fc \
	        title 'forkchatd p50', \
	    sweepref using 1:8:9:10 with yerrorlines lw 1.5 lc rgb c_ref \
	        title 'refchat max', \
	    sweepref using 1:11 with linespoints lw 1.5 dt 2 lc rgb c_ref \
	        title 'refchat p50'
}

unset multiplot
