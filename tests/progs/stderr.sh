#!/bin/sh
# A pipe program that writes to both stdout and stderr: only stdout may
# come back to the client (the server sends stderr to /dev/null).
echo "to stdout"
echo "to stderr" >&2
echo "stdout again"
