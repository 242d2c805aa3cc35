#!/usr/bin/env bats
# smoke: the server starts, greets, relays, and stops cleanly.

load lib

teardown() { fc_cleanup; }

@test "greeting, broadcast without echo, clean SIGTERM" {
	fc_start
	fc_connect a
	fc_connect b
	fc_joined a guest2
	fc_send a "hello"
	fc_next b '^<guest1> hello$'
	fc_quiet a b
	fc_stop TERM
	[ "$FC_STATUS" -eq 0 ]
	fc_clean_log
}
