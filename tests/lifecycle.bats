#!/usr/bin/env bats
# shellcheck shell=bash
# lifecycle: the spare pool, workers that crash or are killed, the master
# killed, every way of stopping (SIGTERM, SIGINT, Ctrl-C to the group,
# SIGQUIT, the grace period, a second signal), SIGHUP, reaping and
# descriptor hygiene over many connections, IPv6.
# shellcheck disable=SC2030,SC2031 # FC_STATUS is set and read in one test

load lib

teardown() { fc_cleanup; }

# Each client's next line is the goodbye, then the server closes it.
all_told_shutdown() {
	local name
	for name in "$@"; do
		fc_next "$name" '^\*\*\* server shutting down$'
		fc_eof "$name"
	done
}

# An orderly stop by SIG sent to the master, or to its whole process
# group (WHO = group): goodbyes, exit 0, no process left, a clean log
# with the expected summary.
orderly_stop() {
	local sig=$1 who=${2:-master} tree
	fc_start -o spare_workers=2
	fc_three_clients
	tree=$(fc_tree "$FC_PID")
	if [ "$who" = group ]; then
		kill -s "$sig" -- "-$FC_PID"
	else
		kill -s "$sig" "$FC_PID"
	fi
	fc_await_exit 10
	[ "$FC_STATUS" -eq 0 ]
	all_told_shutdown a b c
	# The master reaped its children before it exited: nothing is left,
	# not even a zombie, the moment it is gone.
	# shellcheck disable=SC2086 # one pid per word
	fc_all_gone $tree
	fc_log_has "SIG$sig: shutting down, 3 clients, grace 5 s"
	fc_log_has 'shutdown complete: 5 workers reaped, 0 of them killed$'
	fc_clean_log
}

@test "spares: spare_workers idle workers, refilled after each hand-off" {
	fc_start -o spare_workers=3
	wait_until 5 fc_pool 3 0
	fc_log_has 'ready: 3 spare workers, up to 1000 clients'
	fc_connect a
	fc_connect b
	wait_until 5 fc_pool 3 2
	fc_worker_pid 1 >/dev/null
	fc_worker_pid 2 >/dev/null
	fc_stop TERM
	[ "$FC_STATUS" -eq 0 ]
	fc_clean_log
}

@test "spare_workers=0: a worker is forked per connection, none kept idle" {
	local pid
	fc_start -o spare_workers=0
	fc_log_has 'ready: 0 spare workers, up to 1000 clients'
	fc_pool 0 0
	fc_connect a
	wait_until 5 fc_pool 0 1
	pid=$(fc_worker_pid 1)
	fc_send a "/quit"
	fc_next a '^\*\*\* goodbye$'
	fc_eof a
	wait_until 5 fc_gone "$pid"
	wait_until 5 fc_pool 0 0
	fc_stop TERM
	[ "$FC_STATUS" -eq 0 ]
	fc_clean_log
}

@test "kill -9 of a worker: others told, warning, reaped, chat goes on" {
	local pid base name
	fc_start -o spare_workers=2
	wait_until 5 fc_pool 2 0
	base=$(fc_open_fds "$FC_PID")
	fc_connect a
	fc_connect b
	fc_connect c
	fc_joined a guest3
	pid=$(fc_worker_pid 2)
	kill -9 "$pid"
	fc_expect a '^\*\*\* guest2 left \(worker died: signal 9\)$'
	fc_expect c '^\*\*\* guest2 left \(worker died: signal 9\)$'
	fc_eof b
	wait_until 5 fc_gone "$pid"		# reaped: not even a zombie
	fc_no_zombies
	fc_log_has " warning \[$FC_PID\] worker $pid of client #2 \(guest2\) died: signal 9$"
	fc_send a "still here"
	fc_next c '^<guest1> still here$'
	fc_connect d
	[[ $FC_LINE == '*** welcome to forkchat, guest4! You are client #4.'* ]]
	fc_next a '^\*\*\* guest4 joined$'
	fc_send d "hello from d"
	fc_next a '^<guest4> hello from d$'
	wait_until 5 fc_pool 2 3
	# Once everyone has gone, the master holds what it held at the start:
	# the dead worker's channel was closed too.
	for name in a c d; do
		fc_close "$name"
	done
	wait_until 5 fc_pool 2 0
	wait_until 5 fds_are "$base"
	fc_stop TERM
	[ "$FC_STATUS" -eq 0 ]
	# The crash is the only warning.
	[ "$(grep -cE ' (warning|error) \[' "$FC_LOG")" -eq 1 ]
}

@test "kill -9 of a spare: reaped and replaced" {
	local victim base
	fc_start -o spare_workers=3
	wait_until 5 fc_pool 3 0
	base=$(fc_open_fds "$FC_PID")
	victim=$(fc_spare_pids | head -n 1)
	kill -9 "$victim"
	wait_until 5 fc_gone "$victim"
	wait_until 5 fc_pool 3 0
	wait_until 5 fds_are "$base"	# its channel closed, the new one open
	[[ " $(fc_spare_pids | tr '\n' ' ') " != *" $victim "* ]]
	fc_log_has " warning \[$FC_PID\] spare worker $victim died: signal 9$"
	# The pool still serves.
	fc_connect a
	wait_until 5 fc_pool 3 1
	fc_stop TERM
	[ "$FC_STATUS" -eq 0 ]
	[ "$(grep -cE ' (warning|error) \[' "$FC_LOG")" -eq 1 ]
}

@test "kill -9 of the forker: a new one, spares refilled, clients chat on" {
	local forker name
	fc_start -o spare_workers=2
	fc_connect a
	fc_connect b
	fc_joined a guest2
	wait_until 5 fc_pool 2 2
	forker=$(fc_forker_pid)
	kill -9 "$forker"
	wait_until 5 fc_gone "$forker"
	fc_log_has " warning \[$FC_PID\] forker $forker died: signal 9; forking a new one$"
	wait_until 5 fc_pool 2 2
	[ "$(fc_forker_pid)" != "$forker" ]
	fc_send a "after the forker"
	fc_next b '^<guest1> after the forker$'
	# More clients than the old spares: the new forker forks for them.
	for name in c d e; do
		fc_connect "$name"
	done
	fc_joined a guest5
	wait_until 5 fc_pool 2 5
	fc_stop TERM
	[ "$FC_STATUS" -eq 0 ]
	# The forker's death is the only warning.
	[ "$(grep -cE ' (warning|error) \[' "$FC_LOG")" -eq 1 ]
}

@test "no spare idle: the client waits for the forker, is served when it forks, told if the server stops first" {
	local forker
	fc_start -o spare_workers=1 -o shutdown_grace=1
	wait_until 5 fc_pool 1 0
	forker=$(fc_forker_pid)
	kill -STOP "$forker"
	fc_connect a			# the spare; no replacement comes
	fc_connect_raw b		# accepted, waits for a worker
	wait_until 5 fc_log_has 'client #1 \(guest1\) connected'
	kill -CONT "$forker"
	fc_read b
	[[ $FC_LINE == '*** welcome to forkchat, guest2!'* ]]
	fc_next a '^\*\*\* guest2 joined$'
	# Again, and the server stops before the forker can fork.
	wait_until 5 fc_pool 1 2
	kill -STOP "$forker"
	fc_connect a2			# the spare
	fc_connect_raw c
	fc_next a '^\*\*\* guest3 joined$'
	fc_stop TERM
	[ "$FC_STATUS" -eq 0 ]
	fc_next_is c "ERR server shutting down"
	fc_eof c
	fc_log_has '1 connection waiting for a worker closed$'
	fc_log_lacks 'refused connection'
}

# Private_Dirty of a process, in kB: the pages it does not share.
private_kb() { awk '/^Private_Dirty:/ { print $2 }' "/proc/$1/smaps_rollup"; }

@test "workers are forks of the forker: children of the master, sharing nearly all their pages; SCHED_BATCH once serving" {
	local pid kb
	sanitized && skip "AddressSanitizer's shadow memory is private"
	fc_start -o spare_workers=3
	fc_connect a
	wait_until 5 fc_pool 3 1
	for pid in $(fc_spare_pids) "$(fc_worker_pid 1)"; do
		[ "$(ps -o ppid= -p "$pid" | tr -d ' ')" = "$FC_PID" ]
		kb=$(private_kb "$pid")
		echo "# worker $pid: Private_Dirty $kb kB" >&3
		# A fresh exec is ~100 kB; a fork of the master grows with it.
		((kb <= 64))
	done
	# A worker with its client no longer preempts the master on waking.
	! command -v chrt >/dev/null ||
	    [[ $(chrt -p "$(fc_worker_pid 1)") == *"policy: SCHED_BATCH"* ]]
	fc_stop TERM
	[ "$FC_STATUS" -eq 0 ]
	fc_clean_log
}

@test "kill -9 of the master: every client told, the whole tree exits" {
	local tree name
	fc_start -o spare_workers=2
	fc_three_clients
	tree=$(fc_tree "$FC_PID")
	[ "$(wc -w <<<"$tree")" -eq 7 ]	# master, forker, 3 workers, 2 spares
	kill -9 "$FC_PID"
	for name in a b c; do
		fc_next "$name" '^\*\*\* server went away$'
		fc_eof "$name"
	done
	# shellcheck disable=SC2086 # one pid per word
	wait_until 5 fc_exited $tree
	fc_reap_killed
	fc_clean_log
}

@test "SIGTERM with 3 clients: goodbyes, exit 0, all reaped, clean log" {
	orderly_stop TERM
}

@test "SIGINT with 3 clients: goodbyes, exit 0, all reaped, clean log" {
	orderly_stop INT
}

@test "Ctrl-C (SIGINT to the whole process group): the same orderly stop" {
	# fc_start runs the master under setsid: it leads its process group.
	orderly_stop INT group
}

@test "SIGTERM to the whole process group: the same orderly stop" {
	# Workers ignore SIGTERM as they do SIGINT: the master decides.
	orderly_stop TERM group
}

@test "SIGQUIT with clients: immediate, exit 0, everything gone" {
	local tree name
	fc_start -o spare_workers=2
	fc_three_clients
	tree=$(fc_tree "$FC_PID")
	kill -QUIT "$FC_PID"
	fc_await_exit 5
	[ "$FC_STATUS" -eq 0 ]
	for name in a b c; do
		fc_eof "$name"
	done
	# shellcheck disable=SC2086 # one pid per word
	fc_all_gone $tree
	fc_log_has 'SIGQUIT: immediate shutdown, 3 clients'
	fc_log_has 'shutdown complete: 5 workers reaped, 5 of them killed$'
	fc_clean_log
}

@test "Ctrl-\\ (SIGQUIT to the whole process group): the same immediate stop" {
	local tree name
	fc_start -o spare_workers=2
	fc_three_clients
	tree=$(fc_tree "$FC_PID")
	kill -QUIT -- "-$FC_PID"	# workers ignore it; the master kills them
	fc_await_exit 5
	[ "$FC_STATUS" -eq 0 ]
	for name in a b c; do
		fc_eof "$name"
	done
	# shellcheck disable=SC2086 # one pid per word
	fc_all_gone $tree
	fc_log_has 'SIGQUIT: immediate shutdown, 3 clients'
	fc_log_has 'shutdown complete: 5 workers reaped, 5 of them killed$'
	fc_clean_log
}

@test "grace: a stopped worker is killed after shutdown_grace, exit 0" {
	local tree pid t0 dt
	fc_start -o shutdown_grace=1 -o spare_workers=1
	fc_connect a
	fc_connect b
	fc_joined a guest2
	tree=$(fc_tree "$FC_PID")
	pid=$(fc_worker_pid 2)
	kill -STOP "$pid"
	t0=$(now_us)
	kill -TERM "$FC_PID"
	fc_next a '^\*\*\* server shutting down$'
	fc_eof a
	fc_await_exit 10
	dt=$(($(now_us) - t0))
	[ "$FC_STATUS" -eq 0 ]
	((dt >= 900000 && dt < 4000000))	# the grace, not much more
	fc_eof b				# killed: its socket fc_eof
	# shellcheck disable=SC2086 # one pid per word
	fc_all_gone $tree
	fc_log_has 'killing 1 worker '
	fc_log_has 'shutdown complete: 3 workers reaped, 1 of them killed$'
	fc_clean_log
}

@test "second SIGTERM skips the grace: a stopped worker is killed at once" {
	local tree pid t0 dt others
	fc_start -o shutdown_grace=30 -o spare_workers=1
	fc_connect a
	fc_connect b
	fc_joined a guest2
	tree=$(fc_tree "$FC_PID")
	pid=$(fc_worker_pid 2)
	kill -STOP "$pid"
	t0=$(now_us)
	kill -TERM "$FC_PID"
	fc_next a '^\*\*\* server shutting down$'
	fc_eof a
	wait_until 5 fc_log_has 'SIGTERM: shutting down, 2 clients, grace 30 s'
	# Everything but the stopped worker is gone; the master waits for it.
	others=$(grep -vx -e "$FC_PID" -e "$pid" <<<"$tree")
	# shellcheck disable=SC2086 # one pid per word
	wait_until 5 fc_all_gone $others
	[ -e "/proc/$FC_PID" ]
	# Draining: the listener is closed, a new connection is refused.
	run bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1"' _ "$FC_PORT"
	[ "$status" -ne 0 ]
	[[ $output == *"Connection refused"* ]]
	kill -TERM "$FC_PID"
	fc_await_exit 5
	dt=$(($(now_us) - t0))
	[ "$FC_STATUS" -eq 0 ]
	((dt < 5000000))			# well under the 30 s grace
	fc_eof b
	# shellcheck disable=SC2086 # one pid per word
	fc_all_gone $tree
	fc_log_has 'SIGTERM again: not waiting any longer'
	fc_log_has 'shutdown complete: 3 workers reaped, 1 of them killed$'
	fc_clean_log
}

@test "no zombies: 20 connect and /quit cycles, each worker reaped" {
	local i pid
	fc_start -o spare_workers=2
	for ((i = 1; i <= 20; i++)); do
		fc_connect "c$i"
		pid=$(fc_worker_pid "$i")
		fc_send "c$i" "/quit"
		fc_next "c$i" '^\*\*\* goodbye$'
		fc_eof "c$i"
		fc_close "c$i"
		wait_until 5 fc_gone "$pid"
		fc_no_zombies
	done
	wait_until 5 fc_pool 2 0
	[ "$(grep -c 'left: quit$' "$FC_LOG")" -eq 20 ]
	fc_stop TERM
	[ "$FC_STATUS" -eq 0 ]
	fc_clean_log
}

# One short-lived client: connect, read the greeting, close.
touch_and_go() {
	local fd line
	exec {fd}<>"/dev/tcp/127.0.0.1/$FC_PORT" || return 1
	IFS= read -r -t "$FC_TIMEOUT" -u "$fd" line || line=
	exec {fd}>&-
	[[ ${line#"$FC_TELNET_ASK"} == '*** welcome'* ]]
}

@test "200 connect/disconnect cycles: no descriptor leak, no zombies" {
	local base i
	fc_start
	wait_until 5 fc_pool 4 0
	base=$(fc_open_fds "$FC_PID")
	((base > 0))
	for ((i = 0; i < 200; i++)); do
		touch_and_go || { echo "cycle $i failed" >&2; false; }
	done
	wait_until 10 fds_are "$base"
	wait_until 5 fc_pool 4 0	# no zombie either
	[ -z "$(fc_zombies "$FC_PID")" ]
	# Closed, or reset when a client closed with a notice still unread
	# (another's "left" line): both are the client going, nothing else.
	wait_until 5 fc_log_has 'client #200 \(guest200\) from .* left: connection (closed|reset)$'
	[ "$(grep -cE 'left: connection (closed|reset)$' "$FC_LOG")" -eq 200 ]
	fc_stop TERM
	[ "$FC_STATUS" -eq 0 ]
	fc_log_has 'shutdown complete: 4 workers reaped, 0 of them killed$'
	fc_clean_log
}

# True when the log holds N SIGHUP notices.
hups_logged() { [ "$(grep -c ' notice \[[0-9]*\] SIGHUP: ' "$FC_LOG")" -eq "$1" ]; }

# The master's tree without its forker (a reload replaces the forker).
tree_but_forker() { fc_tree "$FC_PID" | grep -vx "$1" | sort; }

@test "SIGHUP kills nothing: master, workers and clients carry on" {
	local before forker
	fc_start -o spare_workers=2
	fc_connect a
	fc_connect b
	fc_joined a guest2
	forker=$(fc_forker_pid)
	before=$(tree_but_forker "$forker")
	kill -HUP "$FC_PID"
	wait_until 5 fc_log_has ' notice \[[0-9]+\] SIGHUP: '
	kill -HUP -- "-$FC_PID"		# and to every worker in the group
	wait_until 5 hups_logged 2
	fc_send a "after the hangup"
	fc_next b '^<guest1> after the hangup$'
	fc_quiet a b
	# The forker alone is new: it holds the settings new workers get.
	wait_until 5 fc_gone "$forker"
	wait_until 5 fc_pool 2 2
	[ "$(tree_but_forker "$(fc_forker_pid)")" = "$before" ]
	fc_stop TERM
	[ "$FC_STATUS" -eq 0 ]
	fc_clean_log
}

@test "two listeners, 127.0.0.1 and [::1]: clients on both chat together" {
	local port6
	grep -q '^0\{31\}1 ' /proc/net/if_inet6 2>/dev/null ||
		skip "no ::1 on this machine"
	fc_start -l '[::1]:0'
	[ "$(grep -c 'listening on ' "$FC_LOG")" -eq 2 ]
	port6=$(sed -nE 's/.*listening on \[::1\]:([0-9]+)$/\1/p' "$FC_LOG")
	[ -n "$port6" ]
	fc_connect a
	fc_connect_raw six ::1 "$port6"
	fc_next six '^\*\*\* welcome to forkchat, guest2! You are client #2\.'
	fc_next a '^\*\*\* guest2 joined$'
	fc_send six "over ipv6"
	fc_next a '^<guest2> over ipv6$'
	fc_send a "over ipv4"
	fc_next six '^<guest1> over ipv4$'
	fc_log_has 'client #2 \(guest2\) connected from \[::1\]:[0-9]+, worker '
	fc_stop TERM
	[ "$FC_STATUS" -eq 0 ]
	fc_next six '^\*\*\* server shutting down$'
	fc_clean_log
}
