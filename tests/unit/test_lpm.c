/*
 * test_lpm.c - the range-based longest-prefix match against a naive one:
 * random nested prefixes of both families, duplicates (the last wins),
 * /0 and host prefixes, the edges of the address space, and the chain of
 * covering prefixes.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "testutil.h"
#include "../../reputation/lpm.h"

static int
covers(const struct lpm_prefix *p, const struct addr *a)
{
	int bits = p->plen;

	if (p->addr.family != a->family)
		return 0;
	for (int i = 0; bits > 0; i++, bits -= 8) {
		uint8_t m = bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));

		if ((p->addr.b[i] & m) != (a->b[i] & m))
			return 0;
	}
	return 1;
}

/* Every prefix covering a (its index), most specific first, the last given among identical ones. */
static int
naive_chain(const struct lpm_prefix *p, size_t n, const struct addr *a, uint32_t *out)
{
	int k = 0;

	for (int len = a->family == 4 ? 32 : 128; len >= 0; len--) {
		uint32_t v = LPM_NONE;

		for (size_t i = 0; i < n; i++)
			if (p[i].plen == len && covers(&p[i], a))
				v = (uint32_t)i;
		if (v != LPM_NONE)
			out[k++] = v;
	}
	return k;
}

static struct addr
random_addr(int family)
{
	struct addr a = { .family = (uint8_t)family };

	for (int i = 0; i < 16; i++)
		a.b[i] = i < (family == 4 ? 4 : 16) ? (uint8_t)rng() : 0;
	/* A small space, so that prefixes nest and addresses hit them. */
	if (family == 4)
		a.b[0] = (uint8_t)(198 + rng() % 3);
	else
		a.b[0] = 0x20, a.b[1] = 0x01, a.b[2] = 0x0d, a.b[3] = (uint8_t)(0xb8 + rng() % 2);
	return a;
}

/* Clear the host bits: prefixes as callers give them. */
static void
clear_host(struct addr *a, int plen)
{
	for (int i = 0; i < 16; i++) {
		int keep = plen - 8 * i;

		a->b[i] &= keep >= 8 ? 0xff : keep <= 0 ? 0 : (uint8_t)(0xff << (8 - keep));
	}
}

static void
check_against_naive(const struct lpm_prefix *p, size_t n, int lookups)
{
	struct lpm *t = lpm_build(p, n);
	uint32_t got[130], want[130];

	for (int i = 0; i < lookups; i++) {
		int fam = rng() % 2 ? 4 : 6;
		struct addr a = i % 3 == 0 && n > 0 ? p[rng() % n].addr : random_addr(fam);
		int ng, nw;

		if (i % 3 == 0 && n > 0) {	/* near a prefix: flip a low bit or two */
			int last = a.family == 4 ? 3 : 15;

			a.b[last] ^= (uint8_t)(rng() % 4);
		} else if (i % 3 == 1 && rng() % 4 == 0) {	/* anywhere: outside the block the index covers */
			for (int k = 0; k < 16; k++)
				a.b[k] = k < (a.family == 4 ? 4 : 16) ? (uint8_t)rng() : 0;
		}
		nw = naive_chain(p, n, &a, want);
		ng = lpm_lookup_chain(t, &a, got, 130);
		if (ng != nw)
			fail_msg("lookup %d: %d covering prefixes, naive %d", i, ng, nw);
		for (int k = 0; k < nw; k++)
			if (got[k] != want[k])
				fail_msg("lookup %d: prefix %d of the chain is %u, naive %u", i, k, got[k], want[k]);
		assert_int_equal(lpm_lookup(t, &a), nw > 0 ? want[0] : LPM_NONE);
		{
			uint32_t tag;

			assert_int_equal(lpm_lookup_tag(t, &a, &tag), nw > 0 ? want[0] : LPM_NONE);
			assert_int_equal(tag, nw > 0 ? p[want[0]].tag : 0);
		}
	}
	lpm_free(t);
}

static void
test_random_nested(void **state)
{
	(void)state;
	rng_seed(7);
	for (int round = 0; round < 20; round++) {
		size_t n = 1 + rng() % 300;
		struct lpm_prefix *p = calloc(n, sizeof(*p));

		assert_non_null(p);
		for (size_t i = 0; i < n; i++) {
			int fam = rng() % 2 ? 4 : 6, width = fam == 4 ? 32 : 128;

			p[i].addr = random_addr(fam);
			p[i].plen = (uint8_t)(fam == 4 ? 8 + rng() % 25 : 16 + rng() % 113);
			if (rng() % 10 == 0)
				p[i].plen = (uint8_t)width;
			clear_host(&p[i].addr, p[i].plen);
			p[i].tag = (uint32_t)rng() | 1;
			if (i > 0 && rng() % 8 == 0) {	/* a duplicate of an earlier prefix */
				size_t j = rng() % i;

				p[i].addr = p[j].addr;
				p[i].plen = p[j].plen;
			}
		}
		check_against_naive(p, n, 3000);
		free(p);
	}
}

static struct lpm_prefix
P(const char *text, int plen)
{
	struct lpm_prefix p = { .plen = (uint8_t)plen };

	assert_true(addr_parse(text, strlen(text), &p.addr));
	return p;
}

static uint32_t
at(const struct lpm *t, const char *text)
{
	struct addr a;

	assert_true(addr_parse(text, strlen(text), &a));
	return lpm_lookup(t, &a);
}

static void
test_edges(void **state)
{
	/* Index:   0                  1                          2                  3 */
	struct lpm_prefix p[] = {
		P("0.0.0.0", 0), P("255.255.255.255", 32), P("0.0.0.0", 32), P("128.0.0.0", 1),
		P("::", 0), P("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 128), P("::", 128),
		P("8000::", 1), P("2001:db8::", 32), P("2001:db8::", 32),
	};	/* 4 to 9 */
	struct lpm *t = lpm_build(p, sizeof(p) / sizeof(p[0]));
	uint32_t chain[4];

	(void)state;
	assert_int_equal(at(t, "0.0.0.0"), 2);
	assert_int_equal(at(t, "0.0.0.1"), 0);
	assert_int_equal(at(t, "127.255.255.255"), 0);
	assert_int_equal(at(t, "128.0.0.0"), 3);
	assert_int_equal(at(t, "255.255.255.254"), 3);
	assert_int_equal(at(t, "255.255.255.255"), 1);
	assert_int_equal(at(t, "::"), 6);
	assert_int_equal(at(t, "::1"), 4);
	assert_int_equal(at(t, "2001:db8::1"), 9);	/* the later of two identical prefixes */
	assert_int_equal(at(t, "2001:db9::1"), 4);
	assert_int_equal(at(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe"), 7);
	assert_int_equal(at(t, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), 5);
	{
		struct addr a;

		assert_true(addr_parse("255.255.255.255", 15, &a));
		assert_int_equal(lpm_lookup_chain(t, &a, chain, 4), 3);
		assert_int_equal(chain[0], 1);
		assert_int_equal(chain[1], 3);
		assert_int_equal(chain[2], 0);
		assert_int_equal(lpm_parent(t, 1), 3);
		assert_int_equal(lpm_parent(t, 0), LPM_NONE);
		assert_int_equal(lpm_parent(t, 8), LPM_NONE);	/* overridden by its duplicate 9 */
	}
	assert_int_equal(lpm_size(t), 9);
	lpm_free(t);
}

static void
test_empty_and_one_family(void **state)
{
	struct lpm_prefix p = P("198.51.100.0", 24);
	struct lpm *t = lpm_build(NULL, 0);

	(void)state;
	assert_int_equal(at(t, "198.51.100.1"), LPM_NONE);
	assert_int_equal(at(t, "2001:db8::1"), LPM_NONE);
	lpm_free(t);
	t = lpm_build(&p, 1);
	assert_int_equal(at(t, "198.51.100.255"), 0);
	assert_int_equal(at(t, "198.51.101.0"), LPM_NONE);
	assert_int_equal(at(t, "198.51.99.255"), LPM_NONE);
	assert_int_equal(at(t, "2001:db8::1"), LPM_NONE);
	lpm_free(t);
	{
		/* One host per family: the block the index covers is a single address. */
		struct lpm_prefix h[] = { P("198.51.100.2", 32), P("2001:db8:1::2", 128) };

		t = lpm_build(h, 2);
		assert_int_equal(at(t, "198.51.100.2"), 0);
		assert_int_equal(at(t, "198.51.100.3"), LPM_NONE);
		assert_int_equal(at(t, "198.51.100.1"), LPM_NONE);
		assert_int_equal(at(t, "2001:db8:1::2"), 1);
		assert_int_equal(at(t, "2001:db8:1::3"), LPM_NONE);
		assert_int_equal(at(t, "::"), LPM_NONE);
		assert_int_equal(at(t, "ffff::"), LPM_NONE);
		lpm_free(t);
	}
}

/* Many prefixes in one 1/65536 slice and across slice borders: the binary search's bounds. */
static void
test_dense_slice(void **state)
{
	size_t n = 2000;
	struct lpm_prefix *p = calloc(n, sizeof(*p));

	(void)state;
	assert_non_null(p);
	rng_seed(11);
	for (size_t i = 0; i < n; i++) {
		p[i].addr.family = 4;
		p[i].addr.b[0] = 203;
		p[i].addr.b[1] = (uint8_t)(rng() % 2 ? 0 : 1);	/* 203.0/16 and 203.1/16 */
		p[i].addr.b[2] = (uint8_t)rng();
		p[i].addr.b[3] = (uint8_t)rng();
		p[i].plen = (uint8_t)(16 + rng() % 17);
		clear_host(&p[i].addr, p[i].plen);
	}
	{
		struct lpm *t = lpm_build(p, n);
		uint32_t want[130];

		for (uint32_t x = 0; x < 2 * 65536; x += 53) {
			struct addr a = { .family = 4, .b = { 203, (uint8_t)(x >> 16), (uint8_t)(x >> 8), (uint8_t)x } };
			int nw = naive_chain(p, n, &a, want);

			if (lpm_lookup(t, &a) != (nw > 0 ? want[0] : LPM_NONE))
				fail_msg("203.%u.%u.%u", x >> 16, (x >> 8) & 255, x & 255);
		}
		lpm_free(t);
	}
	free(p);
}

/*
 * IPv6 prefixes all inside one /64: the index slices the last 64 bits
 * (the lookup's slow path: the first 64 bits alone do not name a slice),
 * and slices hold more ranges than are counted without a branch.
 */
static void
test_dense_slice6(void **state)
{
	size_t n = 1500;
	struct lpm_prefix *p = calloc(n, sizeof(*p));
	static const uint8_t net[8] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1 };	/* 2001:db8:0:1::/64 */

	(void)state;
	assert_non_null(p);
	rng_seed(12);
	for (size_t i = 0; i < n; i++) {
		p[i].addr.family = 6;
		memcpy(p[i].addr.b, net, 8);
		for (int k = 8; k < 16; k++)
			p[i].addr.b[k] = (uint8_t)(k < 10 ? rng() % 2 : rng());
		p[i].plen = (uint8_t)(64 + rng() % 65);
		p[i].tag = (uint32_t)i * 7;
		clear_host(&p[i].addr, p[i].plen);
	}
	{
		struct lpm *t = lpm_build(p, n);
		uint32_t want[130], tag;

		for (int i = 0; i < 5000; i++) {
			struct addr a = p[rng() % n].addr;
			int nw;

			if (i % 2)
				for (int k = 8 + (int)(rng() % 8); k < 16; k++)
					a.b[k] = (uint8_t)rng();
			if (i % 97 == 0)	/* outside the /64, below or above it */
				a.b[7] = (uint8_t)(rng() % 2 ? 0 : 2);
			nw = naive_chain(p, n, &a, want);
			if (lpm_lookup_tag(t, &a, &tag) != (nw > 0 ? want[0] : LPM_NONE) || tag != (nw > 0 ? p[want[0]].tag : 0))
				fail_msg("lookup %d: %u, naive %u", i, lpm_lookup(t, &a), nw > 0 ? want[0] : LPM_NONE);
		}
		lpm_free(t);
	}
	free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_nested),
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_empty_and_one_family),
		cmocka_unit_test(test_dense_slice),
		cmocka_unit_test(test_dense_slice6),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
