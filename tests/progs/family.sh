#!/bin/sh
# A pipe program that starts a child of its own and hangs: a timeout
# must kill the whole process group, the grandchild included.
sleep 61 &
echo "child $!"
exec sleep 60
