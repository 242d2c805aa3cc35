#!/bin/sh
# A pipe program that ignores SIGTERM and hangs: only SIGKILL ends it.
# The ignored disposition survives exec, so sleep ignores it too.
trap '' TERM
exec sleep 60
