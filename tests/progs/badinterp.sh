#!/nonexistent/forkchat-test/interpreter
# shellcheck shell=sh
# Executable, but execve() fails: its interpreter does not exist.
exit 0
