#!/usr/bin/env bats
# shellcheck shell=bash
# hostile: what ordinary, unprivileged clients can cost the server when
# they try -- guessing the operator password over many connections,
# connecting past max_clients again and again -- and the signals and
# settings that once tripped it: a shutdown and a reload at once, a big
# spare pool.  The cost must stay bounded and the log short.

load lib

setup() {
	PWFILE=$BATS_TEST_TMPDIR/oper.pw
	(umask 077 && printf 'correct-horse\n' >"$PWFILE")
}

teardown() {
	fc_cleanup
}

@test "password guessing: 16 connections reconnecting for 5 s get only a few answers in all" {
	local out answers
	fc_start -o "oper_password_file=$PWFILE"
	out=$(timeout 20 perl "$BATS_TEST_DIRNAME/progs/guesser.pl" \
	    "$FC_PORT" 16 5)
	echo "$out" >&2
	[[ $out =~ ^answers\ ([0-9]+)\ connections\ ([0-9]+)$ ]]
	answers=${BASH_REMATCH[1]}
	# An address gets 5 guesses at once, then one a second.
	((answers >= 5 && answers <= 15))
	((BASH_REMATCH[2] > 100))
	# The operator still gets in, the chat goes on.
	fc_connect a
	fc_connect b
	fc_send b "still here"
	fc_expect a '^<guest[0-9]+> still here$'
	# The log holds one line for the wrong passwords so far, then sums.
	(($(grep -c 'wrong operator password$' "$FC_LOG") <= 1))
	fc_stop_all
	fc_log_has ' more wrong operator passwords in the last 10 s$'
	(($(grep -c 'wrong operator password' "$FC_LOG") <= 3))
}

@test "password guessing: guesses past an address's budget wait their turn, then are answered" {
	local t0 t1 i
	fc_start -o "oper_password_file=$PWFILE"
	for i in 1 2 3 4 5 6 7; do
		fc_connect "c$i"
	done
	t0=${EPOCHREALTIME/./}
	# Five at once from one address, then one a second.
	for i in 1 2 3 4 5 6; do
		fc_send "c$i" "/oper wrong$i"
	done
	fc_send c7 "/oper correct-horse"
	for i in 1 2 3 4 5 6; do
		fc_expect "c$i" '^ERR wrong password$' 10
	done
	fc_expect c7 '^\*\*\* you are now an operator$' 10
	t1=${EPOCHREALTIME/./}
	echo "the seventh answered after $(((t1 - t0) / 1000)) ms" >&2
	((t1 - t0 >= 1500000 && t1 - t0 < 6000000))
	fc_stop_all
}

@test "200 refused connections: a handful of log lines, and a count" {
	local out
	fc_start -o max_clients=1
	fc_connect a
	out=$("$BATS_TEST_DIRNAME/progs/faults-hammer.sh" "$FC_PORT" 20 200 \
	    '^ERR server full \(1 client\); try again later')
	echo "$out" >&2
	[[ $out == "told 200 closed 0 bad 0"* ]]
	(($(grep -c 'refused connection' "$FC_LOG") <= 3))
	fc_stop_all
	fc_log_has ' warning \[[0-9]+\] [0-9]+ more refused connections in the last 10 s$'
	[ "$(grep -c 'refused connection from' "$FC_LOG")" -ge 1 ]
	[ "$(grep -oE '[0-9]+ more refused connections' "$FC_LOG" |
	    awk '{ n += $1 } END { print n }')" -eq 199 ]
}

@test "SIGINT then SIGHUP at once: the shutdown wins, nothing is reloaded" {
	fc_start
	fc_connect a
	# Stopped, the master gets both at once when it runs again (SIGHUP,
	# the lower number, is even handled first): one turn sees both.
	kill -STOP "$FC_PID"
	kill -INT "$FC_PID"
	kill -HUP "$FC_PID"
	kill -CONT "$FC_PID"
	fc_await_exit
	[ "$FC_STATUS" -eq 0 ]
	fc_log_lacks 'configuration reloaded'
	[ "$(grep -c 'forker [0-9]* started' "$FC_LOG")" -eq 1 ]
	fc_clean_log
}

@test "spare_workers = 1024: no warning, ready once all are forked" {
	fc_start -o spare_workers=1024 -o max_clients=2000
	fc_log_has 'ready: 1024 spare workers, up to 2000 clients$'
	[ "$(fc_count_role '^forkchatd spare$')" -eq 1024 ]
	fc_connect a
	fc_connect b
	fc_expect a 'joined$'
	fc_stop_clean
}

@test "/ps spam: 1 000 clients, 20 sending /ps as fast as they may for 10 s; a probe every 100 ms, p99 under 250 ms, none lost" {
	local idle=1000 out
	# Under ASan every worker is several times heavier: fewer of them.
	sanitized && idle=300
	fc_start -o max_clients=1100
	out=$(timeout 120 perl "$BATS_TEST_DIRNAME/progs/psload.pl" \
	    "$FC_PORT" "$idle" 20 10)
	echo "# $out" >&3
	[[ $out =~ ^probes\ ([0-9]+)\ got\ ([0-9]+)\ p50\ [0-9.]+\ p99\ ([0-9]+)\.[0-9]\ max\ [0-9.]+\ ps\ ([0-9]+)\ busy\ ([0-9]+)$ ]]
	# None lost, p99 under 250 ms.
	[ "${BASH_REMATCH[1]}" -eq "${BASH_REMATCH[2]}" ]
	((BASH_REMATCH[3] < 250))
	# Some /ps were drawn; the rest were told to wait.
	((BASH_REMATCH[4] >= 10 && BASH_REMATCH[5] > 0))
	fc_stop_all
	[ -z "$(fc_unexpected_warnings 'refused connection|more refused')" ]
}

@test "/ps budget: two at once, then the client is told when to try again" {
	fc_start
	fc_connect a
	for _ in 1 2; do
		fc_send a "/ps"
		fc_expect a '^\*\*\* end of /ps \([0-9]+ processes\)$'
	done
	fc_send a "/ps"
	fc_next a '^ERR /ps is busy; try again in [1-5] s$'
	fc_stop_clean
}
