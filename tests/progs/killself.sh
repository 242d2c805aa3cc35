#!/bin/sh
# A pipe program that prints a line and dies of SIGKILL.
echo "about to die"
kill -s KILL $$
