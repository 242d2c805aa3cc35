#!/usr/bin/env bats
# shellcheck shell=bash
# ending: nothing is lost at the end of a session.  Every command a
# client sent before /quit, or before closing its side of the connection
# (a half-close, as "printf '/who\n' | nc -N" does), is answered in
# order, then "*** goodbye", then the server closes: /who, /stats, /ps,
# /nick and /pipe, each both ways, as a script would use them.

load lib

teardown() { fc_cleanup; }

PROGS=$BATS_TEST_DIRNAME/progs

# A script's session: LINES, then /quit (HOW = quit) or a half-close
# (HOW = half); what the server sent, CRs and the greeting line left
# out, goes to $OUT.
session() {
	local how=$1
	shift
	OUT=$BATS_TEST_TMPDIR/out.$how
	if [ "$how" = quit ]; then
		printf '%s\n' "$@" /quit | timeout 10 nc 127.0.0.1 "$FC_PORT"
	else
		printf '%s\n' "$@" | timeout 10 nc -N 127.0.0.1 "$FC_PORT"
	fi | tr -d '\r' | tail -n +2 > "$OUT"
}

# $OUT has a line that is exactly TEXT, and ends with the goodbye.
answered() {
	grep -qxF -- "$1" "$OUT" || {
		echo "no line '$1' in:" >&2
		cat "$OUT" >&2
		return 1
	}
	[ "$(tail -n 1 "$OUT")" = '*** goodbye' ] || {
		echo "the last line is not the goodbye:" >&2
		cat "$OUT" >&2
		return 1
	}
}

@test "/who before /quit or a half-close is answered, then goodbye" {
	local how
	fc_start
	fc_connect a
	for how in quit half; do
		session "$how" /who
		answered '*** end of /who (2 clients)'
		grep -q '^#1 .* guest1 ' "$OUT"
		fc_expect a '^\*\*\* guest[0-9]+ left \((quit|connection closed)\)$'
	done
	fc_stop_clean
}

@test "/stats before /quit or a half-close is answered, then goodbye" {
	local how
	fc_start
	for how in quit half; do
		session "$how" /stats
		answered '*** end of /stats'
		grep -q '^uptime ' "$OUT"
	done
	fc_stop_clean
}

@test "/ps before /quit or a half-close is answered, then goodbye" {
	local how
	fc_start
	for how in quit half; do
		session "$how" /ps
		grep -qE ' master$' "$OUT"
		grep -qE '^\*\*\* end of /ps \([0-9]+ processes\)$' "$OUT"
		[ "$(tail -n 1 "$OUT")" = '*** goodbye' ]
	done
	fc_stop_clean
}

@test "/nick NAME before /quit or a half-close is answered, then goodbye" {
	fc_start
	fc_connect a
	session quit '/nick quitter'
	answered '*** guest2 is now known as quitter'
	fc_expect a '^\*\*\* quitter left \(quit\)$'
	session half '/nick closer'
	answered '*** guest3 is now known as closer'
	fc_expect a '^\*\*\* closer left \(connection closed\)$'
	fc_stop_clean
}

@test "/pipe output before /quit or a half-close is delivered, then goodbye" {
	local how
	fc_start -o 'pipe.upper=/usr/bin/tr a-z A-Z' -o "pipe.slow=$PROGS/slow.sh"
	for how in quit half; do
		session "$how" '/pipe upper hello'
		answered '[upper] HELLO'
		answered '*** end of /pipe upper'
		# a job slower than the master: its output still comes
		session "$how" '/pipe slow one'
		answered '[slow] late one'
		answered '*** end of /pipe slow'
	done
	wait_until 5 fc_pool 4 0
	fc_stop_clean
}

@test "several commands before /quit: answered in the order sent" {
	fc_start
	session quit /who /stats '/nick orderly' /who
	answered '*** goodbye'
	grep -nE '^\*\*\* end of /who|^\*\*\* end of /stats|is now known as orderly' \
	    "$OUT" | cut -d: -f2- > "$BATS_TEST_TMPDIR/order"
	diff - "$BATS_TEST_TMPDIR/order" <<'END'
*** end of /who (1 client)
*** end of /stats
*** guest1 is now known as orderly
*** end of /who (1 client)
END
	fc_stop_clean
}

@test "a client that resets while its job runs after /quit: closed at once, the job killed" {
	local fifo=$BATS_TEST_TMPDIR/go perl_pid
	fc_start -o 'pipe.sleep=/bin/sleep 30' -o pipe_timeout=60
	fc_connect a
	mkfifo "$fifo"
	# /quit while a long job runs, then, once the master has heard, an
	# abortive close (SO_LINGER 0): the worker waits for the job no more
	perl -MIO::Socket::INET -e '
		my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1",
		    PeerPort => $ARGV[0]) or die "connect: $!\n";
		print $s "/pipe sleep x\n/quit\n";
		$s->flush;
		open(my $go, "<", $ARGV[1]) or die "$ARGV[1]: $!\n";
		<$go>;
		setsockopt($s, Socket::SOL_SOCKET(), Socket::SO_LINGER(),
		    pack("ii", 1, 0)) or die "SO_LINGER: $!\n";
		close($s);' "$FC_PORT" "$fifo" &
	perl_pid=$!
	fc_expect a '^\*\*\* guest2 left \(quit\)$'
	echo go > "$fifo"
	wait "$perl_pid"
	wait_until 3 fc_pool 4 1
	fc_log_has 'pipe job [0-9]+ \(sleep\) of client #2 reaped: signal 9' || { cat "$FC_LOG" >&2; false; }
	fc_stop_clean
}
