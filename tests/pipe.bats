#!/usr/bin/env bats
# shellcheck shell=bash
# pipe: /pipe jobs (output, containment, errors, timeouts, reaping in
# every way a job can end) and /ps against /proc.

load lib

teardown() { fc_cleanup; }

PROGS=$BATS_TEST_DIRNAME/progs

# One snapshot of /proc: PPID_OF[pid] for every process on the machine.
declare -gA PPID_OF=()
proc_scan() {
	local p s
	PPID_OF=()
	for p in /proc/[0-9]*; do
		{ read -r s <"$p/stat"; } 2>/dev/null || continue
		s=${s##*) }
		s=${s#* }
		PPID_OF[${p#/proc/}]=${s%% *}
	done
}

# "/ps" from client NAME, one array per column, indexed by line; PS_END
# is the count the end line gives, PS_TREE each line's tree and role.
ps_read() {
	local name=$1 n=0 pid ppid role client nick state rest
	PS_PID=() PS_PPID=() PS_ROLE=() PS_CLIENT=() PS_NICK=() PS_STATE=()
	PS_PROG=() PS_TREE=() PS_END=
	fc_send "$name" "/ps"
	fc_expect "$name" '^ +PID +PPID S AGE +CLIENT NICK +ROLE$' || return 1
	while ((n++ < 1000)) && fc_read "$name"; do
		if [[ $FC_LINE =~ ^\*\*\*\ end\ of\ /ps\ \(([0-9]+)\ processes\)$ ]]; then
			PS_END=${BASH_REMATCH[1]}
			return 0
		fi
		read -r pid ppid state _ client nick rest <<<"$FC_LINE"
		PS_TREE+=("$rest")
		# The tree drawn before the role: "|  `- pipe family".
		while [[ $rest == ['|`- ']* ]]; do rest=${rest:1}; done
		role=${rest%% *}
		[[ $rest == *" "* ]] && rest=${rest#* } || rest=
		PS_PID+=("$pid") PS_PPID+=("$ppid") PS_ROLE+=("$role")
		PS_CLIENT+=("$client") PS_NICK+=("$nick") PS_STATE+=("$state")
		PS_PROG+=("$rest")
	done
	echo "ps_read $name: no end of /ps" >&2
	return 1
}

# After ps_read: WORKER and JOB, the pids of client #ID's worker and of
# its job (the "pipe" line whose parent is the worker: what the job
# started is listed as "pipe" too).
ps_job() {
	local id=$1 i
	JOB='' WORKER=''
	for i in "${!PS_PID[@]}"; do
		if [ "${PS_CLIENT[i]}" = "#$id" ] && [ "${PS_ROLE[i]}" = worker ]; then
			WORKER=${PS_PID[i]}
		fi
	done
	for i in "${!PS_PID[@]}"; do
		if [ "${PS_CLIENT[i]}" = "#$id" ] && [ "${PS_ROLE[i]}" = pipe ] &&
		    [ "${PS_PPID[i]}" = "$WORKER" ]; then
			JOB=${PS_PID[i]}
		fi
	done
	if [ -z "$JOB" ] || [ -z "$WORKER" ]; then
		echo "ps_job: no job or worker of client #$id in /ps" >&2
		return 1
	fi
}

# Start client NAME's job with "/pipe ARGS", and find it in /ps: JOB,
# WORKER.  Waits until the job has become its program (execve done).
start_job() {
	local name=$1 id=$2 comm=$3
	shift 3
	fc_send "$name" "/pipe $*"
	ps_read "$name"
	ps_job "$id"
	wait_until 5 has_comm "$JOB" "$comm"
}

# /proc/PID/comm is COMM.
has_comm() {
	local c
	{ read -r c <"/proc/$1/comm"; } 2>/dev/null && [ "$c" = "$2" ]
}

# Lines starting with "[NAME] " that client CL gets before the end line of
# /pipe NAME: OUT holds them (prefix removed, one per line), END the end
# line.
pipe_output() {
	local cl=$1 name=$2 n=0
	OUT='' END=''
	while ((n++ < 100000)) && fc_read "$cl"; do
		if [[ $FC_LINE == "*** end of /pipe $name"* ]]; then
			END=$FC_LINE
			return 0
		fi
		if [[ $FC_LINE != "[$name] "* ]]; then
			echo "pipe_output: unexpected line '$FC_LINE'" >&2
			return 1
		fi
		OUT+=${FC_LINE#"[$name] "}$'\n'
	done
	echo "pipe_output $cl: no end of /pipe $name; got: $OUT" >&2
	return 1
}

@test "/pipe: stdout comes back as [NAME] lines, then the end line" {
	fc_start -o pipe.cat=/bin/cat -o "pipe.stdin=$PROGS/stdin.sh" \
	    -o 'pipe.seq=/usr/bin/seq 3' -o 'pipe.part=/usr/bin/printf no-newline' \
	    -o 'pipe.esc=/usr/bin/printf a\033[31mb\007c\n'
	fc_connect a
	fc_connect b
	fc_joined a guest2
	fc_send a "/pipe cat hello   world "
	fc_next a '^\[cat\] hello   world$'
	fc_next a '^\*\*\* end of /pipe cat$'
	# stdin: the text and a newline, then EOF.
	fc_send a "/pipe stdin two words"
	pipe_output a stdin
	[ "$OUT" = $'read: two words\neof\n' ]
	[ "$END" = "*** end of /pipe stdin" ]
	fc_send a "/pipe seq"
	pipe_output a seq
	[ "$OUT" = $'1\n2\n3\n' ]
	# A last line without a newline still comes; control bytes go.
	fc_send a "/pipe part"
	fc_next a '^\[part\] no-newline$'
	fc_next a '^\*\*\* end of /pipe part$'
	fc_send a "/pipe esc"
	fc_next a '^\[esc\] a\[31mbc$'
	fc_next a '^\*\*\* end of /pipe esc$'
	# Only the requester sees any of it.
	fc_quiet_all a guest1 b
	[ "$(grep -cE 'info \[[0-9]+\] client #1 \(guest1\) started pipe job [0-9]+: (cat|stdin|seq|part|esc)$' "$FC_LOG")" -eq 5 ]
	[ "$(grep -cE 'info \[[0-9]+\] pipe job [0-9]+ \((cat|stdin|seq|part|esc)\) of client #1 reaped: status 0$' "$FC_LOG")" -eq 5 ]
	fc_stop_all
	fc_clean_log
}

@test "/pipe: shell metacharacters stay text, in the line and in the config" {
	pwned=$BATS_TEST_TMPDIR/pwned
	# shellcheck disable=SC2016 # no expansion: that is the point
	fc_start -o pipe.cat=/bin/cat -o 'pipe.echo=/bin/echo $HOME * $(id) ;'
	fc_connect a
	text="; rm -rf /tmp/x \$(touch $pwned) \`touch $pwned\` | > $pwned && echo x || touch $pwned & \"'*"
	fc_send a "/pipe cat $text"
	fc_read a
	[ "$FC_LINE" = "[cat] $text" ]
	fc_next a '^\*\*\* end of /pipe cat$'
	fc_send a "/pipe echo"
	fc_read a
	# shellcheck disable=SC2016
	[ "$FC_LINE" = '[echo] $HOME * $(id) ;' ]
	fc_next a '^\*\*\* end of /pipe echo$'
	[ ! -e "$pwned" ]
	fc_stop_all
	fc_clean_log
}

@test "/pipe: the job's environment is PATH and LANG only" {
	export FORKCHAT_TEST_SECRET=do-not-leak
	fc_start -o pipe.env=/usr/bin/env
	fc_connect a
	fc_send a "/pipe env"
	pipe_output a env
	[ "$END" = "*** end of /pipe env" ]
	[ "$(sort <<<"${OUT%$'\n'}")" = $'LANG=C.UTF-8\nPATH=/usr/local/bin:/usr/bin:/bin' ]
	fc_stop_all
	fc_clean_log
}

@test "/pipe: a job has fds 0, 1, 2 only, its own group, default signals but SIGUSR2 ignored" {
	# a long pipe_timeout: on a loaded machine 5 s may pass before we look
	fc_start -o 'pipe.sleep=/bin/sleep 30' -o pipe_timeout=60
	fc_connect a
	start_job a 1 sleep sleep
	# What the program got from execve, as the kernel shows it.
	fds=$(cd "/proc/$JOB/fd" && echo *)
	[ "$fds" = "0 1 2" ]
	[[ $(readlink "/proc/$JOB/fd/0") == pipe:* ]]
	[[ $(readlink "/proc/$JOB/fd/1") == pipe:* ]]
	[ "$(readlink "/proc/$JOB/fd/2")" = /dev/null ]
	[ "$(tr '\0' '\n' <"/proc/$JOB/environ" | sort)" = $'LANG=C.UTF-8\nPATH=/usr/local/bin:/usr/bin:/bin' ]
	[ "$(tr '\0' ' ' <"/proc/$JOB/cmdline")" = "/bin/sleep 30 " ]
	read -r stat <"/proc/$JOB/stat"
	read -r _ ppid pgrp _ <<<"${stat##*) }"
	[ "$ppid" = "$WORKER" ]
	[ "$pgrp" = "$JOB" ]
	grep -qx $'SigBlk:\t0000000000000000' "/proc/$JOB/status"
	# No signal ignored but SIGUSR2 (12, mask 0x800: a live upgrade is
	# the master's, even when a service manager signals the whole
	# control group), and 32 and 33: glibc keeps those for itself and
	# its sigaction() refuses them, so what the caller of the tests
	# ignored there is still ignored (mask 0x180000000).
	ign=$(sed -n 's/^SigIgn:\t//p' "/proc/$JOB/status")
	(((16#$ign & ~16#180000000) == 16#800))
	fc_stop_all
	fc_clean_log
}

@test "/pipe: stderr is not relayed" {
	fc_start -o "pipe.err=$PROGS/stderr.sh"
	fc_connect a
	fc_send a "/pipe err"
	pipe_output a err
	[ "$OUT" = $'to stdout\nstdout again\n' ]
	[ "$END" = "*** end of /pipe err" ]
	fc_stop_all
	fc_clean_log
}

@test "/pipe: a non-zero exit and a signal are reported" {
	fc_start -o "pipe.exit3=$PROGS/exit3.sh" -o "pipe.die=$PROGS/killself.sh"
	fc_connect a
	fc_send a "/pipe exit3"
	fc_next a '^\[exit3\] about to fail$'
	fc_next a '^\*\*\* end of /pipe exit3: exited with status 3$'
	fc_send a "/pipe die"
	fc_next a '^\[die\] about to die$'
	fc_next a '^\*\*\* end of /pipe die: killed by signal 9$'
	fc_log_has 'info \[[0-9]+\] pipe job [0-9]+ \(exit3\) of client #1 reaped: status 3$'
	fc_log_has 'info \[[0-9]+\] pipe job [0-9]+ \(die\) of client #1 reaped: signal 9$'
	fc_stop_all
	fc_clean_log
}

@test "/pipe: missing, not executable, cannot exec, unknown, none configured" {
	noexec=$BATS_TEST_TMPDIR/noexec
	printf '#!/bin/sh\necho never\n' >"$noexec"
	chmod 644 "$noexec"
	fc_start -o pipe.missing=/nonexistent/forkchat-test/prog \
	    -o "pipe.noexec=$noexec" -o "pipe.bad=$PROGS/badinterp.sh" \
	    -o pipe.cat=/bin/cat
	fc_connect a
	fc_send a "/pipe missing some text"
	fc_next_is a 'ERR /pipe missing failed: its program could not be started (the server'"'"'s log says why)'
	fc_send a "/pipe noexec"
	fc_next a '^ERR /pipe noexec failed: its program could not be started'
	# the reasons, with the paths, are in the log only; one warning each
	fc_log_has "warning \\[[0-9]+\\] client #1: /pipe missing: cannot run /nonexistent/forkchat-test/prog: No such file or directory\$"
	fc_log_lacks "warning .*noexec"	# the second failure of this client
	fc_send a "/pipe bad"
	fc_next a '^\*\*\* end of /pipe bad: could not run it \(status 127\)$'
	fc_send a "/pipe nope text"
	fc_next a '^ERR no pipe program called nope; there are: missing, noexec, bad, cat$'
	fc_send a "/pipe"
	fc_next_is a 'ERR usage: /pipe NAME text|stop - run a configured program on text'
	fc_next_is a 'pipe programs here: missing, noexec, bad, cat'
	# Nothing is left running, and the next job works.
	fc_send a "/pipe cat still fine"
	fc_next a '^\[cat\] still fine$'
	fc_next a '^\*\*\* end of /pipe cat$'
	fc_log_lacks 'started pipe job [0-9]+: (missing|noexec)$'
	fc_log_has 'pipe job [0-9]+ \(bad\) of client #1 reaped: status 127$'
	fc_stop_all
	[ -z "$(fc_unexpected_warnings '/pipe missing: cannot run')" ]
	fc_start
	fc_connect a
	fc_send a "/pipe cat text"
	fc_next a '^ERR no pipe programs are configured here$'
	fc_stop_all
	fc_clean_log
}

@test "/pipe: a hanging job is killed after pipe_timeout and reaped" {
	fc_start -o pipe_timeout=1 -o 'pipe.hang=/bin/sleep 60'
	fc_connect a
	t0=${EPOCHREALTIME/./}
	start_job a 1 sleep hang
	fc_next a '^\*\*\* end of /pipe hang: killed after 1 s \(pipe_timeout\)$'
	t1=${EPOCHREALTIME/./}
	echo "ended after $(((t1 - t0) / 1000)) ms" >&2
	((t1 - t0 >= 800000 && t1 - t0 < 4000000))
	wait_until 5 fc_all_gone "$JOB"
	fc_no_zombies "$WORKER"
	fc_log_has "info \\[[0-9]+\\] pipe job $JOB \\(hang\\) of client #1 reaped: signal 15\$"
	fc_stop_all
	fc_clean_log
}

@test "/pipe: a job that ignores SIGTERM gets SIGKILL a second later" {
	fc_start -o pipe_timeout=1 -o "pipe.stubborn=$PROGS/ignterm.sh"
	fc_connect a
	t0=${EPOCHREALTIME/./}
	start_job a 1 sleep stubborn
	fc_next a '^\*\*\* end of /pipe stubborn: killed after 1 s \(pipe_timeout\)$' 6
	t1=${EPOCHREALTIME/./}
	echo "ended after $(((t1 - t0) / 1000)) ms" >&2
	((t1 - t0 >= 1800000 && t1 - t0 < 5000000))
	wait_until 5 fc_all_gone "$JOB"
	fc_no_zombies "$WORKER"
	fc_log_has "info \\[[0-9]+\\] pipe job $JOB \\(stubborn\\) of client #1 reaped: signal 9\$"
	fc_stop_all
	fc_clean_log
}

@test "/pipe: the timeout kills the job's whole process group" {
	fc_start -o pipe_timeout=1 -o "pipe.family=$PROGS/family.sh"
	fc_connect a
	fc_send a "/pipe family"
	fc_next a '^\[family\] child ([0-9]+)$'
	kid=${BASH_REMATCH[1]}
	[ -e "/proc/$kid" ]
	fc_next a '^\*\*\* end of /pipe family: killed after 1 s \(pipe_timeout\)$'
	wait_until 5 fc_all_gone "$kid"
	fc_no_zombies "$FC_PID"
	# Orphaned by the job, the grandchild was the worker's (a subreaper)
	fc_log_lacks 'reaped orphaned process'
	fc_stop_all
	fc_clean_log
}

@test "/pipe: flooding output is cut at pipe_max_output, the job killed and reaped" {
	fc_start -o pipe_max_output=1000 -o max_line=64 -o pipe.yes=/usr/bin/yes \
	    -o 'pipe.long=/usr/bin/printf %0100d 0'
	fc_connect a
	fc_connect b
	fc_joined a guest2
	fc_send a "/pipe yes"
	pipe_output a yes
	[ "$END" = "*** end of /pipe yes: output cut at 1000 bytes" ]
	# 1000 bytes of "y\n": 500 lines, and nothing else.
	[ "$(grep -c '^y$' <<<"$OUT")" -eq 500 ]
	[ "$(wc -l <<<"$OUT")" -eq 501 ]
	fc_log_has 'info \[[0-9]+\] pipe job [0-9]+ \(yes\) of client #1 reaped: signal 9$'
	# A line longer than max_line is cut, not split.
	fc_send a "/pipe long"
	fc_next a '^\[long\] \(line too long, cut\)$'
	fc_next a '^\*\*\* end of /pipe long$'
	# a was not dropped, and nobody else saw anything.
	fc_quiet_all b guest2 a
	fc_stop_all
	fc_clean_log
}

@test "/pipe: one job at a time; the client keeps chatting while it runs" {
	fc_start -o 'pipe.sleep=/bin/sleep 30' -o pipe.cat=/bin/cat
	fc_connect a
	fc_connect b
	fc_joined a guest2
	start_job a 1 sleep sleep
	fc_send a "/pipe cat second"
	fc_next a '^ERR your last /pipe job is still running; one at a time \(/pipe stop ends it\)$'
	t0=${EPOCHREALTIME/./}
	fc_send a "chatting while it runs"
	fc_next b '^<guest1> chatting while it runs$'
	t1=${EPOCHREALTIME/./}
	((t1 - t0 < 1000000))
	fc_send b "and back"
	fc_next a '^<guest2> and back$'
	# One per client: b runs its own meanwhile.
	fc_send b "/pipe cat b's own"
	fc_next b "^\\[cat\\] b's own\$"
	fc_next b '^\*\*\* end of /pipe cat$'
	[ -e "/proc/$JOB" ]
	fc_quiet_all b guest2 a
	fc_stop_all
	fc_clean_log
}

@test "/pipe: a client kicked or timed out mid-job: job killed and reaped" {
	fc_start -o admin=everyone -o 'pipe.sleep=/bin/sleep 30' -o pipe_timeout=60
	fc_connect a
	for n in d e; do
		fc_connect "$n"
	done
	fc_joined a guest3
	jobs=() workers=()
	for n in d e; do
		id=$(( $(printf '%d' "'$n") - 98 ))
		start_job "$n" "$id" sleep sleep
		jobs+=("$JOB") workers+=("$WORKER")
	done
	fc_send a "/kick guest2"
	fc_expect d '^\*\*\* you were kicked by guest1$'
	fc_eof d
	fc_send a "/timeout guest3 1"
	fc_expect e '^\*\*\* read timeout \(1 s\)'
	fc_eof e
	fc_expect a '^\*\*\* guest3 left \(read timeout after 1 s\)$'
	wait_until 5 fc_all_gone "${jobs[@]}" "${workers[@]}"
	fc_no_zombies "$FC_PID"
	for j in "${jobs[@]}"; do
		fc_log_has "info \\[[0-9]+\\] pipe job $j \\(sleep\\) of client #[23] reaped: signal 9\$"
	done
	fc_stop_all
	fc_clean_log
}

@test "/pipe: a client leaving by itself mid-job (quit, EOF): the job runs to pipe_timeout, is reaped, then goodbye" {
	fc_start -o 'pipe.sleep=/bin/sleep 30' -o pipe_timeout=1
	fc_connect a
	fc_connect b
	fc_connect c
	fc_joined a guest3
	start_job b 2 sleep sleep
	jobs=("$JOB") workers=("$WORKER")
	start_job c 3 sleep sleep
	jobs+=("$JOB") workers+=("$WORKER")
	fc_send b "/quit"
	fc_next b '^\*\*\* end of /pipe sleep: killed after 1 s \(pipe_timeout\)$'
	fc_next b '^\*\*\* goodbye$'
	fc_eof b
	fc_close c
	wait_until 5 fc_all_gone "${jobs[@]}" "${workers[@]}"
	fc_no_zombies "$FC_PID"
	# c's close may come as a reset (a notice unread): killed at once
	for j in "${jobs[@]}"; do
		fc_log_has "info \\[[0-9]+\\] pipe job $j \\(sleep\\) of client #[23] reaped: signal (15|9)\$"
	done
	fc_expect a '^\*\*\* guest2 left \(quit\)$'
	fc_expect a '^\*\*\* guest3 left \(connection (closed|reset)\)$'
	fc_stop_all
	fc_clean_log
}

@test "/pipe: worker kill -9'd mid-job: the job is still reaped, by the master" {
	fc_start -o "pipe.family=$PROGS/family.sh"
	fc_connect a
	fc_connect b
	fc_joined a guest2
	fc_send a "/pipe family"
	fc_next a '^\[family\] child ([0-9]+)$'
	kid=${BASH_REMATCH[1]}
	ps_read a
	ps_job 1
	kill -9 "$WORKER"
	fc_expect b '^\*\*\* guest1 left \(worker died: signal 9\)$'
	wait_until 5 fc_all_gone "$JOB" "$kid" "$WORKER"
	fc_no_zombies "$FC_PID"
	fc_log_has "info \\[[0-9]+\\] reaped pipe job $JOB \\(family\\) of client #1 after its worker died: signal 9\$"
	fc_log_has "info \\[[0-9]+\\] reaped orphaned process $kid\$"
	fc_log_has "warning \\[[0-9]+\\] worker $WORKER of client #1 \\(guest1\\) died: signal 9\$"
	fc_stop_all
	[ -z "$(fc_unexpected_warnings "worker $WORKER of client #1 \\(guest1\\) died: signal 9\$")" ]
}

@test "/ps matches /proc while a job runs" {
	fc_start -o "pipe.family=$PROGS/family.sh"
	fc_connect a
	fc_connect b
	fc_joined a guest2
	fc_send a "/nick alice"
	fc_expect a '^\*\*\* guest1 is now known as alice$'
	fc_expect b '^\*\*\* guest1 is now known as alice$'
	# A job with a child of its own: the tree is three levels deep.
	fc_send a "/pipe family"
	fc_next a '^\[family\] child ([0-9]+)$'
	kid=${BASH_REMATCH[1]}
	ps_read a
	ps_job 1
	wait_until 5 has_comm "$JOB" sleep
	ps_read b
	[ "$PS_END" -eq "${#PS_PID[@]}" ]
	proc_scan
	declare -A role_of=() seen=()
	for i in "${!PS_PID[@]}"; do
		pid=${PS_PID[i]}
		echo "ps: $pid ${PS_PPID[i]} ${PS_ROLE[i]} ${PS_CLIENT[i]} ${PS_NICK[i]} ${PS_STATE[i]} ${PS_PROG[i]}" >&2
		[ -z "${seen[$pid]:-}" ]
		seen[$pid]=1
		# It exists, with that parent and a plausible state.
		[ -n "${PPID_OF[$pid]:-}" ]
		[ "${PS_PPID[i]}" = "${PPID_OF[$pid]}" ]
		[[ ${PS_STATE[i]} =~ ^[RSD]$ ]]
		role_of[$pid]=${PS_ROLE[i]}
		read -r comm <"/proc/$pid/comm"
		case ${PS_ROLE[i]} in
		master)
			[ "$pid" = "$FC_PID" ]
			[ "${PS_CLIENT[i]}" = - ]
			[ "${PS_NICK[i]}" = - ] ;;
		forker)
			[ "$comm" = "forkchatd fork" ]
			[ "${PS_PPID[i]}" = "$FC_PID" ]
			[ "${PS_CLIENT[i]}" = - ] ;;
		spare)
			[ "$comm" = "forkchatd spare" ]
			[ "${PS_PPID[i]}" = "$FC_PID" ]
			[ "${PS_CLIENT[i]}" = - ]
			[ "${PS_NICK[i]}" = - ] ;;
		worker)
			[ "$comm" = "forkchatd ${PS_CLIENT[i]}" ]
			[ "${PS_PPID[i]}" = "$FC_PID" ]
			case ${PS_CLIENT[i]} in
			"#1") [ "${PS_NICK[i]}" = alice ] ;;
			"#2") [ "${PS_NICK[i]}" = guest2 ] ;;
			*) false ;;
			esac ;;
		pipe)
			[ "$comm" = sleep ]
			[ "${PS_CLIENT[i]}" = "#1" ]
			[ "${PS_NICK[i]}" = alice ]
			[ "${PS_PROG[i]}" = family ]
			if [ "$pid" = "$JOB" ]; then
				[ "${PS_PPID[i]}" = "$WORKER" ]
			else
				[ "$pid" = "$kid" ]
				[ "${PS_PPID[i]}" = "$JOB" ]
			fi ;;
		*)
			false ;;
		esac
	done
	# The same processes as the kernel's tree under the master.
	[ "$(printf '%s\n' "${PS_PID[@]}" | sort -n)" = "$(fc_tree "$FC_PID" | sort -n)" ]
	roles=$(printf '%s\n' "${role_of[@]}" | sort | uniq -c | awk '{ printf "%s=%s ", $2, $1 }')
	[ "$roles" = "forker=1 master=1 pipe=2 spare=4 worker=2 " ]
	# Drawn as a tree: the master first, every other line after its
	# parent's, indented one step more, and no line ends in a blank.
	[ "${PS_PID[0]}" = "$FC_PID" ] && [ "${PS_TREE[0]}" = master ]
	declare -A line_of=() depth_of=()
	for i in "${!PS_PID[@]}"; do
		line_of[${PS_PID[i]}]=$i
		tree=${PS_TREE[i]%%[a-z]*}
		depth_of[${PS_PID[i]}]=$((${#tree} / 3))
		((i == 0)) && continue
		[ -n "${line_of[${PS_PPID[i]}]:-}" ]
		((depth_of[${PS_PID[i]}] == depth_of[${PS_PPID[i]}] + 1))
	done
	[ "${depth_of[$JOB]}" -eq 2 ] && [ "${depth_of[$kid]}" -eq 3 ]
	fc_send b "/ps"
	n=0
	while fc_read b && ((n++ < 100)); do
		[[ $FC_LINE != *" " ]]
		[[ $FC_LINE == "*** end of /ps"* ]] && break
	done
	fc_stop_all
	fc_clean_log
}

@test "shutdown during jobs: exit 0, the jobs reaped, nothing left" {
	fc_start -o 'pipe.sleep=/bin/sleep 30' -o "pipe.stubborn=$PROGS/ignterm.sh"
	fc_connect a
	fc_connect b
	start_job a 1 sleep sleep
	ja=$JOB
	start_job b 2 sleep stubborn
	jb=$JOB
	t0=${EPOCHREALTIME/./}
	fc_stop_all
	t1=${EPOCHREALTIME/./}
	echo "stopped in $(((t1 - t0) / 1000)) ms" >&2
	fc_expect a '^\*\*\* server shutting down$'
	fc_eof a
	fc_expect b '^\*\*\* server shutting down$'
	fc_eof b
	fc_all_gone "$ja" "$jb"
	fc_log_has "info \\[[0-9]+\\] pipe job $ja \\(sleep\\) of client #1 reaped: signal 9\$"
	fc_log_has "info \\[[0-9]+\\] pipe job $jb \\(stubborn\\) of client #2 reaped: signal 9\$"
	fc_log_has 'shutdown complete: 6 workers reaped, 0 of them killed$'
	fc_clean_log
}

@test "SIGQUIT during a job: exit 0, the orphaned job reaped too" {
	fc_start -o 'pipe.sleep=/bin/sleep 30'
	fc_connect a
	start_job a 1 sleep sleep
	pids=$(fc_tree "$FC_PID")
	fc_stop QUIT
	[ "$FC_STATUS" -eq 0 ]
	# shellcheck disable=SC2086 # one pid per word
	wait_until 5 fc_all_gone $pids
	fc_log_has "reaped pipe job $JOB \\(sleep\\) of client #1 after its worker died: signal 9\$"
	fc_clean_log
}

@test "as root with no user and pipe programs: a warning that they run as root" {
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	fc_start -o 'pipe.rev=/usr/bin/rev'
	fc_log_has ' warning \[[0-9]+\] running as root with no user configured: pipe programs run as root too \(set user to drop privileges\)$'
	fc_stop_all
	fc_start
	fc_log_has ' notice \[[0-9]+\] running as uid 0, gid 0 \(no user configured\)$'
	fc_log_lacks 'pipe programs run as root'
	fc_stop_clean
}

@test "a job that escapes its group (setsid, double fork): nothing of it is left once it ends" {
	local esc
	fc_start -o "pipe.escape=$PROGS/escape.sh"
	fc_connect a
	fc_send a "/pipe escape x"
	fc_expect a '^\[escape\] escaped [0-9]+$'
	esc=${FC_LINE##* }
	fc_expect a '^\*\*\* end of /pipe escape$'
	# killed and reaped by the worker, a subreaper: no process, no zombie
	wait_until 3 fc_gone "$esc"
	fc_log_has "pipe job escape of client #1 left process $esc running: killed"
	fc_log_lacks 'reaped orphaned process'
	# the worker is free for the next job at once
	fc_send a "/pipe escape y"
	fc_expect a '^\*\*\* end of /pipe escape$'
	fc_stop_clean
}

@test "/pipe stop ends the client's own job; without one it says so" {
	fc_start -o 'pipe.sleep=/bin/sleep 30' -o pipe_timeout=60
	fc_connect a
	fc_send a "/pipe stop"
	fc_next_is a 'ERR you have no /pipe job running'
	start_job a 1 sleep sleep
	fc_send a "/pipe sleep again"
	fc_next_is a 'ERR your last /pipe job is still running; one at a time (/pipe stop ends it)'
	fc_send a "/pipe stop"
	fc_next_is a '*** end of /pipe sleep: stopped'
	wait_until 3 fc_all_gone "$JOB"
	fc_log_has "pipe job $JOB \\(sleep\\) of client #1 reaped: signal 15\$"
	fc_send a "/help pipe"
	fc_next_is a 'usage: /pipe NAME text|stop - run a configured program on text'
	fc_next_is a 'pipe programs here: sleep'
	fc_stop_clean
}
