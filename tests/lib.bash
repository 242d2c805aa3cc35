# tests/lib.bash - what every bats suite shares: start forkchatd on a free
# port, talk to it over real sockets (bash's /dev/tcp), wait for things
# with deadlines, and check that nothing is left behind.
#
#   fc_start [args...]       start the server (-l 127.0.0.1:0 is added)
#   fc_connect NAME          open a client; reads its greeting
#   fc_send NAME TEXT...     send lines (CRLF added)
#   fc_expect NAME REGEX     read lines until one matches (FC_LINE holds it)
#   fc_quiet NAME OTHER      prove NAME got nothing: OTHER sends a marker,
#                            NAME's next line must be that marker
#   fc_stop [SIG]            signal the master, wait, FC_STATUS = exit code
#   wait_until SECS CMD...   retry CMD until it succeeds or time runs out
#   fc_tree PID              PID and all its descendants, from /proc
#   fc_zombies PID           zombie children of PID
#   fc_clean_log             no warning or error line in the log

FORKCHATD=${FORKCHATD:-$BATS_TEST_DIRNAME/../build/forkchatd}
FC_TIMEOUT=${FC_TIMEOUT:-5}
declare -gA FC_FD=()

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

# Start forkchatd in its own session; sets FC_PID, FC_PORT, FC_LOG.
fc_start() {
	FC_LOG=$BATS_TEST_TMPDIR/forkchatd.log
	: > "$FC_LOG"
	setsid -w "$FORKCHATD" -l 127.0.0.1:0 "$@" 2>>"$FC_LOG" &
	FC_WAITPID=$!
	wait_until "$FC_TIMEOUT" fc_log_has 'ready: ' || {
		cat "$FC_LOG" >&2
		return 1
	}
	FC_PID=$(sed -nE 's/.*starting, pid ([0-9]+).*/\1/p' "$FC_LOG" | head -n 1)
	FC_PORT=$(sed -nE 's/.*listening on 127\.0\.0\.1:([0-9]+).*/\1/p' "$FC_LOG" | head -n 1)
	[ -n "$FC_PID" ] && [ -n "$FC_PORT" ]
}

# Open a client connection called NAME and read its greeting.
fc_connect() {
	local name=$1 fd
	exec {fd}<>"/dev/tcp/127.0.0.1/$FC_PORT" || return 1
	FC_FD[$name]=$fd
	fc_expect "$name" '^\*\*\* welcome'
}

# Open a connection without reading anything from it.
fc_connect_raw() {
	local name=$1 fd
	exec {fd}<>"/dev/tcp/127.0.0.1/$FC_PORT" || return 1
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

# Read one line (CR stripped) into FC_LINE within SECS; 1 on timeout/EOF.
fc_read() {
	local name=$1 secs=${2:-$FC_TIMEOUT}
	IFS= read -r -t "$secs" -u "${FC_FD[$name]}" FC_LINE || return 1
	FC_LINE=${FC_LINE%$'\r'}
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

# The next line NAME reads must match REGEX exactly (no skipping).
fc_next() {
	local name=$1 re=$2
	fc_read "$name" || { echo "fc_next $name: nothing came" >&2; return 1; }
	[[ $FC_LINE =~ $re ]] || { echo "fc_next $name: got '$FC_LINE', wanted /$re/" >&2; return 1; }
}

# Prove NAME has received nothing so far: OTHER broadcasts a marker and
# NAME's very next line must be it (ordering makes this deterministic).
fc_quiet() {
	local name=$1 other=$2 marker="marker-$RANDOM$RANDOM"
	fc_send "$other" "$marker"
	fc_next "$name" "<[^>]+> $marker\$"
}

# Read until the server closes the connection (EOF) within SECS.
fc_eof() {
	local name=$1 secs=${2:-$FC_TIMEOUT} rc n=0
	while ((n++ < 100000)); do
		IFS= read -r -t "$secs" -u "${FC_FD[$name]}" FC_LINE
		rc=$?
		((rc == 0)) && continue
		((rc > 128)) && break
		return 0
	done
	echo "fc_eof $name: connection still open after ${secs}s" >&2
	return 1
}

fc_close() {
	local name=$1
	exec {FC_FD[$name]}>&-
	unset "FC_FD[$name]"
}

# Signal the master (default TERM) and wait for it; FC_STATUS = exit code.
fc_stop() {
	local sig=${1:-TERM}
	kill -s "$sig" "$FC_PID"
	FC_STATUS=0
	wait "$FC_WAITPID" || FC_STATUS=$?
	FC_WAITPID=
}

# Fields of /proc/PID/stat after the command name: state is $1, ppid $2.
fc_stat() {
	local s
	s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	echo "${s##*) }"
}

# Direct children of PID.
fc_children() {
	local want=$1 p st pp
	for p in /proc/[0-9]*; do
		st=$(fc_stat "${p#/proc/}") || continue
		read -r _ pp _ <<<"$st"
		[ "$pp" = "$want" ] && echo "${p#/proc/}"
	done
	return 0
}

# PID and every descendant.
fc_tree() {
	local p
	echo "$1"
	for p in $(fc_children "$1"); do
		fc_tree "$p"
	done
}

# Zombie children of PID (state Z), one pid per line.
fc_zombies() {
	local p st
	for p in $(fc_children "$1"); do
		st=$(fc_stat "$p") || continue
		[ "${st%% *}" = Z ] && echo "$p"
	done
	return 0
}

fc_no_zombies() { [ -z "$(fc_zombies "$1")" ]; }

# True when none of the given pids exists any more.
fc_all_gone() {
	local p
	for p in "$@"; do
		[ -e "/proc/$p" ] && return 1
	done
	return 0
}

# Children of the master whose name (comm) matches REGEX.
fc_count_role() {
	local re=$1 n=0 p
	for p in $(fc_children "$FC_PID"); do
		[[ $(cat "/proc/$p/comm" 2>/dev/null) =~ $re ]] && n=$((n + 1))
	done
	echo "$n"
}

fc_open_fds() { find "/proc/$1/fd" -mindepth 1 2>/dev/null | wc -l; }

# The log holds no warning or error line.
fc_clean_log() {
	if grep -E ' (warning|error) \[' "$FC_LOG"; then
		echo "fc_clean_log: the log above has warnings or errors" >&2
		return 1
	fi
}

# Teardown: close clients, kill whatever of the server is left.
fc_cleanup() {
	local name pids
	for name in "${!FC_FD[@]}"; do
		exec {FC_FD[$name]}>&- 2>/dev/null
	done
	FC_FD=()
	if [ -n "${FC_PID:-}" ] && [ -e "/proc/$FC_PID" ]; then
		pids=$(fc_tree "$FC_PID")
		# shellcheck disable=SC2086
		kill -9 $pids 2>/dev/null
	fi
	[ -n "${FC_WAITPID:-}" ] && wait "$FC_WAITPID" 2>/dev/null
	return 0
}
