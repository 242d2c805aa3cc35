#!/usr/bin/env bats
# shellcheck shell=bash
# telnet: what a telnet client meets, byte for byte, with and without
# telnet_negotiation -- the question at connect, binary mode, TIMING-MARK
# (Ctrl-C, Ctrl-O), AYT, IP, AO, BRK, the four line endings, and what a
# raw client (nc, a script) is sent.  The exact sequences Debian's telnet
# sends are played by a scripted peer over bash's /dev/tcp; the real
# telnet binary is driven in tmux by tests/realtelnet.bats.

load lib

teardown() { fc_cleanup; }

IAC_DO_TM=$'\xff\xfd\x06'
IAC_WILL_TM=$'\xff\xfb\x06'
AYT_ANSWER=$'*** yes, forkchat is here\r\n'

# The next bytes NAME receives, as hex, must be HEX.
next_hex_is() {
	local got
	got=$(next_hex "$1" $((${#2} / 2)))
	[ "$got" = "$2" ] || {
		echo "next_hex_is $1: got $got, wanted $2" >&2
		return 1
	}
}

@test "telnet_negotiation on: IAC DO TIMING-MARK and a CR before the greeting" {
	fc_start
	fc_connect_raw a
	next_bytes_are a "$IAC_DO_TM"$'\r*** welcome to forkchat, guest1!'
	fc_next a ' You are client #1\. Type /help for commands\.$'
	fc_stop_clean
}

@test "a telnet client's answer gets IAC DO BINARY, once; its WILL BINARY is not answered" {
	fc_start
	fc_connect a
	fc_send_raw a "$IAC_WILL_TM"
	next_hex_is a fffd00
	fc_send_raw a '\xff\xfb\x00'		# WILL BINARY: the answer
	# AYT's answer comes next, so nothing came in between
	fc_send_raw a '\xff\xf6'
	next_bytes_are a "$AYT_ANSWER"
	fc_send_raw a "$IAC_WILL_TM"		# unasked for: refused
	next_hex_is a fffe06
	fc_stop_clean
}

@test "Ctrl-C as telnet sends it (d1 IAC IP IAC DO TIMING-MARK) is answered; the session goes on" {
	fc_start
	fc_connect a
	fc_connect b
	fc_joined a guest2
	# the first telnet command also shows a telnet client: the offer first
	fc_send_raw a '\xd1\xff\xf4\xff\xfd\x06'
	next_hex_is a fffd00fffb06
	fc_send_raw a 'still here\r\n'
	fc_next_is b '<guest1> still here'
	fc_send b "and you see me"
	fc_next_is a '<guest2> and you see me'
	fc_stop_clean
}

@test "IAC IP, AO, BRK end nothing; AYT gets a short answer; every DO TIMING-MARK is answered" {
	fc_start
	fc_connect a
	fc_connect b
	fc_joined a guest2
	fc_send_raw a '\xff\xfb\x06\xff\xfb\x00'	# a telnet client, in binary
	next_hex_is a fffd00
	fc_send_raw a 'one\xff\xf4 two\xff\xf5 three\xff\xf3 four\r\n'
	fc_next_is b '<guest1> one two three four'
	fc_send_raw a '\xff\xf5\xff\xfd\x06'		# Ctrl-O: AO, DO TM
	next_hex_is a fffb06
	fc_send_raw a '\xff\xf4\xff\xfd\x06'		# Ctrl-C: IP, DO TM
	next_hex_is a fffb06
	fc_send_raw a '\xff\xf6'
	next_bytes_are a "$AYT_ANSWER"
	fc_send a '/who'
	fc_expect a '^\*\*\* end of /who \(2 clients\)$'
	fc_stop_clean
}

@test "binary mode the client asks for is agreed, once each way; other options are refused" {
	fc_start -o telnet_negotiation=off
	fc_connect a
	fc_send_raw a '\xff\xfd\x00'			# DO BINARY
	next_hex_is a fffb00
	fc_send_raw a '\xff\xfd\x00\xff\xfb\x00'	# again; WILL BINARY
	next_hex_is a fffd00
	fc_send_raw a '\xff\xfe\x00\xff\xfc\x00'	# DONT, WONT
	next_hex_is a fffc00fffe00
	fc_send_raw a '\xff\xfd\x01\xff\xfb\x1f\xff\xfe\x01\xff\xfc\x1f'
	next_hex_is a fffc01fffe1f
	fc_send_raw a '\xff\xf6'
	next_bytes_are a "$AYT_ANSWER"
	fc_stop_clean
}

@test "UTF-8 typed in binary mode arrives intact; the bytes telnet mangled it into before do not end the line" {
	fc_start
	fc_connect a
	fc_connect b
	fc_joined a guest2
	fc_send_raw a '\xff\xfb\x06\xff\xfb\x00'
	next_hex_is a fffd00
	fc_send_raw a '\xd1\x83\n\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82\n'
	fc_next_is b '<guest1> у'
	fc_next_is b '<guest1> привет'
	fc_send_raw a '\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\n\xe5\x96\x9d\n'
	fc_next_is b '<guest1> 日本語'
	fc_next_is b '<guest1> 喝'
	# what telnet sent for 日本語 before binary mode: e6 IAC BRK in 本
	fc_send_raw a '\xe6\x97\xa5\xe6\xff\xf3\xe8\xaa\x9e\n'
	fc_next_is b '<guest1> 日語'
	fc_stop_clean
}

@test "a lone CR, CR LF, CR NUL and LF each end one line" {
	fc_start
	fc_connect a
	fc_connect b
	fc_joined a guest2
	fc_send_raw a 'one\rtwo\r\nthree\r\0four\nfive\r'
	fc_next_is b '<guest1> one'
	fc_next_is b '<guest1> two'
	fc_next_is b '<guest1> three'
	fc_next_is b '<guest1> four'
	fc_next_is b '<guest1> five'
	# the LF of a CR LF split over two writes is not an empty line
	fc_send_raw a '\nsix\r'
	fc_send_raw a '\n'
	fc_send a seven
	fc_next_is b '<guest1> six'
	fc_next_is b '<guest1> seven'
	fc_stop_clean
}

@test "telnet_negotiation off: a raw client is sent no telnet byte; commands it sends are answered" {
	fc_start -o telnet_negotiation=off
	fc_connect_raw a
	next_bytes_are a '*** welcome to forkchat, guest1!'
	fc_next a ' Type /help for commands\.$'
	fc_send a '/help'
	fc_expect a '^\*\*\* end of /help$'
	fc_send_raw a '\xd1\xff\xf4\xff\xfd\x06'	# no offer, the answer
	next_hex_is a fffb06
	fc_send_raw a '\xff\xf6'
	next_bytes_are a "$AYT_ANSWER"
	fc_stop_clean
}

@test "telnet_negotiation on: a raw client that sends text gets no telnet byte after the question" {
	local out=$BATS_TEST_TMPDIR/out
	fc_start
	fc_connect a
	printf 'hello\n/help\n/who\n/quit\n' |
	    timeout 5 nc -N 127.0.0.1 "$FC_PORT" > "$out"
	fc_expect a '^<guest2> hello$'
	# the question, and no other 0xFF byte
	[ "$(head -c 3 "$out" | od -An -tx1 | tr -d ' ')" = fffd06 ]
	[ "$(tail -c +4 "$out" | tr -cd '\377' | wc -c)" -eq 0 ]
	# a script that greps the output finds its lines
	[ "$(LC_ALL=C grep -c '^#[0-9]' "$out")" -eq 2 ]
	grep -q '^\*\*\* end of /who (2 clients)' "$out"
	fc_stop_clean
}

@test "telnet_negotiation is read at connect: a reload turns it off for later clients" {
	local conf=$BATS_TEST_TMPDIR/fc.conf
	echo 'telnet_negotiation = on' > "$conf"
	fc_start -c "$conf"
	fc_connect_raw a
	next_bytes_are a "$IAC_DO_TM"$'\r*** welcome'
	echo 'telnet_negotiation = off' > "$conf"
	kill -HUP "$FC_PID"
	wait_until 5 fc_log_has 'configuration reloaded'
	fc_connect_raw b
	next_bytes_are b '*** welcome'
	fc_stop_clean
}
