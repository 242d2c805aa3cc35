#!/usr/bin/env bats
# shellcheck shell=bash
# cluster: several forkchatd servers sharing one chat through a real
# redis-server (never a mock): one order for every client of every
# server, one namespace of nicks, /who, /msg, /kick and /timeout across
# servers, a server killed or frozen, Redis frozen, killed and restarted
# empty, a password, a unix socket, a server started before Redis,
# SIGHUP and SIGINT with the link up and down.  Servers are named a, b,
# c; their clients a1, a2, b1...  cluster_timeout is 1 or 2 s to keep the
# waits short; every wait is bounded.

load lib
load redis
load cluster

setup() {
	redis_need
}

teardown() {
	fc_cleanup_all
	redis_stop
}

# Lines "<NICK> TEXT" NAME reads until it has N of them: into SEEN (the
# TEXTs, one per line).  Notices in between are skipped.
cl_collect() {
	local name=$1 n=$2 got=0 tries=0
	SEEN=
	while ((got < n && tries++ < 10 * n + 100)); do
		fc_read "$name" 10 || break
		[[ $FC_LINE == "<"*"> "* ]] || continue
		SEEN+=${FC_LINE#*> }$'\n'
		got=$((got + 1))
	done
	((got == n)) || {
		echo "cl_collect $name: $got lines of $n; last: $FC_LINE" >&2
		return 1
	}
}

# The lines of SEEN without those of sender PREFIX.
cl_without() {
	grep -v "^$2-" <<<"$1" || true
}

@test "three servers, two clients each, three senders at once: every client sees one order" {
	cl_servers a b c
	cl_join a1 a
	cl_join a2 a a1
	cl_join b1 b a1 a2
	cl_join b2 b a1 a2 b1
	cl_join c1 c a1 a2 b1 b2
	cl_join c2 c a1 a2 b1 b2 c1
	local i s la='' lb='' lc=
	for ((i = 1; i <= 40; i++)); do
		la+="a1-$i"$'\r\n' lb+="b1-$i"$'\r\n' lc+="c1-$i"$'\r\n'
	done
	# three servers writing to the stream at the same moment
	printf '%s' "$la" >&"${FC_FD[a1]}"
	printf '%s' "$lb" >&"${FC_FD[b1]}"
	printf '%s' "$lc" >&"${FC_FD[c1]}"
	cl_collect a2 120
	local all=$SEEN
	cl_collect b2 120
	[ "$SEEN" = "$all" ]
	cl_collect c2 120
	[ "$SEEN" = "$all" ]
	cl_collect a1 80
	[ "$SEEN" = "$(cl_without "$all" a1)"$'\n' ]
	cl_collect b1 80
	[ "$SEEN" = "$(cl_without "$all" b1)"$'\n' ]
	cl_collect c1 80
	[ "$SEEN" = "$(cl_without "$all" c1)"$'\n' ]
	# each sender's lines in the order sent, none twice
	for s in a1 b1 c1; do
		[ "$(grep "^$s-" <<<"$all" | tr '\n' ' ')" = \
		    "$(for ((i = 1; i <= 40; i++)); do printf '%s ' "$s-$i"; done)" ]
	done
	# nobody got anything more
	fc_quiet_all a1 guest1@a a2 b1 b2 c1 c2
}

# NAME reads lines until it has had one matching each REGEX, in any
# order (bounded).
cl_both() {
	local name=$1 re1=$2 re2=$3 n=0 got1='' got2=''
	while ((n++ < 50)) && { [ -z "$got1" ] || [ -z "$got2" ]; }; do
		fc_read "$name" || break
		if [ -z "$got1" ] && [[ $FC_LINE =~ $re1 ]]; then
			got1=1
		elif [ -z "$got2" ] && [[ $FC_LINE =~ $re2 ]]; then
			got2=1
		fi
	done
	if [ -z "$got1" ] || [ -z "$got2" ]; then
		echo "cl_both $name: not both of /$re1/ and /$re2/" >&2
		return 1
	fi
}

@test "a nick claimed on three servers at once goes to one; the others get ERR and keep theirs" {
	cl_servers a b c
	cl_join a1 a
	cl_join b1 b a1
	cl_join c1 c a1 b1
	declare -A name=([a1]=guest1@a [b1]=guest1@b [c1]=guest1@c) line err
	local round c winner
	for round in 1 2 3 4 5; do
		for c in a1 b1 c1; do
			printf '/nick racer%s\r\n' "$round" >&"${FC_FD[$c]}"
		done
		# each sees the one rename; a loser's ERR comes before it
		# (refused at once) or after (lost in stream order)
		for c in a1 b1 c1; do
			err[$c]=
			while fc_read "$c"; do
				[[ $FC_LINE == "ERR nick racer$round "* ]] &&
				    err[$c]=$FC_LINE
				[[ $FC_LINE == *" is now known as racer$round" ]] &&
				    break
			done
			line[$c]=$FC_LINE
		done
		[ "${line[a1]}" = "${line[b1]}" ] && [ "${line[b1]}" = "${line[c1]}" ]
		winner=
		for c in a1 b1 c1; do
			[ "${line[a1]}" = "*** ${name[$c]} is now known as racer$round" ] &&
			    winner=$c
		done
		[ -n "$winner" ]
		for c in a1 b1 c1; do
			[ "$c" = "$winner" ] && continue
			[ -n "${err[$c]}" ] || fc_next "$c" '^ERR '
			[ -n "${err[$c]}" ] || err[$c]=$FC_LINE
			[ "${err[$c]}" = "ERR nick racer$round is already in use on ${winner:0:1}; pick another" ]
		done
		name[$winner]=racer$round
	done
	fc_quiet_all a1 "${name[a1]}" b1 c1
	fc_send a1 /who
	fc_expect a1 '^\*\*\* end of /who \(3 clients on 3 servers\)$'
}

@test "/who lists every server's clients; /msg, /timeout and /kick reach a client on another server" {
	cl_servers a b c
	cl_join a1 a
	cl_join b1 b a1
	cl_join c1 c a1 b1
	local c
	fc_send a1 "/nick ann"
	fc_send b1 "/nick bob"
	for c in a1 b1 c1; do
		cl_both "$c" '^\*\*\* guest1@a is now known as ann$' \
		    '^\*\*\* guest1@b is now known as bob$'
	done
	cl_who c1
	[ "${#WHO[@]}" -eq 4 ]
	# this server's clients first, then the others'
	[[ ${WHO[0]} =~ ^#1@c\ +guest1@c\ +pid\ [0-9]+\ +127\.0\.0\.1:[0-9]+\ +connected\ .*\ timeout\ none$ ]]
	printf '%s\n' "${WHO[@]}" | grep -qE '^#1@a +ann +pid [0-9]+ +127\.0\.0\.1:[0-9]+ +connected '
	printf '%s\n' "${WHO[@]}" | grep -qE '^#1@b +bob +pid [0-9]+ '
	[ "${WHO[3]}" = '*** end of /who (3 clients on 3 servers)' ]
	# /msg by nick, by #id@server, by guest name@server
	fc_send a1 "/msg bob hello bob" "/msg #1@c psst" "/msg guest1@c hi guest"
	fc_next_is b1 '*ann* hello bob'
	fc_next_is c1 '*ann* psst'
	fc_next_is c1 '*ann* hi guest'
	fc_send a1 "/msg #9@b nobody"
	fc_next_is a1 'ERR no such client: #9@b (see /who)'
	fc_quiet_all a1 ann b1 c1
	# /timeout across servers: the target's worker enforces it
	fc_send a1 "/timeout bob 1"
	fc_next_is b1 '*** your read timeout was set to 1 s by ann: send a line at least that often'
	fc_next_is a1 '*** read timeout of bob is now 1 s'
	fc_expect b1 '^\*\*\* read timeout \(1 s\)'
	fc_eof b1
	fc_expect a1 '^\*\*\* bob left \(read timeout'
	fc_expect c1 '^\*\*\* bob left \(read timeout'
	# /kick across servers: the target's server closes it
	fc_send a1 "/kick guest1@c spam"
	fc_next_is c1 '*** you were kicked by ann: spam'
	fc_eof c1
	fc_next_is a1 '*** guest1@c was kicked by ann (spam)'
	fc_use c
	wait_until 5 fc_log_has 'client #1 \(guest1\) from .* kicked by ann \(#1@a\): spam'
	fc_send a1 /who
	fc_expect a1 '^\*\*\* end of /who \(1 client on 3 servers\)$'
}

@test "rights are checked on the sender's server: an operator-only server refuses /kick" {
	cl_servers a
	cl_start b -o admin=operators
	wait_until 5 cl_synced b
	cl_join a1 a
	cl_join b1 b a1
	fc_send b1 "/kick guest1@a"
	fc_next_is b1 'ERR /kick is for operators: /oper PASSWORD first'
	fc_send b1 "/timeout guest1@a 5"
	fc_next_is b1 'ERR /timeout is for operators: /oper PASSWORD first'
	fc_quiet a1 b1
}

@test "kill -9 of a server: its clients are shown as left within cluster_timeout + 2 s" {
	cl_servers a b c
	cl_join a1 a
	cl_join b1 b a1
	cl_join c1 c a1 b1
	cl_join c2 c a1 b1 c1
	local t0 t1
	t0=${EPOCHREALTIME/./}
	fc_signal_named c KILL
	fc_expect a1 '^\*\*\* guest1@c left \(server c unreachable\)$' 3
	fc_next_is a1 '*** guest2@c left (server c unreachable)'
	t1=${EPOCHREALTIME/./}
	echo "kill -9 to 'left' after $(((t1 - t0) / 1000)) ms" >&2
	(((t1 - t0) / 1000 <= 3000))
	fc_expect b1 '^\*\*\* guest1@c left \(server c unreachable\)$' 1
	fc_next_is b1 '*** guest2@c left (server c unreachable)'
	fc_send a1 /who
	fc_expect a1 '^\*\*\* end of /who \(2 clients on 2 servers\)$'
	fc_use a
	fc_log_has 'cluster: server c declared gone by [ab]: 2 clients dropped'
	fc_reap_killed_named c
}

@test "a server frozen past cluster_timeout is declared gone, then comes back with its clients" {
	cl_servers a b
	cl_join a1 a
	cl_join b1 b a1
	fc_send b1 "/nick bee"
	fc_expect a1 '^\*\*\* guest1@b is now known as bee$'
	fc_next_is b1 '*** guest1@b is now known as bee'
	fc_signal_named b STOP
	fc_expect a1 '^\*\*\* bee left \(server b unreachable\)$' 4
	# while b is away, its client's nick is free: a1 takes it
	fc_send a1 "/nick bee"
	fc_next_is a1 '*** guest1@a is now known as bee'
	fc_signal_named b CONT
	# b's client comes back, and goes back to guest1: bee is taken
	fc_expect a1 '^\*\*\* guest1@b joined$' 5
	fc_expect b1 '^\*\*\* your nick bee was taken by a client of a while this server was cut off from the cluster; you are guest1 again$' 5
	fc_use b
	wait_until 5 fc_log_has 'cluster: a declared this server gone'
	fc_send b1 "back again"
	fc_next_is a1 '<guest1@b> back again'
	fc_send a1 /who
	fc_expect a1 '^#1@b +guest1@b '
	fc_expect a1 '^\*\*\* end of /who \(2 clients on 2 servers\)$'
	fc_quiet_all a1 bee b1
}

@test "Redis frozen (SIGSTOP) while lines are sent: chat goes on here; afterwards each line once, in order" {
	CL_TIMEOUT=2 cl_servers a b
	cl_join a1 a
	cl_join a2 a a1
	cl_join b1 b a1 a2
	local c
	kill -STOP "$REDIS_PID"
	fc_send a1 "frozen-1" "frozen-2" "frozen-3"
	fc_expect a1 '^\*\*\* cluster link lost: no answer from Redis within 1000 ms$' 4
	fc_expect a2 '^\*\*\* cluster link lost: ' 4
	fc_next_is a2 '<guest1@a> frozen-1'
	fc_next_is a2 '<guest1@a> frozen-2'
	fc_next_is a2 '<guest1@a> frozen-3'
	fc_expect b1 '^\*\*\* cluster link lost: ' 4
	fc_send b1 "b-frozen-1"
	fc_send a1 "frozen-4"
	fc_next_is a2 '<guest1@a> frozen-4'
	kill -CONT "$REDIS_PID"
	# b1 gets the four lines once each, in order; a's clients b1's line
	fc_expect b1 '^\*\*\* cluster link restored$' 6
	cl_collect b1 4
	[ "$SEEN" = $'frozen-1\nfrozen-2\nfrozen-3\nfrozen-4\n' ]
	for c in a1 a2; do
		fc_expect "$c" '^\*\*\* cluster link restored$' 6
		fc_expect "$c" '^<guest1@b> b-frozen-1$' 5
	done
	fc_quiet_all a1 guest1@a a2 b1
	fc_quiet_all b1 guest1@b a1 a2
}

@test "Redis killed and restarted empty while lines are sent: nothing lost or doubled, the roster rebuilt" {
	cl_servers a b
	cl_join a1 a
	cl_join a2 a a1
	cl_join b1 b a1 a2
	cl_join b2 b a1 a2 b1
	local c
	fc_send a1 "before"
	fc_next_is b1 '<guest1@a> before'
	kill -KILL "$REDIS_PID"
	fc_expect a1 '^\*\*\* cluster link lost: ' 4
	fc_expect b1 '^\*\*\* cluster link lost: ' 4
	fc_expect b2 '^\*\*\* cluster link lost: ' 4
	fc_send a1 "k-1" "k-2"
	fc_send b1 "kb-1"
	fc_expect a2 '^<guest1@a> k-1$'
	fc_next_is a2 '<guest1@a> k-2'
	fc_expect b2 '^<guest1@b> kb-1$'
	redis_restart
	for c in b1 b2; do
		fc_expect "$c" '^\*\*\* cluster link restored$' 6
		cl_collect "$c" 2
		[ "$SEEN" = $'k-1\nk-2\n' ]
	done
	for c in a1 a2; do
		fc_expect "$c" '^\*\*\* cluster link restored$' 6
		fc_expect "$c" '^<guest1@b> kb-1$' 5
	done
	fc_quiet_all a1 guest1@a a2 b1 b2
	fc_quiet_all b1 guest1@b a1 a2 b2
	fc_use a
	fc_log_has 'Redis lost the stream' || { cat "$FC_LOG" >&2; false; }
	fc_send b1 /who
	fc_expect b1 '^\*\*\* end of /who \(4 clients on 2 servers\)$'
	fc_send a1 "after"
	fc_next_is b1 '<guest1@a> after'
}

@test "Redis with a password: a good file links, a wrong one is refused and chat stays local" {
	redis_start --requirepass 'r3dis-pw'
	(umask 077 && printf 'r3dis-pw\n' >"$BATS_TEST_TMPDIR/good.pw" &&
	    printf 'wrong\n' >"$BATS_TEST_TMPDIR/bad.pw")
	cl_start a -o cluster_password_file="$BATS_TEST_TMPDIR/good.pw"
	wait_until 5 cl_synced a
	cl_start b -o cluster_password_file="$BATS_TEST_TMPDIR/bad.pw"
	fc_use b
	wait_until 5 fc_log_has 'cluster: cannot reach Redis at .*: Redis refused the password: WRONGPASS'
	fc_connect_to b1 b
	fc_next_is b1 '*** cluster link down (Redis refused the password: WRONGPASS invalid username-password pair or user is disabled.): you see this server'"'"'s clients only until it is back'
	fc_connect_to b2 b
	fc_expect b1 '^\*\*\* guest2@b joined$'
	fc_send b2 "local only"
	fc_next_is b1 '<guest2@b> local only'
	fc_send b1 "/nick bee"
	fc_next_is b1 'ERR the cluster link is down (Redis refused the password: WRONGPASS invalid username-password pair or user is disabled.): nicks must be unique across servers; try again later'
	# no password at all: Redis says what it wants
	cl_start c
	fc_use c
	wait_until 5 fc_log_has 'Redis wants a password \(set cluster_password_file\)'
	# a file that cannot be read is a configuration error
	run "$FORKCHATD" -t -o cluster="$REDIS_URL" \
	    -o cluster_password_file="$BATS_TEST_TMPDIR/none.pw"
	[ "$status" -eq 78 ]
	[[ $output == *"cannot read cluster_password_file $BATS_TEST_TMPDIR/none.pw: No such file or directory"* ]]
}

@test "a server started before Redis: chat is local, then the link comes up and the servers meet" {
	redis_start
	redis_stop			# its port, with nobody on it yet
	cl_start a
	cl_start b
	fc_use a
	wait_until 5 fc_log_has "cluster: cannot reach Redis at $REDIS_URL: Connection refused; retrying"
	fc_connect_to a1 a
	fc_next_is a1 '*** cluster link down (Connection refused): you see this server'"'"'s clients only until it is back'
	redis_restart
	fc_expect a1 '^\*\*\* cluster link restored$' 5
	wait_until 5 cl_synced b
	fc_connect_to b1 b
	fc_expect a1 '^\*\*\* guest1@b joined$'
	fc_send b1 "hello a"
	fc_next_is a1 '<guest1@b> hello a'
	fc_send b1 /who
	fc_expect b1 '^\*\*\* end of /who \(2 clients on 2 servers\)$'
}

@test "SIGHUP keeps the link; cluster settings cannot change; SIGINT says goodbye at once" {
	cl_servers a b
	local conf=$BATS_TEST_TMPDIR/a.conf
	printf 'cluster = %s\nserver_name = a\ncluster_timeout = 1\n' \
	    "$REDIS_URL" >"$conf"
	cl_start c -c "$conf" -o server_name=c
	wait_until 5 cl_synced c
	cl_join a1 a
	cl_join c1 c a1
	fc_use c
	fc_signal_named c HUP
	wait_until 5 fc_log_has 'configuration reloaded'
	fc_send c1 "after reload"
	fc_next_is a1 '<guest1@c> after reload'
	fc_send c1 /stats
	fc_expect c1 '^cluster: stream at [0-9]+-[0-9]+; entries: .*; link up 1 time$'
	printf 'cluster_key = other\n' >>"$conf"
	fc_signal_named c HUP
	wait_until 5 fc_log_has 'reload: cluster, cluster_key and server_name cannot change while running; keeping the old ones'
	fc_send c1 "still here"
	fc_expect a1 '^<guest1@c> still here$'
	# SIGINT with the link up: the others drop its clients at once
	cl_join b1 b a1 c1
	fc_signal_named b INT
	fc_expect a1 '^\*\*\* guest1@b left \(server b shutting down\)$' 2
	fc_await_exit_named b
	[ "$FC_STATUS" -eq 0 ]
	fc_clean_log
	# with the link down: SIGHUP and SIGINT work as alone
	redis_stop
	fc_expect a1 '^\*\*\* cluster link lost: ' 3
	fc_use a
	fc_signal_named a HUP
	wait_until 5 fc_log_has 'configuration reloaded'
	fc_send a1 "still local"
	fc_stop_named a INT
	[ "$FC_STATUS" -eq 0 ]
	fc_use a
	fc_log_lacks 'error \['
}

@test "a unix-socket Redis" {
	redis_start_unix
	CL_REDIS=unix:$REDIS_SOCK cl_start a
	CL_REDIS=unix:$REDIS_SOCK cl_start b
	wait_until 5 cl_synced a
	wait_until 5 cl_synced b
	cl_join a1 a
	cl_join b1 b a1
	fc_send b1 "over a unix socket"
	fc_next_is a1 '<guest1@b> over a unix socket'
	fc_send a1 /stats
	fc_expect a1 "^cluster: server a, link up, Redis unix:$REDIS_SOCK, key forkchat\$"
	fc_next_is a1 'cluster: 2 servers, 2 clients'
}

@test "cluster settings are checked: a bad address, a clean start and stop logs no warning" {
	run "$FORKCHATD" -t -o cluster=redis://redis.example.com:6379
	[ "$status" -eq 78 ]
	[[ $output == *"cluster: 'redis://redis.example.com:6379' is not redis://HOST:PORT"* ]]
	run "$FORKCHATD" -t -o server_name=a.b
	[ "$status" -eq 78 ]
	cl_servers a
	fc_use a
	fc_log_has 'cluster: this is server a, joining the chat at redis://127.0.0.1:[0-9]+, key forkchat'
	fc_stop_named a TERM
	[ "$FC_STATUS" -eq 0 ]
	fc_use a
	fc_clean_log
}
