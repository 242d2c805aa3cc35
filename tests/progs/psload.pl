#!/usr/bin/perl
# psload.pl PORT IDLE SENDERS SECONDS: what /ps spam costs everyone else.
# Connects IDLE clients that just sit there, a probe pair, and SENDERS
# clients that send /ps as fast as they may (the next as soon as the last
# answer or refusal has come), for SECONDS.  Meanwhile the first of the
# pair sends a numbered line every 100 ms and the second times its
# arrival.  The pair connects first, so that the second is the first
# client a line reaches: what the probe measures is how soon the master
# gets to a line, not how long a fan-out to every client takes.  Prints
# "probes N got N p50 MS p99 MS max MS ps N busy N".
use strict;
use warnings;
use IO::Socket::INET;
use IO::Select;
use Time::HiRes qw(time);

my ($port, $idle, $senders, $secs) = @ARGV;
my (@keep, %buf, %role, %sent);
my $sel = IO::Select->new;

sub connect_one {
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
	    PeerPort => $port) or die "connect: $!\n";
	my $greeting = <$s>;
	die "no greeting\n" unless defined $greeting && $greeting =~ /\*\*\* welcome/;
	return $s;
}

my $from = connect_one();
my $to = connect_one();
push @keep, connect_one() for 1 .. $idle;
$to->blocking(0);
$sel->add($to);
$role{$to} = 'probe';
$buf{$to} = '';
for (1 .. $senders) {
	my $s = connect_one();
	$s->blocking(0);
	print $s "/ps\r\n";
	$sel->add($s);
	$role{$s} = 'ps';
	$buf{$s} = '';
}

my ($n, $ps, $busy, @lat) = (0, 0, 0);
my $start = time;
my $next = $start;
while (1) {
	my $now = time;
	if ($now < $start + $secs && $now >= $next) {
		$n++;
		$sent{$n} = $now;
		print $from "probe $n\r\n";
		$next += 0.1;
	}
	last if $now >= $start + $secs && (!%sent || $now >= $start + $secs + 5);
	for my $s ($sel->can_read(0.01)) {
		my $got = sysread($s, my $chunk, 65536);
		die "a client was closed\n" unless $got;
		$buf{$s} .= $chunk;
		while ($buf{$s} =~ s/^([^\n]*)\n//) {
			my $line = $1;
			if ($role{$s} eq 'probe') {
				next unless $line =~ /^<\S+> probe (\d+)/;
				push @lat, (time - delete $sent{$1}) * 1000
				    if exists $sent{$1};
			} elsif ($line =~ /^\*\*\* end of \/ps/ ||
			    $line =~ /^ERR \/ps is busy/) {
				$line =~ /^ERR/ ? $busy++ : $ps++;
				print $s "/ps\r\n" if time < $start + $secs;
			}
		}
	}
}
my @s = sort { $a <=> $b } @lat;
my $pct = sub { @s ? $s[int($_[0] * $#s)] : -1 };
printf "probes %d got %d p50 %.1f p99 %.1f max %.1f ps %d busy %d\n",
    $n, scalar @lat, $pct->(0.5), $pct->(0.99), @s ? $s[-1] : -1, $ps, $busy;
