#!/bin/sh
# slowecho.sh: a pipe job that takes a second: it reads its line, waits,
# then answers "done LINE".
read -r line
sleep 1
echo "done $line"
