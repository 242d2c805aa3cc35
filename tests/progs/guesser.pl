#!/usr/bin/perl
# guesser.pl PORT CONNECTIONS SECONDS: guess the operator password the way
# an attacker would: CONNECTIONS at once, each sending three wrong
# guesses, reading answers for a moment, then reconnecting to start
# afresh, for SECONDS.  Prints "answers N connections N": how many
# guesses the server answered ("ERR wrong password") in all, and how
# many connections it took.
use strict;
use warnings;
use IO::Socket::INET;
use IO::Select;
use Time::HiRes qw(time);

my ($port, $n, $secs) = @ARGV;
my $end = time + $secs;
my ($answers, $conns) = (0, 0);
my (%buf, %born);
my $sel = IO::Select->new;

sub open_one {
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
	    PeerPort => $port, Blocking => 1) or return;
	$conns++;
	print $s "/oper guess$conns-$_\r\n" for 1 .. 3;
	$s->blocking(0);
	$buf{$s} = '';
	$born{$s} = time;
	$sel->add($s);
}

sub close_one {
	my ($s) = @_;
	$sel->remove($s);
	delete $buf{$s};
	delete $born{$s};
	close $s;
}

open_one() for 1 .. $n;
while (time < $end) {
	for my $s ($sel->can_read(0.05)) {
		my $got = sysread($s, my $chunk, 4096);
		if (!$got) {
			close_one($s);
			next;
		}
		$buf{$s} .= $chunk;
		$answers++ while $buf{$s} =~ s/^ERR wrong password\r?\n//m;
	}
	for my $s ($sel->handles) {
		close_one($s) if time - $born{$s} > 0.3;
	}
	open_one() while $sel->count < $n && time < $end;
}
close_one($_) for $sel->handles;
print "answers $answers connections $conns\n";
