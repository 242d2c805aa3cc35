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
load redis

ROOT=$BATS_TEST_DIRNAME/..
PROBE=${FC_TOOLS:-$ROOT/build/tools}/resp-probe

setup() {
	redis_need || return 1
	[ -x "$PROBE" ] || {
		echo "no $PROBE: run make build/tools/resp-probe" >&2
		return 1
	}
}

teardown() {
	redis_stop
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
