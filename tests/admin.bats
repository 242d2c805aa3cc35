#!/usr/bin/env bats
# shellcheck shell=bash
# admin: /oper, /kick, /timeout, idle_timeout, /stats, and who may do what.

load lib

teardown() { fc_cleanup; }

# Nothing at all reaches client NAME for SECS seconds (not even EOF).
nothing_for() {
	local name=$1 secs=$2 line rc=0
	IFS= read -r -t "$secs" -u "${FC_FD[$name]}" line || rc=$?
	if ((rc <= 128)); then
		echo "nothing_for $name: got '${line%$'\r'}' (rc $rc)" >&2
		return 1
	fi
}

# "/stats" from client NAME: STATS holds its lines, joined by "|".
stats() {
	local name=$1 n=0
	STATS=
	fc_send "$name" "/stats"
	fc_expect "$name" '^uptime [0-9hms]+$' || return 1
	STATS=$FC_LINE
	while ((n++ < 20)) && fc_read "$name"; do
		[ "$FC_LINE" = "*** end of /stats" ] && return 0
		STATS+="|$FC_LINE"
	done
	echo "stats $name: no end of /stats; got $STATS" >&2
	return 1
}

# A password file whose first line is the password, readable by its
# owner only (else the server warns about it).
PASSWORD=s3cret-Pass
make_password_file() {
	PWFILE=$BATS_TEST_TMPDIR/oper.pw
	(umask 077 && printf '%s\nsecond line, not the password\n' \
	    "$PASSWORD" > "$PWFILE")
}

@test "/oper: the password file's first line, wrong ones refused and logged" {
	make_password_file
	fc_start -o "oper_password_file=$PWFILE"
	fc_log_lacks 'operator password for this run'
	fc_three_clients
	fc_send a "/kick guest2"
	fc_next a '^ERR /kick is for operators: /oper PASSWORD first$'
	fc_send a "/oper"
	fc_next a '^ERR usage: /oper PASSWORD - become an operator$'
	fc_send a "/oper wrong"
	fc_next a '^ERR wrong password$'
	fc_send a "/oper second line, not the password"
	fc_next a '^ERR wrong password$'
	# A prefix, or the password and more, is not the password.
	fc_send c "/oper ${PASSWORD%?}"
	fc_next c '^ERR wrong password$'
	fc_send c "/oper ${PASSWORD}x"
	fc_next c '^ERR wrong password$'
	fc_send a "/oper $PASSWORD"
	fc_next a '^\*\*\* you are now an operator$'
	fc_send a "/oper $PASSWORD"
	fc_next a '^\*\*\* you are already an operator$'
	# Rights are per client: b and c still have none.
	fc_send b "/timeout guest1 5"
	fc_next b '^ERR /timeout is for operators: /oper PASSWORD first$'
	fc_send a "/timeout guest3 0"
	fc_next a '^\*\*\* read timeout of guest3 is now off$'
	fc_next c '^\*\*\* you still have no read timeout \(guest1 set it to 0\)$'
	# Nobody else heard any of it.
	fc_quiet b a
	fc_log_has 'notice \[[0-9]+\] client #1 \(guest1\) from 127\.0\.0\.1:[0-9]+ is now an operator$'
	# The first wrong password is logged; the rest are counted.
	[ "$(grep -cE 'warning \[[0-9]+\] client #1 \(guest1\) from 127\.0\.0\.1:[0-9]+: wrong operator password$' "$FC_LOG")" -eq 1 ]
	[ "$(grep -c 'wrong operator password$' "$FC_LOG")" -eq 1 ]
	fc_log_lacks "$PASSWORD"
	fc_stop_all
	fc_log_has 'warning \[[0-9]+\] 3 more wrong operator passwords in the last 10 s$'
	[ -z "$(fc_unexpected_warnings ': wrong operator password$| more wrong operator passwords in ')" ]
}

@test "/oper: after three wrong tries the next line is read only ~2 s later, and none is lost" {
	make_password_file
	fc_start -o "oper_password_file=$PWFILE"
	fc_connect a
	fc_connect b
	fc_joined a guest2
	# All in one write: each guess is still checked on its own, in turn.
	fc_send a "/oper one" "/oper two" "/oper three" "/oper $PASSWORD" \
	    "typed during the pause"
	fc_next a '^ERR wrong password$'
	fc_next a '^ERR wrong password$'
	fc_next a '^ERR wrong password$'
	t0=${EPOCHREALTIME/./}
	# a's worker still delivers to a while it reads nothing from it.
	fc_send b "said during the pause"
	fc_next a '^<guest2> said during the pause$'
	t1=${EPOCHREALTIME/./}
	((t1 - t0 < 1500000))
	fc_next a '^\*\*\* you are now an operator$'
	t2=${EPOCHREALTIME/./}
	echo "answer after $(((t2 - t0) / 1000)) ms" >&2
	((t2 - t0 >= 1500000 && t2 - t0 < 6000000))
	fc_next b '^<guest1> typed during the pause$'
	[ "$(grep -c 'wrong operator password$' "$FC_LOG")" -eq 1 ]
	fc_stop_all
	fc_log_has ' 2 more wrong operator passwords in the last 10 s$'
	[ -z "$(fc_unexpected_warnings ': wrong operator password$| more wrong operator passwords in ')" ]
}

@test "/oper: without a password file the random one from the log works" {
	fc_start
	[ "$(grep -c 'operator password for this run' "$FC_LOG")" -eq 1 ]
	pw=$(sed -nE 's/.* notice \[[0-9]+\] operator password for this run: ([^ ]+) \(set oper_password_file to choose one\)$/\1/p' "$FC_LOG")
	[[ $pw =~ ^[a-z0-9]{16}$ ]]
	fc_connect a
	fc_connect b
	fc_joined a guest2
	fc_send a "/oper $pw"
	fc_next a '^\*\*\* you are now an operator$'
	fc_send a "/timeout guest2 0"
	fc_next a '^\*\*\* read timeout of guest2 is now off$'
	fc_stop_all
	fc_clean_log
}

@test "admin = everyone: no /oper needed, and /oper says so" {
	fc_start -o admin=everyone
	fc_log_lacks 'operator password'
	fc_connect a
	fc_connect b
	fc_joined a guest2
	fc_send a "/oper anything"
	fc_next a '^\*\*\* no password needed: everyone may /kick and /timeout here \(admin = everyone\)$'
	fc_send b "/timeout guest1 0"
	fc_next b '^\*\*\* read timeout of guest1 is now off$'
	fc_next a '^\*\*\* you still have no read timeout \(guest2 set it to 0\)$'
	fc_send b "/kick guest1"
	fc_next a '^\*\*\* you were kicked by guest2$'
	fc_eof a
	fc_next b '^\*\*\* guest1 was kicked by guest2$'
	fc_stop_all
	fc_clean_log
}

@test "oper_password_file unreadable or empty: exit 78 at start" {
	: > "$BATS_TEST_TMPDIR/empty.pw"
	run timeout 10 "$FORKCHATD" -l 127.0.0.1:0 -o oper_password_file=/nonexistent/forkchat.pw
	[ "$status" -eq 78 ]
	[[ $output == *"error ["*"cannot read oper_password_file /nonexistent/forkchat.pw: No such file or directory"* ]]
	run timeout 10 "$FORKCHATD" -l 127.0.0.1:0 -o "oper_password_file=$BATS_TEST_TMPDIR/empty.pw"
	[ "$status" -eq 78 ]
	[[ $output == *"oper_password_file $BATS_TEST_TMPDIR/empty.pw: the first line is empty"* ]]
	run timeout 10 "$FORKCHATD" -t -o oper_password_file=/nonexistent/forkchat.pw
	[ "$status" -eq 78 ]
}

@test "/kick reaches the target's worker and nobody else" {
	make_password_file
	fc_start -o "oper_password_file=$PWFILE"
	fc_three_clients
	fc_send a "/oper $PASSWORD"
	fc_next a '^\*\*\* you are now an operator$'
	fc_read_who a
	[ "$WHO_N" -eq 3 ]
	apid=${WHO_PID[guest1]} bpid=${WHO_PID[guest2]} cpid=${WHO_PID[guest3]}
	[ "$(cat "/proc/$bpid/comm")" = "forkchatd #2" ]
	fc_send a "/kick guest2 too noisy"
	fc_next b '^\*\*\* you were kicked by guest1: too noisy$'
	fc_eof b
	fc_next a '^\*\*\* guest2 was kicked by guest1 \(too noisy\)$'
	fc_next c '^\*\*\* guest2 was kicked by guest1 \(too noisy\)$'
	# The target's worker exits and is reaped; the others' live on.
	wait_until 5 fc_all_gone "$bpid"
	fc_no_zombies "$FC_PID"
	[ "$(cat "/proc/$apid/comm")" = "forkchatd #1" ]
	[ "$(cat "/proc/$cpid/comm")" = "forkchatd #3" ]
	# The third client keeps chatting, and no "left" line follows the kick.
	fc_quiet_all c guest3 a
	fc_quiet_all a guest1 c
	fc_send c "still here"
	fc_next a '^<guest3> still here$'
	fc_read_who c
	[ "$WHO_N" -eq 2 ]
	[ -z "${WHO_PID[guest2]:-}" ]
	[ "${WHO_PID[guest3]}" = "$cpid" ]
	fc_log_has 'notice \[[0-9]+\] client #2 \(guest2\) from 127\.0\.0\.1:[0-9]+ kicked by #1 \(guest1\): too noisy$'
	fc_log_lacks 'client #2 \(guest2\) .* left'
	fc_stop_all
	fc_clean_log
}

@test "/kick: no rights, unknown target, usage, by #id and any case" {
	make_password_file
	fc_start -o "oper_password_file=$PWFILE"
	fc_three_clients
	fc_send b "/kick guest1 no rights"
	fc_next b '^ERR /kick is for operators: /oper PASSWORD first$'
	fc_send a "/oper $PASSWORD"
	fc_next a '^\*\*\* you are now an operator$'
	fc_send a "/kick"
	fc_next a '^ERR usage: /kick NICK\|#ID \[reason\] - disconnect someone \(operators\)$'
	fc_send a "/kick nobody"
	fc_next a '^ERR no such client: nobody \(see /who\)$'
	fc_send a "/kick #99 reason"
	fc_next a '^ERR no such client: #99 \(see /who\)$'
	fc_send a "/kick #x"
	fc_next a '^ERR no such client: #x \(see /who\)$'
	# Nobody was touched by any of that.
	fc_quiet_all a guest1 b c
	fc_read_who a
	cpid=${WHO_PID[guest3]} bpid=${WHO_PID[guest2]}
	fc_send a "/kick #3"
	fc_next c '^\*\*\* you were kicked by guest1$'
	fc_eof c
	fc_next a '^\*\*\* guest3 was kicked by guest1$'
	fc_next b '^\*\*\* guest3 was kicked by guest1$'
	fc_send a "/kick GUEST2 bye"
	fc_next b '^\*\*\* you were kicked by guest1: bye$'
	fc_eof b
	fc_next a '^\*\*\* guest2 was kicked by guest1 \(bye\)$'
	wait_until 5 fc_all_gone "$bpid" "$cpid"
	fc_no_zombies "$FC_PID"
	fc_log_has 'client #3 \(guest3\) from 127\.0\.0\.1:[0-9]+ kicked by #1 \(guest1\)$'
	fc_stop_all
	fc_clean_log
}

@test "/timeout: target told, expires after ~N s, others told, worker reaped" {
	fc_start -o admin=everyone
	fc_three_clients
	fc_read_who a
	bpid=${WHO_PID[guest2]}
	[ "${WHO_TMO[guest2]}" = none ]
	fc_send a "/timeout guest2 2"
	t0=${EPOCHREALTIME/./}
	fc_next b '^\*\*\* your read timeout was set to 2 s by guest1: send a line at least that often$'
	fc_next a '^\*\*\* read timeout of guest2 is now 2 s$'
	fc_read_who a
	[ "${WHO_TMO[guest2]}" = 2s ]
	[ "${WHO_TMO[guest1]}" = none ]
	[ "${WHO_TMO[guest3]}" = none ]
	fc_next b '^\*\*\* read timeout \(2 s\): you sent no line for 2 s, so the server is closing your connection$'
	t1=${EPOCHREALTIME/./}
	echo "expired after $(((t1 - t0) / 1000)) ms" >&2
	((t1 - t0 >= 1500000 && t1 - t0 < 5000000))
	fc_eof b
	fc_next a '^\*\*\* guest2 left \(read timeout after 2 s\)$'
	fc_next c '^\*\*\* guest2 left \(read timeout after 2 s\)$'
	wait_until 5 fc_all_gone "$bpid"
	fc_no_zombies "$FC_PID"
	fc_quiet_all a guest1 c
	fc_quiet_all c guest3 a
	fc_log_has 'notice \[[0-9]+\] client #2 \(guest2\): read timeout set to 2 s by #1 \(guest1\)$'
	fc_log_has 'info \[[0-9]+\] client #2 \(guest2\) from 127\.0\.0\.1:[0-9]+ left: read timeout after 2 s$'
	fc_stop_all
	fc_clean_log
}

@test "/timeout: a line from the client starts the clock again" {
	fc_start -o admin=everyone
	fc_connect a
	fc_connect b
	fc_joined a guest2
	fc_send a "/timeout guest2 2"
	fc_next b '^\*\*\* your read timeout was set to 2 s by guest1: '
	fc_next a '^\*\*\* read timeout of guest2 is now 2 s$'
	nothing_for b 1.2
	fc_send b "keeping alive"
	t0=${EPOCHREALTIME/./}
	fc_next a '^<guest2> keeping alive$'
	fc_next b '^\*\*\* read timeout \(2 s\): you sent no line for 2 s, so the server is closing your connection$'
	t1=${EPOCHREALTIME/./}
	echo "expired $(((t1 - t0) / 1000)) ms after the last line" >&2
	((t1 - t0 >= 1500000 && t1 - t0 < 5000000))
	fc_eof b
	fc_next a '^\*\*\* guest2 left \(read timeout after 2 s\)$'
	fc_stop_all
	fc_clean_log
}

@test "/timeout: 0 turns it off, bad numbers are ERR, self and unknown targets" {
	fc_start -o admin=everyone
	fc_connect a
	fc_connect b
	fc_joined a guest2
	fc_send a "/timeout guest2 2" "/timeout guest2 0"
	fc_next b '^\*\*\* your read timeout was set to 2 s by guest1: '
	fc_next b '^\*\*\* your read timeout was turned off by guest1$'
	fc_next a '^\*\*\* read timeout of guest2 is now 2 s$'
	fc_next a '^\*\*\* read timeout of guest2 is now off$'
	fc_read_who a
	[ "${WHO_TMO[guest2]}" = none ]
	nothing_for b 2.5
	fc_quiet b a
	for bad in -1 +5 abc 1.5 "2 s" 604801 4294967297 0x10; do
		fc_send a "/timeout guest2 $bad"
		fc_next a '^ERR SECONDS must be a whole number from 0 \(no timeout\) to 604800$'
	done
	# Too long to be a number at all: the worker calls it a usage error.
	fc_send a "/timeout guest2 99999999999999999999"
	fc_next a '^ERR '
	fc_send a "/timeout guest2"
	fc_next a '^ERR usage: /timeout NICK\|#ID SECONDS - set someone.s read timeout, 0 = none \(anyone here\)$'
	fc_send a "/timeout nobody 5"
	fc_next a '^ERR no such client: nobody \(see /who\)$'
	fc_send a "/timeout #2 604800"
	fc_next b '^\*\*\* your read timeout was set to 604800 s by guest1: '
	fc_next a '^\*\*\* read timeout of guest2 is now 604800 s$'
	fc_read_who a
	[ "${WHO_TMO[guest2]}" = 168h00m ]
	# On oneself: one line, not two.
	fc_send a "/timeout guest1 30"
	fc_next a '^\*\*\* your read timeout was set to 30 s by guest1: send a line at least that often$'
	fc_quiet a b
	fc_read_who a
	[ "${WHO_TMO[guest1]}" = 30s ]
	fc_quiet b a
	fc_stop_all
	fc_clean_log
}

@test "idle_timeout is the read timeout of new clients" {
	fc_start -o admin=everyone -o idle_timeout=2
	fc_connect b
	fc_send b "/timeout guest1 0"
	fc_next b '^\*\*\* your read timeout was turned off by guest1$'
	fc_connect a
	fc_joined b guest2
	fc_read_who a
	t0=${EPOCHREALTIME/./}
	[ "${WHO_TMO[guest2]}" = 2s ]
	[ "${WHO_TMO[guest1]}" = none ]
	fc_next a '^\*\*\* read timeout \(2 s\): you sent no line for 2 s, so the server is closing your connection$'
	t1=${EPOCHREALTIME/./}
	((t1 - t0 >= 1500000 && t1 - t0 < 5000000))
	fc_eof a
	fc_next b '^\*\*\* guest2 left \(read timeout after 2 s\)$'
	fc_stop_all
	fc_clean_log
}

@test "/stats: clients, broadcasts, bytes, kicks, timeouts, pipe jobs, workers" {
	fc_start -o admin=everyone -o pipe.cat=/bin/cat
	fc_connect a
	stats a
	[[ $STATS == *"|clients: 1 now, 1 peak, 1 in all|"* ]]
	[[ $STATS == *"|broadcasts: 0|"* ]]
	[[ $STATS == *"|bytes relayed: 0 in, "* ]]
	[[ $STATS == *"|kicks: 0, timeouts: 0, pipe jobs: 0|"* ]]
	[[ $STATS == *"|workers: 5 forked, 0 reaped, 0 crashed" ]]
	fc_connect b
	fc_joined a guest2
	fc_connect c
	fc_joined a guest3
	fc_connect d
	fc_joined a guest4
	fc_read_who a
	bpid=${WHO_PID[guest2]} cpid=${WHO_PID[guest3]} dpid=${WHO_PID[guest4]}
	fc_send a "hello"
	fc_expect d '^<guest1> hello$'
	fc_send a "/kick guest2"
	fc_expect b '^\*\*\* you were kicked by guest1$'
	fc_send c "/timeout guest3 1"
	fc_expect c '^\*\*\* read timeout \(1 s\): you sent no line for 1 s, so the server is closing your connection$'
	fc_send a "/pipe cat meow"
	fc_expect a '^\[cat\] meow$'
	fc_expect a '^\*\*\* end of /pipe cat$'
	kill -9 "$dpid"
	fc_expect a '^\*\*\* guest4 left \(worker died: signal 9\)$'
	wait_until 5 fc_all_gone "$bpid" "$cpid" "$dpid"
	stats a
	echo "$STATS" >&2
	[[ $STATS == *"|clients: 1 now, 4 peak, 4 in all|"* ]]
	[[ $STATS == *"|broadcasts: 1|"* ]]
	[[ $STATS == *"|bytes relayed: 5 in, "* ]]
	[[ $STATS == *"|kicks: 1, timeouts: 1, pipe jobs: 1|"* ]]
	[[ $STATS == *"|workers: 8 forked, 3 reaped, 1 crashed" ]]
	fc_stop_all
	[ -z "$(fc_unexpected_warnings "worker $dpid of client #4 \\(guest4\\) died: signal 9$")" ]
	fc_log_has "warning \\[[0-9]+\\] worker $dpid of client #4 \\(guest4\\) died: signal 9$"
}
