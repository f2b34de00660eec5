/*
 * addr.h - IPv4/IPv6 client addresses: parse from log text, print canonically.
 *
 * Canonical text is the dotted quad for IPv4 and RFC 5952 for IPv6 (lower
 * case, no leading zeros, the longest run of two or more zero groups
 * compressed). An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is the IPv4
 * client it names and is stored as IPv4, so one host has one key.
 */
#ifndef MXG_ADDR_H
#define MXG_ADDR_H

#include <endian.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define ADDR_STRLEN 46		/* enough for any canonical form plus NUL */

struct addr {
	uint8_t family;		/* 4 or 6; 0 = none */
	uint8_t b[16];		/* network order; IPv4 uses b[0..3] */
};

/*
 * Parse n bytes at s (not NUL-terminated). Accepts a dotted quad, an IPv6
 * address (with embedded IPv4 tail), and Sendmail's "IPv6:" prefix in any
 * case. Returns 1 and fills *a, or 0 if the text is not an address
 * ("unknown", garbage, zone suffixes, out-of-range parts).
 */
int addr_parse(const char *s, size_t n, struct addr *a);

/* Write the canonical text and a NUL into buf (ADDR_STRLEN); returns length. */
size_t addr_format(const struct addr *a, char *buf);

/* 1 if a is loopback (127/8 or ::1). */
int addr_is_loopback(const struct addr *a);

/*
 * The first plen bits of the 16 address bytes at in, the rest zero, into
 * out (which may be in): the program's one prefix mask (rules, tables,
 * feeds, maps, firewalls and ctl all key prefixes by it). Two 64-bit masks,
 * no loop: the rules engine calls it for every event.
 */
static inline void
addr_mask_bytes(const uint8_t in[16], int plen, uint8_t out[16])
{
	uint64_t hi, lo;

	memcpy(&hi, in, 8);
	memcpy(&lo, in + 8, 8);
	hi = be64toh(hi) & (plen >= 64 ? ~0ull : plen <= 0 ? 0 : ~0ull << (64 - plen));
	lo = be64toh(lo) & (plen >= 128 ? ~0ull : plen <= 64 ? 0 : ~0ull << (128 - plen));
	hi = htobe64(hi);
	lo = htobe64(lo);
	memcpy(out, &hi, 8);
	memcpy(out + 8, &lo, 8);
}

/* 1 if a and b are the same address (of the same family). */
static inline int
addr_equal(const struct addr *a, const struct addr *b)
{
	return a->family == b->family && memcmp(a->b, b->b, a->family == 4 ? 4 : 16) == 0;
}

/* a's host bits (those after plen) cleared. */
static inline void
addr_mask(struct addr *a, int plen)
{
	addr_mask_bytes(a->b, plen, a->b);
}

#endif
