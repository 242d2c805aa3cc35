#!/usr/bin/env bats
# shellcheck shell=bash
# faults: the faults a server meets, injected into the real one -- a
# client that never reads, a worker stopped with
# SIGSTOP, kill -9 of workers in a broadcast storm, the master killed,
# EMFILE, fork() failing, a peer gone without FIN, 1 MiB of random bytes,
# half a line (closed or half-closed), 10 000 connect/disconnect cycles,
# a burst's memory.  Each test checks what the other clients get, that
# everything is reaped, and exactly which warnings the log holds.
# shellcheck disable=SC2030,SC2031 # BG_PID and loop variables are set and read in one test

load lib

PROGS=$BATS_TEST_DIRNAME/progs
teardown() { fc_cleanup; }	# and the background helpers (BG_PID)

# FILE has a line matching the extended regex RE.
file_has() { grep -qE -- "$2" "$1"; }

# The process is stopped (SIGSTOP).
is_stopped() {
	local st
	{ read -r st <"/proc/$1/stat"; } 2>/dev/null || return 1
	st=${st##*) }
	[ "${st%% *}" = T ]
}

# The lowest descriptor number PID does not have open.
lowest_free_fd() {
	local -A used=()
	local f n=0
	for f in "/proc/$1/fd/"*; do
		used[${f##*/}]=1
	done
	while [ -n "${used[$n]:-}" ]; do
		n=$((n + 1))
	done
	echo "$n"
}

# PID's CPU time so far (utime + stime), in clock ticks.
cpu_ticks() {
	local s f
	read -r s <"/proc/$1/stat"
	s=${s##*) }
	read -ra f <<<"$s"
	echo $((f[11] + f[12]))	# fields 14 and 15; f[0] is field 3
}

# PID's resident memory, in kB.
# Anonymous memory only: what a leak grows.  File pages (libc's text)
# come and go with the kernel's reclaim and swung VmRSS by +-1 MiB here.
anon_kb() { awk '/^RssAnon:/ { print $2 }' "/proc/$1/status"; }

# KiB of PID's heap that it alone has written (Private_Dirty of [heap]).
heap_kb() {
	awk '/^[0-9a-f]+-/ { heap = / \[heap\]$/; next }
	    heap && /^Private_Dirty:/ { print $2 }' "/proc/$1/smaps"
}
heap_at_most() { local kb; kb=$(heap_kb "$1"); [ -n "$kb" ] && ((kb <= $2)); }

# fc_start under "prlimit OPTION" (before any other FC_WRAP): the limit
# is set, then the server exec'd, so the master keeps that pid.
fc_start_limited() {
	local opt=$1
	shift
	FC_WRAP="prlimit $opt ${FC_WRAP:-}" fc_start "$@"
}

# A failure streak is logged once: the lines matching FAIL and OK
# alternate, a FAIL first (OK says it works again).
once_per_streak() {
	grep -E -- "$1|$2" "$FC_LOG" | awk -v fail="$1" '
		{ f = $0 ~ fail }
		NR == 1 && !f || NR > 1 && f == last { bad++; print > "/dev/stderr" }
		{ last = f }
		END { exit bad != 0 || NR == 0 }'
}

# Refusals are logged once, then summed up once per interval (and at
# shutdown): the lines matching RE plus the counts of those sums.
SUMMED=' [0-9]+ more refused connections in the last 10 s$'
refused_total() {
	local more
	more=$(grep -oE '[0-9]+ more refused connections' "$FC_LOG" |
	    awk '{ n += $1 } END { print n + 0 }')
	echo $(($(log_count "$1") + more))
}

# SIGTERM: exit 0, the whole tree gone, and no warning or error but those
# matching RE; then exactly N of those (N "-": any number).
stop_expecting() {
	local re=$1 n=$2 extra
	fc_stop_all
	extra=$(fc_unexpected_warnings "$re")
	if [ -n "$extra" ]; then
		printf 'unexpected warnings:\n%s\n' "$extra" >&2
		return 1
	fi
	[ "$n" = - ] && return 0
	if [ "$(grep -cE ' (warning|error) \[' "$FC_LOG")" -ne "$n" ]; then
		echo "wanted $n warnings, the log has:" >&2
		grep -E ' (warning|error) \[' "$FC_LOG" >&2
		return 1
	fi
}

# Client NAME sends flood lines FROM..TO in one go: "NNNNNNNN xxx...",
# 1000 bytes with the LF; a receiver gets 1010 ("<guest1> " ... CRLF).
flood() {
	timeout 20 awk -v from="$2" -v to="$3" 'BEGIN {
		pad = sprintf("%990s", ""); gsub(/ /, "x", pad)
		for (i = from; i <= to; i++) printf "%08d %s\n", i, pad
	}' >&"${FC_FD[$1]}"
}

# FILE holds NICK's flood lines 1..N, whole, in order, none missing.
flood_in_order() {
	LC_ALL=C awk -v nick="<$2>" -v n="$3" '
		$1 == nick { i++; if ($2 + 0 != i || length($0) != 1009) bad++ }
		END {
			if (i == n && !bad) exit 0
			printf "flood_in_order: %d lines of %d, %d out of order " \
			    "or cut\n", i, n, bad > "/dev/stderr"
			exit 1
		}' "$1"
}

@test "a client that never reads while others flood: dropped as too slow, a reader loses nothing" {
	local out=$BATS_TEST_TMPDIR/c.out per=100 sent=0 k after=-1 bpid
	local left='^\*\*\* guest2 left \(too slow: [0-9]+ bytes unread\)'
	fc_start -o max_output_queue=64k -o flood_rate=0
	fc_connect a		# floods
	fc_connect b		# never reads
	fc_connect c		# reads everything, in the background
	fc_joined a guest3
	fc_joined b guest3
	bpid=$(fc_worker_pid 2)
	capture c "$out"
	# 100 lines (100 kB) to a write, each once c has the one before: c is
	# never the slow one.  b's socket buffers fill, then its 64k queue.
	# At most 16 MB; two more writes once b is gone.
	for ((k = 0; k < 160 && after < 2; k++)); do
		flood a $((sent + 1)) $((sent + per))
		sent=$((sent + per))
		wait_until 10 size_at_least "$out" $((sent * 1010)) || {
			echo "c has $(stat -c %s "$out") bytes after $sent lines" >&2
			false
		}
		if ((after >= 0)); then
			after=$((after + 1))
		elif file_has "$out" "$left"; then
			after=0
		fi
	done
	((after == 2)) || { echo "b not dropped after $sent lines" >&2; false; }
	echo "# b dropped; $sent lines sent in all" >&3
	# c got every line, whole and in order, the notice once, nothing else
	flood_in_order "$out" guest1 "$sent"
	[ "$(grep -cE "$left"$'\r$' "$out")" -eq 1 ]
	[ "$(wc -l <"$out")" -eq $((sent + 1)) ]
	# b's worker is reaped and b's connection closed
	wait_until 10 fc_gone "$bpid"
	fc_drain_eof b
	fc_next a "$left\$"
	fc_send a "after the flood"
	wait_until 5 file_has "$out" '^<guest1> after the flood'
	fc_send c "c is still here"
	fc_next_is a "<guest3> c is still here"
	fc_no_zombies "$FC_PID"
	fc_log_has 'client #2 \(guest2\) from .* left: too slow: [0-9]+ bytes unread$'
	fc_stop_clean
}

@test "a worker stopped with SIGSTOP: the others chat on; past its channel limit it is killed and reaped" {
	local out=$BATS_TEST_TMPDIR/c.out per=100 sent=0 k bpid t0 dt queued
	local warn worst=0
	fc_start -o max_output_queue=64k -o flood_rate=0
	fc_connect a		# floods
	fc_connect b		# its worker is stopped
	fc_connect c		# reads everything, in the background
	fc_joined a guest3
	fc_joined b guest3
	bpid=$(fc_worker_pid 2)
	kill -STOP "$bpid"
	wait_until 5 is_stopped "$bpid"
	capture c "$out"
	warn="worker $bpid of client #2 \(guest2\) is not reading its channel"
	warn+=" \(([0-9]+) bytes queued\): killing it\$"
	# The stuck worker's queue may reach 64k + 4 MiB.  100 kB a write,
	# each once c has the one before; at most 12 MB.
	for ((k = 1; k <= 120; k++)); do
		flood a $((sent + 1)) $((sent + per))
		sent=$((sent + per))
		wait_until 10 size_at_least "$out" $((sent * 1010)) || {
			echo "c has $(stat -c %s "$out") bytes after $sent lines" >&2
			false
		}
		# Every 10th write, c talks to a: the master is not held up.
		if ((k % 10 == 0)); then
			t0=$(now_us)
			fc_send c "ping $k"
			fc_next_is a "<guest3> ping $k"
			dt=$(($(now_us) - t0))
			((dt > worst)) && worst=$dt
			((dt < 3000000))
		fi
		fc_log_has "$warn" && break
	done
	fc_log_has "$warn" || {
		echo "b's worker not killed after $sent lines" >&2
		false
	}
	queued=$(sed -nE "s/.*$warn/\\1/p" "$FC_LOG" | head -n 1)
	echo "# killed after $sent lines, $queued bytes queued;" \
	    "slowest ping $((worst / 1000)) ms" >&3
	# past 4 MiB, within max_output_queue + 4 MiB
	((queued > 4194304 && queued <= 65536 + 4194304))
	wait_until 10 fc_gone "$bpid"		# killed and reaped
	fc_no_zombies "$FC_PID"
	fc_expect a '^\*\*\* guest2 left \(too slow: worker stuck\)$'
	fc_drain_eof b
	# two more writes: c still gets everything, in order
	for k in 1 2; do
		flood a $((sent + 1)) $((sent + per))
		sent=$((sent + per))
		wait_until 10 size_at_least "$out" $((sent * 1010))
	done
	flood_in_order "$out" guest1 "$sent"
	[ "$(grep -c $'^\\*\\*\\* guest2 left (too slow: worker stuck)\r$' "$out")" -eq 1 ]
	[ "$(grep -c '^<guest3> ' "$out")" -eq 0 ]
	[ "$(wc -l <"$out")" -eq $((sent + 1)) ]
	fc_log_has 'client #2 \(guest2\) from .* left: too slow: worker stuck$'
	stop_expecting "$warn" 1
}

@test "kill -9 of random workers during a broadcast storm: survivors get every line in order" {
	local n=5000 name i id s r spare total victims=() cat_pids=()
	local -A wpid=() nick=([a]=guest1 [b]=guest2)
	local all=(a b c d e v6 v7 v8 v9 v10) dir=$BATS_TEST_TMPDIR
	# 2000 lines/s for each sender: the storm lasts about 2.5 s
	fc_start -o flood_rate=2000 -o flood_burst=100 -o spare_workers=2
	for name in "${all[@]}"; do
		fc_connect "$name"
	done
	for name in "${all[@]:0:9}"; do
		fc_joined "$name" guest10
	done
	for id in 6 7 8 9 10; do
		wpid[$id]=$(fc_worker_pid "$id")
	done
	for name in "${all[@]}"; do
		capture "$name" "$dir/$name.out"
	done
	mapfile -t victims < <(shuf -i 6-10 -n 4)
	spare=$(fc_spare_pids | shuf -n 1)
	[ -n "$spare" ]
	for s in a b; do
		awk -v p="$s" -v n="$n" 'BEGIN {
			for (i = 1; i <= n; i++) printf "%s-%06d\n", p, i
		}' >&"${FC_FD[$s]}" &
		BG_PID["storm-$s"]=$!
	done
	# A reader gets "<guest1> a-000001" + CRLF: 19 bytes a line.  Kill
	# a victim at each fifth of the storm as c sees it, a spare too.
	total=$((2 * n * 19))
	for i in 0 1 2 3; do
		wait_until 30 size_at_least "$dir/c.out" $(((i + 1) * total / 5))
		kill -9 "${wpid[${victims[i]}]}"
		if ((i == 1)); then
			kill -9 "$spare"
		fi
	done
	# the storm was still on when the last one was killed
	if size_at_least "$dir/c.out" "$total"; then
		echo "the storm was over before the last kill" >&2
		false
	fi
	for s in a b; do
		wait_until 30 fc_exited "${BG_PID["storm-$s"]}"
	done
	for name in c d e; do
		wait_until 30 file_has "$dir/$name.out" '^<guest2> b-0*'"$n"$'\r$'
		wait_until 30 file_has "$dir/$name.out" '^<guest1> a-0*'"$n"$'\r$'
	done
	wait_until 30 file_has "$dir/a.out" '^<guest2> b-0*'"$n"$'\r$'
	wait_until 30 file_has "$dir/b.out" '^<guest1> a-0*'"$n"$'\r$'
	# each survivor: the other senders' lines all there, in order
	for s in a b; do
		awk -v nick="${nick[$s]}" -v p="$s" -v n="$n" 'BEGIN {
			for (i = 1; i <= n; i++) printf "<%s> %s-%06d\n", nick, p, i
		}' >"$dir/want-$s"
	done
	for r in a b c d e; do
		for s in a b; do
			[ "$r" = "$s" ] && continue
			diff <(grep -aE "^<${nick[$s]}> " "$dir/$r.out" | tr -d '\r') \
			    "$dir/want-$s"
		done
		for id in "${victims[@]}"; do
			[ "$(grep -c "^\\*\\*\\* guest$id left (worker died: signal 9)"$'\r$' \
			    "$dir/$r.out")" -eq 1 ]
		done
		grep -aE '^(<guest[12]> |\*\*\* guest[0-9]+ left )' "$dir/$r.out" \
		    >"$dir/$r.seq"
	done
	# one order for all: what two survivors both got, they got alike
	diff "$dir/c.seq" "$dir/d.seq"
	diff "$dir/c.seq" "$dir/e.seq"
	diff <(grep -v '^<guest1> ' "$dir/c.seq") "$dir/a.seq"
	diff <(grep -v '^<guest2> ' "$dir/c.seq") "$dir/b.seq"
	# every killed one reaped, no zombie, the pool refilled
	for id in "${victims[@]}"; do
		wait_until 5 fc_gone "${wpid[$id]}"
		cat_pids+=("${BG_PID["v$id"]}")
	done
	wait_until 5 fc_gone "$spare"
	wait_until 5 fc_exited "${cat_pids[@]}"	# their connections closed
	wait_until 5 fc_pool 2 6
	# one warning per killed worker
	for id in "${victims[@]}"; do
		[ "$(log_count " warning \[$FC_PID\] worker ${wpid[$id]} of client #$id \(guest$id\) died: signal 9$")" -eq 1 ]
	done
	[ "$(log_count " warning \[$FC_PID\] spare worker $spare died: signal 9$")" -eq 1 ]
	stop_expecting ' warning \[[0-9]+\] (spare )?worker [0-9]+ (of client #[0-9]+ \(guest[0-9]+\) )?died: signal 9$' 5
}

@test "the master killed with SIGKILL mid-storm: no process of the tree survives" {
	local tree name pids=() dir=$BATS_TEST_TMPDIR
	# b's worker takes its lines at 20000/s: 5 s for the whole storm
	fc_start -o flood_rate=20000 -o flood_burst=1000 -o spare_workers=2 \
	    -o pipe_timeout=60 -o "pipe.family=$PROGS/family.sh"
	for name in a b c d; do
		fc_connect "$name"
	done
	for name in a b c; do
		fc_joined "$name" guest4
	done
	# a's pipe job has a child of its own: both are part of the tree
	fc_send a "/pipe family go"
	fc_expect a '^\[family\] child [0-9]+$'
	wait_until 5 fc_pool 2 4
	tree=$(fc_tree "$FC_PID")
	# master, forker, 4 workers, 2 spares, the job and its child
	[ "$(wc -w <<<"$tree")" -eq 10 ]
	for name in a c d; do
		capture "$name" "$dir/$name.out"
		pids+=("${BG_PID[$name]}")
	done
	awk 'BEGIN { for (i = 1; i <= 100000; i++) printf "storm-%06d\n", i }' \
	    >&"${FC_FD[b]}" &
	BG_PID["storm"]=$!
	wait_until 10 size_at_least "$dir/c.out" 20000
	kill -9 "$FC_PID"
	# shellcheck disable=SC2086 # one pid per word
	wait_until 5 fc_exited $tree || {
		ps -o pid,ppid,stat,comm -p "$(tr '\n' ',' <<<"$tree")0" >&2
		false
	}
	fc_reap_killed
	# every client's connection closed
	wait_until 10 fc_exited "${pids[@]}"
	fc_eof b
	# The storm was cut short, between lines: every line whole, then
	# perhaps the goodbye.
	for name in c d; do
		[ "$(wc -l <"$dir/$name.out")" -lt 100000 ]
		echo "# $name: $(wc -l <"$dir/$name.out") lines, the last" \
		    "'$(tail -n 1 "$dir/$name.out" | tr -d '\r')'" >&3
		[ "$(grep -cvaE $'^(<guest2> storm-[0-9]{6}|\\*\\*\\* server went away)\r$' \
		    "$dir/$name.out")" -eq 0 ]
		[ "$(grep -c 'server went away' "$dir/$name.out")" -le 1 ]
		[ "$(tail -c 2 "$dir/$name.out" | od -An -tx1 | tr -d ' ')" = 0d0a ]
	done
	fc_clean_log
}

@test "EMFILE: new clients told 'server busy (out of descriptors)', the others chat on, service resumes, no busy loop" {
	local limit hz c0 c1 told closed bad ms name wpid served=0 i
	local busy='ERR server busy (out of descriptors); try again later'
	local busy_re='^ERR server busy \(out of descriptors\); try again later$'
	local refused='refused connection from 127\.0\.0\.1:[0-9]+: server busy \(out of descriptors\); try again later$'
	local nofork='cannot fork a spare worker: Too many open files; retrying every 1000 ms$'
	fc_start -o spare_workers=2
	for name in a b f3 f4 f5; do		# f3..f5 are guest3..5
		fc_connect "$name"
	done
	fc_joined a guest5
	fc_joined b guest5
	wait_until 5 fc_pool 2 5
	# Every descriptor below the limit is in use: accept() fails (EMFILE).
	limit=$(lowest_free_fd "$FC_PID")
	prlimit --pid "$FC_PID" --nofile="$limit:$limit"
	fc_connect_raw x
	fc_next_is x "$busy"
	fc_eof x
	fc_close x
	fc_send a "still chatting"
	fc_next_is b "<guest1> still chatting"
	# Hammer it for 3 s: each one told and closed, and the master barely
	# busy (a loop on the readable listener would burn the 3 s).
	hz=$(getconf CLK_TCK)
	c0=$(cpu_ticks "$FC_PID")
	"$PROGS/faults-hammer.sh" "$FC_PORT" 3 10000 "$busy_re" \
	    >"$BATS_TEST_TMPDIR/hammer" &
	BG_PID["hammer"]=$!
	for i in 1 2 3; do
		fc_send b "during the hammering $i"
		fc_next_is a "<guest2> during the hammering $i"
	done
	wait_until 20 fc_exited "${BG_PID["hammer"]}"
	c1=$(cpu_ticks "$FC_PID")
	read -r _ told _ closed _ bad _ ms <"$BATS_TEST_TMPDIR/hammer"
	echo "# limit $limit; in $ms ms $told told, $closed closed, $bad bad;" \
	    "master CPU $(((c1 - c0) * 1000 / hz)) ms" >&3
	((bad == 0 && told + closed >= 20))
	# No busy loop: the master's CPU is what the refusals cost (each
	# one an accept, a write, two closes and a log line: ~0.1 ms), not a
	# spinning core (which would be the whole 3 s).
	(((c1 - c0) * 1000 / hz < 500 + (told + closed) / 4))
	# Fillers leave, one at a time, until a newcomer is served.
	for name in f3 f4 f5; do
		wpid=$(fc_worker_pid "${name#f}")
		fc_close "$name"
		wait_until 5 fc_gone "$wpid"
		fc_connect_raw y
		fc_read y
		if [[ $FC_LINE =~ ^\*\*\*\ welcome\ to\ forkchat,\ (guest[0-9]+)! ]]; then
			served=${BASH_REMATCH[1]}
			break
		fi
		[ "$FC_LINE" = "$busy" ]
		told=$((told + 1))
		fc_eof y
		fc_close y
	done
	[ "$served" != 0 ]
	echo "# served $served after $name left" >&3
	fc_joined a "$served"
	fc_send y "served again"
	fc_next_is a "<$served> served again"
	stop_expecting "$refused|$nofork|$SUMMED" -
	[ "$(refused_total "$refused")" -eq $((told + 1)) ]
	# the served one's spare could not be replaced: logged once a streak
	once_per_streak "$nofork" 'forking spare workers works again$'
}

@test "EMFILE with a limit of 32 (prlimit --pid): newcomers refused cleanly, service resumes" {
	local n name last id wpid again served=0
	local re='^ERR server busy \((out of descriptors|cannot start a worker)\); try again later$'
	local works='forking spare workers works again$'
	local refused='refused connection from 127\.0\.0\.1:[0-9]+: server busy \((out of descriptors|cannot start a worker)\); try again later$'
	local nofork='cannot fork a spare worker: Too many open files; retrying every 1000 ms$'
	# (Started with so few, it would refuse to: max_clients needs more.)
	fc_start -o spare_workers=2
	prlimit --pid "$FC_PID" --nofile=32:32
	fc_connect a
	fc_connect b
	fc_joined a guest2
	# Connect until one is turned away (each client costs the master one
	# descriptor, its worker's channel).
	for ((n = 3; n <= 40; n++)); do
		fc_connect_raw "c$n"
		fc_read "c$n"
		[[ $FC_LINE == '*** welcome'* ]] || break
	done
	echo "# client $n refused: $FC_LINE" >&3
	[[ $FC_LINE =~ $re ]]
	fc_eof "c$n"
	fc_close "c$n"
	last=$((n - 1))
	fc_joined a "guest$last"
	fc_send b "the others chat on"
	fc_next_is a "<guest2> the others chat on"
	# Three clients leave; a newcomer is served again.  Three, for the
	# master to be sure of what a newcomer costs it: forking a spare
	# takes two descriptors at once (socketpair), and the one kept in
	# reserve for refusing clients, if used, is opened again.
	for id in 3 4 5; do
		wpid=$(fc_worker_pid "$id")
		fc_close "c$id"
		wait_until 5 fc_gone "$wpid"
		# closed, or reset (it had unread notices)
		fc_expect a "^\\*\\*\\* guest$id left \\(connection (closed|reset)\\)\$"
	done
	# A spare may take a moment: after a refusal, wait for forking to
	# work again (a line that may already be in the log from an earlier
	# streak, so wait for one more of it).
	for ((id = 1; id <= 3; id++)); do
		again=$(log_count "$works")
		fc_connect_raw "n$id"
		fc_read "n$id"
		if [[ $FC_LINE == '*** welcome'* ]]; then
			served=1
			break
		fi
		[[ $FC_LINE =~ $re ]]
		fc_eof "n$id"
		fc_close "n$id"
		wait_until 5 log_count_ge $((again + 1)) "$works"
	done
	((served == 1))
	fc_expect a '^\*\*\* guest[0-9]+ joined$'
	fc_send "n$id" "back in business"
	fc_next a '^<guest[0-9]+> back in business$'
	stop_expecting "$refused|$nofork|$SUMMED" -
	# the first and each refusal after it; the fork failures once a streak
	[ "$(refused_total "$refused")" -eq "$id" ]
	once_per_streak "$nofork" "$works"
}

@test "fork() failing (RLIMIT_NPROC as nobody): 'server busy (cannot start a worker)', the others unaffected, resumes by itself" {
	local told closed bad ms wpid
	local busy='ERR server busy (cannot start a worker); try again later'
	local busy_re='^ERR server busy \(cannot start a worker\); try again later$'
	local refused='refused connection from 127\.0\.0\.1:[0-9]+: server busy \(cannot start a worker\); try again later$'
	local nofork='cannot fork a spare worker: Resource temporarily unavailable; retrying every 1000 ms$'
	[ "$(id -u)" -eq 0 ] || skip "needs root, to start as nobody"
	getent passwd nobody >/dev/null && getent group nogroup >/dev/null ||
		skip "no user nobody or group nogroup"
	# RLIMIT_NPROC counts every process of the real uid: nobody else may
	# run as nobody, or the count is off.
	[ -z "$(ps -U nobody -o pid=)" ] || skip "other processes run as nobody"
	command -v setpriv >/dev/null || skip "no setpriv"
	fc_start -o user=nobody -o group=nogroup -o spare_workers=2
	fc_log_has 'running as user nobody '
	wait_until 5 fc_pool 2 0
	# The forker forks, so its limit is the one that counts (a master
	# started with it would refuse to start: max_clients is 1000).  The
	# master, its forker and at most 3 workers: 2 spares, then one more
	# spare after the first client.
	# prlimit as nobody: root may lack CAP_SYS_RESOURCE in a container.
	setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    prlimit --pid "$(fc_forker_pid)" --nproc=5:5
	fc_connect a		# its spare replaced: 5 processes of nobody
	fc_connect b		# the replacement cannot be forked
	wait_until 5 fc_log_has "$nofork"
	fc_connect c		# the last spare
	fc_joined a guest3
	fc_joined b guest3
	fc_connect_raw d
	fc_next_is d "$busy"
	fc_eof d
	fc_close d
	# Refused for 3 s (the master retries the fork every second,
	# quietly), while the others chat.
	"$PROGS/faults-hammer.sh" "$FC_PORT" 3 100000 "$busy_re" \
	    >"$BATS_TEST_TMPDIR/hammer" &
	BG_PID["hammer"]=$!
	for i in 1 2 3; do
		fc_send a "while forks fail $i"
		fc_next_is b "<guest1> while forks fail $i"
		fc_next_is c "<guest1> while forks fail $i"
	done
	wait_until 20 fc_exited "${BG_PID["hammer"]}"
	read -r _ told _ closed _ bad _ ms <"$BATS_TEST_TMPDIR/hammer"
	echo "# in $ms ms $told told, $closed closed, $bad bad" >&3
	((bad == 0 && closed == 0 && told >= 10 && ms >= 2500))
	[ "$(log_count "$nofork")" -eq 1 ]
	# a leaves: its worker exits, and the master forks a spare by itself.
	wpid=$(fc_worker_pid 1)
	fc_send a "/quit"
	fc_expect b '^\*\*\* guest1 left \(quit\)$'
	wait_until 5 fc_gone "$wpid"
	wait_until 5 fc_log_has 'forking spare workers works again$'
	# (the second spare fails again: a new failure streak, logged once)
	[ "$(log_count "$nofork")" -eq 2 ]
	fc_connect e
	fc_expect b '^\*\*\* guest[0-9]+ joined$'
	fc_send e "forked again"
	fc_next b '^<guest[0-9]+> forked again$'
	fc_expect c '^\*\*\* guest[0-9]+ joined$'
	fc_next c '^<guest[0-9]+> forked again$'
	stop_expecting "$refused|$nofork|$SUMMED" -
	[ "$(refused_total "$refused")" -eq $((told + 1)) ]
	# One line for the first refusal, the rest summed: a flood of them
	# cannot flood the log.
	(($(log_count "$refused|$SUMMED") <= 3))
	once_per_streak "$nofork" 'forking spare workers works again$'
}

# N connections to the server's port are in CLOSE-WAIT on the client side.
close_waits() {
	[ "$(ss -tnH state close-wait "( dport = :$FC_PORT )" | wc -l)" -eq "$1" ]
}

@test "a peer that vanishes without FIN: the read timeout still fires, the others are told" {
	local ghost t0 dt wpid
	fc_start -o admin=everyone -o idle_timeout=2
	fc_connect a
	fc_send a "/timeout guest1 0"
	fc_next_is a '*** your read timeout was turned off by guest1'
	# The ghost connects, reads its greeting and stops, socket open: no
	# FIN, no reads, no writes, ever.
	"$PROGS/faults-ghost.sh" "$FC_PORT" >"$BATS_TEST_TMPDIR/ghost" &
	ghost=$!
	BG_PID["ghost"]=$ghost
	t0=$(now_us)
	wait_until 5 is_stopped "$ghost"
	# (after the telnet question, which a raw read keeps)
	grep -q '\*\*\* welcome to forkchat, guest2!' "$BATS_TEST_TMPDIR/ghost"
	fc_next_is a '*** guest2 joined'
	wpid=$(fc_worker_pid 2)
	fc_next_is a '*** guest2 left (read timeout after 2 s)'
	dt=$(($(now_us) - t0))
	echo "# timed out after $((dt / 1000)) ms" >&3
	((dt >= 1500000 && dt < 6000000))
	is_stopped "$ghost"		# it sent nothing all along
	wait_until 5 fc_gone "$wpid"
	# The server closed its end (FIN sent); the ghost's end, never read
	# or closed, sits in CLOSE-WAIT.
	if command -v ss >/dev/null; then
		wait_until 5 close_waits 1
	fi
	fc_log_has 'client #2 \(guest2\) from .* left: read timeout after 2 s$'
	fc_connect b
	fc_next_is a '*** guest3 joined'
	fc_send b "after the ghost"
	fc_next_is a '<guest3> after the ghost'
	fc_stop_clean
}

# Bytes of FILE a terminal would act on: C0 controls but TAB, LF and CR,
# and DEL (ESC is one of them).
unsafe_bytes() { LC_ALL=C tr -d '\t\n\r\040-\176\200-\377' <"$1" | wc -c; }

@test "1 MiB of random bytes from a client: no crash, the others' terminals safe, service goes on" {
	local f rpid junk=$BATS_TEST_TMPDIR/junk dir=$BATS_TEST_TMPDIR
	fc_start -o flood_rate=0
	fc_connect a
	fc_connect b
	fc_connect r
	fc_joined a guest3
	fc_joined b guest3
	rpid=$(fc_worker_pid 3)
	capture a "$dir/a.out"
	capture b "$dir/b.out"
	# IAC SE IAC SE ends a telnet subnegotiation the junk may have begun,
	# whatever state the parser is in; then a marker line.
	{
		head -c 1048576 /dev/urandom
		printf '\xff\xf0\xff\xf0\nEND-OF-JUNK\n'
	} >"$junk"
	timeout 30 cat "$junk" >&"${FC_FD[r]}"
	for f in a b; do
		wait_until 30 file_has "$dir/$f.out" $'^<guest3> END-OF-JUNK\r$'
	done
	for f in a b; do
		echo "# $f got $(wc -l <"$dir/$f.out") lines," \
		    "$(stat -c %s "$dir/$f.out") bytes" >&3
		[ "$(unsafe_bytes "$dir/$f.out")" -eq 0 ]
		# nor a C1 control (U+0080..U+009F: CSI is U+009B), and all of
		# it valid UTF-8
		[ "$(LC_ALL=C grep -ac $'\xc2[\x80-\x9f]' "$dir/$f.out")" -eq 0 ]
		iconv -f UTF-8 -t UTF-8 "$dir/$f.out" >/dev/null
		# CR only in CRLF, every line ended by it
		[ "$(LC_ALL=C grep -avc $'\r$' "$dir/$f.out")" -eq 0 ]
		[ "$(tr -cd '\r' <"$dir/$f.out" | wc -c)" -eq "$(wc -l <"$dir/$f.out")" ]
		# only r's lines: no notice, no one left
		[ "$(LC_ALL=C grep -avc '^<guest3> ' "$dir/$f.out")" -eq 0 ]
		# Lines do get through.  Not a fixed share of the ~4096 LFs: a
		# random IAC SB (every ~64 KiB) swallows the stream up to the
		# next IAC SE (~64 KiB on), as telnet says it must, so about
		# half of it, by chance more or less, is subnegotiation.
		[ "$(wc -l <"$dir/$f.out")" -ge 100 ]
	done
	cmp "$dir/a.out" "$dir/b.out"
	# r's worker is alive and well, and everyone still chats
	[ "$(fc_worker_pid 3)" = "$rpid" ]
	fc_connect d
	fc_send r "still me"
	fc_next_is d '<guest3> still me'
	fc_send d "hello all"
	wait_until 5 file_has "$dir/a.out" $'^<guest4> hello all\r$'
	wait_until 5 file_has "$dir/b.out" $'^<guest4> hello all\r$'
	fc_no_zombies "$FC_PID"
	fc_stop_clean
}

@test "half a line, then disconnect or half-close: nobody sees the partial line, nor does a newcomer" {
	local long
	fc_start
	fc_connect a
	fc_connect b
	fc_connect c
	fc_connect d
	fc_joined a guest4
	fc_joined c guest4
	fc_joined b guest4
	# a whole line, then half of one, then gone
	fc_send_raw b 'a whole line\r\nhalf a li'
	fc_close b
	for name in a c d; do
		fc_next_is "$name" '<guest2> a whole line'
		fc_next_is "$name" '*** guest2 left (connection closed)'
	done
	# 3000 bytes of a line, never ended
	printf -v long '%3000s' ''
	fc_send_raw d '%s' "${long// /y}"
	fc_close d
	for name in a c; do
		fc_next_is "$name" '*** guest4 left (connection closed)'
	done
	fc_quiet a c
	fc_quiet c a
	fc_log_has 'client #2 \(guest2\) from .* left: connection closed$'
	fc_log_has 'client #4 \(guest4\) from .* left: connection closed$'
	# Half a line, then a half-close (shutdown(SHUT_WR), which bash
	# cannot do; perl-base can): answered with a goodbye, and closed.
	run perl -MIO::Socket::INET -e '
		my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1",
		    PeerPort => $ARGV[0]) or die "connect: $!\n";
		$SIG{ALRM} = sub { die "no EOF from the server\n" };
		alarm 5;
		my $greeting = <$s>;
		print $greeting;
		print $s "half a line";
		$s->flush;
		shutdown($s, 1) or die "shutdown: $!\n";
		print while <$s>;
		print "EOF\n";' "$FC_PORT"
	[ "$status" -eq 0 ]
	[[ ${lines[0]#"$FC_TELNET_ASK"} == '*** welcome to forkchat, guest5!'* ]]
	[ "${lines[-2]}" = $'*** goodbye\r' ]
	[ "${lines[-1]}" = EOF ]
	for name in a c; do
		fc_next_is "$name" '*** guest5 joined'
		fc_next_is "$name" '*** guest5 left (connection closed)'
	done
	fc_quiet a c
	fc_stop_clean
}

@test "10 000 connect/disconnect cycles: descriptors and memory back to baseline, no zombie" {
	local fds rss rss2 t0 dt warm=500 n=10000
	# A sanitized build (check-asan) forks several times slower: fewer.
	sanitized && n=2000
	fc_start -o spare_workers=4
	wait_until 5 fc_pool 4 0
	# A warm-up: the heap settles at its working size.
	timeout 60 "$PROGS/faults-cycles.sh" "$FC_PORT" "$warm"
	wait_until 30 fc_log_has "client #$warm \\(guest$warm\\) from .* left: "
	wait_until 10 fc_pool 4 0
	fds=$(fc_open_fds "$FC_PID")
	rss=$(anon_kb "$FC_PID")
	t0=$(now_us)
	timeout 120 "$PROGS/faults-cycles.sh" "$FC_PORT" "$n"
	wait_until 60 fc_log_has "client #$((warm + n)) \\(guest$((warm + n))\\) from .* left: "
	dt=$(($(now_us) - t0))
	wait_until 10 fc_pool 4 0		# every worker reaped: no zombie
	wait_until 10 fds_are "$fds"
	rss2=$(anon_kb "$FC_PID")
	echo "# $n cycles in $((dt / 1000)) ms; $fds descriptors;" \
	    "RssAnon $rss kB -> $rss2 kB" >&3
	((dt < 120000000))
	# (AddressSanitizer's quarantine holds freed memory back on purpose)
	sanitized || ((rss2 <= rss + 512))
	[ -z "$(fc_zombies "$FC_PID")" ]
	[ "$(log_count ' connected from 127\.0\.0\.1:')" -eq $((warm + n)) ]
	[ "$(log_count 'left: connection (closed|reset)$')" -eq $((warm + n)) ]
	fc_connect a
	fc_stop_clean
}

@test "after a burst, a worker that has gone quiet gives its buffers' memory back" {
	local out=$BATS_TEST_TMPDIR/b.out w before after line k
	local -a lines
	# Another allocator (AddressSanitizer's, valgrind's) keeps its own.
	sanitized && skip "AddressSanitizer's allocator keeps freed memory"
	[[ ${FC_WRAP:-} == *valgrind* ]] && skip "valgrind's allocator"
	fc_start -o flood_rate=0
	fc_connect a
	fc_connect b
	fc_joined a guest2
	w=$(fc_worker_pid 2)
	[ -n "$w" ]
	before=$(heap_kb "$w")
	capture b "$out"
	# 3 000 lines of 900 bytes: b's worker queues tens of KiB at a time.
	printf -v line '%900s' ''
	for ((k = 0; k < 100; k++)); do
		lines[k]=${line// /x}
	done
	for ((k = 0; k < 30; k++)); do
		fc_send a "${lines[@]}"
	done
	wait_until 20 size_at_least "$out" $((3000 * 902))
	wait_until 5 heap_at_most "$w" $((before + 8))
	after=$(heap_kb "$w")
	echo "# b's worker heap: $before KiB idle, $after KiB after the burst" >&3
	fc_stop_clean
}

@test "limits: max_clients beyond the hard descriptor limit is exit 78, saying which limit and what to do" {
	run prlimit --nofile=256:256 "$FORKCHATD" -t -o max_clients=500
	[ "$status" -eq 78 ]
	[ "$output" = "forkchatd: max_clients = 500 needs 828 open files, but the hard limit is 256: raise it (LimitNOFILE= in the unit, ulimit -Hn) or lower max_clients" ]
	run prlimit --nofile=256:256 "$FORKCHATD" -l 127.0.0.1:0 -o max_clients=500
	[ "$status" -eq 78 ]
	[[ $output == *" error ["*"] max_clients = 500 needs 828 open files, but the hard limit is 256: raise it (LimitNOFILE= in the unit, ulimit -Hn) or lower max_clients" ]]
	[[ $output != *"ready: "* ]]
}

@test "limits: the soft descriptor limit is raised to what max_clients needs, and a reload past the hard one is refused" {
	local conf=$BATS_TEST_TMPDIR/limits.conf
	printf 'max_clients = 2000\nspare_workers = 4\n' >"$conf"
	fc_start_limited --nofile=100:3000 -c "$conf"
	# 2000 channels, 4 spares', 256 waiting clients, 64 of its own
	grep -Eq '^Max open files +2328 +3000 ' "/proc/$FC_PID/limits"
	printf 'max_clients = 5000\nspare_workers = 4\n' >"$conf"
	kill -HUP "$FC_PID"
	wait_until 5 fc_log_has 'reload failed: max_clients = 5000 needs 5328 open files, but the hard limit is 3000: raise it \(LimitNOFILE= in the unit, ulimit -Hn\) or lower max_clients; the old configuration stays in force$'
	fc_connect a
	fc_stop TERM
	[ "$FC_STATUS" -eq 0 ]
}

@test "limits: max_clients beyond the user's process limit (as nobody) is exit 78" {
	[ "$(id -u)" -eq 0 ] || skip "needs root, to start as nobody"
	getent passwd nobody >/dev/null && getent group nogroup >/dev/null ||
		skip "no user nobody or group nogroup"
	run prlimit --nproc=50:50 "$FORKCHATD" -l 127.0.0.1:0 -o user=nobody \
	    -o group=nogroup -o max_clients=100
	[ "$status" -eq 78 ]
	[[ $output == *" error ["*"] max_clients = 100 needs 102 processes, but this user may have 50: raise it (LimitNPROC= in the unit, ulimit -u) or lower max_clients" ]]
	[[ $output != *"ready: "* ]]
}

@test "limits: max_clients past kernel.pid_max is exit 78, naming it" {
	local pid_max want
	pid_max=$(cat /proc/sys/kernel/pid_max)
	want=$((pid_max + 1))
	((want <= 100000)) || skip "kernel.pid_max $pid_max is above any max_clients"
	run "$FORKCHATD" -t -o max_clients="$want"
	[ "$status" -eq 78 ]
	[[ $output =~ ^forkchatd:\ max_clients\ =\ $want\ needs\ $((want + 2))\ processes\;\ with\ the\ [0-9]+\ running,\ that\ passes\ kernel\.pid_max\ =\ $pid_max:\ raise\ it\ or\ lower\ max_clients$ ]]
}
