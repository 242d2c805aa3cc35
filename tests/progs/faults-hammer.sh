#!/usr/bin/env bash
# faults-hammer.sh PORT SECONDS MAX REGEX: connect to 127.0.0.1:PORT again
# and again, for SECONDS or MAX connections, whichever comes first.  Each
# one must be refused cleanly: one line matching REGEX then end of file
# ("told"), or end of file at once without a line ("closed").  Anything
# else (a greeting, a hang, a failed connect) is "bad", shown on stderr.
# Prints "told N closed N bad N ms N" (ms: how long it hammered).
port=$1 secs=$2 max=$3 re=$4
told=0 closed=0 bad=0
start=${EPOCHREALTIME/./}
end=$((start + secs * 1000000))

# Read one line from fd 3 within 5 s: 0 a line, 1 end of file, 2 a hang.
next_line() {
	local rc=0
	IFS= read -r -t 5 -u 3 line || rc=$?
	((rc == 0)) && return 0
	((rc > 128)) && return 2
	[ -z "$line" ] && return 1
	return 2			# a partial line, then EOF
}

for ((n = 0; n < max && ${EPOCHREALTIME/./} < end; n++)); do
	if ! exec 3<>"/dev/tcp/127.0.0.1/$port"; then
		bad=$((bad + 1))
		continue
	fi
	next_line
	case $? in
	0)
		line=${line%$'\r'}
		first=$line
		if [[ $first =~ $re ]] && { next_line; [ $? -eq 1 ]; }; then
			told=$((told + 1))
		else
			echo "faults-hammer: got '$first', then '$line'" >&2
			bad=$((bad + 1))
		fi
		;;
	1)
		closed=$((closed + 1))
		;;
	*)
		echo "faults-hammer: no line and no EOF within 5 s ('$line')" >&2
		bad=$((bad + 1))
		;;
	esac
	exec 3>&-
done
echo "told $told closed $closed bad $bad ms $(((${EPOCHREALTIME/./} - start) / 1000))"
