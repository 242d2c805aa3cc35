#!/bin/sh
# A pipe program that answers a little later than the master would: its
# output must still reach a client that has left meanwhile.
read -r line
sleep 1
echo "late $line"
