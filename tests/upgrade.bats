#!/usr/bin/env bats
# shellcheck shell=bash
# upgrade: SIGUSR2, a new binary taking the running master over in
# place.  The server runs from a copy of the binary in the test's own
# directory, and the test installs another build at that path (as
# `make install` would) before the signal: build/next (another version
# string), and two that cannot take over, build/next-snap (a snapshot
# layout it does not read) and build/next-chan (a channel protocol far
# ahead), which hand the server back to the old binary.
# shellcheck disable=SC2030,SC2031 # the socket test sets lib.bash's FC_*

load lib
load upgrade

setup() {
	upgrade_setup || return 1
	# shellcheck disable=SC2034 # lib.bash's fc_start runs it
	FORKCHATD=$BIN
}

teardown() {
	fc_cleanup
}

# How many log lines match RE.
count() { grep -cE -- "$1" "$FC_LOG" || true; }

# SIGUSR2, then wait (bounded) for the Nth upgrade to end, either way.
upgrade() {
	local n=${1:-1}
	kill -USR2 "$FC_PID"
	wait_until 15 upgrade_ended "$n"
}
upgrade_ended() {
	(($(count 'upgrade complete: |upgrade refused: |upgrade failed: ') >= $1))
}

# A server with clients a and b, and its pool full again.
two_clients() {
	fc_start
	fc_connect a
	fc_connect b
	fc_joined a guest2
	wait_until 10 fc_pool 4 2
}

# The inode of the binary a process runs.
exe_inode() { stat -L -c %i "/proc/$1/exe"; }

# The pool is back: SPARES spares of this binary, no old forker.
pool_of_new() {
	local i spares=0 forkers=0 ino
	ino=$(stat -c %i "$BIN")
	fc_scan "$FC_PID"
	for i in "${!FC_KIDS[@]}"; do
		case ${FC_KID_COMM[i]} in
		"forkchatd spare")
			[ "$(exe_inode "${FC_KIDS[i]}")" = "$ino" ] || return 1
			spares=$((spares + 1)) ;;
		"forkchatd fork")
			[ "$(exe_inode "${FC_KIDS[i]}")" = "$ino" ] || return 1
			forkers=$((forkers + 1)) ;;
		esac
	done
	((spares == $1 && forkers == 1))
}

@test "100 clients through an upgrade: same pid, the new binary, nobody dropped, every line once in one order" {
	local pid fds_before old_worker new_worker out next_ino
	fc_start -o flood_rate=0 -o spare_workers=4 -o max_clients=200
	pid=$FC_PID
	fc_connect a
	old_worker=$(fc_worker_pid 1)
	wait_until 5 fc_pool 4 1
	fds_before=$(fc_open_fds "$FC_PID")
	install_bin "$VARIANTS/next/forkchatd"
	next_ino=$(stat -c %i "$BIN")
	# 100 clients, 5 of them sending 40 lines each, 25 ms apart; the
	# upgrade comes 300 ms into it.
	out=$(timeout 90 perl "$BATS_TEST_DIRNAME/progs/chatload.pl" \
	    "$FC_PORT" 100 5 40 25 "$FC_PID" USR2 300) || {
		echo "$out" >&2
		false
	}
	echo "# $out" >&3
	[[ $out == *"lost 0 dup 0 order ok closed 0"* ]]
	wait_until 10 upgrade_ended 1
	fc_log_has ' notice \[[0-9]+\] upgrading forkchatd [^ ]+ -> [^ ]+\+next$'
	fc_log_has ' notice \[[0-9]+\] upgrade complete: [0-9]+ clients? kept \(the master was away [0-9]+ ms\)$'
	# The same process, now running the new file.
	[ "$FC_PID" = "$pid" ]
	[ "$(exe_inode "$FC_PID")" = "$next_ino" ]
	# a kept its worker, of the old binary; a newcomer gets a new one.
	[ "$(fc_worker_pid 1)" = "$old_worker" ]
	[ "$(exe_inode "$old_worker")" != "$next_ino" ]
	fc_connect b
	new_worker=$(fc_worker_pid "$(sed -nE 's/.*client #([0-9]+) \(guest[0-9]+\) connected from .*/\1/p' "$FC_LOG" | tail -n 1)")
	[ "$(exe_inode "$new_worker")" = "$next_ino" ]
	fc_send a "from the old worker"
	fc_expect b '^<guest1> from the old worker$'
	fc_send b "/ps"
	fc_expect b "^ +$old_worker +$FC_PID .* \|- worker \([^+]+\)$"
	fc_expect b '^\*\*\* end of /ps '
	# No descriptor leaked across the exec: the same count, once b has
	# gone and the pool is of the new binary.
	fc_send b "/quit"
	fc_expect a 'left \(quit\)$'
	wait_until 10 pool_of_new 4
	[ "$(fc_open_fds "$FC_PID")" -eq "$fds_before" ]
	fc_stop INT
	[ "$FC_STATUS" -eq 0 ]
	wait_until 5 fc_no_zombies "$FC_PID" || true
	[ -z "$(fc_unexpected_warnings '^$')" ]
}

@test "upgrade twice in a row: there and back, clients and counters kept" {
	fc_start
	fc_connect a
	fc_connect b
	fc_joined a guest2
	fc_send a "/nick alice"
	fc_expect a 'now known as alice$'
	fc_expect b 'now known as alice$'
	install_bin "$VARIANTS/next/forkchatd"
	upgrade 1
	install_bin "$ORIG"
	upgrade 2
	[ "$(count 'upgrade complete: 2 clients kept')" -eq 2 ]
	fc_log_has "upgrading forkchatd [^ ]+\\+next -> $("$ORIG" -V | cut -d' ' -f2)\$"
	fc_send b "still here"
	fc_next a '^<guest2> still here$'
	fc_connect c
	fc_next a '^\*\*\* guest3 joined$'
	fc_send c "/who"
	fc_expect c '^#1 +alice '
	fc_expect c '^\*\*\* end of /who \(3 clients\)$'
	fc_stop_clean
}

@test "upgrade with a pipe job running: its output still comes, the job is reaped" {
	fc_start -o "pipe.slow=$BATS_TEST_DIRNAME/progs/slowecho.sh"
	fc_connect a
	fc_send a "/pipe slow text"
	wait_until 5 fc_log_has 'started pipe job [0-9]+: slow$'
	install_bin "$VARIANTS/next/forkchatd"
	upgrade
	fc_log_has 'upgrade complete: 1 client kept'
	fc_expect a '^\[slow\] done text$' 10
	fc_next a '^\*\*\* end of /pipe slow$'
	wait_until 5 fc_log_has 'pipe job [0-9]+ \(slow\) of client #1 reaped: status 0$'
	fc_stop_clean
}

@test "upgrade under a read timeout: it fires on time" {
	local t0 t1
	fc_start -o admin=everyone
	fc_connect a
	fc_connect b
	fc_joined a guest2
	fc_send a "/timeout guest2 3"
	fc_expect b 'your read timeout was set to 3 s'
	t0=${EPOCHREALTIME/./}
	install_bin "$VARIANTS/next/forkchatd"
	upgrade
	fc_expect b '^\*\*\* read timeout \(3 s\)' 10
	t1=${EPOCHREALTIME/./}
	echo "# fired after $(((t1 - t0) / 1000)) ms" >&3
	((t1 - t0 >= 2500000 && t1 - t0 < 4500000))
	fc_expect a '^\*\*\* guest2 left \(read timeout after 3 s\)$'
	fc_stop_clean
}

@test "upgrade keeps operator rights and the generated password" {
	local pw
	fc_start
	pw=$(sed -nE 's/.*operator password for this run: ([^ ]+) .*/\1/p' "$FC_LOG")
	fc_connect a
	fc_connect b
	fc_joined a guest2
	fc_send a "/oper $pw"
	fc_next a '^\*\*\* you are now an operator$'
	install_bin "$VARIANTS/next/forkchatd"
	upgrade
	fc_connect c
	fc_send c "/oper $pw"
	fc_next c '^\*\*\* you are now an operator$'
	fc_send a "/kick guest2 still an operator"
	fc_expect b '^\*\*\* you were kicked by guest1: still an operator$'
	[ "$(count 'operator password for this run')" -eq 1 ]
	fc_stop_clean
}

@test "upgrade with a socket-activated listener: the passed socket is kept" {
	local port
	command -v systemd-socket-activate >/dev/null || skip "no systemd-socket-activate"
	FC_LOG=$BATS_TEST_TMPDIR/forkchatd.log
	for _ in 1 2 3 4 5; do
		port=$((20000 + RANDOM % 40000))
		: >"$FC_LOG"
		setsid -w systemd-socket-activate -l "127.0.0.1:$port" "$BIN" \
		    2>>"$FC_LOG" &
		FC_WAITPID=$! FC_PID=$!
		wait_until 5 grep -q '^Listening on ' "$FC_LOG"
		grep -qx "Listening on 127.0.0.1:$port as 3." "$FC_LOG" && break
		kill "$FC_PID"; wait "$FC_WAITPID" || true
	done
	FC_PORT=$port
	fc_connect a				# this starts it
	fc_log_has 'using 1 listening socket passed by the service manager'
	install_bin "$VARIANTS/next/forkchatd"
	upgrade
	fc_log_has 'upgrade complete: 1 client kept'
	fc_connect b
	fc_joined a guest2
	fc_send b "through the same socket"
	fc_next a '^<guest2> through the same socket$'
	fc_stop_clean
}

# After a refusal or a rollback: same pid, the chat works, nothing leaked.
still_serving() {
	local pid=$1 fds=$2
	[ "$FC_PID" = "$pid" ]
	fc_send a "after $3"
	fc_next b "^<guest1> after $3\$"
	wait_until 10 fc_pool 4 2
	[ "$(fc_open_fds "$FC_PID")" -eq "$fds" ]
}

@test "refusals: not executable, exits 1, /bin/true: nothing changes" {
	local pid fds
	two_clients
	pid=$FC_PID fds=$(fc_open_fds "$FC_PID")
	install_bin "$VARIANTS/next/forkchatd" 644
	upgrade 1
	fc_log_has " error \\[[0-9]+\\] upgrade refused: $BIN: Permission denied; forkchatd [^ ]+ runs on\$"
	still_serving "$pid" "$fds" "not executable"
	printf '#!/bin/sh\necho broken >&2\nexit 1\n' >"$BATS_TEST_TMPDIR/exit1"
	install_bin "$BATS_TEST_TMPDIR/exit1"
	upgrade 2
	fc_log_has " error \\[[0-9]+\\] upgrade refused: $BIN -t failed \\(status 1\\): broken; "
	still_serving "$pid" "$fds" "exit 1"
	install_bin /bin/true
	upgrade 3
	fc_log_has " error \\[[0-9]+\\] upgrade refused: $BIN cannot take over a running forkchatd \\(its -t said nothing\\); "
	still_serving "$pid" "$fds" "true"
	[ "$(count 'upgrade complete')" -eq 0 ]
	fc_stop_all
	[ -z "$(fc_unexpected_warnings 'upgrade refused: ')" ]
}

@test "a binary that cannot take over hands the server back: another snapshot, another channel protocol" {
	local pid fds
	two_clients
	pid=$FC_PID fds=$(fc_open_fds "$FC_PID")
	install_bin "$VARIANTS/next-snap/forkchatd"
	upgrade 1
	fc_log_has ' error \[[0-9]+\] cannot take the running server over: the snapshot is of version 1; this binary reads version 99; handing it back to forkchatd '
	fc_log_has ' error \[[0-9]+\] upgrade failed: the snapshot is of version 1; this binary reads version 99; forkchatd [^ ]+ runs on, 2 clients kept$'
	still_serving "$pid" "$fds" "another snapshot"
	install_bin "$VARIANTS/next-chan/forkchatd"
	upgrade 2
	fc_log_has ' error \[[0-9]+\] upgrade failed: worker [0-9]+ speaks channel protocol [0-9]+; this binary serves 98 and 99; '
	still_serving "$pid" "$fds" "another protocol"
	# And a good one still goes through after all that.
	install_bin "$VARIANTS/next/forkchatd"
	upgrade 3
	fc_log_has 'upgrade complete: 2 clients kept'
	fc_stop_all
	[ -z "$(fc_unexpected_warnings 'cannot take the running server over|upgrade failed: ')" ]
}

@test "a configuration broken after the check: the new binary keeps the one in force, as a reload would" {
	local conf=$BATS_TEST_TMPDIR/f.conf gate=$BATS_TEST_TMPDIR/gate ino
	# The new "binary" is a script running build/next: its check (-t)
	# stops at a gate (a FIFO) once done, so the test can break the file
	# between the check and the start that reads it again.
	mkfifo "$gate"
	cat >"$BATS_TEST_TMPDIR/next.sh" <<-EOF
	#!/bin/sh
	case " \$* " in
	*" -t "*)
		"$VARIANTS/next/forkchatd" "\$@"; st=\$?
		: >"$gate.at"
		read -r go <"$gate"
		exit \$st ;;
	esac
	exec "$VARIANTS/next/forkchatd" "\$@"
	EOF
	echo 'admin = everyone' >"$conf"
	fc_start -c "$conf"
	ino=$(exe_inode "$FC_PID")
	fc_connect a
	fc_connect b
	fc_joined a guest2
	install_bin "$BATS_TEST_TMPDIR/next.sh"
	kill -USR2 "$FC_PID"
	wait_until 15 test -e "$gate.at"
	echo 'no_such_key = 1' >>"$conf"
	# shellcheck disable=SC2016 # the gate's path is sh's $1
	timeout 5 sh -c 'echo go >"$1"' sh "$gate"
	wait_until 15 upgrade_ended 1
	fc_log_has ' error \[[0-9]+\] upgrade: .*f\.conf:2: unknown key .no_such_key.; the configuration in force is kept$'
	fc_log_has 'upgrade complete: 2 clients kept'
	[ "$(exe_inode "$FC_PID")" != "$ino" ]	# the new binary runs
	fc_send b "still here"
	fc_expect a '^<guest2> still here$'
	# It runs with the configuration in force (anyone may /stats) ...
	fc_send a "/stats"
	fc_next a '^uptime [0-9hms]+$'
	# ... and a reload reads the file again, and says what is wrong.
	kill -HUP "$FC_PID"
	wait_until 10 fc_log_has 'reload failed: .*no_such_key'
	fc_stop_all
	[ -z "$(fc_unexpected_warnings 'upgrade: .*no_such_key|reload failed: ')" ]
}

@test "two SIGUSR2 at once are one upgrade; SIGUSR2 during a shutdown is ignored" {
	local w
	fc_start
	fc_connect a
	install_bin "$VARIANTS/next/forkchatd"
	kill -USR2 "$FC_PID"
	kill -USR2 "$FC_PID"
	wait_until 15 upgrade_ended 1
	wait_until 5 fc_log_has 'upgrade complete'
	[ "$(count 'upgrading forkchatd')" -eq 1 ]
	# A worker that will not exit keeps the shutdown going.
	w=$(fc_worker_pid 1)
	kill -STOP "$w"
	kill -TERM "$FC_PID"
	wait_until 5 fc_log_has 'SIGTERM: shutting down'
	kill -USR2 "$FC_PID"
	wait_until 5 fc_log_has 'SIGUSR2 ignored: shutting down$'
	kill -CONT "$w"
	fc_await_exit
	[ "$FC_STATUS" -eq 0 ]
	[ "$(count 'upgrading forkchatd')" -eq 1 ]
}

@test "SIGTERM during an upgrade: the shutdown comes once it is done, either way" {
	# A binary whose -t takes a second: time to send SIGTERM meanwhile.
	printf '#!/bin/sh\n[ -z "$%s" ] || sleep 1\nexec %s "$@"\n' \
	    FORKCHAT_UPGRADE_CHECK "$VARIANTS/next/forkchatd" \
	    >"$BATS_TEST_TMPDIR/slow"
	fc_start
	fc_connect a
	install_bin "$BATS_TEST_TMPDIR/slow"
	kill -USR2 "$FC_PID"
	wait_until 5 fc_log_has 'SIGUSR2: checking '
	kill -TERM "$FC_PID"
	wait_until 5 fc_log_has 'SIGTERM: shutting down once the upgrade is done$'
	fc_expect a '^\*\*\* server shutting down$' 15
	fc_await_exit
	[ "$FC_STATUS" -eq 0 ]
	fc_log_has 'upgrade complete: 1 client kept'
	# The shutdown was the new master's.
	grep -A100 'upgrade complete' "$FC_LOG" | grep -q 'SIGTERM: shutting down, 1 client'
	# And when the upgrade is refused, the old master stops.
	printf '#!/bin/sh\nsleep 1\nexit 1\n' >"$BATS_TEST_TMPDIR/slowfail"
	cp "$ORIG" "$BIN"
	fc_start
	install_bin "$BATS_TEST_TMPDIR/slowfail"
	kill -USR2 "$FC_PID"
	wait_until 5 fc_log_has 'SIGUSR2: checking '
	kill -INT "$FC_PID"
	fc_await_exit
	[ "$FC_STATUS" -eq 0 ]
	fc_log_has 'upgrade refused: '
	fc_log_has 'SIGINT: shutting down, 0 clients'
}
