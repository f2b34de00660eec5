/*
 * test_addr.c - addr_parse / addr_format / addr_is_loopback against
 * glibc's inet_pton / inet_ntop and hand-written RFC 5952 expectations.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <cmocka.h>

#include "../../common/addr.h"
#include "testutil.h"

/* addr_parse on an exact-size heap copy: no NUL, any over-read hits ASan. */
static int
parse_exact(const char *s, size_t n, struct addr *a)
{
	char *buf = malloc(n ? n : 1);
	int r;

	assert_non_null(buf);
	memcpy(buf, s, n);
	r = addr_parse(buf, n, a);
	free(buf);
	return r;
}

static int
parse_str(const char *s, struct addr *a)
{
	return parse_exact(s, strlen(s), a);
}

/*
 * Reference result through inet_pton: returns 1 and fills *a like the
 * header describes (IPv4-mapped -> family 4), or 0.
 */
static int
ref_parse(const char *s, struct addr *a)
{
	char tmp[128];
	const char *p = s;

	memset(a, 0, sizeof(*a));
	if (strlen(s) >= sizeof(tmp))
		return 0;
	if (strncasecmp(s, "IPv6:", 5) == 0) {
		p = s + 5;
		if (strchr(p, ':') == NULL)
			return 0;
	}
	snprintf(tmp, sizeof(tmp), "%s", p);
	if (strchr(tmp, ':') == NULL) {
		if (inet_pton(AF_INET, tmp, a->b) != 1)
			return 0;
		a->family = 4;
		return 1;
	}
	if (inet_pton(AF_INET6, tmp, a->b) != 1)
		return 0;
	static const uint8_t mapped[12] = { [10] = 0xff, [11] = 0xff };
	if (memcmp(a->b, mapped, 12) == 0) {
		memmove(a->b, a->b + 12, 4);
		memset(a->b + 4, 0, 12);
		a->family = 4;
	} else
		a->family = 6;
	return 1;
}

/* ------------------------------------------------------------------ */
/* Hand-written expectations */

struct tcase {
	const char *in;
	int ok;
	int family;
	const char *canon;	/* expected addr_format output */
};

static const struct tcase cases[] = {
	/* IPv4 */
	{ "0.0.0.0", 1, 4, "0.0.0.0" },
	{ "255.255.255.255", 1, 4, "255.255.255.255" },
	{ "192.0.2.1", 1, 4, "192.0.2.1" },
	{ "10.0.0.10", 1, 4, "10.0.0.10" },
	{ "100.20.3.0", 1, 4, "100.20.3.0" },
	{ "256.1.1.1", 0, 0, NULL },
	{ "1.256.1.1", 0, 0, NULL },
	{ "1.1.1.256", 0, 0, NULL },
	{ "1.2.3.1000", 0, 0, NULL },
	{ "01.2.3.4", 0, 0, NULL },
	{ "1.2.3.04", 0, 0, NULL },
	{ "1.00.3.4", 0, 0, NULL },
	{ "1.2.3", 0, 0, NULL },
	{ "1.2.3.4.5", 0, 0, NULL },
	{ "1.2.3.4.", 0, 0, NULL },
	{ ".1.2.3.4", 0, 0, NULL },
	{ "1..2.3", 0, 0, NULL },
	{ "1.2.3.4x", 0, 0, NULL },
	{ "1.2.3.4 ", 0, 0, NULL },
	{ " 1.2.3.4", 0, 0, NULL },
	{ "1.2.3.-4", 0, 0, NULL },
	{ "1.2.3.+4", 0, 0, NULL },
	{ "0x1.2.3.4", 0, 0, NULL },
	{ "unknown", 0, 0, NULL },
	{ "localhost", 0, 0, NULL },
	{ "", 0, 0, NULL },
	{ ".", 0, 0, NULL },
	{ "...", 0, 0, NULL },
	/* IPv6, RFC 5952 canonical output */
	{ "::", 1, 6, "::" },
	{ "::1", 1, 6, "::1" },
	{ "1::", 1, 6, "1::" },
	{ "0:0:0:0:0:0:0:0", 1, 6, "::" },
	{ "0:0:0:0:0:0:0:1", 1, 6, "::1" },
	{ "1:0:0:0:0:0:0:0", 1, 6, "1::" },
	{ "2001:db8::1", 1, 6, "2001:db8::1" },
	{ "2001:0db8:0000:0000:0000:0000:0000:0001", 1, 6, "2001:db8::1" },
	{ "2001:DB8::ABCD", 1, 6, "2001:db8::abcd" },
	{ "2001:db8:0:1:1:1:1:1", 1, 6, "2001:db8:0:1:1:1:1:1" },
	{ "2001:db8::1:1:1:1:1", 1, 6, "2001:db8:0:1:1:1:1:1" },
	{ "2001:db8:0:0:1:0:0:1", 1, 6, "2001:db8::1:0:0:1" },	/* tie: first */
	{ "2001:0:0:1:0:0:0:1", 1, 6, "2001:0:0:1::1" },	/* longest wins */
	{ "1:0:0:2:0:0:0:0", 1, 6, "1:0:0:2::" },
	{ "0:0:1:0:0:0:1:0", 1, 6, "0:0:1::1:0" },
	{ "0:0:1:2:3:4:0:0", 1, 6, "::1:2:3:4:0:0" },
	{ "1:2:3:4:5:6:7:8", 1, 6, "1:2:3:4:5:6:7:8" },
	{ "1:2:3:4:5:6:7::", 1, 6, "1:2:3:4:5:6:7:0" },
	{ "::2:3:4:5:6:7:8", 1, 6, "0:2:3:4:5:6:7:8" },
	{ "fe80::0001", 1, 6, "fe80::1" },
	{ "FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF", 1, 6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" },
	{ "2001:db8:7a10:44c2:9e3:1ff:fe21:b07", 1, 6, "2001:db8:7a10:44c2:9e3:1ff:fe21:b07" },
	{ "2001:db8:4001:c03::1b", 1, 6, "2001:db8:4001:c03::1b" },
	{ "0010:0100:1000:000a::", 1, 6, "10:100:1000:a::" },
	/* embedded IPv4 */
	{ "::ffff:1.2.3.4", 1, 4, "1.2.3.4" },
	{ "::FFFF:192.0.2.1", 1, 4, "192.0.2.1" },
	{ "0:0:0:0:0:ffff:192.0.2.1", 1, 4, "192.0.2.1" },
	{ "::ffff:c000:0201", 1, 4, "192.0.2.1" },
	{ "IPv6:::ffff:127.0.0.1", 1, 4, "127.0.0.1" },
	{ "64:ff9b::1.2.3.4", 1, 6, "64:ff9b::102:304" },
	{ "1:2:3:4:5:6:1.2.3.4", 1, 6, "1:2:3:4:5:6:102:304" },
	{ "::ffff:1.2.3", 0, 0, NULL },
	{ "::ffff:01.2.3.4", 0, 0, NULL },
	{ "::ffff:1.2.3.256", 0, 0, NULL },
	{ "::ffff:1.2.3.4:5", 0, 0, NULL },
	{ "::1.2.3.4:1", 0, 0, NULL },
	{ "1:2:3:4:5:6:7:1.2.3.4", 0, 0, NULL },
	{ "1:2:3:4:5:6::1.2.3.4", 0, 0, NULL },
	{ "::ffff:a.2.3.4", 0, 0, NULL },
	/* Sendmail prefix */
	{ "IPv6:2001:DB8::25", 1, 6, "2001:db8::25" },
	{ "ipv6:2001:db8::25", 1, 6, "2001:db8::25" },
	{ "IPV6:2001:db8::25", 1, 6, "2001:db8::25" },
	{ "iPv6:::1", 1, 6, "::1" },
	{ "IPv6:", 0, 0, NULL },
	{ "IPv6:1.2.3.4", 0, 0, NULL },
	{ "IPv6:unknown", 0, 0, NULL },
	{ "IPv4:1.2.3.4", 0, 0, NULL },
	/* invalid IPv6 */
	{ ":", 0, 0, NULL },
	{ ":::", 0, 0, NULL },
	{ "::::", 0, 0, NULL },
	{ "1:::2", 0, 0, NULL },
	{ "1::2::3", 0, 0, NULL },
	{ "::1::", 0, 0, NULL },
	{ "1:2:3:4:5:6:7:8:9", 0, 0, NULL },
	{ "1:2:3:4:5:6:7:8::", 0, 0, NULL },
	{ "::1:2:3:4:5:6:7:8", 0, 0, NULL },
	{ "1::2:3:4:5:6:7:8", 0, 0, NULL },
	{ "1:2:3:4:5:6:7", 0, 0, NULL },
	{ "12345::1", 0, 0, NULL },
	{ "2001:db8::12345", 0, 0, NULL },
	{ "2001:db8::1%eth0", 0, 0, NULL },
	{ "fe80::1%1", 0, 0, NULL },
	{ "2001:db8::1:", 0, 0, NULL },
	{ "1:2:3:4:5:6:7:8:", 0, 0, NULL },
	{ ":1:2:3:4:5:6:7", 0, 0, NULL },
	{ ":1::", 0, 0, NULL },
	{ "2001:db8::g", 0, 0, NULL },
	{ "2001:db8:: 1", 0, 0, NULL },
	{ "[2001:db8::1]", 0, 0, NULL },
	{ "2001:db8::1/64", 0, 0, NULL },
	{ "-1::", 0, 0, NULL },
};

static void
test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct tcase *tc = &cases[i];
		struct addr a, r;
		char buf[ADDR_STRLEN];
		int ok = parse_str(tc->in, &a);

		if (ok != tc->ok)
			fail_msg("addr_parse(\"%s\") = %d, want %d", tc->in, ok, tc->ok);
		/* the hand-written table must agree with inet_pton too */
		if (ref_parse(tc->in, &r) != tc->ok)
			fail_msg("table entry \"%s\" disagrees with inet_pton", tc->in);
		if (!ok)
			continue;
		if (a.family != tc->family)
			fail_msg("\"%s\": family %d, want %d", tc->in, a.family, tc->family);
		if (memcmp(a.b, r.b, 16) != 0 || a.family != r.family)
			fail_msg("\"%s\": bytes differ from inet_pton", tc->in);
		size_t len = addr_format(&a, buf);
		if (strcmp(buf, tc->canon) != 0)
			fail_msg("\"%s\": formatted \"%s\", want \"%s\"", tc->in, buf, tc->canon);
		assert_int_equal(len, strlen(tc->canon));
	}
}

/* A failed parse leaves family 0 (callers test family). */
static void
test_reject_clears(void **state)
{
	struct addr a;

	(void)state;
	memset(&a, 0xaa, sizeof(a));
	assert_int_equal(parse_str("unknown", &a), 0);
	assert_int_equal(a.family, 0);
	memset(&a, 0xaa, sizeof(a));
	assert_int_equal(parse_str("", &a), 0);
	assert_int_equal(a.family, 0);
	memset(&a, 0xaa, sizeof(a));
	assert_int_equal(parse_str("1::2::3", &a), 0);
	assert_int_equal(a.family, 0);
}

/* IPv4 stored in b[0..3], the rest zero. */
static void
test_v4_layout(void **state)
{
	struct addr a;
	static const uint8_t want[16] = { 198, 51, 100, 23 };

	(void)state;
	assert_int_equal(parse_str("198.51.100.23", &a), 1);
	assert_int_equal(a.family, 4);
	assert_memory_equal(a.b, want, 16);
	assert_int_equal(parse_str("::ffff:198.51.100.23", &a), 1);
	assert_int_equal(a.family, 4);
	assert_memory_equal(a.b, want, 16);
}

/* The length bounds the text: bytes after n must be ignored. */
static void
test_not_nul_terminated(void **state)
{
	struct addr a;
	char buf[ADDR_STRLEN];
	static const char v4[] = "192.0.2.123";
	static const char v6[] = "2001:db8::1234";

	(void)state;
	assert_int_equal(addr_parse(v4, 10, &a), 1);	/* "192.0.2.12" */
	addr_format(&a, buf);
	assert_string_equal(buf, "192.0.2.12");
	assert_int_equal(addr_parse(v4, 9, &a), 1);	/* "192.0.2.1" */
	addr_format(&a, buf);
	assert_string_equal(buf, "192.0.2.1");
	assert_int_equal(addr_parse(v4, 8, &a), 0);	/* "192.0.2." */
	assert_int_equal(addr_parse(v6, 11, &a), 1);	/* "2001:db8::1" */
	addr_format(&a, buf);
	assert_string_equal(buf, "2001:db8::1");
	assert_int_equal(addr_parse(v6, 10, &a), 1);	/* "2001:db8::" */
	addr_format(&a, buf);
	assert_string_equal(buf, "2001:db8::");
	assert_int_equal(addr_parse(v6, 9, &a), 0);	/* "2001:db8:" */

	/* an address followed by log text, e.g. "[1.2.3.4]:25" */
	static const char line[] = "1.2.3.4]:25";
	assert_int_equal(addr_parse(line, 7, &a), 1);
	addr_format(&a, buf);
	assert_string_equal(buf, "1.2.3.4");
	static const char line6[] = "2001:db8:4001:c03::1b]:52904";
	assert_int_equal(addr_parse(line6, 21, &a), 1);
	addr_format(&a, buf);
	assert_string_equal(buf, "2001:db8:4001:c03::1b");

	/* exact-size heap buffers for every length of a long address */
	static const char full[] = "IPv6:ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255";
	for (size_t n = 0; n <= strlen(full); n++)
		(void)parse_exact(full, n, &a);
	assert_int_equal(parse_exact(full, strlen(full), &a), 1);
	addr_format(&a, buf);
	assert_string_equal(buf, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	/* a huge length must not be a problem either */
	char big[300];
	memset(big, '1', sizeof(big));
	assert_int_equal(parse_exact(big, sizeof(big), &a), 0);
}

static void
test_loopback(void **state)
{
	struct addr a;

	(void)state;
	assert_int_equal(parse_str("127.0.0.1", &a), 1);
	assert_true(addr_is_loopback(&a));
	assert_int_equal(parse_str("127.255.255.254", &a), 1);
	assert_true(addr_is_loopback(&a));
	assert_int_equal(parse_str("128.0.0.1", &a), 1);
	assert_false(addr_is_loopback(&a));
	assert_int_equal(parse_str("126.255.255.255", &a), 1);
	assert_false(addr_is_loopback(&a));
	assert_int_equal(parse_str("::1", &a), 1);
	assert_true(addr_is_loopback(&a));
	assert_int_equal(parse_str("IPv6:::1", &a), 1);
	assert_true(addr_is_loopback(&a));
	assert_int_equal(parse_str("::ffff:127.0.0.1", &a), 1);
	assert_true(addr_is_loopback(&a));
	assert_int_equal(parse_str("::2", &a), 1);
	assert_false(addr_is_loopback(&a));
	assert_int_equal(parse_str("::", &a), 1);
	assert_false(addr_is_loopback(&a));
	assert_int_equal(parse_str("1::1", &a), 1);
	assert_false(addr_is_loopback(&a));
	assert_int_equal(parse_str("::1:0", &a), 1);
	assert_false(addr_is_loopback(&a));
	memset(&a, 0, sizeof(a));
	assert_false(addr_is_loopback(&a));
	a.b[0] = 127;	/* family 0: never loopback */
	assert_false(addr_is_loopback(&a));
}

static void
test_format_v4_all_octets(void **state)
{
	struct addr a;
	char buf[ADDR_STRLEN], ref[INET_ADDRSTRLEN];

	(void)state;
	for (unsigned v = 0; v < 256; v++) {
		memset(&a, 0, sizeof(a));
		a.family = 4;
		a.b[0] = (uint8_t)v;
		a.b[1] = (uint8_t)(255 - v);
		a.b[2] = (uint8_t)(v * 7);
		a.b[3] = (uint8_t)(v ^ 0x5a);
		assert_non_null(inet_ntop(AF_INET, a.b, ref, sizeof(ref)));
		assert_int_equal(addr_format(&a, buf), strlen(ref));
		assert_string_equal(buf, ref);
	}
}

/* 10000 random IPv6 addresses with injected zero runs: format == inet_ntop, parse back. */
static void
test_random_roundtrip_v6(void **state)
{
	int checked = 0;

	(void)state;
	rng_seed(0x6d786775617264ull);
	for (int iter = 0; iter < 10000; iter++) {
		struct addr a, back;
		uint16_t g[8];
		char buf[ADDR_STRLEN], ref[INET6_ADDRSTRLEN], upper[64];

		for (int k = 0; k < 8; k++) {
			switch (rng_below(6)) {
			case 0: g[k] = 0; break;
			case 1: g[k] = (uint16_t)rng_below(16); break;
			case 2: g[k] = (uint16_t)rng_below(256); break;
			case 3: g[k] = (uint16_t)rng_below(4096); break;
			default: g[k] = (uint16_t)rng(); break;
			}
		}
		/* inject up to two runs of zero groups */
		for (unsigned r = rng_below(3); r > 0; r--) {
			unsigned start = rng_below(8), len = 1 + rng_below(8);

			for (unsigned k = start; k < 8 && k < start + len; k++)
				g[k] = 0;
		}
		memset(&a, 0, sizeof(a));
		a.family = 6;
		for (int k = 0; k < 8; k++) {
			a.b[2 * k] = (uint8_t)(g[k] >> 8);
			a.b[2 * k + 1] = (uint8_t)g[k];
		}
		static const uint8_t zero10[10];
		if (memcmp(a.b, zero10, 10) == 0)
			continue;	/* glibc prints mapped/compat forms differently */
		checked++;
		assert_non_null(inet_ntop(AF_INET6, a.b, ref, sizeof(ref)));
		size_t len = addr_format(&a, buf);
		if (strcmp(buf, ref) != 0)
			fail_msg("iteration %d: addr_format \"%s\", inet_ntop \"%s\"", iter, buf, ref);
		assert_int_equal(len, strlen(ref));
		assert_int_equal(parse_str(buf, &back), 1);
		assert_int_equal(back.family, 6);
		assert_memory_equal(back.b, a.b, 16);

		/* the uncompressed, upper-case, zero-padded form parses to the same bytes */
		snprintf(upper, sizeof(upper), "%04X:%04X:%04X:%04X:%04X:%04X:%04X:%04X",
		    g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7]);
		assert_int_equal(parse_str(upper, &back), 1);
		assert_int_equal(back.family, 6);
		assert_memory_equal(back.b, a.b, 16);
	}
	assert_true(checked > 9000);
}

static void
test_random_roundtrip_v4(void **state)
{
	(void)state;
	rng_seed(4);
	for (int iter = 0; iter < 10000; iter++) {
		struct addr a, back;
		char buf[ADDR_STRLEN], ref[INET_ADDRSTRLEN], mapped[64];
		uint32_t v = (uint32_t)rng();

		memset(&a, 0, sizeof(a));
		a.family = 4;
		memcpy(a.b, &v, 4);
		assert_non_null(inet_ntop(AF_INET, a.b, ref, sizeof(ref)));
		addr_format(&a, buf);
		assert_string_equal(buf, ref);
		assert_int_equal(parse_str(buf, &back), 1);
		assert_int_equal(back.family, 4);
		assert_memory_equal(back.b, a.b, 16);
		snprintf(mapped, sizeof(mapped), "::ffff:%s", ref);
		assert_int_equal(parse_str(mapped, &back), 1);
		assert_int_equal(back.family, 4);
		assert_memory_equal(back.b, a.b, 16);
	}
}

/* Differential fuzz: random strings over the address alphabet vs inet_pton. */
static void
test_fuzz_vs_inet_pton(void **state)
{
	static const char v6alpha[] = "0123456789abcdefABCDEF:::::....";
	static const char v4alpha[] = "0123456789....";
	int accepted = 0;

	(void)state;
	rng_seed(0xf00d);
	for (int iter = 0; iter < 200000; iter++) {
		char s[64];
		size_t n;
		struct addr a, r;
		int want, got;

		if (iter & 1) {
			n = 1 + rng_below(45);
			for (size_t k = 0; k < n; k++)
				s[k] = v6alpha[rng_below(sizeof(v6alpha) - 1)];
		} else {
			n = 1 + rng_below(16);
			for (size_t k = 0; k < n; k++)
				s[k] = v4alpha[rng_below(sizeof(v4alpha) - 1)];
		}
		s[n] = '\0';
		want = ref_parse(s, &r);
		got = parse_exact(s, n, &a);
		if (want != got)
			fail_msg("\"%s\": addr_parse %d, inet_pton %d", s, got, want);
		if (got) {
			accepted++;
			if (a.family != r.family || memcmp(a.b, r.b, 16) != 0)
				fail_msg("\"%s\": bytes differ from inet_pton", s);
		}
	}
	assert_true(accepted > 100);
}

/* Mutate valid addresses one byte at a time and compare with inet_pton. */
static void
test_mutations_vs_inet_pton(void **state)
{
	static const char *seeds[] = {
		"2001:db8::1", "::ffff:192.0.2.1", "1:2:3:4:5:6:7:8", "::", "1::",
		"64:ff9b::1.2.3.4", "fe80::abcd:ef01", "192.0.2.255", "0.0.0.0",
		"1:2:3:4:5:6:1.2.3.4",
	};
	static const char subst[] = "0123456789afAF:.g% ";

	(void)state;
	for (size_t si = 0; si < sizeof(seeds) / sizeof(seeds[0]); si++) {
		size_t n = strlen(seeds[si]);

		for (size_t pos = 0; pos <= n; pos++) {
			for (size_t c = 0; c < sizeof(subst) - 1; c++) {
				char s[64];
				struct addr a, r;
				int want, got;

				/* replace */
				if (pos < n) {
					memcpy(s, seeds[si], n + 1);
					s[pos] = subst[c];
					want = ref_parse(s, &r);
					got = parse_str(s, &a);
					if (want != got)
						fail_msg("\"%s\": addr_parse %d, inet_pton %d", s, got, want);
					if (got && (a.family != r.family || memcmp(a.b, r.b, 16)))
						fail_msg("\"%s\": bytes differ", s);
				}
				/* insert */
				memcpy(s, seeds[si], pos);
				s[pos] = subst[c];
				memcpy(s + pos + 1, seeds[si] + pos, n - pos + 1);
				want = ref_parse(s, &r);
				got = parse_str(s, &a);
				if (want != got)
					fail_msg("\"%s\": addr_parse %d, inet_pton %d", s, got, want);
				if (got && (a.family != r.family || memcmp(a.b, r.b, 16)))
					fail_msg("\"%s\": bytes differ", s);
			}
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_reject_clears),
		cmocka_unit_test(test_v4_layout),
		cmocka_unit_test(test_not_nul_terminated),
		cmocka_unit_test(test_loopback),
		cmocka_unit_test(test_format_v4_all_octets),
		cmocka_unit_test(test_random_roundtrip_v6),
		cmocka_unit_test(test_random_roundtrip_v4),
		cmocka_unit_test(test_fuzz_vs_inet_pton),
		cmocka_unit_test(test_mutations_vs_inet_pton),
	};

	return cmocka_run_group_tests_name("addr", tests, NULL, NULL);
}
