#!/usr/bin/env bats
# shellcheck shell=bash
# service: running under systemd without libsystemd.  sd_notify to a fake
# notify socket (tests/tools/notify-listen; a path and an abstract name):
# READY, STATUS, RELOADING + MONOTONIC_USEC, STOPPING, EXTEND_TIMEOUT_USEC,
# WATCHDOG; socket activation through systemd-socket-activate; the units
# under systemd-analyze verify; make install/uninstall; journal log
# lines; dropping to user/group when started as root; admin actions in
# the log.
# shellcheck disable=SC2030,SC2031 # FC_STATUS is set and read in one test

load lib

ROOT=$BATS_TEST_DIRNAME/..
NOTIFY_LISTEN=$ROOT/build/tools/notify-listen

setup() {
	# Whatever runs the suite (a service, a CI job) may have set these;
	# each test sets what it means to.
	unset NOTIFY_SOCKET WATCHDOG_USEC WATCHDOG_PID LISTEN_PID LISTEN_FDS \
	    LISTEN_FDNAMES JOURNAL_STREAM
	NL_PID=
	SHARED_DIR=
	[ -x "$NOTIFY_LISTEN" ] || {
		echo "no $NOTIFY_LISTEN: run make build/tools/notify-listen" >&2
		return 1
	}
}

teardown() {
	fc_cleanup
	if [ -n "$NL_PID" ]; then
		kill -TERM "$NL_PID" 2>/dev/null
		wait "$NL_PID" 2>/dev/null
	fi
	[ -z "$SHARED_DIR" ] || rm -rf "$SHARED_DIR"
	return 0
}

# CLOCK_MONOTONIC in microseconds (perl's Time::HiRes; else
# /proc/uptime, which is the same clock unless the machine was suspended).
mono_us() {
	local up
	if perl -MTime::HiRes=clock_gettime,CLOCK_MONOTONIC \
	    -e 'printf "%.0f\n", clock_gettime(CLOCK_MONOTONIC) * 1e6' 2>/dev/null; then
		return 0
	fi
	read -r up _ </proc/uptime
	echo $((10#${up/./} * 10000))
}

# --- the fake notify socket ------------------------------------------------

# Listen at SOCKET (a path, or "@name" for an abstract one); its lines go
# to NOTIFY_OUT.  NL_SOCKET is what NOTIFY_SOCKET should say.
nl_start() {
	NL_SOCKET=$1
	NOTIFY_OUT=$BATS_TEST_TMPDIR/notify.out
	: >"$NOTIFY_OUT"
	"$NOTIFY_LISTEN" "$NL_SOCKET" 120 >"$NOTIFY_OUT" 2>&1 &
	NL_PID=$!
	wait_until 5 grep -qx listening "$NOTIFY_OUT"
}

# A fresh abstract name for this test.
nl_abstract() { echo "@forkchat-test-$$-$BATS_TEST_NUMBER-$RANDOM"; }

nl_has() { grep -qE -- "$1" "$NOTIFY_OUT"; }
nl_count() { grep -cE -- "$1" "$NOTIFY_OUT" || true; }
nl_count_ge() { (($(nl_count "$2") >= $1)); }

# The messages so far into NL_LINES (without notify-listen's "listening").
nl_lines() { mapfile -t NL_LINES < <(tail -n +2 "$NOTIFY_OUT"); }

# The messages match the REGEXes in this order (others may come between);
# NL_AT is the index of the last one matched.
nl_seq() {
	local re i=0
	nl_lines
	for re in "$@"; do
		while ((i < ${#NL_LINES[@]})) && ! [[ ${NL_LINES[i]} =~ $re ]]; do
			i=$((i + 1))
		done
		if ((i == ${#NL_LINES[@]})); then
			printf 'nl_seq: no /%s/ in order; the messages:\n' "$re" >&2
			printf '  %s\n' "${NL_LINES[@]}" >&2
			return 1
		fi
		NL_AT=$i
		i=$((i + 1))
	done
}

# The message after NL_AT is exactly TEXT; NL_AT moves on to it.
nl_then() {
	NL_AT=$((NL_AT + 1))
	[ "${NL_LINES[NL_AT]-}" = "$1" ] || {
		printf 'nl_then: message %d is %q, wanted %q\n' "$NL_AT" \
		    "${NL_LINES[NL_AT]-}" "$1" >&2
		return 1
	}
}

# Set FC_PID and FC_PORT from the log, as lib.bash's fc_start does.
fc_ids() {
	FC_PID=$(sed -nE 's/.*starting, pid ([0-9]+).*/\1/p' "$FC_LOG" | head -n 1)
	FC_PORT=$(sed -nE 's/.*listening on 127\.0\.0\.1:([0-9]+).*/\1/p' "$FC_LOG" | head -n 1)
	[ -n "$FC_PID" ] && [ -n "$FC_PORT" ]
}

# fc_start with NOTIFY_SOCKET=NL_SOCKET, waiting for READY=1 rather than
# the log: the master logs "ready:" first, so it must be there already.
nl_fc_start() {
	FC_LOG=$BATS_TEST_TMPDIR/forkchatd.log
	: >"$FC_LOG"
	NOTIFY_SOCKET=$NL_SOCKET setsid -w "$FORKCHATD" -l 127.0.0.1:0 "$@" \
	    2>>"$FC_LOG" &
	# shellcheck disable=SC2034 # lib.bash's: fc_stop waits for it
	FC_WAITPID=$!
	wait_until "$FC_TIMEOUT" nl_has '^READY=1' || {
		cat "$FC_LOG" "$NOTIFY_OUT" >&2
		return 1
	}
	fc_log_has ' notice \[[0-9]+\] ready: '
	fc_ids
}

# No child of the master has any of these variables in its environment
# (workers are exec'd, so /proc/PID/environ is what they got), while the
# rest, PATH for one, is passed on.
children_lack_env() {
	local pid env n=0
	for pid in $(fc_children "$FC_PID"); do
		env=$(tr '\0' '\n' <"/proc/$pid/environ")
		grep -q '^PATH=' <<<"$env"
		if grep -E "^($(IFS='|'; echo "$*"))=" <<<"$env"; then
			echo "children_lack_env: worker $pid has the above" >&2
			return 1
		fi
		n=$((n + 1))
	done
	((n > 0))
}

# Write the configuration file CONF, one line per argument.
conf() {
	CONF=$BATS_TEST_TMPDIR/forkchatd.conf
	printf '%s\n' "$@" >"$CONF"
}

# --- sd_notify -----------------------------------------------------------

# A whole run with NOTIFY_SOCKET=SOCKET: READY with MAINPID, STATUS as
# clients come and go, a reload, a stop; the exact sequence.
notify_lifecycle() {
	local t0 t1 usec
	nl_start "$1"
	nl_fc_start -o spare_workers=1
	# READY=1 comes first, with our pid, then the counts.
	nl_seq "^READY=1\\|MAINPID=$FC_PID\$"
	[ "$NL_AT" -eq 0 ]
	nl_then "STATUS=0 clients, 1 spare worker"
	fc_log_lacks 'NOTIFY_SOCKET'
	# STATUS follows the client count, at most a second behind.
	fc_connect a
	wait_until 3 nl_has '^STATUS=1 client, 1 spare worker$'
	fc_connect b
	wait_until 3 nl_has '^STATUS=2 clients, 1 spare worker$'
	fc_send b "/quit"
	fc_eof b
	wait_until 3 nl_count_ge 2 '^STATUS=1 client, 1 spare worker$'
	# SIGHUP: RELOADING=1 stamped with CLOCK_MONOTONIC, then READY=1
	# and the counts again.
	t0=$(mono_us)
	kill -HUP "$FC_PID"
	wait_until 5 nl_count_ge 2 '^READY=1'
	t1=$(mono_us)
	nl_seq '^RELOADING=1\|MONOTONIC_USEC=[0-9]+$'
	usec=${NL_LINES[NL_AT]##*=}
	# Milliseconds times 1000 on the server's side: at most 1 ms under.
	if ((usec < t0 - 20000 || usec > t1 + 20000)); then
		echo "MONOTONIC_USEC=$usec, not within [$t0, $t1]" >&2
		return 1
	fi
	nl_then "READY=1"
	nl_then "STATUS=1 client, 1 spare worker"
	[ "$(nl_count '^RELOADING=1')" -eq 1 ]
	# SIGTERM: STOPPING=1, then more time asked for while draining.
	fc_stop_clean
	nl_seq '^STOPPING=1$'
	nl_then "EXTEND_TIMEOUT_USEC=5000000"
	[ "$(nl_count '^STOPPING=1$')" -eq 1 ]
	# Never a WATCHDOG=1 without WATCHDOG_USEC.
	[ "$(nl_count '^WATCHDOG=1$')" -eq 0 ]
	[ "$(nl_count '^READY=1')" -eq 2 ]
}

@test "notify, path socket: READY=1 with MAINPID, STATUS, RELOADING + MONOTONIC_USEC, READY, STOPPING" {
	notify_lifecycle "$BATS_TEST_TMPDIR/notify"
}

@test "notify, abstract @name socket: the same sequence" {
	notify_lifecycle "$(nl_abstract)"
}

@test "notify: a failed reload is RELOADING=1 then READY=1 with a STATUS saying it failed" {
	nl_start "$(nl_abstract)"
	conf "spare_workers = 1"
	nl_fc_start -c "$CONF"
	printf 'max_line = 10\n' >>"$CONF"
	kill -HUP "$FC_PID"
	wait_until 5 nl_count_ge 2 '^READY=1'
	nl_seq '^RELOADING=1\|MONOTONIC_USEC=[0-9]+$'
	nl_then "READY=1|STATUS=reload failed ($CONF:2: max_line: 10 is out of range (64..64K)); running with the old configuration"
	fc_log_has "error \[$FC_PID\] reload failed: "
	# Fixed: the next reload says READY=1 and the counts, nothing failed.
	conf "spare_workers = 2"
	kill -HUP "$FC_PID"
	wait_until 5 nl_count_ge 3 '^READY=1'
	nl_seq '^RELOADING=1' '^RELOADING=1'
	nl_then "READY=1"
	# The counts as the reload found them; the new spare follows.
	nl_then "STATUS=0 clients, 1 spare worker"
	wait_until 3 nl_has '^STATUS=0 clients, 2 spare workers$'
	fc_stop_all
	[ "$(log_count 'reload failed')" -eq 1 ]
}

@test "notify: a long drain sends EXTEND_TIMEOUT_USEC= every 2 s and STATUS with the workers left" {
	local pid t0 dt n tree
	nl_start "$BATS_TEST_TMPDIR/notify"
	nl_fc_start -o spare_workers=1 -o shutdown_grace=3
	fc_connect a
	fc_connect b
	fc_joined a guest2
	tree=$(fc_tree "$FC_PID")
	pid=$(fc_worker_pid 2)
	kill -STOP "$pid"			# b's worker will not say goodbye
	t0=$(now_us)
	kill -TERM "$FC_PID"
	wait_until 5 nl_count_ge 2 '^EXTEND_TIMEOUT_USEC=5000000$'
	dt=$(($(now_us) - t0))
	((dt >= 1800000))			# not before 2 s
	wait_until 4 nl_has '^STATUS=shutting down: 1 worker left$'
	fc_await_exit 10
	[ "$FC_STATUS" -eq 0 ]
	# shellcheck disable=SC2086 # one pid per word
	wait_until 5 fc_all_gone $tree
	fc_log_has 'killing 1 worker that did not exit within the grace period'
	nl_seq '^STOPPING=1$'
	nl_then "EXTEND_TIMEOUT_USEC=5000000"
	# Grace 3 s: the requests at 0 s and 2 s, perhaps one more late.
	n=$(nl_count '^EXTEND_TIMEOUT_USEC=')
	((n >= 2 && n <= 3))
	[ "$(nl_count '^STOPPING=1$')" -eq 1 ]
}

@test "notify: WATCHDOG=1 every half WATCHDOG_USEC, none while the loop is stopped" {
	local t0 dt n
	nl_start "$BATS_TEST_TMPDIR/notify"
	WATCHDOG_USEC=1000000 nl_fc_start -o spare_workers=1
	fc_log_has "info \[$FC_PID\] watchdog: WATCHDOG=1 every 500 ms$"
	# Timed from the first one seen (it goes with READY), not from our
	# start-up, which a loaded machine can make late.
	wait_until 5 nl_count_ge 1 '^WATCHDOG=1$'
	t0=$(now_us)
	wait_until 15 nl_count_ge 8 '^WATCHDOG=1$'
	dt=$(($(now_us) - t0))
	# 7 more at 500 ms apart take 3.5 s; at 1 s apart they would take 7 s.
	if ((dt < 2500000 || dt > 6000000)); then
		echo "WATCHDOG=1 1 to 8 took ${dt} us" >&2
		return 1
	fi
	n=$(nl_count '^WATCHDOG=1$')
	((n <= 10))			# no burst: the 8 we waited for, 2 in flight
	# A stopped master sends none (one may be on its way)...
	kill -STOP "$FC_PID"
	n=$(nl_count '^WATCHDOG=1$')
	run wait_until 2 nl_count_ge $((n + 2)) '^WATCHDOG=1$'
	[ "$status" -ne 0 ]
	# ...and starts again when it runs again.
	n=$(nl_count '^WATCHDOG=1$')
	kill -CONT "$FC_PID"
	wait_until 3 nl_count_ge $((n + 2)) '^WATCHDOG=1$'
	fc_stop_clean
	# Only the master speaks: every message came while it ran.
	[ "$(nl_count '^READY=1')" -eq 1 ]
}

@test "notify: WATCHDOG_PID naming another process means no WATCHDOG=1; naming us, it does" {
	nl_start "$(nl_abstract)"
	# 100 ms: a second with the client below would have brought ten.
	WATCHDOG_USEC=200000 WATCHDOG_PID=1 nl_fc_start -o spare_workers=1
	fc_connect a
	wait_until 5 nl_has '^STATUS=1 client, 1 spare worker$'
	[ "$(nl_count '^WATCHDOG=1$')" -eq 0 ]
	fc_log_lacks 'watchdog'
	fc_stop_clean
	[ "$(nl_count '^WATCHDOG=1$')" -eq 0 ]

	# WATCHDOG_PID=$$ of the shell that execs forkchatd: our own pid.
	: >"$NOTIFY_OUT"
	: >"$FC_LOG"
	# shellcheck disable=SC2016 # for the inner bash
	NOTIFY_SOCKET=$NL_SOCKET WATCHDOG_USEC=200000 setsid -w bash -c \
	    'WATCHDOG_PID=$$ exec "$0" "$@"' "$FORKCHATD" -l 127.0.0.1:0 \
	    -o spare_workers=1 2>>"$FC_LOG" &
	FC_WAITPID=$!
	wait_until 5 nl_has '^READY=1'
	fc_ids
	[ "$FC_PID" -eq "$FC_WAITPID" ]
	wait_until 5 nl_count_ge 3 '^WATCHDOG=1$'
	fc_log_has 'watchdog: WATCHDOG=1 every 100 ms$'
	fc_connect a
	children_lack_env NOTIFY_SOCKET WATCHDOG_USEC WATCHDOG_PID
	fc_stop_clean
}

@test "no usable NOTIFY_SOCKET: runs normally (none, relative, nobody listening)" {
	# None at all, with a WATCHDOG_USEC that must not matter.
	WATCHDOG_USEC=1000000 fc_start -o spare_workers=1
	fc_connect a
	fc_send a "/who"
	fc_expect a '^\*\*\* end of /who \(1 client\)$'
	fc_stop_clean
	fc_log_lacks 'NOTIFY_SOCKET|watchdog'

	# Neither a path nor @name: a warning, then business as usual.
	NOTIFY_SOCKET=relative/notify fc_start -o spare_workers=1
	fc_connect b
	fc_stop_all
	fc_log_has 'warning \[[0-9]+\] NOTIFY_SOCKET is unusable \(Invalid argument\); not notifying$'
	[ -z "$(fc_unexpected_warnings 'NOTIFY_SOCKET is unusable')" ]

	# A path where nobody listens: sends fail quietly.
	NOTIFY_SOCKET=$BATS_TEST_TMPDIR/nobody-listens WATCHDOG_USEC=100000 \
	    fc_start -o spare_workers=1
	fc_connect c
	kill -HUP "$FC_PID"
	wait_until 5 fc_log_has 'configuration reloaded'
	fc_send c "/who"
	fc_expect c '^\*\*\* end of /who \(1 client\)$'
	fc_stop_clean
}

# --- socket activation ---------------------------------------------------

# Run forkchatd ARGS under systemd-socket-activate (options SA_OPTS, then
# -l 127.0.0.1:SA_PORT, a random port, and -l 127.0.0.1:SA_PORT+1 too if
# SA_TWO is set; other ports if one is taken); "@PORT@" in ARGS becomes
# SA_PORT.  It execs forkchatd, same pid, at the first connection (or
# datagram).
sa_start() {
	local try listen
	command -v systemd-socket-activate >/dev/null ||
	    skip "no systemd-socket-activate (Debian: apt-get install systemd)"
	FC_LOG=$BATS_TEST_TMPDIR/forkchatd.log
	for try in 1 2 3 4 5 6 7 8 9 10; do
		SA_PORT=$((20000 + RANDOM % 40000))
		listen=(-l "127.0.0.1:$SA_PORT")
		[ -z "${SA_TWO:-}" ] || listen+=(-l "127.0.0.1:$((SA_PORT + 1))")
		: >"$FC_LOG"
		setsid -w systemd-socket-activate "${SA_OPTS[@]}" "${listen[@]}" \
		    "$FORKCHATD" "${@//@PORT@/$SA_PORT}" 2>>"$FC_LOG" &
		FC_WAITPID=$!
		FC_PID=$FC_WAITPID
		wait_until 5 sa_settled
		if grep -qx "Listening on 127.0.0.1:$SA_PORT as 3\." "$FC_LOG" &&
		    ! fc_exited "$FC_PID"; then
			FC_PORT=$SA_PORT
			return 0
		fi
		kill "$FC_PID" 2>/dev/null || true
		wait "$FC_WAITPID" 2>/dev/null || true
		FC_WAITPID='' FC_PID=''
		echo "# try $try, port $SA_PORT: $(cat "$FC_LOG")" >&2
	done
	return 1
}

# systemd-socket-activate listens, or has given up.
sa_settled() {
	local want=1
	[ -z "${SA_TWO:-}" ] || want=2
	fc_exited "$FC_PID" || (($(grep -c '^Listening on ' "$FC_LOG") == want))
}

@test "socket activation: clients are served through the passed socket; listen is ignored" {
	local flags
	SA_OPTS=()
	# Binding the port it is passed would fail: it must not try.
	sa_start -l '127.0.0.1:@PORT@' -o spare_workers=1
	fc_connect a				# this starts it
	fc_connect b
	fc_joined a guest2
	fc_send a "hello through LISTEN_FDS"
	fc_next b '^<guest1> hello through LISTEN_FDS$'
	fc_ids
	[ "$FC_PID" = "$FC_WAITPID" ]
	[ "$FC_PORT" = "$SA_PORT" ]
	fc_log_has "notice \[$FC_PID\] using 1 listening socket passed by the service manager \(LISTEN_FDS\); listen in the configuration is ignored$"
	[ "$(log_count 'listening on ')" -eq 1 ]
	fc_log_lacks 'cannot listen'
	children_lack_env LISTEN_PID LISTEN_FDS LISTEN_FDNAMES
	# Close-on-exec and non-blocking, like a socket of its own.
	flags=$(sed -n 's/^flags:[[:space:]]*//p' "/proc/$FC_PID/fdinfo/3")
	(((8#$flags & 8#2000000) != 0))		# O_CLOEXEC
	(((8#$flags & 8#4000) != 0))		# O_NONBLOCK
	fc_stop_clean
}

@test "socket activation: two passed sockets, with names, both served" {
	SA_OPTS=(--fdname=chat:chat2)
	SA_TWO=1
	sa_start -o spare_workers=1
	fc_connect a
	fc_connect b 127.0.0.1 $((SA_PORT + 1))
	fc_joined a guest2
	fc_log_has 'using 2 listening sockets passed by the service manager \(LISTEN_FDS\)'
	fc_log_has "listening on 127\.0\.0\.1:$SA_PORT$"
	fc_log_has "listening on 127\.0\.0\.1:$((SA_PORT + 1))$"
	fc_stop_clean
}

@test "socket activation: a passed socket that is not a listening stream socket is exit 1" {
	SA_OPTS=(--datagram)
	sa_start -o spare_workers=1
	printf 'wake up\n' >"/dev/udp/127.0.0.1/$SA_PORT"
	fc_await_exit 10
	[ "$FC_STATUS" -eq 1 ]
	fc_log_has "error \[$FC_PID\] LISTEN_FDS: descriptor 3 is not a listening stream socket$"
	fc_log_lacks 'ready: |listening on '

	# A pipe as descriptor 3.
	FC_LOG=$BATS_TEST_TMPDIR/pipe.log
	run bash -c 'exec 3</dev/null 2>"$1"; shift
	    LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" "$@"' "$FORKCHATD" "$FC_LOG" \
	    -l 127.0.0.1:0
	[ "$status" -eq 1 ]
	fc_log_has 'error \[[0-9]+\] LISTEN_FDS: descriptor 3 is not a listening stream socket$'
	fc_log_lacks 'ready: |listening on '
}

@test "socket activation: LISTEN_FDS for another pid is not ours; it binds its own" {
	LISTEN_PID=1 LISTEN_FDS=1 LISTEN_FDNAMES=x fc_start -o spare_workers=1
	fc_connect a
	fc_log_lacks 'LISTEN_FDS'
	fc_stop_clean
}

# --- units and make install ----------------------------------------------

@test "make install PREFIX=...: systemd-analyze verify is clean on both units" {
	local p=$BATS_TEST_TMPDIR/p unit=$BATS_TEST_TMPDIR/p/lib/systemd/system
	command -v systemd-analyze >/dev/null ||
	    skip "no systemd-analyze (Debian: apt-get install systemd)"
	run make -s -C "$ROOT" install PREFIX="$p"
	[ "$status" -eq 0 ]
	run systemd-analyze verify --man=no "$unit/forkchatd.socket" \
	    "$unit/forkchatd.service"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	# The paths point into the prefix, and that configuration checks out.
	grep -qx "ExecStart=$p/sbin/forkchatd -c $p/etc/forkchat/forkchatd.conf" \
	    "$unit/forkchatd.service"
	run "$p/sbin/forkchatd" -t -c "$p/etc/forkchat/forkchatd.conf"
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = "forkchatd: configuration $p/etc/forkchat/forkchatd.conf is ok" ]
	# What the service unit must hold to.
	# shellcheck disable=SC2016 # $MAINPID is systemd's
	for key in Type=notify 'ExecReload=/bin/kill -HUP $MAINPID' \
	    KillMode=mixed Restart=on-failure NoNewPrivileges=yes \
	    ProtectSystem=strict ProtectHome=yes PrivateTmp=yes \
	    PrivateDevices=yes ProtectControlGroups=yes RestrictNamespaces=yes \
	    LockPersonality=yes MemoryDenyWriteExecute=yes \
	    SystemCallFilter=@system-service; do
		grep -qxF -- "$key" "$unit/forkchatd.service" || {
			echo "no $key in forkchatd.service" >&2
			return 1
		}
	done
	grep -qE '^(DynamicUser=yes|User=.+)$' "$unit/forkchatd.service"
	grep -qE '^WatchdogSec=[1-9]' "$unit/forkchatd.service"
	grep -qE '^LimitNOFILE=[0-9]+$' "$unit/forkchatd.service"
	grep -qE '^TasksMax=[0-9]+$' "$unit/forkchatd.service"
	grep -qE '^ListenStream=' "$unit/forkchatd.socket"
	# TimeoutStopSec is longer than the default shutdown_grace (5 s).
	(($(sed -n 's/^TimeoutStopSec=\([0-9]*\)$/\1/p' "$unit/forkchatd.service") > 5))
}

# The files under DIR, one per line, sorted, as ./path MODE.
files_in() { (cd "$1" && find . \( -type f -o -type l \) -printf '%p %m\n' | LC_ALL=C sort); }

@test "make install DESTDIR=... PREFIX=/usr: exactly the expected files; uninstall keeps the operator's configuration" {
	local d=$BATS_TEST_TMPDIR/d
	run make -s -C "$ROOT" install DESTDIR="$d" PREFIX=/usr
	[ "$status" -eq 0 ]
	run files_in "$d"
	echo "$output"
	[ "$output" = "./etc/forkchat/.installed-dirs 644
./etc/forkchat/forkchatd.conf 644
./etc/forkchat/forkchatd.conf.example 644
./usr/lib/systemd/system/forkchatd.service 644
./usr/lib/systemd/system/forkchatd.socket 644
./usr/sbin/forkchatd 755
./usr/share/man/man5/forkchatd.conf.5 644
./usr/share/man/man7/forkchat.7 644
./usr/share/man/man8/forkchatd.8 644" ]
	cmp "$ROOT/scripts/forkchatd.conf" "$d/etc/forkchat/forkchatd.conf.example"
	cmp "$ROOT/man/forkchatd.8" "$d/usr/share/man/man8/forkchatd.8"
	cmp "$ROOT/man/forkchat.7" "$d/usr/share/man/man7/forkchat.7"
	grep -qx 'ExecStart=/usr/sbin/forkchatd -c /etc/forkchat/forkchatd.conf' \
	    "$d/usr/lib/systemd/system/forkchatd.service"
	# Installing again leaves the operator's own configuration alone.
	echo "max_clients = 7" >>"$d/etc/forkchat/forkchatd.conf"
	run make -s -C "$ROOT" install DESTDIR="$d" PREFIX=/usr
	[ "$status" -eq 0 ]
	[ "$(tail -n 1 "$d/etc/forkchat/forkchatd.conf")" = "max_clients = 7" ]
	cmp "$ROOT/scripts/forkchatd.conf" "$d/etc/forkchat/forkchatd.conf.example"
	run make -s -C "$ROOT" uninstall DESTDIR="$d" PREFIX=/usr
	[ "$status" -eq 0 ]
	[[ $output == *"kept $d/etc/forkchat/forkchatd.conf"* ]]
	run files_in "$d"
	[ "$output" = "./etc/forkchat/forkchatd.conf 644" ]
	# the directories install made are gone, but the one still in use
	[ "$(cd "$d" && find . -mindepth 1 -type d | LC_ALL=C sort)" = "./etc
./etc/forkchat" ]
	rm "$d/etc/forkchat/forkchatd.conf"
	run make -s -C "$ROOT" install DESTDIR="$d" PREFIX=/usr
	run make -s -C "$ROOT" uninstall DESTDIR="$d" PREFIX=/usr
	[ "$status" -eq 0 ]
	run files_in "$d"
	[ "$output" = "./etc/forkchat/forkchatd.conf 644" ]
}

@test "make uninstall into an existing tree takes away only the directories install made" {
	local d=$BATS_TEST_TMPDIR/d
	mkdir -p "$d/usr/sbin" "$d/usr/share/man/man8"
	run make -s -C "$ROOT" install DESTDIR="$d" PREFIX=/usr
	[ "$status" -eq 0 ]
	rm "$d/etc/forkchat/forkchatd.conf"
	run make -s -C "$ROOT" uninstall DESTDIR="$d" PREFIX=/usr
	[ "$status" -eq 0 ]
	[ "$(cd "$d" && find . -mindepth 1 | LC_ALL=C sort)" = "./usr
./usr/sbin
./usr/share
./usr/share/man
./usr/share/man/man8" ]
}

# --- the log under journald ----------------------------------------------

# Every line of the log is "<N>[pid] text", N a syslog priority.
all_journal_lines() {
	if grep -vE '^<[3-7]>\[[0-9]+\] [^ ]' "$FC_LOG"; then
		echo "all_journal_lines: the lines above are not journal lines" >&2
		return 1
	fi
}

# Every line of the log starts with a timestamp.
all_plain_lines() {
	if grep -vE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z (error|warning|notice|info|debug) \[[0-9]+\] ' "$FC_LOG"; then
		echo "all_plain_lines: the lines above are not timestamped" >&2
		return 1
	fi
}

@test "log_format=journal: <N>[pid] lines, no timestamp, the right priorities" {
	conf "spare_workers = 1" "log_format = journal"
	fc_start -c "$CONF"
	fc_connect a
	fc_send a "/oper wrong"
	fc_next a '^ERR wrong password$'
	printf 'max_line = 10\n' >>"$CONF"
	kill -HUP "$FC_PID"
	wait_until 5 fc_log_has 'reload failed'
	fc_stop_all
	all_journal_lines
	fc_log_has "^<5>\[$FC_PID\] forkchatd [0-9.]+ starting, pid $FC_PID$"
	fc_log_has "^<5>\[$FC_PID\] ready: 1 spare worker, up to 1000 clients$"
	fc_log_has "^<6>\[$FC_PID\] client #1 \(guest1\) connected from 127\.0\.0\.1:[0-9]+, worker [0-9]+$"
	fc_log_has "^<4>\[$FC_PID\] client #1 \(guest1\) from 127\.0\.0\.1:[0-9]+: wrong operator password$"
	fc_log_has "^<3>\[$FC_PID\] reload failed: $CONF:3: max_line: "
	fc_log_has "^<5>\[$FC_PID\] shutdown complete: "
}

@test "log_format=auto: journal format only when JOURNAL_STREAM names stderr" {
	local id
	FC_LOG=$BATS_TEST_TMPDIR/forkchatd.log
	: >"$FC_LOG"
	id=$(stat -c '%d:%i' "$FC_LOG")
	# fc_start truncates the file: same inode, so JOURNAL_STREAM matches.
	JOURNAL_STREAM=$id fc_start -o spare_workers=1
	fc_connect a
	fc_stop_all
	all_journal_lines
	fc_log_has "^<6>\[$FC_PID\] client #1 \(guest1\) connected from "

	# Another file's device:inode: not journald's stream.
	JOURNAL_STREAM=${id%:*}:$((${id#*:} + 1)) fc_start -o spare_workers=1
	fc_stop_all
	all_plain_lines
	fc_log_has " notice \[$FC_PID\] ready: "

	# log_format=plain wins over a matching JOURNAL_STREAM.
	JOURNAL_STREAM=$id fc_start -o spare_workers=1 -o log_format=plain
	fc_stop_clean
	all_plain_lines
}

@test "log_format applies live on reload, in the master's lines" {
	conf "spare_workers = 1" "log_format = plain"
	fc_start -c "$CONF"
	conf "spare_workers = 1" "log_format = journal"
	kill -HUP "$FC_PID"
	wait_until 5 fc_log_has "^<5>\[$FC_PID\] configuration reloaded: "
	fc_log_has " notice \[$FC_PID\] SIGHUP: reloading "
	fc_connect a
	fc_log_has "^<6>\[$FC_PID\] client #1 \(guest1\) connected from "
	conf "spare_workers = 1"			# auto: no JOURNAL_STREAM
	kill -HUP "$FC_PID"
	wait_until 5 fc_log_has " notice \[$FC_PID\] configuration reloaded: "
	fc_stop_all
	fc_log_has " notice \[$FC_PID\] shutdown complete: "
}

# --- user and group ------------------------------------------------------

# PID runs as uid and gid 65534 in all four slots, with no supplementary
# group.
is_nobody() {
	local st=/proc/$1/status
	if ! grep -qxP 'Uid:\t65534\t65534\t65534\t65534' "$st" ||
	    ! grep -qxP 'Gid:\t65534\t65534\t65534\t65534' "$st" ||
	    ! grep -qxP 'Groups:\s*' "$st"; then
		echo "process $1:" >&2
		grep -E '^(Name|Uid|Gid|Groups):' "$st" >&2
		return 1
	fi
}

# The number of the first log line matching REGEX.
log_line_no() { grep -nE -- "$1" "$FC_LOG" | head -n 1 | cut -d: -f1; }

# A directory anyone may read (the bats temporary ones are root's only),
# for a configuration the server must read again after dropping root.
shared_dir() {
	SHARED_DIR=$(mktemp -d /tmp/forkchat-service.XXXXXX)
	chmod 755 "$SHARED_DIR"
}

@test "user/group as root: master and every worker become nobody:nogroup, no supplementary groups" {
	local pids pid n=0
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	getent passwd nobody >/dev/null && getent group nogroup >/dev/null ||
	    skip "no nobody:nogroup"
	shared_dir
	CONF=$SHARED_DIR/forkchatd.conf
	printf '%s\n' "user = nobody" "group = nogroup" "spare_workers = 2" \
	    "pipe.cat = /bin/cat" >"$CONF"
	chmod 644 "$CONF"
	# Start with supplementary groups, so that clearing them shows.
	if command -v setpriv >/dev/null; then
		printf '#!/bin/sh\nexec setpriv --groups 4,24 "%s" "$@"\n' \
		    "$FORKCHATD" >"$BATS_TEST_TMPDIR/with-groups"
		chmod 755 "$BATS_TEST_TMPDIR/with-groups"
		FORKCHATD=$BATS_TEST_TMPDIR/with-groups
	fi
	fc_start -c "$CONF"
	fc_connect a
	fc_connect b
	fc_joined a guest2
	wait_until 5 fc_pool 2 2
	pids=$(fc_tree "$FC_PID")
	for pid in $pids; do
		is_nobody "$pid"
		n=$((n + 1))
	done
	((n == 6))			# master, forker, 2 workers, 2 spares
	[ "$(log_count 'notice \[[0-9]+\] running as user nobody \(uid 65534, gid 65534\), no supplementary groups$')" -eq 1 ]
	fc_log_lacks 'running as uid'
	# Dropped after binding, before the first worker.
	(($(log_line_no 'listening on ') < $(log_line_no 'running as user')))
	(($(log_line_no 'running as user') < $(log_line_no 'ready: ')))
	# A reload cannot change them: a warning, the rest applies.
	printf '%s\n' "user = root" "spare_workers = 1" >"$CONF"
	kill -HUP "$FC_PID"
	wait_until 5 fc_log_has 'configuration reloaded: up to 1000 clients, 1 spare worker'
	fc_log_has 'warning \[[0-9]+\] reload: user and group cannot change while running; keeping the old ones \(restart to change them\)$'
	wait_until 5 fc_pool 1 2
	fc_connect c
	fc_joined a guest3
	for pid in $(fc_tree "$FC_PID"); do
		is_nobody "$pid"
	done
	[ "$(log_count 'running as ')" -eq 1 ]
	fc_stop_all
	[ -z "$(fc_unexpected_warnings 'user and group cannot change')" ]
}

@test "no user: runs as started, and says so once at notice level" {
	fc_start -o spare_workers=1
	kill -HUP "$FC_PID"
	wait_until 5 fc_log_has 'configuration reloaded'
	fc_stop_clean
	[ "$(log_count "notice \[$FC_PID\] running as uid $(id -u), gid $(id -g) \(no user configured\)$")" -eq 1 ]
	[ "$(log_count 'running as ')" -eq 1 ]
}

@test "user: a user that does not exist is exit 1 with a clear message, no worker" {
	run "$FORKCHATD" -l 127.0.0.1:0 -o user=forkchat-no-such-user \
	    -o log_level=debug
	[ "$status" -eq 1 ]
	[[ $output =~ \ error\ \[[0-9]+\]\ user\ forkchat-no-such-user:\ no\ such\ user$ ]]
	[[ $output != *"ready: "* && $output != *forked* ]]
	run "$FORKCHATD" -l 127.0.0.1:0 -o user=nobody \
	    -o group=forkchat-no-such-group
	[ "$status" -eq 1 ]
	[[ $output =~ \ error\ \[[0-9]+\]\ group\ forkchat-no-such-group:\ no\ such\ group$ ]]
}

@test "user: not started as root, another user is exit 1" {
	[ "$(id -u)" -eq 0 ] || skip "needs root to become nobody first"
	command -v setpriv >/dev/null || skip "no setpriv"
	run setpriv --reuid=65534 --regid=65534 --clear-groups \
	    "$FORKCHATD" -l 127.0.0.1:0 -o user=root
	[ "$status" -eq 1 ]
	[[ $output =~ \ error\ \[[0-9]+\]\ cannot\ become\ user\ root:\ not\ started\ as\ root$ ]]
}

@test "-t checks a configuration with user and group, starting nothing" {
	run "$FORKCHATD" -t -o user=nobody -o group=nogroup
	[ "$status" -eq 0 ]
	[ "$output" = "forkchatd: configuration (built-in defaults) with 2 -o overrides is ok" ]
	run "$FORKCHATD" -t -o user=-x
	[ "$status" -eq 78 ]
	[ "$output" = "forkchatd: -o user=-x: user: '-x' is not a user or group name" ]
	run "$FORKCHATD" -t -o log_format=syslog
	[ "$status" -eq 78 ]
	[[ $output == *"log_format: 'syslog' must be auto, journal or plain" ]]
}

@test "-t looks the user and group up: a start that would fail does not pass" {
	run "$FORKCHATD" -t -o user=forkchat-no-such-user
	[ "$status" -eq 78 ]
	[ "$output" = "forkchatd: user forkchat-no-such-user: no such user" ]
	run "$FORKCHATD" -t -o user=nobody -o group=forkchat-no-such-group
	[ "$status" -eq 78 ]
	[ "$output" = "forkchatd: group forkchat-no-such-group: no such group" ]
}

@test "group without user is a configuration error, not silently ignored" {
	run "$FORKCHATD" -t -o group=nogroup
	[ "$status" -eq 78 ]
	[ "$output" = "forkchatd: group: set user too (the group is taken on with the user)" ]
}

# --- admin actions in the log --------------------------------------------

@test "admin actions are logged with who did what to whom: oper, timeout, pipe, kick" {
	local pw=$BATS_TEST_TMPDIR/oper.pw
	(umask 077 && echo "sesame-$RANDOM" >"$pw")	# private: no warning
	fc_start -o "oper_password_file=$pw" -o 'pipe.upper=/usr/bin/tr a-z A-Z' \
	    -o spare_workers=1
	fc_connect a
	fc_connect b
	fc_joined a guest2
	fc_send a "/oper $(cat "$pw")"
	fc_next a '^\*\*\* you are now an operator$'
	fc_send a "/timeout guest2 30"
	fc_next a '^\*\*\* read timeout of guest2 is now 30 s$'
	fc_send a "/pipe upper who did what"
	fc_next a '^\[upper\] WHO DID WHAT$'
	fc_next a '^\*\*\* end of /pipe upper$'
	fc_send a "/kick guest2 enough"
	fc_expect a '^\*\*\* guest2 was kicked by guest1 \(enough\)$'
	fc_stop_clean
	fc_log_has "notice \[$FC_PID\] client #1 \(guest1\) from 127\.0\.0\.1:[0-9]+ is now an operator$"
	fc_log_has "notice \[$FC_PID\] client #2 \(guest2\): read timeout set to 30 s by #1 \(guest1\)$"
	fc_log_has "info \[$FC_PID\] client #1 \(guest1\) started pipe job [0-9]+: upper$"
	fc_log_has "notice \[$FC_PID\] client #2 \(guest2\) from 127\.0\.0\.1:[0-9]+ kicked by #1 \(guest1\): enough$"
}
