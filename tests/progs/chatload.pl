#!/usr/bin/perl
# chatload.pl PORT[,PORT...] CLIENTS SENDERS LINES MS [PID SIGNAL AT_MS]...:
# CLIENTS connect, client i to the (i mod n)th PORT (the servers of a
# cluster, or one server); the first SENDERS of them send LINES numbered
# lines each, one every MS ms, all at once; at AT_MS after the first
# line the signal SIGNAL goes to PID (so a live upgrade can happen
# mid-stream).  (The telnet question the server may ask before the
# greeting is let be.)  Every client reads until it has every other
# sender's lines.  Then: was every line delivered to everyone but its
# sender exactly once, in one order for all, did anyone lose the
# connection, and was anyone told anything else than that a client
# joined (alone or in a line naming several), and that once (a
# notice)?  Prints "clients N lines N lost N dup N order ok|bad closed
# N max_ms N p99_ms N notices N" and exits 0 if nothing is lost,
# doubled, out of order, closed or noticed.
use strict;
use warnings;
use IO::Socket::INET;
use IO::Select;
use Time::HiRes qw(time);

my ($ports, $nclients, $senders, $lines, $ms, @signals) = @ARGV;
my @ports = split /,/, $ports;
my (@sock, @buf, @got, @joins, %sent_at, @lat);
my ($sel, $notices) = (IO::Select->new, 0);

for my $i (0 .. $nclients - 1) {
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
	    PeerPort => $ports[$i % @ports]) or die "connect: $!\n";
	my $greeting = <$s>;
	die "no greeting\n" unless $greeting && $greeting =~ /\*\*\* welcome/;
	$s->blocking(0);
	$sock[$i] = $s;
	$buf[$i] = '';
	$got[$i] = [];
	$joins[$i] = {};
	$sel->add($s);
}
my %index = map { fileno($sock[$_]) => $_ } 0 .. $nclients - 1;
my $start = time;
my $want = $senders * $lines;		# lines of all senders
my ($closed, $sentn) = (0, 0);
my @pending = @signals;

# Read what is there; keep "<nick> S.N" lines.
sub pump {
	my ($wait) = @_;
	for my $s ($sel->can_read($wait)) {
		my $i = $index{fileno($s)};
		my $n = sysread($s, my $chunk, 65536);
		if (!$n) {
			$closed++;
			$sel->remove($s);
			next;
		}
		$buf[$i] .= $chunk;
		while ($buf[$i] =~ s/^([^\n]*)\n//) {
			my $line = $1;
			# "*** a joined", or several at once: "a, b and c"
			if ($line =~ /^\*\*\* (\S+(?:(?:,| and) \S+)*) joined\r?$/) {
				for my $nick (split /,? and |, /, $1) {
					$notices++ if $joins[$i]{$nick}++;
				}
				next;
			}
			if ($line =~ /^\*\*\* /) {
				print STDERR "client $i told: $line\n"
				    if $notices++ < 10;
				next;
			}
			next unless $line =~ /^<\S+> (\d+\.\d+)\r?$/;
			push @{$got[$i]}, $1;
			push @lat, (time - $sent_at{$1}) * 1000 if $sent_at{$1};
		}
	}
}

for my $n (1 .. $lines) {
	my $t = $start + ($n - 1) * $ms / 1000;
	while (time < $t) {
		pump(0.002);
		while (@pending && time >= $start + $pending[2] / 1000) {
			kill $pending[1], $pending[0];
			splice @pending, 0, 3;
		}
	}
	for my $k (0 .. $senders - 1) {
		$sent_at{"$k.$n"} = time;
		syswrite($sock[$k], "$k.$n\r\n");
		$sentn++;
	}
}
my $deadline = time + 30;
while (time < $deadline) {
	my $done = 1;
	for my $i (0 .. $nclients - 1) {
		my $expect = $want - ($i < $senders ? $lines : 0);
		$done = 0 if @{$got[$i]} < $expect && $sel->exists($sock[$i]);
	}
	last if $done;
	pump(0.05);
}
# One order: every client's lines are the last reader's, less its own.
my ($lost, $dup, $order) = (0, 0, 'ok');
my @ref = @{$got[$nclients - 1]};
for my $i (0 .. $nclients - 1) {
	my %seen;
	$seen{$_}++ for @{$got[$i]};
	$dup += grep { $_ > 1 } values %seen;
	for my $k (0 .. $senders - 1) {
		next if $k == $i;
		$lost += grep { !$seen{"$k.$_"} } 1 .. $lines;
	}
	my @exp = grep { !/^$i\./ } @ref;
	$order = 'bad' if join(' ', @exp) ne join(' ', grep { !/^$i\./ } @{$got[$i]});
}
my @s = sort { $a <=> $b } @lat;
printf "clients %d lines %d lost %d dup %d order %s closed %d max_ms %.0f p99_ms %.0f notices %d\n",
    $nclients, $sentn, $lost, $dup, $order, $closed, @s ? $s[-1] : -1,
    @s ? $s[int(0.99 * $#s)] : -1, $notices;
exit($lost || $dup || $order ne 'ok' || $closed || $notices ? 1 : 0);
