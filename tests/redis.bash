# tests/redis.bash - a real redis-server for the suites that need one
# (resp.bats, cluster.bats): started in the test's temp dir, on a free
# port of 127.0.0.1 or on a unix socket, with no persistence, and
# stopped by pid.  Load after lib (it uses wait_until).
#
#   redis_need              fail the test unless redis-server is installed
#   redis_start [args...]   on a free port: REDIS_PID, REDIS_PORT, REDIS_URL
#   redis_start_unix [args...]  on a unix socket only: REDIS_SOCK
#   redis_restart [args...] SIGKILLed if still there, started again empty
#                           on the same port (or socket)
#   redis_stop              SIGTERM, then (bounded) SIGKILL, reaped
#   redis_dead              true once it has exited (a zombie counts)
#   redis_cli ARGS...       redis-cli against it

REDIS_PID=
REDIS_PORT=
REDIS_SOCK=
REDIS_ARGS=()
export REDIS_URL=	# for the suites: redis://127.0.0.1:PORT

redis_need() {
	command -v redis-server >/dev/null || {
		echo "no redis-server: run scripts/deps test" >&2
		return 1
	}
}

# Stop the Redis this test started, by pid, and reap it (bounded).
redis_stop() {
	[ -n "$REDIS_PID" ] || return 0
	kill -CONT "$REDIS_PID" 2>/dev/null || true
	kill -TERM "$REDIS_PID" 2>/dev/null || true
	if ! wait_until 10 redis_dead; then
		kill -KILL "$REDIS_PID" 2>/dev/null || true
	fi
	wait "$REDIS_PID" 2>/dev/null || true
	REDIS_PID=
	return 0
}

# True once our redis-server has exited (a zombie counts as exited).
redis_dead() {
	local s
	{ read -r s <"/proc/$REDIS_PID/stat"; } 2>/dev/null || return 0
	s=${s##*) }
	[ "${s%% *}" = Z ]
}

# Redis answers a PING (an error reply will do), or has died trying.
redis_up_or_dead() {
	redis_dead && return 0
	if [ -n "$REDIS_SOCK" ] && [ -z "$REDIS_PORT" ]; then
		redis-cli -s "$REDIS_SOCK" PING >/dev/null 2>&1
	else
		redis-cli -p "$1" PING >/dev/null 2>&1
	fi
}

# Start redis-server with these arguments; wait (bounded) until it
# answers on port $1 (or the socket).  Sets REDIS_PID, REDIS_LOG.  1 if
# it exited.
redis_spawn() {
	local port=$1; shift
	REDIS_LOG=$BATS_TEST_TMPDIR/redis.log
	redis-server --save '' --appendonly no --dir "$BATS_TEST_TMPDIR" \
	    --logfile "$REDIS_LOG" "$@" &
	REDIS_PID=$!
	wait_until 10 redis_up_or_dead "$port" || return 1
	if redis_dead; then
		wait "$REDIS_PID" 2>/dev/null || true
		REDIS_PID=
		return 1
	fi
}

# Redis on a free port of 127.0.0.1 (another one if the port was
# taken, ten tries); sets REDIS_PORT and REDIS_URL.
redis_start() {
	local try port
	REDIS_ARGS=("$@")
	for try in 1 2 3 4 5 6 7 8 9 10; do
		port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
		if redis_spawn "$port" --port "$port" --bind 127.0.0.1 "$@"; then
			REDIS_PORT=$port
			REDIS_URL=redis://127.0.0.1:$port
			return 0
		fi
		grep -q 'in use' "$REDIS_LOG" || break
	done
	echo "redis-server did not start (try $try):" >&2
	cat "$REDIS_LOG" >&2
	return 1
}

# Redis on a unix socket only; sets REDIS_SOCK.
redis_start_unix() {
	REDIS_ARGS=("$@")
	REDIS_SOCK=$BATS_TEST_TMPDIR/redis.sock
	REDIS_PORT=
	redis_spawn 0 --port 0 --unixsocket "$REDIS_SOCK" \
	    --unixsocketperm 700 "$@" || {
		cat "$REDIS_LOG" >&2
		return 1
	}
}

# SIGKILL our Redis if it runs, then start a new, empty one where it
# was (same port or socket, same arguments).
redis_restart() {
	local rc=0
	if [ -n "$REDIS_PID" ]; then
		kill -KILL "$REDIS_PID" 2>/dev/null || true
		kill -CONT "$REDIS_PID" 2>/dev/null || true
		wait_until 10 redis_dead
		wait "$REDIS_PID" 2>/dev/null || true
		REDIS_PID=
	fi
	if [ -n "$REDIS_PORT" ]; then
		redis_spawn "$REDIS_PORT" --port "$REDIS_PORT" --bind 127.0.0.1 \
		    ${REDIS_ARGS[@]+"${REDIS_ARGS[@]}"} || rc=1
	else
		redis_spawn 0 --port 0 --unixsocket "$REDIS_SOCK" \
		    --unixsocketperm 700 ${REDIS_ARGS[@]+"${REDIS_ARGS[@]}"} || rc=1
	fi
	((rc == 0)) || cat "$REDIS_LOG" >&2
	return $rc
}

# redis-cli against our Redis.
redis_cli() {
	if [ -n "$REDIS_PORT" ]; then
		redis-cli -p "$REDIS_PORT" "$@"
	else
		redis-cli -s "$REDIS_SOCK" "$@"
	fi
}
