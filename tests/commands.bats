#!/usr/bin/env bats
# shellcheck shell=bash
# commands: what a client can type after the slash -- /help, /nick, /who,
# /msg, /me, /quit, unknown commands, and command names in any case.
# Real binary, real sockets; every test stops its own server.

load lib

teardown() { fc_cleanup; }

# "127.0.0.1:PORT" of our end of client NAME's connection, from /proc.
local_addr() {
	local link inode hex
	link=$(readlink "/proc/$BASHPID/fd/${FC_FD[$1]}") || return 1
	inode=${link#socket:[}
	inode=${inode%]}
	hex=$(awk -v i="$inode" '$10 == i { print $2 }' /proc/net/tcp)
	[ -n "$hex" ] || return 1
	echo "127.0.0.1:$((16#${hex#*:}))"
}

@test "/help lists every command and ends with the end line" {
	local -a got=()
	local cmd n=0
	fc_start
	fc_connect a
	fc_send a "/help"
	while ((n++ < 50)); do
		fc_read a
		got+=("$FC_LINE")
		[ "$FC_LINE" = "*** end of /help" ] && break
	done
	[ "${got[-1]}" = "*** end of /help" ]
	printf '  %s\n' "${got[@]}" >&2
	for cmd in help nick who msg me quit; do
		printf '%s\n' "${got[@]}" | grep -qE "^/$cmd( |\$)" || {
			echo "/help does not list /$cmd" >&2
			false
		}
	done
	# each command line says what it is for
	printf '%s\n' "${got[@]}" | grep -qE '^/nick +NAME +change your nick'
	printf '%s\n' "${got[@]}" | grep -qE '^/msg +NICK\|#ID text +send text'
	# the hint about // is there, just before the end
	[[ ${got[-2]} == *//* ]]
	# /help is for the asker only; a second client saw none of it
	fc_connect b
	fc_joined a guest2
	fc_send b "/help"
	fc_expect b '^\*\*\* end of /help$'
	fc_quiet_all b guest2 a
	fc_stop_clean
}

@test "/help COMMAND gives its usage; an unknown one is an ERR" {
	fc_start
	fc_connect a
	fc_send a "/help nick"
	fc_next_is a 'usage: /nick NAME - change your nick (1-16 of A-Z a-z 0-9 _ -)'
	fc_send a "/help /msg"
	fc_next_is a 'usage: /msg NICK|#ID text - send text to one person only'
	fc_send a "/help quit"
	fc_next_is a 'usage: /quit [message] - leave the chat'
	fc_send a "/help who"
	fc_next_is a 'usage: /who - list everyone connected'
	fc_send a "/help nosuch"
	fc_next_is a 'ERR unknown command /nosuch; type /help for the list'
	fc_stop_clean
}

@test "/nick: everyone sees the change, the new nick is used after it" {
	fc_start
	fc_three_clients
	fc_send a "/nick alice"
	fc_next_is a '*** guest1 is now known as alice'
	fc_next_is b '*** guest1 is now known as alice'
	fc_next_is c '*** guest1 is now known as alice'
	fc_send a "hello"
	fc_next_is b '<alice> hello'
	fc_next_is c '<alice> hello'
	fc_send a "/me waves"
	fc_next_is b '* alice waves'
	fc_next_is c '* alice waves'
	# a nick may change case; allowed chars: A-Z a-z 0-9 _ -
	fc_send a "/nick Al_ice-9"
	fc_next_is a '*** alice is now known as Al_ice-9'
	fc_next_is b '*** alice is now known as Al_ice-9'
	fc_next_is c '*** alice is now known as Al_ice-9'
	fc_send b "/nick bob"
	fc_next_is a '*** guest2 is now known as bob'
	fc_next_is b '*** guest2 is now known as bob'
	fc_next_is c '*** guest2 is now known as bob'
	fc_send b "/nick BOB"
	fc_next_is a '*** bob is now known as BOB'
	fc_next_is b '*** bob is now known as BOB'
	fc_next_is c '*** bob is now known as BOB'
	# sixteen characters is the most
	fc_send c "/nick abcdefghijklmnop"
	fc_next_is a '*** guest3 is now known as abcdefghijklmnop'
	fc_next_is b '*** guest3 is now known as abcdefghijklmnop'
	fc_next_is c '*** guest3 is now known as abcdefghijklmnop'
	fc_quiet_all c abcdefghijklmnop a b
	fc_log_has 'client #1 \(guest1\) is now known as alice$'
	fc_log_has 'client #1 \(alice\) is now known as Al_ice-9$'
	fc_stop_clean
}

@test "/nick refuses bad, taken, reserved and current names" {
	local usage='ERR usage: /nick NAME - change your nick (1-16 of A-Z a-z 0-9 _ -)'
	fc_start
	fc_three_clients
	fc_send a "/nick alice"
	fc_next_is a '*** guest1 is now known as alice'
	fc_next_is b '*** guest1 is now known as alice'
	fc_next_is c '*** guest1 is now known as alice'
	fc_send b "/nick abcdefghijklmnopq"		# 17: too long
	fc_next_is b 'ERR nick too long: 17 characters, at most 16'
	fc_send b "/nick bad!name"
	fc_next_is b "ERR a nick cannot contain '!'; use A-Z a-z 0-9 _ -"
	fc_send b "/nick b.ob"
	fc_next_is b "ERR a nick cannot contain '.'; use A-Z a-z 0-9 _ -"
	fc_send b $'/nick caf\xc3\xa9'
	fc_next_is b $'ERR a nick cannot contain \'\xc3\xa9\'; use A-Z a-z 0-9 _ -'
	fc_send b $'/nick \xc3\xbcn\xc3\xaf'
	fc_next_is b $'ERR a nick cannot contain \'\xc3\xbc\'; use A-Z a-z 0-9 _ -'
	fc_send b $'/nick \xf0\x9f\x98\x80'
	fc_next_is b $'ERR a nick cannot contain \'\xf0\x9f\x98\x80\'; use A-Z a-z 0-9 _ -'
	fc_send b "/nick two words"
	fc_next_is b 'ERR a nick cannot contain blanks; use A-Z a-z 0-9 _ -'
	fc_send b "/nick"				# empty
	fc_next_is b "$usage"
	fc_send b "/nick    "
	fc_next_is b "$usage"
	# taken, in any case
	fc_send b "/nick alice"
	fc_next_is b 'ERR nick alice is already in use; pick another'
	fc_send b "/nick ALICE"
	fc_next_is b 'ERR nick ALICE is already in use; pick another'
	# guestN is reserved, whatever the case and whether in use or not
	fc_send b "/nick guest7"
	fc_next_is b 'ERR nick guest7 is reserved: guestN names are given out automatically'
	fc_send b "/nick Guest3"
	fc_next_is b 'ERR nick Guest3 is reserved: guestN names are given out automatically'
	# "guest" alone is not a guestN name
	fc_send c "/nick guest"
	fc_next_is a '*** guest3 is now known as guest'
	fc_next_is b '*** guest3 is now known as guest'
	fc_next_is c '*** guest3 is now known as guest'
	# the name one already has
	fc_send a "/nick alice"
	fc_next_is a '*** you are already known as alice'
	# b is still guest2, and nobody saw any of b's or a's failures
	fc_quiet_all b guest2 a c
	fc_quiet_all a alice b
	fc_stop_clean
}

@test "/who lists every client: id, nick, worker pid, peer, end line" {
	local -A seen_pid=() seen_nick=()
	local id nick pid peer n=0 name children comm
	fc_start
	fc_three_clients
	fc_send b "/nick bob"
	fc_expect a '^\*\*\* guest2 is now known as bob$'
	fc_expect b '^\*\*\* guest2 is now known as bob$'
	fc_expect c '^\*\*\* guest2 is now known as bob$'
	children=$(fc_children "$FC_PID")
	fc_send c "/who"
	while ((n++ < 10)); do
		fc_read c
		[[ $FC_LINE == '*** end of /who'* ]] && break
		[[ $FC_LINE =~ ^#([0-9]+)\ +([A-Za-z0-9_-]+)\ +pid\ ([0-9]+)\ +([0-9.]+:[0-9]+)\ +connected\ [0-9]+s\ +idle\ [0-9]+s\ +timeout\ none(\ \ \(you\))?$ ]] || {
			printf 'bad /who line %q\n' "$FC_LINE" >&2
			false
		}
		id=${BASH_REMATCH[1]} nick=${BASH_REMATCH[2]}
		pid=${BASH_REMATCH[3]} peer=${BASH_REMATCH[4]}
		# c, the asker, is marked, and only c
		if [ "$id" = 3 ]; then [ -n "${BASH_REMATCH[5]}" ]; else [ -z "${BASH_REMATCH[5]}" ]; fi
		seen_pid[$id]=$pid
		seen_nick[$id]=$nick
		# the worker is a live child of the master, named for its client
		grep -qx "$pid" <<<"$children"
		comm=$(cat "/proc/$pid/comm")
		[ "$comm" = "forkchatd #$id" ]
		# the peer is our end of that client's connection
		case $id in
		1) name=a ;;
		2) name=b ;;
		3) name=c ;;
		*) false ;;
		esac
		[ "$peer" = "$(local_addr "$name")" ]
		# and the log agrees about pid and peer
		fc_log_has "client #$id \(guest$id\) connected from $peer, worker $pid\$"
	done
	[ "$FC_LINE" = '*** end of /who (3 clients)' ]
	[ "${#seen_pid[@]}" -eq 3 ]
	[ "${seen_nick[1]}" = guest1 ]
	[ "${seen_nick[2]}" = bob ]
	[ "${seen_nick[3]}" = guest3 ]
	[ "${seen_pid[1]}" != "${seen_pid[2]}" ]
	[ "${seen_pid[2]}" != "${seen_pid[3]}" ]
	[ "${seen_pid[1]}" = "$(fc_worker_pid 1)" ]
	# only the asker got the list
	fc_quiet_all c guest3 a b
	# one client left: the count follows, singular
	# one at a time: two clients' requests have no order between them
	fc_send a "/quit"
	fc_expect c '^\*\*\* guest1 left \(quit\)$'
	fc_send b "/quit"
	fc_expect c '^\*\*\* bob left \(quit\)$'
	fc_send c "/who"
	fc_next c '^#3 +guest3 +pid '
	fc_next_is c '*** end of /who (1 client)'
	fc_stop_clean
}

@test "/msg by nick and by #id reaches the target only" {
	fc_start
	fc_three_clients
	fc_send a "/nick alice"
	fc_expect b '^\*\*\* guest1 is now known as alice$'
	fc_send b "/nick bob"
	fc_expect c '^\*\*\* guest2 is now known as bob$'
	fc_expect a '^\*\*\* guest2 is now known as bob$'
	fc_expect b '^\*\*\* guest2 is now known as bob$'
	fc_send a "/msg bob psst, only for you"
	fc_next_is b '*alice* psst, only for you'
	fc_send a "/msg #2 by id"
	fc_next_is b '*alice* by id'
	fc_send a "/msg BOB any case"
	fc_next_is b '*alice* any case'
	fc_send b "/msg #1   spaces   kept inside"
	fc_next_is a '*bob* spaces   kept inside'
	# c got none of it, nor did the senders get a copy
	fc_quiet_all b bob a c
	fc_quiet_all a alice b
	fc_stop_clean
}

@test "/msg to nobody, or without text, is an ERR for the sender only" {
	local usage='ERR usage: /msg NICK|#ID text - send text to one person only'
	fc_start
	fc_connect a
	fc_connect b
	fc_joined a guest2
	fc_send a "/msg nobody hello"
	fc_next_is a 'ERR no such client: nobody (see /who)'
	fc_send a "/msg #99 hello"
	fc_next_is a 'ERR no such client: #99 (see /who)'
	fc_send a "/msg #x hello"
	fc_next_is a 'ERR no such client: #x (see /who)'
	fc_send a "/msg guest2"
	fc_next_is a "$usage"
	fc_send a "/msg guest2    "
	fc_next_is a "$usage"
	fc_send a "/msg"
	fc_next_is a "$usage"
	fc_quiet_all a guest1 b
	fc_stop_clean
}

@test "/me shows an action to the others" {
	fc_start
	fc_three_clients
	fc_send a "/me waves at everyone"
	fc_next_is b '* guest1 waves at everyone'
	fc_next_is c '* guest1 waves at everyone'
	fc_send a "/me"
	fc_next_is a 'ERR usage: /me text - tell everyone what you are doing'
	# no echo of the action either
	fc_quiet_all b guest2 a c
	fc_stop_clean
}

@test "/quit: goodbye, EOF, the others told, the worker reaped" {
	local pid
	fc_start
	fc_three_clients
	pid=$(fc_worker_pid 1)
	[ -n "$pid" ]
	[ "$(cat "/proc/$pid/comm")" = "forkchatd #1" ]
	fc_send a "/quit"
	fc_next_is a '*** goodbye'
	fc_eof a || false	# lib: fc_eof fails under errexit by itself
	fc_next_is b '*** guest1 left (quit)'
	fc_next_is c '*** guest1 left (quit)'
	wait_until 5 fc_all_gone "$pid"
	wait_until 5 fc_no_zombies "$FC_PID"
	fc_log_has "client #1 \(guest1\) from 127\.0\.0\.1:[0-9]+ left: quit\$"
	fc_quiet_all b guest2 c
	fc_stop_clean
}

@test "/quit MESSAGE: the others see the message" {
	local pid
	fc_start
	fc_three_clients
	fc_send b "/nick bob"
	fc_expect a 'guest2 is now known as bob$'
	fc_expect b 'guest2 is now known as bob$'
	fc_expect c 'guest2 is now known as bob$'
	pid=$(fc_worker_pid 2)
	fc_send b "/quit see you   later  "
	fc_next_is b '*** goodbye'
	fc_eof b || false	# lib: fc_eof fails under errexit by itself
	fc_next_is a '*** bob left (see you   later)'
	fc_next_is c '*** bob left (see you   later)'
	wait_until 5 fc_all_gone "$pid"
	wait_until 5 fc_no_zombies "$FC_PID"
	fc_quiet_all a guest1 c
	fc_stop_clean
}

@test "an unknown command is an ERR, and is not relayed" {
	fc_start
	fc_connect a
	fc_connect b
	fc_joined a guest2
	fc_send a "/frobnicate now"
	fc_next_is a 'ERR unknown command /frobnicate; type /help for the list'
	fc_send a "/"
	fc_next_is a 'ERR unknown command /; type /help for the list'
	fc_send a "/ nick x"
	fc_next_is a 'ERR unknown command /; type /help for the list'
	fc_send a "/nickname x"
	fc_next_is a 'ERR unknown command /nickname; type /help for the list'
	fc_quiet_all a guest1 b
	fc_stop_clean
}

@test "command names are case-insensitive" {
	fc_start
	fc_connect a
	fc_connect b
	fc_joined a guest2
	fc_send a "/NICK alice"
	fc_next_is a '*** guest1 is now known as alice'
	fc_next_is b '*** guest1 is now known as alice'
	fc_send a "/Help NiCk"
	fc_next a '^usage: /nick NAME'
	fc_send b "/WHO"
	fc_next b '^#1 +alice +pid '
	fc_next b '^#2 +guest2 +pid '
	fc_next_is b '*** end of /who (2 clients)'
	fc_send b "/Msg alice hi"
	fc_next_is a '*guest2* hi'
	fc_send b "/ME nods"
	fc_next_is a '* guest2 nods'
	fc_send a "/QUIT Bye"
	fc_next_is a '*** goodbye'
	fc_next_is b '*** alice left (Bye)'
	fc_stop_clean
}

@test "/who marks the asker's own line, and operators" {
	local pw=$BATS_TEST_TMPDIR/oper.pw
	(umask 077 && printf 'sesame\n' >"$pw")
	fc_start -o "oper_password_file=$pw"
	fc_connect a
	fc_connect b
	fc_joined a guest2
	fc_send a "/oper sesame"
	fc_next a '^\*\*\* you are now an operator$'
	fc_send a "/who"
	fc_next a '^#1 +guest1 +pid [0-9]+ .* timeout none  \(operator, you\)$'
	fc_next a '^#2 +guest2 +pid [0-9]+ .* timeout none$'
	fc_next_is a '*** end of /who (2 clients)'
	fc_send b "/who"
	fc_next b '^#1 +guest1 +pid [0-9]+ .* timeout none  \(operator\)$'
	fc_next b '^#2 +guest2 +pid [0-9]+ .* timeout none  \(you\)$'
	fc_next_is b '*** end of /who (2 clients)'
	fc_stop_clean
}

@test "a flooding client is told once that it is slowed and that nothing is lost" {
	local i lines=()
	fc_start -o flood_rate=50 -o flood_burst=5
	fc_connect a
	fc_connect b
	fc_joined a guest2
	for i in $(seq 1 30); do
		lines+=("paste-$i")
	done
	fc_send b "${lines[@]}"			# one write of 30 lines
	fc_next_is b '*** slow down: more than 5 lines at once; the rest are read at 50 a second, and none is lost'
	for i in $(seq 1 30); do
		fc_next_is a "<guest2> paste-$i"
	done
	# once per burst: nothing more to b
	fc_quiet b a
	fc_stop_clean
}

@test "/help says who may /kick under this admin mode; /help bogus and /bogus say the same" {
	fc_start -o admin=everyone
	fc_connect a
	fc_send a /help
	fc_expect a '^/kick +NICK\|#ID \[reason\] disconnect someone \(anyone here\)$'
	fc_expect a '^/oper +PASSWORD +become an operator \(not needed here: anyone may /kick and /timeout\)$'
	fc_expect a '^\*\*\* end of /help$'
	fc_send a '/help bogus' '/bogus'
	fc_next_is a 'ERR unknown command /bogus; type /help for the list'
	fc_next_is a 'ERR unknown command /bogus; type /help for the list'
	fc_stop_clean
}

@test "a read timeout says why and after how long; turning off a timeout one does not have says so" {
	fc_start -o admin=everyone
	fc_connect a
	fc_connect b
	fc_joined a guest2
	fc_send a '/timeout guest2 0'
	fc_next_is b '*** you still have no read timeout (guest1 set it to 0)'
	fc_send a '/timeout guest2 1'
	fc_next b '^\*\*\* your read timeout was set to 1 s by guest1: '
	fc_next_is b '*** read timeout (1 s): you sent no line for 1 s, so the server is closing your connection'
	fc_eof b
	fc_stop_clean
}
