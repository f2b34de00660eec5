/*
 * lpm.h - longest-prefix match over a fixed set of prefixes (IPv4 and IPv6).
 *
 * Built once from a list, then read-only: a reputation feed of a million
 * prefixes is turned into sorted, disjoint address ranges, each labelled
 * with the most specific prefix that covers it. A lookup is one probe of
 * a 65,536-entry index on the address's first 16 bits and a short binary
 * search inside that slice: no per-prefix-length probing, no pointers to
 * chase. A new version of a feed is a new lpm, swapped in whole.
 */
#ifndef MXG_LPM_H
#define MXG_LPM_H

#include <stddef.h>
#include <stdint.h>

#include "../common/addr.h"

#define LPM_NONE UINT32_MAX

struct lpm_prefix {
	struct addr addr;	/* host bits past plen are ignored */
	uint8_t plen;		/* 0..32 (IPv4), 0..128 (IPv6) */
	uint32_t tag;		/* 32 bits of the caller's, kept next to the ranges: a lookup hands them back */
};

struct lpm;

/*
 * An index over n prefixes; lookups answer with a prefix's place in p
 * (the caller keeps what goes with it: a lookup touches no table of
 * values). Among identical prefixes the one given last wins (a feed's
 * later line). Prefixes with a bad family or length are skipped (the
 * caller validated them).
 */
struct lpm *lpm_build(const struct lpm_prefix *p, size_t n);
void lpm_free(struct lpm *t);

/* The index of the most specific prefix covering a, or LPM_NONE. */
uint32_t lpm_lookup(const struct lpm *t, const struct addr *a);
/*
 * The same, with that prefix's tag in *tag (0 if none covers a): what the
 * caller needs most often, without touching a table of its own (a cache
 * miss fewer per lookup).
 */
uint32_t lpm_lookup_tag(const struct lpm *t, const struct addr *a, uint32_t *tag);

/* The next less specific prefix around prefix i (its index), or LPM_NONE. */
uint32_t lpm_parent(const struct lpm *t, uint32_t i);

/*
 * Every prefix covering a, most specific first: their indexes into out (at
 * most max); returns how many cover a (may exceed max). For entries that
 * can expire: the next one down the chain takes over.
 */
int lpm_lookup_chain(const struct lpm *t, const struct addr *a, uint32_t *out, int max);

/* Prefixes kept (after duplicates), and the bytes the index takes. */
size_t lpm_size(const struct lpm *t);
size_t lpm_memory(const struct lpm *t);

#endif
