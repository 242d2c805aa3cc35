#!/usr/bin/env bats
# shellcheck shell=bash
# clusterup: a live upgrade (SIGUSR2) of a server of a cluster goes
# unseen, by its own clients and by every other server's: the same
# server, incarnation and roster go on in the new binary, which
# connects to Redis anew.  Against a real redis-server, with servers a,
# b, c (cluster.bash); a runs from a copy of the binary in the test's
# own directory, and the test installs build/next there, as
# upgrade.bats does, or a build that cannot take over (build/next-snap,
# build/next-chan), which hands the server back.  Every wait is bounded.

load lib
load redis
load cluster
load upgrade

setup() {
	redis_need
	upgrade_setup
}

teardown() {
	fc_cleanup_all
	redis_stop
}

# Server a has ended N upgrades, either way.
upgrades_ended() {
	(($(grep -cE 'upgrade complete: |upgrade refused: |upgrade failed: ' \
	    "${FC_LOGS[a]}") >= $1))
}

# Redis, server a (from BIN) and the others, each synced.
servers() {
	local name
	redis_start
	FORKCHATD=$BIN cl_start a "$@"
	for name in b c; do
		[ -n "${CL_ONLY_B:-}" ] && [ "$name" = c ] && continue
		cl_start "$name" "$@"
	done
	for name in "${!FC_PIDS[@]}"; do
		wait_until 5 cl_synced "$name"
	done
}

# a1 on a, named ann; b1 on b; each has seen the other.
ann_and_b1() {
	cl_join a1 a
	cl_join b1 b a1
	fc_send a1 "/nick ann"
	fc_expect a1 '^\*\*\* guest1@a is now known as ann$'
	fc_expect b1 '^\*\*\* guest1@a is now known as ann$'
}

# Client NAME reads up to the line "<NICK> MARKER" sent by OTHER; on
# the way, no line may say that the link went or came back, that a
# server went, or that ann or guest1@b left, joined or was renamed.
no_news() {
	local name=$1 other=$2 nick=$3 marker="marker-$RANDOM$RANDOM" n=0
	local bad='cluster link|unreachable|restarted|resynchroni|shutting down'
	bad+='|(ann|guest1@b) (left|joined)|known as'
	fc_send "$other" "$marker"
	while ((n++ < 2000)) && fc_read "$name"; do
		if [[ $FC_LINE =~ $bad ]]; then
			echo "no_news $name: told '$FC_LINE'" >&2
			return 1
		fi
		[ "$FC_LINE" = "<$nick> $marker" ] && return 0
	done
	echo "no_news $name: no marker" >&2
	return 1
}

# 30 clients, 10 on each server, 6 of them (2 on each) sending 40 lines
# 25 ms apart; SIGUSR2 to a 300 ms into it.
load_through_upgrade() {
	local out ports=${FC_PORTS[a]},${FC_PORTS[b]},${FC_PORTS[c]}
	out=$(timeout 60 perl "$BATS_TEST_DIRNAME/progs/chatload.pl" \
	    "$ports" 30 6 40 25 "${FC_PIDS[a]}" USR2 300) || {
		echo "$out" >&2
		return 1
	}
	echo "# $out" >&3
	[[ $out == *"lost 0 dup 0 order ok closed 0 "*" notices 0" ]]
}

@test "three servers, six senders: an upgrade of one, twice, goes unseen by every client of every server" {
	local pid fds worker
	servers -o flood_rate=0
	ann_and_b1
	fc_use a
	pid=$FC_PID
	worker=$(fc_worker_pid 1)
	wait_until 10 fc_pool 4 1
	fds=$(fc_open_fds "$pid")
	install_bin "$VARIANTS/next/forkchatd"
	load_through_upgrade
	wait_until 15 upgrades_ended 1
	# and back to the first binary, in the middle of as much again
	install_bin "$ORIG"
	load_through_upgrade
	wait_until 15 upgrades_ended 2
	fc_use a
	[ "$(grep -c 'upgrade complete: ' "$FC_LOG")" -eq 2 ]
	[ "$FC_PID" = "$pid" ] && [ "$(fc_worker_pid 1)" = "$worker" ]
	fc_log_has 'cluster: this is still server a, in the chat at '
	# ann kept her id, her nick and her worker; b and c see her so
	no_news a1 b1 guest1@b
	no_news b1 a1 ann
	cl_who b1
	printf '%s\n' "${WHO[@]}" | grep -qE '^#1@a +ann +pid [0-9]+ '
	[[ ${WHO[-1]} == *" on 3 servers)" ]]
	# the same link to /stats; a reload after keeps it
	fc_send a1 /stats
	fc_expect a1 '^cluster: server a, link up, '
	fc_expect a1 '^cluster: stream at [0-9]+-[0-9]+; entries: .*; link up 1 time$'
	fc_signal_named a HUP
	wait_until 5 fc_log_has 'configuration reloaded'
	# ids on a count on; lines flow both ways
	fc_connect_to a2 a
	[[ $FC_LINE == *"You are client #22."* ]]
	fc_expect b1 '^\*\*\* guest22@a joined$'
	fc_send b1 "to a, after"
	fc_expect a1 '^<guest1@b> to a, after$'
	fc_expect a2 '^<guest1@b> to a, after$'
	fc_send a2 "to b, after"
	fc_expect b1 '^<guest22@a> to b, after$'
	# no descriptor leaked: the old connections to Redis went with the
	# exec, the new ones took their place
	fc_send a2 /quit
	fc_expect a1 '^\*\*\* guest22@a left \(quit\)$'
	fc_use a
	wait_until 10 fc_pool 4 1
	[ "$(fc_open_fds "$pid")" -eq "$fds" ]
	for s in a b c; do
		fc_use "$s"
		fc_clean_log
	done
	fc_stop_named a TERM
	[ "$FC_STATUS" -eq 0 ]
	fc_expect b1 '^\*\*\* ann left \(server a shutting down\)$' 3
}

@test "an upgrade handed back, before or after reading the cluster's state: the link goes on, nobody told" {
	local v n=0
	CL_ONLY_B=1 servers
	ann_and_b1
	for v in next-snap next-chan; do
		n=$((n + 1))
		install_bin "$VARIANTS/$v/forkchatd"
		fc_signal_named a USR2
		fc_send a1 "$v-1" "$v-2"
		fc_send b1 "b-$v"
		wait_until 15 upgrades_ended "$n"
		fc_use a
		[ "$(grep -c 'upgrade failed: ' "$FC_LOG")" -eq "$n" ]
		fc_next_is b1 "<ann> $v-1"
		fc_next_is b1 "<ann> $v-2"
		fc_expect a1 "^<guest1@b> b-$v\$"
		no_news a1 b1 guest1@b
		no_news b1 a1 ann
	done
	fc_use a
	fc_log_has 'the snapshot is of version 1; this binary reads version 99'
	fc_log_has 'worker [0-9]+ speaks channel protocol [0-9]+; this binary serves 98 and 99'
	[ "$(grep -c 'cluster: this is still server a' "$FC_LOG")" -eq 2 ]
	[ -z "$(fc_unexpected_warnings 'cannot take the running server over|upgrade failed: ')" ]
	cl_who b1
	printf '%s\n' "${WHO[@]}" | grep -qE '^#1@a +ann +pid [0-9]+ '
	fc_use b
	fc_clean_log
}

@test "Redis away during an upgrade: told once, what was said meanwhile reaches the others once, in order" {
	CL_TIMEOUT=2 CL_ONLY_B=1 servers
	cl_join a1 a
	cl_join a2 a a1
	cl_join b1 b a1 a2
	kill -STOP "$REDIS_PID"
	fc_send a1 "away-1"
	fc_expect a1 '^\*\*\* cluster link lost: ' 4
	fc_expect a2 '^\*\*\* cluster link lost: ' 4
	fc_next_is a2 '<guest1@a> away-1'
	fc_expect b1 '^\*\*\* cluster link lost: ' 4
	install_bin "$VARIANTS/next/forkchatd"
	fc_signal_named a USR2
	wait_until 15 upgrades_ended 1
	fc_use a
	fc_log_has 'upgrade complete: 2 clients kept'
	fc_send a1 "away-2"
	fc_next_is a2 '<guest1@a> away-2'
	kill -CONT "$REDIS_PID"
	fc_expect b1 '^\*\*\* cluster link restored$' 6
	fc_next_is b1 '<guest1@a> away-1'
	fc_next_is b1 '<guest1@a> away-2'
	fc_next_is a1 '*** cluster link restored'
	fc_next_is a2 '*** cluster link restored'
	fc_quiet_all b1 guest1@b a1 a2
	fc_quiet_all a1 guest1@a a2 b1
}

@test "SIGTERM during an upgrade: the new master says goodbye to the cluster at once" {
	# A binary whose -t takes a second: time to send SIGTERM meanwhile.
	printf '#!/bin/sh\n[ -z "$%s" ] || sleep 1\nexec %s "$@"\n' \
	    FORKCHAT_UPGRADE_CHECK "$VARIANTS/next/forkchatd" \
	    >"$BATS_TEST_TMPDIR/slow"
	chmod 755 "$BATS_TEST_TMPDIR/slow"
	CL_TIMEOUT=10 CL_ONLY_B=1 servers
	ann_and_b1
	install_bin "$BATS_TEST_TMPDIR/slow"
	fc_signal_named a USR2
	fc_use a
	wait_until 5 fc_log_has 'SIGUSR2: checking '
	fc_signal_named a TERM
	# not "unreachable" after cluster_timeout: the bye, at once
	fc_expect b1 '^\*\*\* ann left \(server a shutting down\)$' 4
	fc_await_exit_named a
	[ "$FC_STATUS" -eq 0 ]
	fc_log_has 'upgrade complete: 1 client kept'
	fc_clean_log
}
