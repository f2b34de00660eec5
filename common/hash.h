/*
 * hash.h - keyed hashing of text that attackers choose (SipHash-1-3).
 *
 * Every hash table and every fingerprint over log text (key tables and,
 * through them, correlation tables; the values `distinct` counts) is keyed
 * by a secret 128-bit key drawn once per process, so nobody who writes log
 * lines can predict which strings collide: no crafted chains that turn an
 * O(1) table into a list, no crafted recipients that count as one.
 * Fingerprints are SipHash under it — a keyed PRF made for exactly this
 * (hash flooding); the 1-3 variant (one round per word, three at the end)
 * is what Python and Rust's std use for the same purpose. Key tables draw
 * secret multipliers from it for a strongly universal hash that costs a
 * few multiply-adds (common/keytab.c).
 *
 * The key comes from getrandom(2) at the first call of hash_process_key().
 * MXGUARD_HASH_SEED=HEX (1-32 hex digits) in the environment fixes it, for
 * reproducible tests and benchmarks only: it is announced with a warning,
 * because a known key gives the flooding back. Where hashes are kept
 * across a restart (the engine's windows, parser blocks' long session
 * IDs) the key they were made with is saved with them (see
 * docs/ARCHITECTURE.md, "Keyed hashing").
 */
#ifndef MXG_HASH_H
#define MXG_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct hash_key {
	uint64_t k0, k1;
};

/* The process's key: drawn at the first call, the same for every later one. */
struct hash_key hash_process_key(void);

/* SipHash-c-d of n bytes under key k (the reference algorithm; for tests). */
uint64_t hash_siphash(const struct hash_key *k, int c, int d, const void *p, size_t n);

static inline uint64_t
hash_rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

static inline uint64_t
hash_le64(const unsigned char *p)
{
	uint64_t w;

	memcpy(&w, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	w = __builtin_bswap64(w);
#endif
	return w;
}

#define HASH_SIPROUND(v0, v1, v2, v3) do { \
	v0 += v1; v1 = hash_rotl(v1, 13); v1 ^= v0; v0 = hash_rotl(v0, 32); \
	v2 += v3; v3 = hash_rotl(v3, 16); v3 ^= v2; \
	v0 += v3; v3 = hash_rotl(v3, 21); v3 ^= v0; \
	v2 += v1; v1 = hash_rotl(v1, 17); v1 ^= v2; v2 = hash_rotl(v2, 32); \
} while (0)

/*
 * SipHash-c-d, with `orm` OR-ed into every message byte (0x20 folds ASCII
 * case; 0 is plain SipHash). Always inline, so that c, d and orm are
 * constants at each call site and the rounds unroll: the tables call it
 * for nearly every line.
 */
static inline __attribute__((always_inline)) uint64_t
hash_sip_core(const struct hash_key *k, int c, int d, const void *p, size_t n, uint8_t orm)
{
	const unsigned char *s = p;
	uint64_t v0 = k->k0 ^ 0x736f6d6570736575ull, v1 = k->k1 ^ 0x646f72616e646f6dull;
	uint64_t v2 = k->k0 ^ 0x6c7967656e657261ull, v3 = k->k1 ^ 0x7465646279746573ull;
	uint64_t wm = orm * 0x0101010101010101ull, m;
	size_t i = 0, r;

	for (; i + 8 <= n; i += 8) {
		m = hash_le64(s + i) | wm;
		v3 ^= m;
		for (int j = 0; j < c; j++)
			HASH_SIPROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	r = n - i;
	m = 0;
	switch (r) {	/* the last 0-7 bytes, little-endian */
	case 7: m |= (uint64_t)s[i + 6] << 48; /* FALLTHROUGH */
	case 6: m |= (uint64_t)s[i + 5] << 40; /* FALLTHROUGH */
	case 5: m |= (uint64_t)s[i + 4] << 32; /* FALLTHROUGH */
	case 4: m |= (uint64_t)s[i + 3] << 24; /* FALLTHROUGH */
	case 3: m |= (uint64_t)s[i + 2] << 16; /* FALLTHROUGH */
	case 2: m |= (uint64_t)s[i + 1] << 8; /* FALLTHROUGH */
	case 1: m |= (uint64_t)s[i] | (wm >> (8 * (8 - r))); /* FALLTHROUGH */
	default: break;
	}
	m |= (uint64_t)n << 56;
	v3 ^= m;
	for (int j = 0; j < c; j++)
		HASH_SIPROUND(v0, v1, v2, v3);
	v0 ^= m;
	v2 ^= 0xff;
	for (int j = 0; j < d; j++)
		HASH_SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

/* The 64-bit keyed hash of n bytes. */
static inline uint64_t
hash_bytes(const struct hash_key *k, const void *p, size_t n)
{
	return hash_sip_core(k, 1, 3, p, n, 0);
}

/*
 * The same with ASCII case folded by OR-ing 0x20 into every byte: exact for
 * letters; it merges only a few punctuation pairs ('@' and '`', '[' and
 * '{'), harmless for counting distinct recipients or HELO names.
 */
static inline uint64_t
hash_bytes_fold(const struct hash_key *k, const void *p, size_t n)
{
	return hash_sip_core(k, 1, 3, p, n, 0x20);
}

#endif
