#!/usr/bin/env bats
# shellcheck shell=bash
# config: the command line (-V, -h, usage errors), the configuration file
# and -o overrides (-t, errors naming FILE:LINE, exit 78), listen
# addresses (-l, -o listen=, a port in use), and log_level.
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
	[ "$stderr" = "forkchatd: $f:1: max_line: 10 is out of range (64..65536)" ]
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
	[ "$stderr" = "forkchatd: listen: 'nonsense' is not IPV4:PORT, [IPV6]:PORT or *:PORT" ]
	run --separate-stderr "$FORKCHATD" -t -l 127.0.0.1:99999
	[ "$status" -eq 78 ]
	[[ $stderr == *"'127.0.0.1:99999' is not IPV4:PORT"* ]]
	run --separate-stderr "$FORKCHATD" -t -l '[::1:2000'
	[ "$status" -eq 78 ]
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
	fc_expect a '^\*\*\* guest2 joined$'
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
	fc_expect a '^\*\*\* guest2 joined$'
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
