#!/usr/bin/env bats
# shellcheck shell=bash
# config: the command line (-V, -h, usage errors), the configuration file
# and -o overrides (-t, errors naming FILE:LINE, exit 78), size suffixes,
# a byte-order mark, files that are not regular files, listen addresses
# (checked as read, duplicates once parsed, -l, -o listen=, a port in
# use), telnet_negotiation, the password file's privacy, and log_level.
# shellcheck disable=SC2030,SC2031 # FC_STATUS is set and read in one test

bats_require_minimum_version 1.5.0

load lib

teardown() { fc_cleanup; }

# A config file in the test's own directory, from the lines given.
conf() {
	local f=$BATS_TEST_TMPDIR/$1
	shift
	printf '%s\n' "$@" >"$f"
	echo "$f"
}

# Ports of the TCP sockets PID is listening on, one per line, from /proc
# (for a server whose log does not say: log_level=warning).  grep picks
# the LISTEN lines: bash's read on /proc/net/tcp, with thousands of
# TIME_WAIT lines, seeks back after every line and takes minutes.
listen_ports() {
	local f l inodes=" " laddr inode
	for f in "/proc/$1/fd/"*; do
		l=$(readlink "$f" 2>/dev/null) || continue
		[[ $l =~ ^socket:\[([0-9]+)\]$ ]] && inodes+="${BASH_REMATCH[1]} "
	done
	# sl local rem st tx:rx tr:when retrnsmt uid timeout inode
	while read -r _ laddr _ _ _ _ _ _ _ inode _; do
		[[ $inodes == *" $inode "* ]] && echo "$((16#${laddr##*:}))"
	done < <(grep -E '^ *[0-9]+: [0-9A-F:]+ [0-9A-F:]+ 0A ' "/proc/$1/net/tcp")
	return 0
}

# Find the master started by start_raw: the process it ran, once that has
# become forkchatd, or the forkchatd that setsid forked; and its port.
find_master() {
	local p=$FC_WAITPID comm
	comm=$(cat "/proc/$p/comm" 2>/dev/null) || return 1
	if [ "$comm" = setsid ]; then
		p=$(fc_children "$p" | head -n 1)
		[ -n "$p" ] || return 1
		comm=$(cat "/proc/$p/comm" 2>/dev/null) || return 1
	fi
	[ "$comm" = forkchatd ] || return 1
	# shellcheck disable=SC2034 # lib.bash's, which shellcheck cannot see
	FC_PID=$p
	FC_PORT=$(listen_ports "$p" | head -n 1)
	[ -n "$FC_PORT" ]
}

# Like fc_start, but adds no -l and needs no log line to find the server:
# PID from /proc, port from /proc/net/tcp.  Sets FC_PID, FC_PORT, FC_LOG.
start_raw() {
	FC_LOG=$BATS_TEST_TMPDIR/forkchatd.log
	: >"$FC_LOG"
	setsid -w "$FORKCHATD" "$@" 2>>"$FC_LOG" &
	FC_WAITPID=$!
	wait_until 10 find_master || {
		cat "$FC_LOG" >&2
		return 1
	}
}

@test "-V prints the version, exit 0" {
	local version
	version=$(sed -nE 's/^VERSION[[:space:]]*=[[:space:]]*//p' \
	    "$BATS_TEST_DIRNAME/../Makefile")
	[ -n "$version" ]
	run --separate-stderr "$FORKCHATD" -V
	[ "$status" -eq 0 ]
	[ "$output" = "forkchatd $version" ]
	[ -z "$stderr" ]
}

@test "-h prints the usage to stdout, exit 0" {
	run --separate-stderr "$FORKCHATD" -h
	[ "$status" -eq 0 ]
	[[ ${lines[0]} == "usage: forkchatd [-htV] [-c file] [-l addr:port]... [-o key=value]..." ]]
	[[ $output == *"-t             check the configuration and exit"* ]]
	[ -z "$stderr" ]
}

@test "--help and --version work like -h and -V" {
	run --separate-stderr "$FORKCHATD" --help
	[ "$status" -eq 0 ]
	[[ ${lines[0]} == "usage: forkchatd [-htV] [-c file] [-l addr:port]... [-o key=value]..." ]]
	[ -z "$stderr" ]
	run --separate-stderr "$FORKCHATD" --version
	[ "$status" -eq 0 ]
	[[ $output =~ ^forkchatd\ [0-9] ]]
	[ -z "$stderr" ]
}

@test "an unknown option: exit 2, named by forkchatd, usage on stderr" {
	run --separate-stderr "$FORKCHATD" -x
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	[ "${stderr%%$'\n'*}" = "forkchatd: unknown option -x" ]
	[[ $stderr == *"usage: forkchatd "* ]]
	run --separate-stderr "$FORKCHATD" --verbose
	[ "$status" -eq 2 ]
	[ "${stderr%%$'\n'*}" = "forkchatd: unknown option --verbose" ]
}

@test "an option missing its argument: exit 2, named, usage on stderr" {
	run --separate-stderr "$FORKCHATD" -c
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	[ "${stderr%%$'\n'*}" = "forkchatd: option -c needs an argument" ]
	[[ $stderr == *"usage: forkchatd "* ]]
}

@test "a stray argument: exit 2, named, usage on stderr" {
	run --separate-stderr "$FORKCHATD" -t stray
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	[[ $stderr == *"forkchatd: unexpected argument 'stray'"* ]]
	[[ $stderr == *"usage: forkchatd "* ]]
}

@test "-o without '=': exit 2, usage on stderr" {
	run --separate-stderr "$FORKCHATD" -t -o max_clients
	[ "$status" -eq 2 ]
	[[ $stderr == *"forkchatd: -o takes key=value, not 'max_clients'"* ]]
	[[ $stderr == *"usage: forkchatd "* ]]
	run --separate-stderr "$FORKCHATD" -t -o =5
	[ "$status" -eq 2 ]
}

@test "-t on a good file: exit 0, 'is ok'" {
	local f
	f=$(conf good.conf '# a comment' '' 'max_clients = 7 # trailing' \
	    'listen = 127.0.0.1:2001' 'listen = [::1]:2001' \
	    'max_output_queue = 64k' 'log_level = debug' \
	    'pipe.rev = /usr/bin/rev')
	run --separate-stderr "$FORKCHATD" -t -c "$f"
	[ "$status" -eq 0 ]
	[ "$output" = "forkchatd: configuration $f is ok" ]
	[ -z "$stderr" ]
}

@test "-t without a file checks the built-in defaults" {
	run --separate-stderr "$FORKCHATD" -t
	[ "$status" -eq 0 ]
	[ "$output" = "forkchatd: configuration (built-in defaults) is ok" ]
}

@test "an unknown key: exit 78, FILE:LINE on stderr" {
	local f
	f=$(conf bad.conf 'max_clients = 5' '# two' 'no_such_key = 1')
	run --separate-stderr "$FORKCHATD" -t -c "$f"
	[ "$status" -eq 78 ]
	[ -z "$output" ]
	[ "$stderr" = "forkchatd: $f:3: unknown key 'no_such_key'" ]
}

@test "a value out of range: exit 78 with the range" {
	local f
	f=$(conf small.conf 'max_line = 10')
	run --separate-stderr "$FORKCHATD" -t -c "$f"
	[ "$status" -eq 78 ]
	[ "$stderr" = "forkchatd: $f:1: max_line: 10 is out of range (64..64K)" ]
}

@test "sizes take K, M or G: 1G is max_output_queue's maximum, 1T is refused" {
	local f
	f=$(conf sizes.conf 'max_output_queue = 1G' 'max_line = 2k' \
	    'pipe_max_output = 1m')
	run --separate-stderr "$FORKCHATD" -t -c "$f"
	[ "$status" -eq 0 ]
	[ "$output" = "forkchatd: configuration $f is ok" ]
	run --separate-stderr "$FORKCHATD" -t -o max_output_queue=1g
	[ "$status" -eq 0 ]
	f=$(conf tera.conf '# too big a unit' 'max_output_queue = 1T')
	run --separate-stderr "$FORKCHATD" -t -c "$f"
	[ "$status" -eq 78 ]
	[ -z "$output" ]
	[ "$stderr" = "forkchatd: $f:2: max_output_queue: '1T': unknown size suffix 'T' (use K, M or G)" ]
	run --separate-stderr "$FORKCHATD" -t -o max_output_queue=2G
	[ "$status" -eq 78 ]
	[ "$stderr" = "forkchatd: -o max_output_queue=2G: max_output_queue: 2G is out of range (4K..1G)" ]
}

@test "a file starting with a UTF-8 byte-order mark is read" {
	local f=$BATS_TEST_TMPDIR/bom.conf
	printf '\xef\xbb\xbfadmin = everyone\r\nmax_clients = 7\r\n' >"$f"
	run --separate-stderr "$FORKCHATD" -t -c "$f"
	[ "$status" -eq 0 ]
	[ "$output" = "forkchatd: configuration $f is ok" ]
	[ -z "$stderr" ]
	# The lines are counted as ever: an error on line 2 is on line 2.
	printf '\xef\xbb\xbfadmin = everyone\nno_such_key = 1\n' >"$f"
	run --separate-stderr "$FORKCHATD" -t -c "$f"
	[ "$status" -eq 78 ]
	[ "$stderr" = "forkchatd: $f:2: unknown key 'no_such_key'" ]
}

@test "-c names a FIFO or a directory: exit 78 at once, not a regular file" {
	local fifo=$BATS_TEST_TMPDIR/fifo.conf
	mkfifo "$fifo"
	# Nobody ever writes to it: opening it for reading would wait
	# forever.  timeout's 124 would mean it did.
	run --separate-stderr timeout 10 "$FORKCHATD" -t -c "$fifo"
	[ "$status" -eq 78 ]
	[ -z "$output" ]
	[ "$stderr" = "forkchatd: cannot read $fifo: not a regular file" ]
	run --separate-stderr timeout 10 "$FORKCHATD" -c "$fifo" -l 127.0.0.1:0
	[ "$status" -eq 78 ]
	[ "$stderr" = "forkchatd: cannot read $fifo: not a regular file" ]
	run --separate-stderr timeout 10 "$FORKCHATD" -t -c "$BATS_TEST_TMPDIR"
	[ "$status" -eq 78 ]
	[ "$stderr" = "forkchatd: cannot read $BATS_TEST_TMPDIR: not a regular file" ]
}

@test "telnet_negotiation: on, off and their synonyms; anything else is refused" {
	local v f
	for v in on off yes no true false; do
		run --separate-stderr "$FORKCHATD" -t -o "telnet_negotiation=$v"
		[ "$status" -eq 0 ]
	done
	f=$(conf telnet.conf 'telnet_negotiation = maybe')
	run --separate-stderr "$FORKCHATD" -t -c "$f"
	[ "$status" -eq 78 ]
	[ "$stderr" = "forkchatd: $f:1: telnet_negotiation: 'maybe' must be on or off (or yes/no, true/false)" ]
}

@test "other file errors: exit 78, each naming FILE:LINE" {
	local f
	f=$(conf twice.conf 'max_clients = 5' 'max_clients = 6')
	run --separate-stderr "$FORKCHATD" -t -c "$f"
	[ "$status" -eq 78 ]
	[ "$stderr" = "forkchatd: $f:2: key 'max_clients' is set twice (first on line 1)" ]
	f=$(conf noeq.conf '' 'hello')
	run --separate-stderr "$FORKCHATD" -t -c "$f"
	[ "$status" -eq 78 ]
	[ "$stderr" = "forkchatd: $f:2: expected 'key = value'" ]
	f=$(conf nan.conf 'flood_rate = fast')
	run --separate-stderr "$FORKCHATD" -t -c "$f"
	[ "$status" -eq 78 ]
	[ "$stderr" = "forkchatd: $f:1: flood_rate: 'fast' is not a number" ]
	f=$(conf level.conf 'log_level = loud')
	run --separate-stderr "$FORKCHATD" -t -c "$f"
	[ "$status" -eq 78 ]
	[[ $stderr == "forkchatd: $f:1: log_level: 'loud' must be "* ]]
}

@test "bad -o values: exit 78" {
	run --separate-stderr "$FORKCHATD" -t -o no_such_key=1
	[ "$status" -eq 78 ]
	[ "$stderr" = "forkchatd: -o no_such_key=1: unknown key 'no_such_key'" ]
	run --separate-stderr "$FORKCHATD" -t -o max_clients=0
	[ "$status" -eq 78 ]
	[ "$stderr" = "forkchatd: -o max_clients=0: max_clients: 0 is out of range (1..100000)" ]
}

@test "a missing config file: exit 78, named" {
	local f=$BATS_TEST_TMPDIR/no-such.conf
	run --separate-stderr "$FORKCHATD" -t -c "$f"
	[ "$status" -eq 78 ]
	[ "$stderr" = "forkchatd: cannot read $f: No such file or directory" ]
	# Not only with -t: starting fails the same way, before listening.
	run --separate-stderr timeout 10 "$FORKCHATD" -c "$f" -l 127.0.0.1:0
	[ "$status" -eq 78 ]
}

@test "a bad listen address: exit 78, with and without -t" {
	run --separate-stderr timeout 10 "$FORKCHATD" -l nonsense
	[ "$status" -eq 78 ]
	[ "$stderr" = "forkchatd: -l: listen: 'nonsense' is not IPV4:PORT, [IPV6]:PORT or *:PORT" ]
	run --separate-stderr "$FORKCHATD" -t -l 127.0.0.1:99999
	[ "$status" -eq 78 ]
	[ "$stderr" = "forkchatd: -l: listen: '127.0.0.1:99999': port 99999 is out of range (0..65535)" ]
	run --separate-stderr "$FORKCHATD" -t -l '[::1:2000'
	[ "$status" -eq 78 ]
	run --separate-stderr "$FORKCHATD" -t -o listen=localhost:2000
	[ "$status" -eq 78 ]
	[ "$stderr" = "forkchatd: -o listen=localhost:2000: listen: 'localhost:2000' is not IPV4:PORT, [IPV6]:PORT or *:PORT" ]
}

@test "a bad listen address in a file names FILE:LINE" {
	local f
	f=$(conf port.conf 'listen = 127.0.0.1:2991' '' 'listen = 127.0.0.1:99999')
	run --separate-stderr "$FORKCHATD" -t -c "$f"
	[ "$status" -eq 78 ]
	[ -z "$output" ]
	[ "$stderr" = "forkchatd: $f:3: listen: '127.0.0.1:99999': port 99999 is out of range (0..65535)" ]
	f=$(conf host.conf 'max_clients = 5' 'listen = localhost:2000')
	run --separate-stderr timeout 10 "$FORKCHATD" -c "$f"
	[ "$status" -eq 78 ]
	[ "$stderr" = "forkchatd: $f:2: listen: 'localhost:2000' is not IPV4:PORT, [IPV6]:PORT or *:PORT" ]
}

@test "the same listen address spelt two ways is given twice: exit 78" {
	local f
	f=$(conf dup.conf 'listen = 127.0.0.1:2991' 'listen = 127.0.0.1:02991')
	run --separate-stderr "$FORKCHATD" -t -c "$f"
	[ "$status" -eq 78 ]
	[ -z "$output" ]
	[ "$stderr" = "forkchatd: $f:2: listen: '127.0.0.1:02991' is given twice (as '127.0.0.1:2991')" ]
	f=$(conf dup6.conf 'listen = [::1]:2991' '# same' 'listen = [0:0::1]:2991')
	run --separate-stderr "$FORKCHATD" -t -c "$f"
	[ "$status" -eq 78 ]
	[ "$stderr" = "forkchatd: $f:3: listen: '[0:0::1]:2991' is given twice (as '[::1]:2991')" ]
	run --separate-stderr "$FORKCHATD" -t -l 127.0.0.1:2991 -l 127.0.0.1:2991
	[ "$status" -eq 78 ]
	[ "$stderr" = "forkchatd: -l: listen: '127.0.0.1:2991' is given twice" ]
}

@test "the shipped scripts/forkchatd.conf and scripts/demo.conf pass -t" {
	local f
	for f in forkchatd.conf demo.conf; do
		f=$BATS_TEST_DIRNAME/../scripts/$f
		[ -f "$f" ]
		run --separate-stderr "$FORKCHATD" -t -c "$f"
		[ "$status" -eq 0 ]
		[ "$output" = "forkchatd: configuration $f is ok" ]
	done
}

@test "the file's value applies: max_clients = 1 turns the second away" {
	local f
	f=$(conf one.conf 'max_clients = 1')
	fc_start -c "$f"
	fc_log_has 'ready: 1 spare worker, up to 1 client'
	fc_connect a
	fc_connect_raw b
	fc_next b '^ERR server full \(1 client\); try again later$'
	fc_eof b
	fc_send a "/who"				# a is still served
	fc_expect a '^\*\*\* end of /who \(1 client\)$'
	fc_stop TERM
	[ "$FC_STATUS" -eq 0 ]
	# The refusal is the only warning.
	[ "$(grep -cE ' (warning|error) \[' "$FC_LOG")" -eq 1 ]
	fc_log_has ' warning \[[0-9]+\] refused connection from 127\.0\.0\.1:[0-9]+: server full \(1 client\); try again later$'
}

@test "-o overrides the file: max_clients = 1 in the file, -o max_clients=2" {
	local f
	f=$(conf one.conf 'max_clients = 1' 'spare_workers = 2')
	fc_start -c "$f" -o max_clients=2
	fc_log_has 'ready: 2 spare workers, up to 2 clients'
	fc_connect a
	fc_connect b
	fc_joined a guest2
	fc_send b "both in"
	fc_next a '^<guest2> both in$'
	fc_stop TERM
	[ "$FC_STATUS" -eq 0 ]
	fc_clean_log
}

@test "-l replaces the file's listen addresses" {
	local f
	# 192.0.2.1 (TEST-NET-1) is on no interface: binding it would fail.
	f=$(conf listen.conf 'listen = 192.0.2.1:9')
	fc_start -c "$f"
	[ "$(grep -c 'listening on ' "$FC_LOG")" -eq 1 ]
	fc_connect a
	fc_stop TERM
	[ "$FC_STATUS" -eq 0 ]
	fc_clean_log
}

@test "-o listen= replaces the file's listen addresses" {
	local f
	f=$(conf listen.conf 'listen = 192.0.2.1:9')
	start_raw -c "$f" -o listen=127.0.0.1:0
	wait_until 5 fc_log_has 'ready: '
	[ "$(grep -c 'listening on ' "$FC_LOG")" -eq 1 ]
	fc_log_has "listening on 127\.0\.0\.1:$FC_PORT$"
	fc_connect a
	fc_stop TERM
	[ "$FC_STATUS" -eq 0 ]
	fc_clean_log
}

@test "a port already in use: exit 1, 'Address already in use'" {
	fc_start
	run --separate-stderr timeout 10 "$FORKCHATD" -l "127.0.0.1:$FC_PORT"
	[ "$status" -eq 1 ]
	[[ $stderr == *" error ["*"] cannot listen on 127.0.0.1:$FC_PORT: Address already in use"* ]]
	# The first server never noticed.
	fc_connect a
	fc_stop TERM
	[ "$FC_STATUS" -eq 0 ]
	fc_clean_log
}

@test "log_level=debug shows debug lines" {
	fc_start -o log_level=debug
	fc_log_has ' debug \[[0-9]+\] forked spare worker [0-9]+$'
	fc_connect a
	fc_connect b
	fc_joined a guest2
	fc_send a "hello"
	fc_next b '^<guest1> hello$'
	wait_until 5 fc_log_has ' debug \[[0-9]+\] broadcast [0-9]+ from client #1$'
	fc_stop TERM
	[ "$FC_STATUS" -eq 0 ]
	fc_log_has ' debug \[[0-9]+\] reaped worker [0-9]+: status 0$'
	fc_clean_log
}

@test "log_level=notice hides info lines, keeps notices" {
	fc_start -o log_level=notice
	fc_connect a
	fc_send a "/nick alice"
	fc_next a '^\*\*\* guest1 is now known as alice$'
	fc_stop TERM
	[ "$FC_STATUS" -eq 0 ]
	fc_log_has ' notice \[[0-9]+\] shutdown complete: '
	run grep -E ' (info|debug) \[' "$FC_LOG"
	[ "$status" -eq 1 ]
	fc_clean_log
}

@test "log_level=warning hides info and notice lines, keeps warnings" {
	# admin=everyone: no random operator password, which is logged even
	# at warning level, so that the operator gets to see it.
	start_raw -l 127.0.0.1:0 -o log_level=warning -o max_clients=1 \
	    -o admin=everyone
	fc_connect a
	fc_connect_raw b
	fc_next b '^ERR server full \(1 client\); try again later$'
	fc_eof b
	fc_send a "/nick alice"
	fc_next a '^\*\*\* guest1 is now known as alice$'
	fc_stop TERM
	[ "$FC_STATUS" -eq 0 ]
	# One line: the refusal.  No start, connect, nick or shutdown lines.
	[ "$(wc -l <"$FC_LOG")" -eq 1 ]
	fc_log_has ' warning \[[0-9]+\] refused connection from 127\.0\.0\.1:[0-9]+: server full'
}

# A password file PATH holding one line, with mode MODE.
password_file() {
	(umask 077 && echo "pass-$RANDOM" >"$1")
	chmod "$2" "$1"
}

# True once the log says N times that a reload was applied.
reloaded_times() {
	[ "$(grep -c ' configuration reloaded: ' "$FC_LOG")" -eq "$1" ]
}

@test "oper_password_file readable by others: a warning with -t, at start and on reload" {
	local pw=$BATS_TEST_TMPDIR/oper.pw re
	password_file "$pw" 644
	run --separate-stderr "$FORKCHATD" -t -o "oper_password_file=$pw"
	[ "$status" -eq 0 ]
	[ "$output" = "forkchatd: configuration (built-in defaults) with 1 -o override is ok" ]
	[[ $stderr == *" warning ["*"] oper_password_file $pw: readable by other users (chmod 600 it)" ]]
	re=" warning \[[0-9]+\] oper_password_file $pw: readable by other users \(chmod 600 it\)$"
	fc_start -o "oper_password_file=$pw"
	[ "$(grep -cE "$re" "$FC_LOG")" -eq 1 ]
	kill -HUP "$FC_PID"
	wait_until 5 reloaded_times 1
	[ "$(grep -cE "$re" "$FC_LOG")" -eq 2 ]
	# Made private, it is read without a word.
	chmod 600 "$pw"
	kill -HUP "$FC_PID"
	wait_until 5 reloaded_times 2
	[ "$(grep -cE "$re" "$FC_LOG")" -eq 2 ]
	fc_stop TERM
	[ "$FC_STATUS" -eq 0 ]
	[ -z "$(fc_unexpected_warnings ': readable by other users \(chmod 600 it\)$')" ]
}

@test "oper_password_file a symbolic link to another user's file: refused, exit 78" {
	local pw=$BATS_TEST_TMPDIR/theirs.pw link=$BATS_TEST_TMPDIR/link.pw
	password_file "$pw" 600
	if [ "$(id -u)" -eq 0 ]; then
		chown 65534:65534 "$pw"
	else
		pw=/etc/passwd		# root's
	fi
	ln -s "$pw" "$link"
	run --separate-stderr timeout 10 "$FORKCHATD" -t -o "oper_password_file=$link"
	[ "$status" -eq 78 ]
	[ -z "$output" ]
	[ "$stderr" = "forkchatd: oper_password_file $link: a symbolic link to a file owned by another user; refused" ]
	run --separate-stderr timeout 10 "$FORKCHATD" -l 127.0.0.1:0 -o "oper_password_file=$link"
	[ "$status" -eq 78 ]
	[[ $stderr == *" error ["*"] oper_password_file $link: a symbolic link to a file owned by another user; refused" ]]
	# A link to one's own private file is fine.
	password_file "$BATS_TEST_TMPDIR/mine.pw" 600
	ln -s "$BATS_TEST_TMPDIR/mine.pw" "$BATS_TEST_TMPDIR/mylink.pw"
	run --separate-stderr "$FORKCHATD" -t -o "oper_password_file=$BATS_TEST_TMPDIR/mylink.pw"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
}

@test "oper_password_file a FIFO: exit 78 at once, not a regular file" {
	local fifo=$BATS_TEST_TMPDIR/oper.fifo
	mkfifo -m 600 "$fifo"
	run --separate-stderr timeout 10 "$FORKCHATD" -t -o "oper_password_file=$fifo"
	[ "$status" -eq 78 ]
	[ "$stderr" = "forkchatd: cannot read oper_password_file $fifo: not a regular file" ]
}
