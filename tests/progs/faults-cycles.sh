#!/usr/bin/env bash
# faults-cycles.sh PORT COUNT: open a connection to 127.0.0.1:PORT and
# close it again, COUNT times, as fast as bash can, reading nothing.
# Exits 1 (naming the cycle) if a connection cannot be opened.
port=$1 count=$2
for ((i = 1; i <= count; i++)); do
	exec 3<>"/dev/tcp/127.0.0.1/$port" || {
		echo "faults-cycles: connection $i of $count failed" >&2
		exit 1
	}
	exec 3>&-
done
