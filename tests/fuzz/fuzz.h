/*
 * fuzz.h - what every libFuzzer target shares: its entry point, and
 * CHECK(cond, fmt, ...), which names the target (FUZZ_NAME, defined
 * before this header) and the broken property on stderr, then aborts so
 * that libFuzzer keeps the input.
 */
#ifndef FORKCHAT_FUZZ_H
#define FORKCHAT_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define FAIL(...) do {							\
	fprintf(stderr, FUZZ_NAME ": " __VA_ARGS__);			\
	fprintf(stderr, "\n");						\
	abort();							\
} while (0)
#define CHECK(cond, ...) do { if (!(cond)) FAIL(__VA_ARGS__); } while (0)

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#endif
