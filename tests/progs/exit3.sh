#!/bin/sh
# A pipe program that prints a line and fails with status 3.
echo "about to fail"
exit 3
