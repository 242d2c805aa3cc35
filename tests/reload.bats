#!/usr/bin/env bats
# shellcheck shell=bash
# reload: SIGHUP re-reads the configuration and applies it live, to the
# master and every worker, without dropping anyone; a bad file changes
# nothing; listen addresses cannot change.

load lib

teardown() { fc_cleanup; }

# Write the configuration file (one line per argument); CONF is its path.
conf() {
	CONF=$BATS_TEST_TMPDIR/forkchatd.conf
	printf '%s\n' "$@" >"$CONF"
}

# SIGHUP, then wait for the verdict: OUTCOME is "reloaded" (the default)
# or "failed".
hup() {
	local outcome=${1:-reloaded} re n
	case $outcome in
	reloaded) re=' notice \[[0-9]+\] configuration reloaded: ' ;;
	failed) re=' error \[[0-9]+\] reload failed: ' ;;
	*) return 1 ;;
	esac
	n=$(log_count "$re")
	kill -HUP "$FC_PID"
	wait_until 5 log_count_ge $((n + 1)) "$re"
}

# A round trip through the master for client NAME: whatever the master
# sent its worker before (the new configuration) has been taken by now.
synced() {
	fc_send "$1" "/who"
	fc_expect "$1" '^\*\*\* end of /who '
}

# Like lib.bash's fc_start, without its "-l 127.0.0.1:0": the listen
# addresses come from the file.
start_no_l() { FC_NO_LISTEN=1 fc_start "$@"; }

# Connect a and b, b's join seen by a; their worker pids in APID, BPID.
connect_ab() {
	fc_connect a
	fc_connect b
	fc_joined a guest2
	fc_read_who a
	APID=${WHO_PID[guest1]} BPID=${WHO_PID[guest2]}
}

# a and b are still connected, to the same workers, and heard nothing.
still_there() {
	fc_quiet_all a guest1 b
	fc_quiet_all b guest2 a
	fc_read_who a
	[ "$WHO_N" -eq 2 ]
	[ "${WHO_PID[guest1]}" = "$APID" ]
	[ "${WHO_PID[guest2]}" = "$BPID" ]
}

@test "reload: admin operators -> everyone -> operators, live, nobody dropped" {
	conf "admin = operators"
	fc_start -c "$CONF"
	connect_ab
	fc_send b "/timeout guest1 0"
	fc_next b '^ERR /timeout is for operators: /oper PASSWORD first$'
	conf "admin = everyone"
	hup
	fc_log_has " notice \\[[0-9]+\\] SIGHUP: reloading $CONF\$"
	fc_log_has ' notice \[[0-9]+\] configuration reloaded: up to 1000 clients, 4 spare workers, admin = everyone, 0 pipe programs$'
	still_there
	fc_send b "/timeout guest1 0"
	fc_next b '^\*\*\* read timeout of guest1 is now off$'
	fc_next a '^\*\*\* you still have no read timeout \(guest2 set it to 0\)$'
	conf "admin = operators"
	hup
	still_there
	fc_send b "/kick guest1"
	fc_next b '^ERR /kick is for operators: /oper PASSWORD first$'
	# Back to operators with no file: a random password, which works.
	pw=$(sed -nE 's/.*operator password for this run: ([^ ]+) .*/\1/p' "$FC_LOG" | tail -n 1)
	fc_send b "/oper $pw"
	fc_next b '^\*\*\* you are now an operator$'
	fc_send b "/kick guest1"
	fc_next a '^\*\*\* you were kicked by guest2$'
	fc_eof a
	fc_stop_all
	fc_clean_log
}

@test "reload: pipe programs, pipe_timeout and pipe_max_output change live" {
	conf "pipe.cat = /bin/cat"
	fc_start -c "$CONF"
	connect_ab
	fc_send a "/pipe cat before"
	fc_next a '^\[cat\] before$'
	fc_next a '^\*\*\* end of /pipe cat$'
	conf "pipe.echo = /bin/echo hello" "pipe.hang = /bin/sleep 60" \
	    "pipe.yes = /usr/bin/yes" "pipe_timeout = 1" "pipe_max_output = 10"
	hup
	fc_log_has 'configuration reloaded: .*, 3 pipe programs$'
	still_there
	# The existing client's worker has the new table and limits.
	fc_send a "/pipe cat gone"
	fc_next a '^ERR no pipe program called cat; there are: echo, hang, yes$'
	fc_send a "/pipe echo"
	fc_next a '^\[echo\] hello$'
	fc_next a '^\*\*\* end of /pipe echo$'
	fc_send a "/pipe yes"
	for _ in 1 2 3 4 5; do
		fc_next a '^\[yes\] y$'
	done
	fc_next a '^\*\*\* end of /pipe yes: output cut at 10 bytes$'
	fc_send b "/pipe hang"
	fc_next b '^\*\*\* end of /pipe hang: killed after 1 s \(pipe_timeout\)$'
	# A client served by a spare forked before the reload has them too.
	fc_connect c
	fc_send c "/pipe echo"
	fc_next c '^\[echo\] hello$'
	fc_stop_all
	fc_clean_log
}

@test "reload: max_line and flood limits reach an existing client's worker" {
	conf "flood_rate = 0"
	fc_start -c "$CONF"
	connect_ab
	long=$(printf 'x%.0s' {1..100})
	fc_send a "$long"
	fc_next b "^<guest1> $long\$"
	conf "max_line = 64" "flood_rate = 2" "flood_burst = 3"
	hup
	synced a
	fc_send a "$long"
	fc_next a '^ERR line too long \(max 64 bytes\); none of it was sent$'
	# Two lines a second after a burst of at most three: six lines take
	# at least a second and a half.  (Not one more line from a after
	# these: see the skipped test below.)
	t0=${EPOCHREALTIME/./}
	fc_send a one two three four five six
	for n in one two three four five six; do
		fc_next b "^<guest1> $n\$"
	done
	t1=${EPOCHREALTIME/./}
	echo "six lines in $(((t1 - t0) / 1000)) ms" >&2
	((t1 - t0 >= 1200000))
	fc_next_is a '*** slow down: more than 3 lines at once; the rest are read at 2 a second, and none is lost'
	fc_quiet_all b guest2 a
	fc_stop_all
	fc_clean_log
}

@test "reload: flood control turned on does not lock out a client that chatted while it was off" {
	conf "flood_rate = 0"
	fc_start -c "$CONF"
	connect_ab
	for i in {1..100}; do
		printf 'line %d\r\n' "$i"
	done >&"${FC_FD[a]}"
	fc_expect b '^<guest1> line 100$'
	conf "flood_rate = 10" "flood_burst = 20"
	hup
	synced a
	fc_send a "after the reload"
	fc_next b '^<guest1> after the reload$'
	fc_stop_all
	fc_clean_log
}

@test "reload: spare_workers 4 -> 2 -> 5, extra spares leave quietly" {
	conf "spare_workers = 4"
	fc_start -c "$CONF"
	connect_ab
	wait_until 5 fc_pool 4 2
	conf "spare_workers = 2"
	hup
	fc_log_has 'configuration reloaded: up to 1000 clients, 2 spare workers, '
	# (fc_pool counts zombies as a failure: the two that left are reaped.)
	wait_until 5 fc_pool 2 2
	conf "spare_workers = 5"
	hup
	wait_until 5 fc_pool 5 2
	still_there
	# A new client takes a spare, and the pool is refilled to 5.
	fc_connect c
	fc_joined a guest3
	wait_until 5 fc_pool 5 3
	fc_stop_all
	fc_clean_log
}

@test "reload: max_clients lowered: nobody dropped, newcomers refused" {
	conf "max_clients = 10"
	fc_start -c "$CONF"
	connect_ab
	conf "max_clients = 1"
	hup
	fc_log_has 'configuration reloaded: up to 1 client, '
	still_there
	fc_connect_raw c
	fc_next c '^ERR server full \(1 client\); try again later$'
	fc_eof c
	fc_stop_all
	[ -z "$(fc_unexpected_warnings 'refused connection from 127\.0\.0\.1:[0-9]+: server full \(1 client\); try again later$')" ]
}

@test "reload: a bad file is refused with FILE:LINE; the old configuration stays" {
	conf "admin = operators" "pipe.cat = /bin/cat"
	fc_start -c "$CONF"
	connect_ab
	conf "admin = everyone" "pipe.echo = /bin/echo" "max_clients = lots"
	hup failed
	fc_log_has " error \\[[0-9]+\\] reload failed: $CONF:3: max_clients: 'lots' is not a number; the old configuration stays in force\$"
	fc_log_lacks 'configuration reloaded'
	still_there
	synced a
	fc_send a "/kick guest2"
	fc_next a '^ERR /kick is for operators: /oper PASSWORD first$'
	fc_send a "/pipe echo x"
	fc_next a '^ERR no pipe program called echo; there are: cat$'
	fc_send a "/pipe cat still here"
	fc_next a '^\[cat\] still here$'
	fc_next a '^\*\*\* end of /pipe cat$'
	# A line that is not key = value, a key set twice, an unknown key.
	conf "admin = everyone" "" "# comment" "what is this"
	hup failed
	fc_log_has "reload failed: $CONF:4: expected 'key = value'; "
	conf "admin = everyone" "admin = operators"
	hup failed
	fc_log_has "reload failed: $CONF:2: key 'admin' is set twice \\(first on line 1\\); "
	conf "pipe.cat = /bin/cat" "no_such_key = 1"
	hup failed
	fc_log_has "reload failed: $CONF:2: unknown key 'no_such_key'; "
	# No file at all, or a password file that cannot be read.
	rm "$CONF"
	hup failed
	fc_log_has "reload failed: cannot read $CONF: No such file or directory; the old configuration stays in force\$"
	conf "admin = operators" "pipe.echo = /bin/echo" \
	    "oper_password_file = /nonexistent/forkchat.pw"
	hup failed
	fc_log_has "reload failed: cannot read oper_password_file /nonexistent/forkchat.pw: No such file or directory; the old configuration stays in force\$"
	still_there
	synced a
	fc_send a "/kick guest2"
	fc_next a '^ERR /kick is for operators: /oper PASSWORD first$'
	# A good file again: applied.
	conf "admin = everyone" "pipe.echo = /bin/echo fixed"
	hup
	synced a
	fc_send a "/pipe echo"
	fc_next a '^\[echo\] fixed$'
	fc_stop_all
	[ "$(log_count ' error \[')" -eq 6 ]
	[ -z "$(fc_unexpected_warnings ' error \[[0-9]+\] reload failed: ')" ]
}

@test "reload: a file or password file that became a FIFO is refused at once; chat goes on" {
	local fifo=$BATS_TEST_TMPDIR/oper.fifo
	conf "admin = everyone"
	fc_start -c "$CONF"
	connect_ab
	# A FIFO nobody writes to: open() alone would wait for a writer.
	mkfifo -m 600 "$fifo"
	conf "oper_password_file = $fifo"
	hup failed
	fc_log_has "reload failed: cannot read oper_password_file $fifo: not a regular file; the old configuration stays in force\$"
	fc_send a "still chatting"
	fc_expect b '^<guest1> still chatting$'
	rm "$CONF"
	mkfifo -m 600 "$CONF"
	hup failed
	fc_log_has "reload failed: cannot read $CONF: not a regular file; the old configuration stays in force\$"
	still_there
	fc_stop_all
	[ -z "$(fc_unexpected_warnings ' error \[[0-9]+\] reload failed: ')" ]
}

@test "reload: a changed listen address is refused with a warning; the old one still works" {
	conf "listen = 127.0.0.1:0" "admin = operators"
	start_no_l -c "$CONF"
	connect_ab
	conf "listen = 127.0.0.1:1" "admin = everyone"
	hup
	fc_log_has ' warning \[[0-9]+\] reload: listen addresses cannot change while running; keeping the old ones \(restart to change them\)$'
	# The rest of the file was applied.
	fc_log_has 'configuration reloaded: .* admin = everyone, '
	still_there
	fc_connect c
	fc_joined a guest3
	fc_send c "/kick guest1"
	fc_next a '^\*\*\* you were kicked by guest3$'
	# The same address as in force: no warning.
	conf "listen = 127.0.0.1:0" "admin = everyone"
	hup
	[ "$(log_count 'listen addresses cannot change')" -eq 1 ]
	fc_stop_all
	[ -z "$(fc_unexpected_warnings 'reload: listen addresses cannot change while running; ')" ]
}

@test "reload: the password file is read again; a random password stays the same" {
	pwfile=$BATS_TEST_TMPDIR/oper.pw
	(umask 077 && echo "old-pass" >"$pwfile")	# private: no warning
	conf "oper_password_file = $pwfile"
	fc_start -c "$CONF"
	connect_ab
	echo "new-pass" >"$pwfile"
	hup
	synced b
	fc_send b "/oper old-pass"
	fc_next b '^ERR wrong password$'
	fc_send b "/oper new-pass"
	fc_next b '^\*\*\* you are now an operator$'
	# No file: one random password, kept over later reloads.
	conf "admin = operators"
	hup
	hup
	[ "$(log_count 'operator password for this run: ')" -eq 1 ]
	pw=$(sed -nE 's/.*operator password for this run: ([^ ]+) .*/\1/p' "$FC_LOG")
	fc_send a "/oper $pw"
	fc_next a '^\*\*\* you are now an operator$'
	fc_stop_all
	[ -z "$(fc_unexpected_warnings 'client #2 \(guest2\) from 127\.0\.0\.1:[0-9]+: wrong operator password$')" ]
}

@test "reload: idle_timeout applies to new clients only" {
	conf "idle_timeout = 0"
	fc_start -c "$CONF"
	connect_ab
	conf "idle_timeout = 2"
	hup
	fc_connect c
	fc_joined a guest3
	fc_joined b guest3
	fc_read_who a
	[ "${WHO_TMO[guest1]}" = none ]
	[ "${WHO_TMO[guest2]}" = none ]
	[ "${WHO_TMO[guest3]}" = 2s ]
	fc_expect c '^\*\*\* read timeout \(2 s\): you sent no line for 2 s, so the server is closing your connection$'
	fc_eof c
	fc_next a '^\*\*\* guest3 left \(read timeout after 2 s\)$'
	fc_next b '^\*\*\* guest3 left \(read timeout after 2 s\)$'
	still_there
	fc_stop_all
	fc_clean_log
}

@test "reload: log_level changes live" {
	conf "log_level = notice"
	fc_start -c "$CONF"
	fc_connect a
	fc_log_lacks 'connected|forked'
	conf "log_level = debug"
	hup
	fc_connect b
	fc_joined a guest2
	fc_log_has ' info \[[0-9]+\] client #2 \(guest2\) connected from '
	fc_log_has ' debug \[[0-9]+\] forked spare worker [0-9]+$'
	fc_stop_all
	fc_clean_log
}

@test "reload: without -c, the defaults and -o settings are kept" {
	fc_start -o admin=everyone -o spare_workers=1
	fc_connect a
	fc_connect b
	fc_joined a guest2
	hup
	fc_log_has ' notice \[[0-9]+\] SIGHUP: reloading the configuration \(no -c file: defaults and -o only\)$'
	fc_log_has ' notice \[[0-9]+\] configuration reloaded: up to 1000 clients, 1 spare worker, admin = everyone, 0 pipe programs$'
	synced b
	fc_send b "/kick guest1"
	fc_next a '^\*\*\* you were kicked by guest2$'
	fc_stop_all
	fc_clean_log
}
