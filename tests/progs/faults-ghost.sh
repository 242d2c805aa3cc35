#!/usr/bin/env bash
# faults-ghost.sh PORT: a peer that vanishes without a FIN.  Connects to
# 127.0.0.1:PORT, prints the greeting, then stops itself (SIGSTOP) with
# the socket still open: the kernel keeps the connection up and sends no
# FIN, but nothing is ever read or written again.  The test kills it.
exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
IFS= read -r -t 5 -u 3 line || exit 1
printf '%s\n' "$line"
kill -STOP $$
