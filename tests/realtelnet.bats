#!/usr/bin/env bats
# shellcheck shell=bash
# realtelnet: Debian's telnet itself (inetutils), run under a terminal
# in tmux, typed into as a person would: UTF-8 lines in Cyrillic and CJK
# arrive intact at another client, and after Ctrl-C and Ctrl-O the telnet
# window still shows other people's lines.  Every wait is bounded.

load lib

TMUX_SOCK=

teardown() {
	[ -n "$TMUX_SOCK" ] && tmux -S "$TMUX_SOCK" kill-server 2>/dev/null
	TMUX_SOCK=
	fc_cleanup
}

# Run telnet to the server in a 120x40 terminal of a tmux of our own.
telnet_start() {
	TMUX_SOCK=$BATS_TEST_TMPDIR/tmux
	# remain-on-exit: the window stays when telnet has gone, to be read
	LANG=C.UTF-8 LC_ALL=C.UTF-8 TERM=xterm tmux -S "$TMUX_SOCK" -u \
	    new-session -d -x 120 -y 40 -s tel "telnet 127.0.0.1 $FC_PORT" \; \
	    set-option -t tel remain-on-exit on
	wait_until 5 pane_has '*** welcome to forkchat, guest2!'
}

# What the telnet window shows now, one line per screen line.
pane() { tmux -S "$TMUX_SOCK" capture-pane -p -t tel; }

# The window shows a line holding TEXT.
pane_has() { pane | grep -qF -- "$1"; }

# The window shows a line that is exactly TEXT, from its first column.
pane_line() { pane | grep -qxF -- "$1"; }

# Type TEXT into telnet, then Enter.
type_line() {
	tmux -S "$TMUX_SOCK" send-keys -t tel -l -- "$1"
	tmux -S "$TMUX_SOCK" send-keys -t tel Enter
}

# Press a key (C-c, C-o) in telnet.
press() { tmux -S "$TMUX_SOCK" send-keys -t tel "$1"; }

@test "telnet: Cyrillic and CJK lines typed in telnet arrive intact" {
	command -v telnet >/dev/null || skip "no telnet (scripts/deps test)"
	fc_start
	fc_connect b
	telnet_start
	fc_next_is b '*** guest2 joined'
	type_line 'у'
	fc_next_is b '<guest2> у'
	type_line 'привет'
	fc_next_is b '<guest2> привет'
	type_line '日本語'
	fc_next_is b '<guest2> 日本語'
	type_line '喝'
	fc_next_is b '<guest2> 喝'
	# and what others say in UTF-8 shows, each line from the first column
	fc_send b 'привет, 日本'
	wait_until 5 pane_line '<guest1> привет, 日本'
	fc_stop_clean
}

@test "telnet: after Ctrl-C and Ctrl-O the window still shows other people's lines" {
	command -v telnet >/dev/null || skip "no telnet (scripts/deps test)"
	fc_start
	fc_connect b
	telnet_start
	fc_next_is b '*** guest2 joined'
	# (the terminal shows ^C or ^O where the cursor was, before the line)
	# Telnet itself throws away what comes between the key and the
	# server's answer to its DO TIMING-MARK: that is what the key asks.
	# An answer to a line typed after it proves the answer came.
	press C-c
	type_line '/who'
	wait_until 5 pane_line '*** end of /who (2 clients)'
	fc_send b 'after ctrl-c'
	wait_until 5 pane_has '<guest1> after ctrl-c'
	press C-o
	type_line '/stats'
	wait_until 5 pane_line '*** end of /stats'
	fc_send b 'after ctrl-o'
	wait_until 5 pane_has '<guest1> after ctrl-o'
	type_line 'still here'
	fc_next_is b '<guest2> still here'
	# Ctrl-C with a half-typed line: the line is dropped, the session goes on
	tmux -S "$TMUX_SOCK" send-keys -t tel -l -- 'never sent'
	press C-c
	type_line 'sent'
	fc_next_is b '<guest2> sent'
	fc_stop_clean
}

@test "telnet: /quit shows the answers, then goodbye, then telnet's own closing line" {
	command -v telnet >/dev/null || skip "no telnet (scripts/deps test)"
	fc_start
	fc_connect b
	telnet_start
	fc_next_is b '*** guest2 joined'
	type_line '/who'
	type_line '/quit'
	wait_until 5 pane_has 'Connection closed by foreign host.'
	pane_line '*** end of /who (2 clients)'
	pane_line '*** goodbye'
	fc_next_is b '*** guest2 left (quit)'
	fc_stop_clean
}
