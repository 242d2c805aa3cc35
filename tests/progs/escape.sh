#!/bin/sh
# A pipe program that escapes its process group and lives on: a child in
# a session of its own (setsid) starts a grandchild and exits, so the
# grandchild, double-forked away, is nobody's child; then this program
# exits too.  Nothing of it may be left once the job has ended.
setsid /bin/sh -c 'sleep 300 </dev/null >/dev/null 2>&1 & echo "escaped $!"'
echo "parent $$"
