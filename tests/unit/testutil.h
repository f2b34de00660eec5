/*
 * testutil.h - small helpers the cmocka tests share: a fixed-seed random
 * generator (xorshift64*, independent of libc's rand(), so every run sees
 * the same sequence) and an address from its text. Include after cmocka.h.
 */
#ifndef MXG_TESTUTIL_H
#define MXG_TESTUTIL_H

#include <stdint.h>
#include <string.h>

#include "../../common/addr.h"

static uint64_t rng_state;

static inline void
rng_seed(uint64_t s)
{
	rng_state = s ? s : 0x9e3779b97f4a7c15ull;
}

static inline uint64_t
rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static inline unsigned
rng_below(unsigned n)
{
	return (unsigned)(rng() % n);
}

/* The address written as s; a test that passes a non-address is itself wrong. */
static inline struct addr
A(const char *s)
{
	struct addr a;

	if (!addr_parse(s, strlen(s), &a))
		fail_msg("test bug: '%s' is not an address", s);
	return a;
}

#endif
