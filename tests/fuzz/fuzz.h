/* SPDX-License-Identifier: MIT */
/*
 * What every libFuzzer harness of tests/fuzz shares: the entry points
 * libFuzzer calls (declared here because the build warns about functions
 * without a prototype), the check that turns a broken invariant into a
 * crash libFuzzer saves the input of, and a small reader that takes the
 * harness's arguments out of the fuzz input front to back.
 *
 * A harness asserts with FUZZ_CHECK, never with assert(): the message
 * names the invariant and the file and line, then abort() makes libFuzzer
 * write the input to its artifact prefix (tests/fuzz/README.md).
 */
#ifndef XTEL_TESTS_FUZZ_H
#define XTEL_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define FUZZ_CHECK(cond, ...)						\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "%s:%d: invariant failed: %s: ",	\
				__FILE__, __LINE__, #cond);		\
			fprintf(stderr, __VA_ARGS__);			\
			fputc('\n', stderr);				\
			abort();					\
		}							\
	} while (0)

/*
 * The fuzz input as a stream of arguments. Reading past the end gives
 * zeros, so every input, however short, is a complete program of the
 * harness; fuzz_left says whether real bytes remain.
 */
struct fuzz_in {
	const uint8_t *p;
	size_t n;
};

static inline size_t fuzz_left(const struct fuzz_in *in)
{
	return in->n;
}

static inline uint8_t fuzz_u8(struct fuzz_in *in)
{
	uint8_t v = 0;

	if (in->n) {
		v = *in->p++;
		in->n--;
	}
	return v;
}

/* Little-endian, so the low byte (what a modulo mostly keeps) comes first. */
static inline uint16_t fuzz_u16(struct fuzz_in *in)
{
	uint16_t lo = fuzz_u8(in);

	return (uint16_t)(lo | fuzz_u8(in) << 8);
}

static inline uint32_t fuzz_u32(struct fuzz_in *in)
{
	uint32_t lo = fuzz_u16(in);

	return lo | (uint32_t)fuzz_u16(in) << 16;
}

static inline uint64_t fuzz_u64(struct fuzz_in *in)
{
	uint64_t lo = fuzz_u32(in);

	return lo | (uint64_t)fuzz_u32(in) << 32;
}

/*
 * Up to want bytes of the input, in place: returns how many there were
 * (fewer at the end) and points *out at them.
 */
static inline size_t fuzz_bytes(struct fuzz_in *in, size_t want,
				const uint8_t **out)
{
	size_t n = want < in->n ? want : in->n;

	*out = in->p;
	in->p += n;
	in->n -= n;
	return n;
}

#endif /* XTEL_TESTS_FUZZ_H */
