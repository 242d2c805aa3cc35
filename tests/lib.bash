# tests/lib.bash - what every bats suite shares: start forkchatd on a free
# port, talk to it over real sockets (bash's /dev/tcp), wait for things
# with deadlines, and check that nothing is left behind.
#
#   fc_start [args...]       start the server (-l 127.0.0.1:0 is added)
#   fc_connect NAME          open a client; reads its greeting
#   fc_send NAME TEXT...     send lines (CRLF added)
#   fc_expect NAME REGEX     read lines until one matches (FC_LINE holds it)
#   fc_next NAME REGEX       the very next line must match
#   fc_next_is NAME TEXT     the very next line must be exactly TEXT
#   next_bytes_are NAME BYTES  the very next bytes must be exactly BYTES
#   next_hex NAME N          the next N bytes, as hex
#   fc_quiet NAME OTHER      prove NAME got nothing: OTHER sends a marker,
#                            NAME's next line must be that marker
#   fc_quiet_all FROM NICK NAME...  fc_quiet for several at once
#   fc_three_clients         clients a, b, c (guest1..3), joins read
#   fc_eof NAME              the server closes NAME's connection
#   fc_stop [SIG]            signal the master, wait (bounded), FC_STATUS
#   fc_stop_all              SIGTERM; exit 0 and the whole tree gone
#   fc_stop_clean            fc_stop_all, and a clean log
#   fc_log_lacks REGEX       no log line matches
#   fc_unexpected_warnings RE  warnings and errors not matching RE
#   fc_read_who NAME         /who into WHO_PID[nick], WHO_TMO[nick], WHO_N
#   fc_await_exit [SECS]     wait (bounded) for a signalled master to exit
#   fc_reap_killed           status of a master killed by SIGKILL is 137
#   wait_until SECS CMD...   retry CMD until it succeeds or time runs out
#   fc_proc_list [PPID]      "pid ppid state comm" of all (or PPID's children)
#   fc_scan PID              PID's children into FC_KIDS/FC_KID_COMM/FC_KID_STATE
#   fc_children PID          PID's children, one per line
#   fc_tree PID              PID and all its descendants
#   fc_zombies PID           zombie children of PID
#   fc_worker_pid ID         the worker serving client #ID
#   fc_pool SPARES WORKERS   the master has exactly these children
#   fc_gone PID              no such process (reaped, not even a zombie)
#   fc_clean_log             no warning or error line in the log
#
# Several servers at once (a cluster), each by name; fc_start and the
# helpers above keep working on the one fc_use chose last:
#   fc_start_named NAME [args...]  fc_start, its log NAME.log; sets
#                            FC_PIDS[NAME], FC_PORTS[NAME], FC_LOGS[NAME]
#   fc_use NAME              FC_PID, FC_PORT, FC_LOG, FC_WAITPID are NAME's
#   fc_stop_named NAME [SIG] fc_stop for server NAME
#   fc_signal_named NAME SIG   signal server NAME's master
#   fc_await_exit_named NAME   fc_await_exit for server NAME
#   fc_reap_killed_named NAME  fc_reap_killed for server NAME
#   fc_connect_to CLIENT NAME  fc_connect, to server NAME
#   fc_cleanup_all           fc_cleanup for every named server

FORKCHATD=${FORKCHATD:-$BATS_TEST_DIRNAME/../build/forkchatd}
FC_TIMEOUT=${FC_TIMEOUT:-5}
declare -gA FC_FD=()
declare -gA BG_PID=()	# background helpers a test started, by name
export FC_STATUS=0	# the stopped master's exit status, for the tests

# Poll CMD until it succeeds, at most SECS seconds; a bounded wait.
wait_until() {
	local secs=$1; shift
	local end=$((${EPOCHREALTIME/./} + secs * 1000000))
	until "$@"; do
		if ((${EPOCHREALTIME/./} >= end)); then
			echo "wait_until: gave up after ${secs}s: $*" >&2
			return 1
		fi
		sleep 0.02
	done
}

fc_log_has() { grep -qE -- "$1" "$FC_LOG"; }

# Microseconds since the epoch.
now_us() { echo "${EPOCHREALTIME/./}"; }

# The master holds exactly N descriptors.
fds_are() { [ "$(fc_open_fds "$FC_PID")" -eq "$1" ]; }

# FILE holds at least N bytes.
size_at_least() { [ "$(stat -c %s "$1")" -ge "$2" ]; }

# Copy everything client NAME receives to FILE, in the background (its
# pid in BG_PID[NAME], for the test's teardown to stop).
capture() {
	cat <&"${FC_FD[$1]}" >"$2" &
	BG_PID[$1]=$!
}

# How many lines of the log match REGEX (0 is not a failure).
log_count() { grep -cE -- "$1" "$FC_LOG" || true; }

# At least N lines of the log match REGEX.
log_count_ge() { (($(log_count "$2") >= $1)); }

# Start forkchatd in its own session; sets FC_PID, FC_PORT, FC_LOG.
# FC_WRAP: words run before the server, e.g. "valgrind --log-file=..."
# (scripts/check-valgrind); split on blanks only, never globbed.
fc_start() {
	local wrap=()
	read -ra wrap <<<"${FC_WRAP:-}"
	FC_LOG=$BATS_TEST_TMPDIR/${FC_LOG_NAME:-forkchatd}.log
	: > "$FC_LOG"
	# FC_NO_LISTEN=1: the addresses come from the configuration instead.
	local listen=(-l 127.0.0.1:0)
	[ -z "${FC_NO_LISTEN:-}" ] || listen=()
	setsid -w ${wrap[@]+"${wrap[@]}"} "$FORKCHATD" ${listen[@]+"${listen[@]}"} \
	    "$@" 2>>"$FC_LOG" &
	FC_WAITPID=$!
	wait_until "$FC_TIMEOUT" fc_log_has 'ready: ' || {
		cat "$FC_LOG" >&2
		return 1
	}
	FC_PID=$(sed -nE 's/.*starting, pid ([0-9]+).*/\1/p' "$FC_LOG" | head -n 1)
	FC_PORT=$(sed -nE 's/.*listening on 127\.0\.0\.1:([0-9]+).*/\1/p' "$FC_LOG" | head -n 1)
	[ -n "$FC_PID" ] && [ -n "$FC_PORT" ]
}

# What a server with telnet_negotiation on (the default) sends first:
# IAC DO TIMING-MARK, which a telnet client answers, and a CR that
# takes a terminal's cursor back so that the greeting hides it.
FC_TELNET_ASK=$'\xff\xfd\x06\r'

# Open a client connection called NAME and read its greeting.
fc_connect() {
	fc_connect_raw "$@" || return 1
	fc_expect "$1" '^\*\*\* welcome'
}

# Open a connection NAME (to HOST:PORT, default the server) without
# reading anything from it.
fc_connect_raw() {
	local name=$1 host=${2:-127.0.0.1} port=${3:-$FC_PORT} fd
	exec {fd}<>"/dev/tcp/$host/$port" || return 1
	FC_FD[$name]=$fd
}

# Send each argument as one line, CRLF-terminated.
fc_send() {
	local name=$1; shift
	printf '%s\r\n' "$@" >&"${FC_FD[$name]}"
}

# Send bytes exactly as given (printf format).
fc_send_raw() {
	local name=$1; shift
	# shellcheck disable=SC2059 # the format is the point
	printf "$@" >&"${FC_FD[$name]}"
}

# Read one line into FC_LINE within SECS; 1 on timeout/EOF.  The CR at
# its end is stripped, and so is the telnet question before a greeting:
# tests that check those bytes read them with next_bytes_are.
fc_read() {
	local name=$1 secs=${2:-$FC_TIMEOUT}
	IFS= read -r -t "$secs" -u "${FC_FD[$name]}" FC_LINE || return 1
	FC_LINE=${FC_LINE%$'\r'}
	FC_LINE=${FC_LINE#"$FC_TELNET_ASK"}
}

# The next N bytes NAME receives, exactly, as hex (bash's read would
# hide NUL bytes, so this reads with dd, one byte at a time).
next_hex() {
	timeout 5 dd bs=1 count="$2" status=none <&"${FC_FD[$1]}" |
	    od -An -v -tx1 | tr -d ' \n'
}

# Bytes as hex, the way next_hex prints them.
hex() { printf '%s' "$1" | od -An -v -tx1 | tr -d ' \n'; }

# The next bytes NAME receives must be exactly TEXT (CRLF included).
next_bytes_are() {
	local name=$1 want=$2 got
	got=$(next_hex "$name" "$(printf '%s' "$want" | wc -c)")
	[ "$got" = "$(hex "$want")" ] || {
		printf 'next_bytes_are %s: got %s, wanted %s\n' "$name" "$got" \
		    "$(hex "$want")" >&2
		return 1
	}
}

# Read lines until one matches REGEX; fail, showing what came, if none.
fc_expect() {
	local name=$1 re=$2 secs=${3:-$FC_TIMEOUT} seen=""
	local end=$((SECONDS + secs))
	while ((SECONDS <= end)); do
		if ! fc_read "$name" "$secs"; then
			break
		fi
		[[ $FC_LINE =~ $re ]] && return 0
		seen+="  $FC_LINE"$'\n'
	done
	printf 'fc_expect %s: no line matching /%s/; got:\n%s' "$name" "$re" "$seen" >&2
	return 1
}

# Read NAME's lines until "*** ... joined" lines have named each NICK,
# in order, skipping other lines and nicks.  Clients that join together
# share a line, "*** guest2, guest3 and guest4 joined", so a test that
# connects several at once cannot wait for one line per nick.
fc_joined() {
	local name=$1 nick list seen=""
	local -a nicks=("${@:2}")
	local end=$((SECONDS + FC_TIMEOUT))
	while ((${#nicks[@]} > 0 && SECONDS <= end)) && fc_read "$name"; do
		seen+="  $FC_LINE"$'\n'
		[[ $FC_LINE =~ ^\*\*\*\ (.+)\ joined$ ]] || continue
		list=${BASH_REMATCH[1]//, /$'\n'}
		while IFS= read -r nick; do
			[ "$nick" = "${nicks[0]}" ] && nicks=("${nicks[@]:1}")
		done <<<"${list// and /$'\n'}"
	done
	((${#nicks[@]} == 0)) && return 0
	printf 'fc_joined %s: never told of %s; got:\n%s' "$name" "${nicks[*]}" \
	    "$seen" >&2
	return 1
}

# The next line NAME reads must match REGEX exactly (no skipping).
fc_next() {
	local name=$1 re=$2
	fc_read "$name" || { echo "fc_next $name: nothing came" >&2; return 1; }
	[[ $FC_LINE =~ $re ]] || { echo "fc_next $name: got '$FC_LINE', wanted /$re/" >&2; return 1; }
}

# The next line NAME reads must be exactly TEXT (no regex).
fc_next_is() {
	local name=$1 want=$2
	fc_read "$name" || {
		printf 'fc_next_is %s: nothing came, wanted %q\n' "$name" "$want" >&2
		return 1
	}
	[ "$FC_LINE" = "$want" ] || {
		printf 'fc_next_is %s: got %q, wanted %q\n' "$name" "$FC_LINE" \
		    "$want" >&2
		return 1
	}
}

# FROM (whose nick is NICK) sends a marker; the very next line of every
# other NAME must be it: none of them received anything else before.
fc_quiet_all() {
	local from=$1 nick=$2 name marker="marker-$RANDOM$RANDOM"
	shift 2
	fc_send "$from" "$marker"
	for name in "$@"; do
		fc_next_is "$name" "<$nick> $marker" || return 1
	done
}

# Clients a, b, c (guest1..3); every earlier one has read the joins.
fc_three_clients() {
	fc_connect a
	fc_connect b
	fc_connect c
	fc_expect a '^\*\*\* guest3 joined$'
	fc_expect b '^\*\*\* guest3 joined$'
}

# Prove NAME has received nothing so far: OTHER broadcasts a marker and
# NAME's very next line must be it (ordering makes this deterministic).
fc_quiet() {
	local name=$1 other=$2 marker="marker-$RANDOM$RANDOM"
	fc_send "$other" "$marker"
	fc_next "$name" "<[^>]+> $marker\$"
}

# Read until the server closes the connection (EOF) within SECS.  A read
# that fails at EOF is the success here: guard it from bats' errexit.
fc_eof() {
	local name=$1 secs=${2:-$FC_TIMEOUT} rc n=0
	while ((n++ < 100000)); do
		rc=0
		IFS= read -r -t "$secs" -u "${FC_FD[$name]}" FC_LINE || rc=$?
		((rc == 0)) && continue
		((rc > 128)) && break
		return 0
	done
	echo "fc_eof $name: connection still open after ${secs}s" >&2
	return 1
}

# Discard everything NAME is sent until the server closes it, within
# SECS (default 20): for a connection with megabytes unread, where
# fc_eof's line-by-line read would be slow.
fc_drain_eof() {
	local name=$1 secs=${2:-20}
	timeout "$secs" cat <&"${FC_FD[$name]}" >/dev/null || {
		echo "fc_drain_eof $name: not closed within ${secs}s" >&2
		return 1
	}
}

fc_close() {
	local name=$1 fd=${FC_FD[$1]}
	exec {fd}>&-
	unset "FC_FD[$name]"
}

# True when every pid has exited: no process, or only a zombie left for
# someone else to reap.
fc_exited() {
	local p st
	for p in "$@"; do
		{ read -r st <"/proc/$p/stat"; } 2>/dev/null || continue
		st=${st##*) }
		[ "${st%% *}" = Z ] || return 1
	done
	return 0
}

# Wait (bounded) for the signalled master to exit; FC_STATUS = its status.
fc_await_exit() {
	local secs=${1:-15}
	wait_until "$secs" fc_exited "$FC_PID" || return 1
	FC_STATUS=0
	wait "$FC_WAITPID" || FC_STATUS=$?
	FC_WAITPID=
}

# Collect the status of a master killed by SIGKILL: 128 + 9, unless setsid
# had to fork (then setsid's own, non-zero).
fc_reap_killed() {
	FC_STATUS=0
	wait "$FC_WAITPID" || FC_STATUS=$?
	if [ "$FC_WAITPID" = "$FC_PID" ]; then
		[ "$FC_STATUS" -eq 137 ] || return 1
	else
		[ "$FC_STATUS" -ne 0 ] || return 1
	fi
	FC_WAITPID=
}

# Signal the master (default TERM) and wait for it; FC_STATUS = exit code.
fc_stop() {
	kill -s "${1:-TERM}" "$FC_PID"
	fc_await_exit "${2:-15}"
}

# Stop with SIGTERM: exit 0, and every process the server had is gone (a
# zombie still has its /proc entry, so none is left either).
fc_stop_all() {
	local pids
	pids=$(fc_tree "$FC_PID")
	fc_stop TERM
	if [ "$FC_STATUS" -ne 0 ]; then
		echo "forkchatd exited $FC_STATUS" >&2
		return 1
	fi
	# shellcheck disable=SC2086 # one pid per word
	wait_until 5 fc_all_gone $pids
}

# fc_stop_all, and nothing at warning or error in the log.
fc_stop_clean() {
	fc_stop_all && fc_clean_log
}

# The log has no line matching REGEX (a bare "! cmd" never fails a test).
fc_log_lacks() {
	if grep -E -- "$1" "$FC_LOG" >&2; then
		echo "fc_log_lacks: the log has the line above, matching /$1/" >&2
		return 1
	fi
}

# The warning a server started as root, with pipe programs and no user
# to drop to, rightly gives; the tests run as root, so it is expected.
FC_AS_ROOT='running as root with no user configured: pipe programs run as root too'

# The log's warnings and errors, less the lines matching REGEX.
fc_unexpected_warnings() {
	grep -E ' (warning|error) \[' "$FC_LOG" | grep -vE -- "$FC_AS_ROOT" |
	    grep -vE -- "$1" || true
}

# "/who" from client NAME: WHO_PID[nick] and WHO_TMO[nick], WHO_N clients.
# shellcheck disable=SC2034 # results for the tests that call it
declare -gA WHO_PID=() WHO_TMO=()
export WHO_N
fc_read_who() {
	local name=$1 n=0
	WHO_PID=() WHO_TMO=() WHO_N=
	fc_send "$name" "/who"
	while ((n++ < 1000)) && fc_read "$name"; do
		if [[ $FC_LINE =~ ^\*\*\*\ end\ of\ /who\ \(([0-9]+)\ client ]]; then
			WHO_N=${BASH_REMATCH[1]}
			return 0
		fi
		if [[ $FC_LINE =~ ^#[0-9]+\ +([^ ]+)\ +pid\ ([0-9]+)\ .*\ timeout\ ([^ ]+)(\ \ \(.*\))?$ ]]; then
			# shellcheck disable=SC2034 # for the tests
			WHO_PID[${BASH_REMATCH[1]}]=${BASH_REMATCH[2]}
			# shellcheck disable=SC2034
			WHO_TMO[${BASH_REMATCH[1]}]=${BASH_REMATCH[3]}
		fi
	done
	echo "fc_read_who $name: no end of /who" >&2
	return 1
}

# "PID PPID STATE COMM" for every process, or for PPID's children only:
# one pass over /proc/*/stat.  Run it in a subshell, $(...) or a pipe:
# it turns bats' DEBUG trap off (forking a cat per process, under the
# trap, costs seconds per call), and a subshell of its own would cost
# one more fork on every poll of a wait.
fc_proc_list() {
	local want=${1:-} f s c p
	trap - DEBUG
	set +T
	for f in /proc/[0-9]*/stat; do
		{ read -r s <"$f"; } 2>/dev/null || continue
		[ -z "$want" ] || [[ $s == *") "?" $want "* ]] || continue
		c=${s#*(} c=${c%) *} s=${s##*) } p=${s#? } p=${p%% *}
		[ -z "$want" ] || [ "$p" = "$want" ] || continue
		f=${f#/proc/}
		echo "${f%/stat} $p ${s%% *} $c"
	done
	return 0
}

# PID's children into FC_KIDS, FC_KID_COMM, FC_KID_STATE.
fc_scan() {
	local out pid st comm
	FC_KIDS=() FC_KID_COMM=() FC_KID_STATE=()
	out=$(fc_proc_list "$1")
	[ -n "$out" ] || return 0
	while read -r pid _ st comm; do
		FC_KIDS+=("$pid") FC_KID_STATE+=("$st") FC_KID_COMM+=("$comm")
	done <<<"$out"
	return 0
}

# Direct children of PID, one per line.
fc_children() {
	fc_scan "$1"
	((${#FC_KIDS[@]} == 0)) || printf '%s\n' "${FC_KIDS[@]}"
}

# PID and every descendant, one per line, PID first.  One pass over
# /proc (a scan per process would make a tree of a thousand workers cost
# a million reads), then a walk from PID down the parent links.
fc_tree() {
	fc_proc_list | awk -v root="$1" '
		{ kids[$2] = kids[$2] " " $1 }
		END {
			q[0] = root; n = 1
			for (i = 0; i < n; i++) {
				print q[i]
				m = split(kids[q[i]], k, " ")
				for (j = 1; j <= m; j++)
					q[n++] = k[j]
			}
		}'
}

# Zombie children of PID, one pid per line.
fc_zombies() {
	local i
	fc_scan "$1"
	for i in "${!FC_KIDS[@]}"; do
		[ "${FC_KID_STATE[i]}" = Z ] && echo "${FC_KIDS[i]}"
	done
	return 0
}

fc_no_zombies() { [ -z "$(fc_zombies "$1")" ]; }

# No process with this pid exists: reaped, not even a zombie.
fc_gone() { [ ! -e "/proc/$1" ]; }

# True when none of the given pids exists any more.
fc_all_gone() {
	local p
	for p in "$@"; do
		[ -e "/proc/$p" ] && return 1
	done
	return 0
}

# The pid of the master's child whose comm is COMM; NAME says who, in errors.
fc_child_named() {
	local i
	fc_scan "$FC_PID"
	for i in "${!FC_KIDS[@]}"; do
		if [ "${FC_KID_COMM[i]}" = "$1" ]; then
			echo "${FC_KIDS[i]}"
			return 0
		fi
	done
	echo "no $2 among the master's children" >&2
	return 1
}

# The master's idle spares, one pid per line.
fc_spare_pids() {
	local i
	fc_scan "$FC_PID"
	for i in "${!FC_KIDS[@]}"; do
		[ "${FC_KID_COMM[i]}" = "forkchatd spare" ] && echo "${FC_KIDS[i]}"
	done
	return 0
}

# The worker serving client #ID (its comm is "forkchatd #ID").
fc_worker_pid() { fc_child_named "forkchatd #$1" "worker for client #$1"; }

# The master's forker (its comm is "forkchatd fork").
fc_forker_pid() { fc_child_named "forkchatd fork" forker; }

# True when the master has exactly SPARES spares and WORKERS client
# workers, its one forker, and no other child, zombies included.
fc_pool() {
	local i spares=0 workers=0 forkers=0
	fc_scan "$FC_PID"
	for i in "${!FC_KIDS[@]}"; do
		[ "${FC_KID_STATE[i]}" = Z ] && return 1
		case ${FC_KID_COMM[i]} in
		"forkchatd spare") spares=$((spares + 1)) ;;
		"forkchatd #"*) workers=$((workers + 1)) ;;
		"forkchatd fork") forkers=$((forkers + 1)) ;;
		*) return 1 ;;
		esac
	done
	((spares == $1 && workers == $2 && forkers == 1))
}


# Children of the master whose name (comm) matches REGEX: how many.
fc_count_role() {
	local re=$1 n=0 i
	fc_scan "$FC_PID"
	for i in "${!FC_KIDS[@]}"; do
		[[ ${FC_KID_COMM[i]} =~ $re ]] && n=$((n + 1))
	done
	echo "$n"
}

# True if the server is built with AddressSanitizer (check-asan).
sanitized() {
	ASAN_OPTIONS=help=1 "$FORKCHATD" -V 2>&1 |
	    grep -q 'Available flags for AddressSanitizer'
}

fc_open_fds() { find "/proc/$1/fd" -mindepth 1 2>/dev/null | wc -l; }

# The log holds no warning or error line.
fc_clean_log() {
	if grep -E ' (warning|error) \[' "$FC_LOG" | grep -vE -- "$FC_AS_ROOT"; then
		echo "fc_clean_log: the log above has warnings or errors" >&2
		return 1
	fi
}

# Teardown: stop the background helpers (BG_PID), close clients, kill
# whatever of the server is left.  If the start failed before the pid
# was known, kill from the waited-for pid.
fc_cleanup() {
	local name fd pids root=${FC_PID:-${FC_WAITPID:-}}
	for name in "${!BG_PID[@]}"; do
		kill -9 "${BG_PID[$name]}" 2>/dev/null
		wait "${BG_PID[$name]}" 2>/dev/null
	done
	BG_PID=()
	for name in "${!FC_FD[@]}"; do
		fd=${FC_FD[$name]}
		exec {fd}>&- 2>/dev/null
	done
	FC_FD=()
	if [ -n "$root" ] && [ -e "/proc/$root" ]; then
		pids=$(fc_tree "$root")
		# shellcheck disable=SC2086 # one pid per word
		kill -9 $pids 2>/dev/null
	fi
	[ -n "${FC_WAITPID:-}" ] && wait "$FC_WAITPID" 2>/dev/null
	FC_WAITPID=
	return 0
}

# ---- several servers ---------------------------------------------------

declare -gA FC_PIDS=() FC_PORTS=() FC_LOGS=() FC_WAITPIDS=()

# Start server NAME (fc_start's arguments); it becomes the one in use.
fc_start_named() {
	local name=$1; shift
	FC_PID='' FC_WAITPID=''
	FC_LOG_NAME=$name fc_start "$@" || {
		FC_WAITPIDS[$name]=$FC_WAITPID
		return 1
	}
	FC_PIDS[$name]=$FC_PID
	FC_PORTS[$name]=$FC_PORT
	FC_LOGS[$name]=$FC_LOG
	FC_WAITPIDS[$name]=$FC_WAITPID
}

# Make server NAME the one fc_stop, fc_log_has and the rest act on.
fc_use() {
	FC_PID=${FC_PIDS[$1]:-}
	FC_PORT=${FC_PORTS[$1]:-}
	FC_LOG=${FC_LOGS[$1]:-$BATS_TEST_TMPDIR/$1.log}
	FC_WAITPID=${FC_WAITPIDS[$1]:-}
}

# Signal server NAME (default TERM) and wait for it; FC_STATUS.
fc_stop_named() {
	local name=$1; shift
	fc_use "$name"
	fc_stop "$@" || return 1
	FC_WAITPIDS[$name]=
}

# Wait (bounded) for server NAME, signalled, to exit; FC_STATUS.
fc_await_exit_named() {
	fc_use "$1"
	fc_await_exit "${2:-15}" || return 1
	FC_WAITPIDS[$1]=
}

# Send server NAME's master signal SIG.
fc_signal_named() {
	kill -s "$2" "${FC_PIDS[$1]}"
}

# Server NAME was killed with SIGKILL: collect its status (137).
fc_reap_killed_named() {
	fc_use "$1"
	fc_reap_killed || return 1
	FC_WAITPIDS[$1]=
}

# Client CLIENT connects to server NAME and reads its greeting.
fc_connect_to() {
	fc_connect_raw "$1" 127.0.0.1 "${FC_PORTS[$2]}" || return 1
	fc_expect "$1" '^\*\*\* welcome'
}

# Teardown for several servers: every one's tree killed and reaped.
fc_cleanup_all() {
	local name
	for name in "${!FC_PIDS[@]}" "${!FC_WAITPIDS[@]}"; do
		fc_use "$name"
		fc_cleanup
		FC_WAITPIDS[$name]=
	done
	FC_PIDS=() FC_PORTS=() FC_LOGS=() FC_WAITPIDS=()
	fc_cleanup
}
