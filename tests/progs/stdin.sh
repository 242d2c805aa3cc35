#!/bin/sh
# A pipe program that reports what it read: each stdin line, then EOF.
while IFS= read -r line; do
	printf 'read: %s\n' "$line"
done
echo "eof"
