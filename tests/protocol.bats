#!/usr/bin/env bats
# shellcheck shell=bash
# protocol: the chat wire protocol as a telnet/nc user sees it -- the
# greeting, broadcast without echo, line endings, global order, flood
# control, slow readers, long lines, control characters, telnet IAC,
# UTF-8, max_clients and end of session.  Real binary, real sockets.

load lib

teardown() { fc_cleanup; }	# and the background helpers (BG_PID)

# At least N lines of FILE match the extended regex RE.
count_at_least() {
	local file=$1 re=$2 n=$3
	[ "$(grep -cE -- "$re" "$file")" -ge "$n" ]
}

@test "greeting names the nick and #id and mentions /help; ids count up" {
	fc_start
	fc_connect_raw a
	fc_next a '^\*\*\* '
	[[ $FC_LINE =~ guest1([^0-9]|$) ]]
	[[ $FC_LINE =~ \#1([^0-9]|$) ]]
	[[ $FC_LINE == */help* ]]
	fc_connect_raw b
	fc_next b '^\*\*\* '
	[[ $FC_LINE =~ guest2([^0-9]|$) ]]
	[[ $FC_LINE =~ \#2([^0-9]|$) ]]
	[[ $FC_LINE == */help* ]]
	fc_next_is a '*** guest2 joined'
	fc_close b
	fc_next_is a '*** guest2 left (connection closed)'
	# ids are never reused while the master runs
	fc_connect_raw c
	fc_next c '^\*\*\* .*guest3.*#3([^0-9]|$)'
	fc_next_is a '*** guest3 joined'
	fc_stop_clean
}

@test "the server sends CRLF line endings" {
	local raw
	fc_start
	fc_connect a
	fc_connect b
	IFS= read -r -t 5 -u "${FC_FD[a]}" raw
	[ "$raw" = $'*** guest2 joined\r' ] || {
		printf 'got %q\n' "$raw" >&2
		false
	}
	# chat lines too, to the byte, whatever ending the sender used
	fc_send_raw b 'hi\n'
	next_bytes_are a $'<guest2> hi\r\n'
	fc_send_raw b 'ho\r\n'
	next_bytes_are a $'<guest2> ho\r\n'
	fc_stop_clean
}

@test "broadcast among 5 clients reaches every other client, no echo" {
	local i j
	fc_start
	for i in 1 2 3 4 5; do
		fc_connect "c$i"
	done
	for i in 1 2 3 4; do
		fc_joined "c$i" guest5
	done
	for i in 1 2 3 4 5; do
		fc_send "c$i" "hello from $i"
		for j in 1 2 3 4 5; do
			((i == j)) && continue
			fc_next_is "c$j" "<guest$i> hello from $i"
		done
	done
	# nobody got an echo of their own line (nor anything else)
	fc_quiet_all c1 guest1 c2 c3 c4 c5
	fc_quiet_all c2 guest2 c1 c3 c4 c5
	fc_stop_clean
}

@test "//text relays /text; empty lines are ignored" {
	fc_start
	fc_connect a
	fc_connect b
	fc_joined a guest2
	fc_send a "//help me" "//"
	fc_next_is b '<guest1> /help me'
	fc_next_is b '<guest1> /'
	fc_send_raw a '\r\n\n\r\n\r\n'
	fc_send a "after the empty lines"
	fc_next_is b '<guest1> after the empty lines'
	# a got no /help output and no echo
	fc_quiet_all b guest2 a
	fc_stop_clean
}

@test "CRLF and bare LF both end a line" {
	fc_start
	fc_connect a
	fc_connect b
	fc_joined a guest2
	fc_send_raw a 'with crlf\r\n'
	fc_next_is b '<guest1> with crlf'
	fc_send_raw a 'bare lf\n'
	fc_next_is b '<guest1> bare lf'
	fc_send_raw a 'one\ntwo\r\nthree\n'
	fc_next_is b '<guest1> one'
	fc_next_is b '<guest1> two'
	fc_next_is b '<guest1> three'
	# a command ended by a bare LF works too
	fc_send_raw a '/nick lfer\n'
	fc_next_is a '*** guest1 is now known as lfer'
	fc_next_is b '*** guest1 is now known as lfer'
	fc_stop_clean
}

@test "global order: 4 clients x 25 lines at once, nothing lost" {
	local s r r2 k i
	local -A nick=([a]=guest1 [b]=guest2 [c]=guest3 [d]=guest4)
	local -A letter=([guest1]=a [guest2]=b [guest3]=c [guest4]=d)
	local -a lines
	fc_start -o flood_rate=0
	for s in a b c d; do
		fc_connect "$s"
	done
	for s in a b c; do
		fc_joined "$s" guest4
	done
	# each client's 25 lines go in one write, all four at once
	for s in a b c d; do
		lines=()
		for i in $(seq -w 1 25); do
			lines+=("$s-$i")
		done
		fc_send "$s" "${lines[@]}"
	done
	for r in a b c d; do
		: >"$BATS_TEST_TMPDIR/$r.seq"
		for k in $(seq 1 75); do
			fc_read "$r" || {
				echo "receiver $r: only $((k - 1)) of 75 lines" >&2
				false
			}
			[[ $FC_LINE =~ ^\<(guest[1-4])\>\ ([a-d])-([0-9]{2})$ ]] || {
				printf 'receiver %s: unexpected %q\n' "$r" "$FC_LINE" >&2
				false
			}
			# the nick in front is the sender's
			[ "${letter[${BASH_REMATCH[1]}]}" = "${BASH_REMATCH[2]}" ]
			echo "${BASH_REMATCH[2]}-${BASH_REMATCH[3]}" \
			    >>"$BATS_TEST_TMPDIR/$r.seq"
		done
	done
	for r in a b c d; do
		# no echo of its own lines
		[ "$(grep -c "^$r-" "$BATS_TEST_TMPDIR/$r.seq")" -eq 0 ]
		# every other sender's 25 lines, complete and in their order
		for s in a b c d; do
			[ "$s" = "$r" ] && continue
			diff <(grep "^$s-" "$BATS_TEST_TMPDIR/$r.seq") \
			    <(for i in $(seq -w 1 25); do echo "$s-$i"; done)
		done
	done
	# any two receivers saw the lines they both got in the same order
	for r in a b c d; do
		for r2 in a b c d; do
			[[ $r < $r2 ]] || continue
			diff <(grep -v -e "^$r-" -e "^$r2-" "$BATS_TEST_TMPDIR/$r.seq") \
			    <(grep -v -e "^$r-" -e "^$r2-" "$BATS_TEST_TMPDIR/$r2.seq")
		done
	done
	# and nothing else is pending for anyone
	fc_quiet_all a "${nick[a]}" b c d
	fc_quiet_all b "${nick[b]}" a
	fc_stop_clean
}

@test "300 clients, 200 lines one write each: every line to everyone, in order, the last one too" {
	local n=300 nlines=200 i
	fc_start -o flood_rate=0 -o spare_workers=4
	for ((i = 1; i <= n; i++)); do
		fc_connect "c$i"
	done
	fc_joined c2 "guest$n"
	# One write(2) per line.  With 300 clients each fan-out holds the
	# next one back for a moment: the last lines wait for a deadline,
	# with nothing else coming to wake the master.
	for ((i = 1; i <= nlines; i++)); do
		printf 'line %d\r\n' "$i" >&"${FC_FD[c1]}"
	done
	for ((i = 1; i <= nlines; i++)); do
		fc_next_is c2 "<guest1> line $i"
	done
	fc_expect "c$n" "^<guest1> line $nlines\$"
	fc_quiet c2 c3
	fc_stop_clean
}

@test "flood control throttles a burst of 60 lines but loses nothing" {
	local i lines=() t0 t1 first=0 last=0 got=0 other_at=0
	fc_start -o flood_rate=20 -o flood_burst=5
	fc_connect a
	fc_connect b
	fc_connect c
	fc_joined a guest3
	fc_joined b guest3
	for i in $(seq -w 1 60); do
		lines+=("flood-$i")
	done
	t0=${EPOCHREALTIME/./}
	fc_send b "${lines[@]}"		# one write of 60 lines
	fc_send c "while b is throttled"	# c has its own budget
	i=1
	while ((got < 61)); do
		fc_read a || {
			echo "a: only $got of 61 lines came" >&2
			false
		}
		got=$((got + 1))
		if [ "$FC_LINE" = "<guest3> while b is throttled" ]; then
			other_at=$got
			continue
		fi
		[ "$FC_LINE" = "<guest2> flood-$(printf '%02d' "$i")" ] || {
			printf 'a: got %q, wanted flood-%02d\n' "$FC_LINE" "$i" >&2
			false
		}
		((i == 1)) && first=${EPOCHREALTIME/./}
		i=$((i + 1))
	done
	last=${EPOCHREALTIME/./}
	t1=$(((last - t0) / 1000))
	echo "# 60 lines took ${t1} ms; the first after $(((first - t0) / 1000)) ms," \
	    "c's line was #$other_at" >&3
	# 5 at once, then 55 at 20/s: about 2.75 s; never much faster
	((t1 >= 2000))
	((t1 < 15000))
	# the burst went out at once
	(((first - t0) / 1000 < 1500))
	# another client was not held up behind b's flood
	((other_at > 0 && other_at < 61))
	# b is told it is slowed, once; c's line may come before or after
	fc_read b && first=$FC_LINE
	fc_read b && last=$FC_LINE
	[ "$(printf '%s\n' "$first" "$last" | sort)" = "$(printf '%s\n' \
	    '*** slow down: more than 5 lines at once; the rest are read at 20 a second, and none is lost' \
	    '<guest3> while b is throttled' | sort)" ]
	fc_quiet_all c guest3 a b
	fc_stop_clean
}

@test "a client that never reads is dropped as too slow; others go on" {
	local per=50 max=80 k extra=0 sent=0 line chunk bpid
	local out=$BATS_TEST_TMPDIR/c.out left
	left='^\*\*\* guest2 left \(too slow: [0-9]+ bytes unread\)'
	fc_start -o max_output_queue=64k -o flood_rate=0
	fc_connect a		# floods
	fc_connect b		# never reads
	fc_connect c		# reads everything
	fc_joined a guest3
	fc_joined b guest3
	bpid=$(fc_worker_pid 2)
	[ -n "$bpid" ]
	capture c "$out"
	# 2000-byte lines, 50 (100 kB) to a write.  Each write waits until c
	# has all of the previous one, so c (whose limit is 64k too) is never
	# the slow one; b never reads, so b's socket buffers fill and then its
	# 64k queue.  Up to 80 writes (8 MB); two more once b is gone.
	printf -v line '%2000s' ''
	line=${line// /x}
	for ((k = 0; k < per; k++)); do
		chunk+=$line$'\n'
	done
	printf '%s' "$chunk" >"$BATS_TEST_TMPDIR/chunk"
	for ((k = 1; k <= max && extra < 2; k++)); do
		timeout 10 cat "$BATS_TEST_TMPDIR/chunk" >&"${FC_FD[a]}"
		sent=$((sent + per))
		# "<guest1> " + 2000 + CRLF = 2011 bytes a line
		wait_until 10 size_at_least "$out" $((sent * 2011)) || {
			echo "c has $(stat -c %s "$out") bytes after $sent lines" >&2
			grep -vE 'debug|(forked|reaped)' "$FC_LOG" >&2
			false
		}
		grep -qE "$left" "$out" && extra=$((extra + 1))
		# The worker's BYE must survive an EPIPE race: never "closed".
		! fc_log_has 'client #2 \(guest2\) from .* left: connection closed$' || false
	done
	((extra == 2)) || {
		echo "b not dropped after $sent lines" >&2
		ss -tnmi "( sport = :$FC_PORT or dport = :$FC_PORT )" >&2
		grep -vE 'debug|(forked|reaped)' "$FC_LOG" >&2
		false
	}
	# c got every line whole, and the notice
	[ "$(grep -c "^<guest1> x\{2000\}"$'\r'"\$" "$out")" -eq "$sent" ]
	[ "$(grep -cE "$left"$'\r'"\$" "$out")" -eq 1 ]
	# b's worker is gone and b's connection was closed
	wait_until 10 fc_all_gone "$bpid"
	fc_drain_eof b
	fc_expect a "$left\$"
	# the chat carries on
	fc_send a "after the flood"
	wait_until 5 count_at_least "$out" '^<guest1> after the flood' 1
	fc_log_has 'client #2 \(guest2\) from .* left: too slow: [0-9]+ bytes unread$'
	fc_stop_clean
}

@test "a burst of 4 MB from one client is relayed in full" {
	local n=2000 line out=$BATS_TEST_TMPDIR/c.out
	# a big queue limit: c may lag as it likes, nobody is too slow here
	fc_start -o flood_rate=0 -o max_output_queue=16m
	fc_connect a
	fc_connect c
	fc_joined a guest2
	capture c "$out"
	printf -v line '%2000s' ''
	line=${line// /x}
	yes "$line" | head -n "$n" >"$BATS_TEST_TMPDIR/flood"
	timeout 20 cat "$BATS_TEST_TMPDIR/flood" >&"${FC_FD[a]}" &
	BG_PID["writer"]=$!
	wait_until 20 size_at_least "$out" $((n * 2011)) || {
		echo "c got $(grep -c '^<guest1> x' "$out") of $n lines" >&2
		false
	}
	wait "${BG_PID["writer"]}"
	unset 'BG_PID[writer]'
	[ "$(grep -c "^<guest1> x\{2000\}"$'\r'"\$" "$out")" -eq "$n" ]
	[ "$(stat -c %s "$out")" -eq $((n * 2011)) ]
	fc_stop_clean
}

@test "max_line: a long line is refused and discarded, the next one works" {
	local long exact over
	fc_start -o max_line=100
	fc_connect a
	fc_connect b
	fc_joined a guest2
	printf -v long '%150s' ''
	fc_send a "${long// /y}"
	fc_next_is a 'ERR line too long (max 100 bytes); none of it was sent'
	fc_send a "next"
	fc_next_is b '<guest1> next'
	# exactly max_line bytes is fine
	printf -v exact '%100s' ''
	exact=${exact// /z}
	fc_send a "$exact"
	fc_next_is b "<guest1> $exact"
	# one byte more is not
	printf -v over '%101s' ''
	fc_send a "${over// /w}"
	fc_next_is a 'ERR line too long (max 100 bytes); none of it was sent'
	# a very long line, in pieces, still gets one ERR only
	printf -v long '%5000s' ''
	fc_send_raw a '%s' "${long// /v}"
	fc_send_raw a '%s\r\n' "${long// /v}"
	fc_next_is a 'ERR line too long (max 100 bytes); none of it was sent'
	fc_quiet_all b guest2 a
	fc_quiet_all a guest1 b
	fc_stop_clean
}

@test "control characters are stripped from relayed text, TAB is kept" {
	fc_start
	fc_connect a
	fc_connect b
	fc_joined a guest2
	fc_send_raw a 'red \033[31malert\033[0m\r\n'
	fc_next_is b '<guest1> red [31malert[0m'
	# NUL bytes: checked on the raw bytes (bash's read drops NULs)
	fc_send_raw a 'n\0u\0l\r\n'
	next_bytes_are b $'<guest1> nul\r\n'
	fc_send_raw a 'b\007e\007l\r\n'
	fc_next_is b '<guest1> bel'
	fc_send_raw a 'd\177e\177l\r\n'
	fc_next_is b '<guest1> del'
	fc_send_raw a 'tab\there\r\n'
	fc_next_is b $'<guest1> tab\there'
	fc_send_raw a 'b\bs\r\n'
	fc_next_is b '<guest1> bs'
	# C1 controls (U+0080..U+009F) too
	fc_send_raw a 'c1\xc2\x85\xc2\x9bx\r\n'
	fc_next_is b '<guest1> c1x'
	# a line of nothing but controls is an empty line: ignored
	fc_send_raw a '\007\033\177\r\n'
	fc_send a "after"
	fc_next_is b '<guest1> after'
	fc_stop_clean
}

@test "telnet IAC sequences are consumed, never relayed" {
	fc_start
	fc_connect a
	fc_connect b
	fc_joined a guest2
	fc_send_raw a '\xff\xfb\x01hi\xff\xfd\x03\r\n'
	fc_next_is b '<guest1> hi'
	# subnegotiation IAC SB ... IAC SE, with IAC IAC inside
	fc_send_raw a '\xff\xfa\x18\x00xterm\xff\xff\xff\xf0ok\r\n'
	fc_next_is b '<guest1> ok'
	# a sequence split over two writes
	fc_send_raw a 'sp\xff'
	fc_send_raw a '\xfd\x01lit\r\n'
	fc_next_is b '<guest1> split'
	# IAC NOP, IAC GA; IAC IAC is a data byte 0xFF, not valid UTF-8
	fc_send_raw a 'a\xff\xf1b\xff\xf9c\xff\xffd\r\n'
	fc_next_is b '<guest1> abcd'
	fc_stop_clean
}

@test "valid UTF-8 is kept, invalid UTF-8 is dropped" {
	fc_start
	fc_connect a
	fc_connect b
	fc_joined a guest2
	fc_send_raw a 'caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\r\n'
	fc_next_is b $'<guest1> caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80'
	# stray continuation, overlong, 0xFE, truncated, surrogate, > U+10FFFF
	fc_send_raw a 'a\x80b\xc0\xafc\xfed\xe2\x82e\xed\xa0\x80f\xf4\x90\x80\x80g\r\n'
	fc_next_is b '<guest1> abcdefg'
	# a sequence cut by the end of the line
	fc_send_raw a 'cut\xc3\r\n'
	fc_next_is b '<guest1> cut'
	fc_stop_clean
}

@test "max_clients: the next connection gets ERR server full, then room again" {
	fc_start -o max_clients=2
	fc_connect a
	fc_connect b
	fc_joined a guest2
	fc_connect_raw c
	fc_next_is c 'ERR server full (2 clients); try again later'
	fc_eof c || false	# lib: fc_eof needs errexit off
	fc_close c
	# the others noticed nothing
	fc_quiet_all a guest1 b
	fc_quiet_all b guest2 a
	fc_send b "/quit"
	fc_expect b '^\*\*\* goodbye$'
	fc_next_is a '*** guest2 left (quit)'
	fc_connect d
	[[ $FC_LINE =~ guest([0-9]+) ]]
	fc_next_is a "*** guest${BASH_REMATCH[1]} joined"
	fc_stop TERM
	[ "$FC_STATUS" -eq 0 ]
	# the one warning is the refusal
	[ "$(grep -cE ' (warning|error) \[' "$FC_LOG")" -eq 1 ]
	fc_log_has ' warning \[[0-9]+\] refused connection from 127\.0\.0\.1:[0-9]+: server full \(2 clients\); try again later$'
}

@test "the peer gets EOF after /quit; a closed client is told to the others" {
	fc_start
	fc_connect a
	fc_connect b
	fc_connect c
	fc_joined a guest3
	fc_joined b guest3
	fc_send a "/quit"
	fc_next_is a '*** goodbye'
	fc_eof a || false	# lib: fc_eof needs errexit off
	fc_next_is b '*** guest1 left (quit)'
	fc_next_is c '*** guest1 left (quit)'
	fc_close c
	fc_next_is b '*** guest3 left (connection closed)'
	fc_stop_clean
}

# The nicks the joined lines NAME was sent name, in order, one a line,
# until the marker line from OTHER (nick ONICK) comes.
joins_seen() {
	local name=$1 other=$2 onick=$3 marker="marker-$RANDOM" n=0 list
	fc_send "$other" "$marker"
	while ((n++ < 200)) && fc_read "$name"; do
		[ "$FC_LINE" = "<$onick> $marker" ] && return 0
		[[ $FC_LINE =~ ^\*\*\*\ (.*)\ joined$ ]] || continue
		list=${BASH_REMATCH[1]//, /$'\n'}
		printf '%s\n' "${list// and /$'\n'}"
	done
	return 1
}

@test "a burst of joins: everyone hears of every newcomer once, each newcomer of those after it" {
	local i n=20 lines expect got
	fc_start -o spare_workers=30
	fc_connect a
	wait_until 10 fc_pool 30 1
	# 20 connections at once: most join in one turn of the master.
	for ((i = 2; i <= n + 1; i++)); do
		fc_connect_raw "c$i"
	done
	for ((i = 2; i <= n + 1; i++)); do
		fc_expect "c$i" "^\\*\\*\\* welcome to forkchat, guest$i!"
	done
	expect=$(seq 2 $((n + 1)) | sed 's/^/guest/')
	got=$(joins_seen a c2 guest2)
	[ "$got" = "$expect" ]
	lines=$(grep -c . <<<"$got")
	# Newcomer guest5 hears of guest6 .. guest21, not of itself or before.
	got=$(joins_seen c5 c2 guest2)
	[ "$got" = "$(seq 6 $((n + 1)) | sed 's/^/guest/')" ]
	got=$(joins_seen "c$((n + 1))" c2 guest2)
	[ -z "$got" ]
	echo "# $lines nicks told to an old client" >&3
	fc_stop_clean
}
