#!/usr/bin/env bats
# shellcheck shell=bash
# resp: the Redis client library (common/resp.c, respcmd.c, redis.c)
# against a real redis-server, through tests/tools/resp-probe: the
# non-blocking connect over TCP and a unix socket, a refused connect,
# AUTH, streams (XADD with MAXLEN ~, XREAD, XREAD BLOCK timing out), a
# pipeline of 100 commands read one byte per read, and RESP3 refused.
# Each test starts its own redis-server on 127.0.0.1 (no persistence,
# files in its temp dir) and stops it by pid.

load lib

ROOT=$BATS_TEST_DIRNAME/..
PROBE=${FC_TOOLS:-$ROOT/build/tools}/resp-probe

setup() {
	REDIS_PID=
	command -v redis-server >/dev/null || {
		echo "no redis-server: run scripts/deps test" >&2
		return 1
	}
	[ -x "$PROBE" ] || {
		echo "no $PROBE: run make build/tools/resp-probe" >&2
		return 1
	}
}

teardown() {
	redis_stop
}

# Stop the Redis this test started, by pid, and reap it (bounded).
redis_stop() {
	[ -n "$REDIS_PID" ] || return 0
	kill -TERM "$REDIS_PID" 2>/dev/null
	if ! wait_until 10 redis_dead; then
		kill -KILL "$REDIS_PID" 2>/dev/null
	fi
	wait "$REDIS_PID" 2>/dev/null
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

# Redis answers at $1 (an error reply will do), or has died trying.
redis_up_or_dead() {
	redis_dead || "$PROBE" -t 1 "$1" PING >/dev/null 2>&1
}

# Start redis-server with these arguments; wait (bounded) until it
# answers at URL $1.  Sets REDIS_PID, REDIS_LOG.  1 if it exited.
redis_spawn() {
	local url=$1; shift
	REDIS_LOG=$BATS_TEST_TMPDIR/redis.log
	: >"$REDIS_LOG"
	redis-server --save '' --appendonly no --dir "$BATS_TEST_TMPDIR" \
	    --logfile "$REDIS_LOG" "$@" &
	REDIS_PID=$!
	wait_until 10 redis_up_or_dead "$url" || return 1
	if redis_dead; then
		wait "$REDIS_PID" 2>/dev/null
		REDIS_PID=
		return 1
	fi
}

# Redis on a free port of 127.0.0.1 (another one if the port was
# taken, ten tries); sets REDIS_PORT and REDIS_URL.
redis_start() {
	local try port
	for try in 1 2 3 4 5 6 7 8 9 10; do
		port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
		if redis_spawn "redis://127.0.0.1:$port" --port "$port" \
		    --bind 127.0.0.1 "$@"; then
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
	REDIS_SOCK=$BATS_TEST_TMPDIR/redis.sock
	redis_spawn "unix:$REDIS_SOCK" --port 0 --unixsocket "$REDIS_SOCK" \
	    --unixsocketperm 700 || {
		cat "$REDIS_LOG" >&2
		return 1
	}
}

# Run the probe; its output lines in PROBE_OUT, its status in PROBE_RC.
probe() {
	local out
	if out=$("$PROBE" "$@" 2>&1); then
		PROBE_RC=0
	else
		PROBE_RC=$?
	fi
	mapfile -t PROBE_OUT <<<"$out"
}

# The probe's output must be exactly these lines.
probe_said() {
	local want got
	want=$(printf '%s\n' "$@")
	got=$(printf '%s\n' "${PROBE_OUT[@]}")
	[ "$got" = "$want" ] || {
		printf 'probe said:\n%s\nwanted:\n%s\n' "$got" "$want" >&2
		return 1
	}
}

@test "PING over TCP: the connect finished by poll(), +PONG" {
	redis_start
	probe "$REDIS_URL" PING 'ECHO a\x20b\x00c'
	[ "$PROBE_RC" -eq 0 ]
	probe_said '+PONG' '"a b\x00c"'
	probe redis://localhost:"$REDIS_PORT" PING
	[ "$PROBE_RC" -eq 0 ]
	probe_said '+PONG'
}

@test "AUTH: refused with a wrong password, then accepted" {
	redis_start --requirepass s3cret
	probe "$REDIS_URL" PING 'AUTH wrong' PING 'AUTH s3cret' PING
	[ "$PROBE_RC" -eq 0 ]
	[[ ${PROBE_OUT[0]} == -NOAUTH* ]]
	[[ ${PROBE_OUT[1]} == -WRONGPASS* ]]
	[[ ${PROBE_OUT[2]} == -NOAUTH* ]]
	[ "${PROBE_OUT[3]}" = +OK ]
	[ "${PROBE_OUT[4]}" = +PONG ]
	[ "${#PROBE_OUT[@]}" -eq 5 ]
}

@test "XADD with MAXLEN ~, then XREAD from an id gives exactly what follows it" {
	redis_start
	probe "$REDIS_URL" 'XADD chat MAXLEN ~ 1000 5-1 from ann text hello' \
	    'XADD chat MAXLEN ~ 1000 5-2 from bob text hi\x20there' \
	    'XADD chat MAXLEN ~ 1000 7-0 from ann text bye' \
	    'XADD chat MAXLEN ~ 1000 6-0 from old text late' \
	    'XREAD COUNT 10 STREAMS chat 5-1' \
	    'XREAD COUNT 1 STREAMS chat 0-0' \
	    'XREAD COUNT 10 STREAMS chat 7-0' \
	    'XLEN chat'
	[ "$PROBE_RC" -eq 0 ]
	probe_said '"5-1"' '"5-2"' '"7-0"' \
	    '-ERR The ID specified in XADD is equal or smaller than the target stream top item' \
	    '[["chat",[["5-2",["from","bob","text","hi there"]],["7-0",["from","ann","text","bye"]]]]]' \
	    '[["chat",[["5-1",["from","ann","text","hello"]]]]]' \
	    'nil' ':3'
}

@test "XADD with MAXLEN ~ trims the stream, never below the length asked" {
	redis_start --stream-node-max-entries 10
	local cmds=() i
	for ((i = 1; i <= 60; i++)); do
		cmds+=("XADD chat MAXLEN ~ 20 * n $i")
	done
	probe "$REDIS_URL" "${cmds[@]}" 'XLEN chat'
	[ "$PROBE_RC" -eq 0 ]
	[ "${#PROBE_OUT[@]}" -eq 61 ]
	local len=${PROBE_OUT[60]#:}
	echo "XLEN after 60 XADD MAXLEN ~ 20: $len" >&2
	[ "$len" -ge 20 ] && [ "$len" -lt 60 ]
}

@test "XREAD BLOCK with a timeout and nothing new gives nil, after the timeout" {
	redis_start
	local t0 t1
	t0=${EPOCHREALTIME/./}
	probe "$REDIS_URL" 'XADD chat 1-0 a b' 'XREAD BLOCK 300 STREAMS chat $'
	t1=${EPOCHREALTIME/./}
	[ "$PROBE_RC" -eq 0 ]
	probe_said '"1-0"' 'nil'
	(((t1 - t0) / 1000 >= 300))
}

@test "a pipeline of 100 commands, read one byte per read, replies in order" {
	redis_start
	local cmds=() want=() i
	for ((i = 1; i <= 100; i++)); do
		cmds+=('INCR counter')
		want+=(":$i")
	done
	probe -b 1 "$REDIS_URL" "${cmds[@]}"
	[ "$PROBE_RC" -eq 0 ]
	probe_said "${want[@]}"
	# and whole, many replies per read
	probe "$REDIS_URL" "${cmds[@]}"
	[ "$PROBE_RC" -eq 0 ]
	[ "${#PROBE_OUT[@]}" -eq 100 ]
	[ "${PROBE_OUT[0]}" = :101 ] && [ "${PROBE_OUT[99]}" = :200 ]
}

@test "a unix socket" {
	redis_start_unix
	probe "unix:$REDIS_SOCK" PING 'SET k v' 'GET k'
	[ "$PROBE_RC" -eq 0 ]
	probe_said '+PONG' '+OK' '"v"'
}

@test "a closed port or a missing socket: the connect fails cleanly" {
	redis_start
	redis_stop		# nobody listens on the port now
	probe "$REDIS_URL" PING
	[ "$PROBE_RC" -eq 1 ]
	probe_said 'resp-probe: connect: Connection refused'
	probe "unix:$BATS_TEST_TMPDIR/none.sock" PING
	[ "$PROBE_RC" -eq 1 ]
	probe_said 'resp-probe: connect: No such file or directory'
	probe redis://redis.example.com:6379 PING
	[ "$PROBE_RC" -eq 2 ]
}

@test "RESP3 (after HELLO 3) is refused as a protocol error, not misread" {
	redis_start
	probe "$REDIS_URL" PING 'HELLO 3'
	[ "$PROBE_RC" -eq 4 ]
	probe_said '+PONG' 'resp-probe: reading replies: Protocol error'
}
