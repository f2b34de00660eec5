/*
 * test_dnszone.c - DNS reputation zones without a network: question names
 * (IPv4, IPv6 nibbles, IPv4-mapped, limits), what replies mean (packets
 * built here byte by byte: listed, NXDOMAIN/NODATA with and without an SOA,
 * 127.255.255.x, answers outside 127/8, rcodes, TTL caps, malformed and
 * random packets), the answer cache (expiry on a fake clock, LRU order,
 * against a reference model), and dnsrep_new's checks and the lookups it
 * answers without asking. tests/sh/test_dnszone.sh asks a real rbldnsd.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <ares.h>
#include <poll.h>
#include <cmocka.h>

#include "../../reputation/dnscache.h"
#include "../../reputation/dnsreply.h"
#include "../../reputation/dnszone.h"
#include "testutil.h"

/* ---- question names ---- */

static void
check_qname(const char *addr, const char *domain, const char *want)
{
	struct addr a = A(addr);
	char buf[300];

	assert_int_equal(dnsrep_qname(&a, domain, buf, sizeof(buf)), (int)strlen(want));
	assert_string_equal(buf, want);
}

/* The nibble name written independently: inet_pton's bytes, printf's hex. */
static void
nibbles_oracle(const char *text, const char *domain, char *out)
{
	unsigned char b[16];

	assert_int_equal(inet_pton(AF_INET6, text, b), 1);
	out[0] = '\0';
	for (int i = 15; i >= 0; i--)
		sprintf(out + strlen(out), "%x.%x.", b[i] & 15, b[i] >> 4);
	strcat(out, domain);
}

static void
test_qname_ipv4(void **state)
{
	(void)state;
	check_qname("203.0.113.7", "bl.example", "7.113.0.203.bl.example");
	check_qname("198.51.100.254", "zen.example.org", "254.100.51.198.zen.example.org");
	check_qname("0.0.0.0", "z", "0.0.0.0.z");
	check_qname("255.255.255.255", "z", "255.255.255.255.z");
	/* an IPv4-mapped IPv6 address is the IPv4 client (addr.h): an IPv4 question */
	check_qname("::ffff:198.51.100.7", "bl.example", "7.100.51.198.bl.example");
	check_qname("::FFFF:203.0.113.9", "bl.example", "9.113.0.203.bl.example");
}

static void
test_qname_ipv6(void **state)
{
	static const char *addrs[] = {
		"2001:db8::1", "2001:DB8:ABCD:EF01:2345:6789:ABCD:EF01", "::1", "::", "2001:db8:1:2:3:4:567:89ab",
		"fe80::", "2001:db8::ffff:1.2.3.4", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
	};
	char want[300];

	(void)state;
	/* RFC 5782's example, written out */
	check_qname("2001:db8:1:2:3:4:567:89ab", "ugly.example.com",
	    "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2.ugly.example.com");
	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		nibbles_oracle(addrs[i], "bl.example", want);
		check_qname(addrs[i], "bl.example", want);
	}
}

static void
test_qname_limits(void **state)
{
	struct addr v4 = A("203.0.113.7"), v6 = A("2001:db8::1"), none = { 0 };
	char buf[300], dom[300];

	(void)state;
	/* exactly the room it needs (NUL included), and one byte less */
	assert_int_equal(dnsrep_qname(&v4, "bl.example", buf, 23), 22);
	assert_int_equal(dnsrep_qname(&v4, "bl.example", buf, 22), -1);
	assert_int_equal(dnsrep_qname(&v6, "bl.example", buf, 75), 74);
	assert_int_equal(dnsrep_qname(&v6, "bl.example", buf, 74), -1);
	/* 253 characters is the longest DNS name: 64 for the nibbles, so a 189-character domain fits, 190 not */
	memset(dom, 'a', 189);
	for (int i = 63; i < 189; i += 64)
		dom[i] = '.';
	dom[189] = '\0';
	assert_int_equal(dnsrep_qname(&v6, dom, buf, sizeof(buf)), 253);
	dom[189] = 'a';
	dom[190] = '\0';
	assert_int_equal(dnsrep_qname(&v6, dom, buf, sizeof(buf)), -1);
	assert_int_equal(dnsrep_qname(&none, "bl.example", buf, sizeof(buf)), -1);
	/* no domain: no dot after the address */
	assert_int_equal(dnsrep_qname(&v4, "", buf, sizeof(buf)), 11);
	assert_string_equal(buf, "7.113.0.203");
}

/* ---- replies ---- */

struct pkt {
	unsigned char b[1024];
	int n;
};

static void
put16(struct pkt *p, unsigned v)
{
	p->b[p->n++] = (unsigned char)(v >> 8);
	p->b[p->n++] = (unsigned char)v;
}

static void
put32(struct pkt *p, uint32_t v)
{
	put16(p, v >> 16);
	put16(p, v & 0xffff);
}

static void
putname(struct pkt *p, const char *name)
{
	while (*name) {
		size_t l = strcspn(name, ".");

		p->b[p->n++] = (unsigned char)l;
		memcpy(p->b + p->n, name, l);
		p->n += (int)l;
		name += l + (name[l] == '.');
	}
	p->b[p->n++] = 0;
}

#define QNAME "2.0.0.127.bl.example"

/* A reply's header and question: rcode, and the counts of answer and authority records. */
static void
reply(struct pkt *p, int rcode, int an, int ns)
{
	p->n = 0;
	put16(p, 0x1234);
	put16(p, 0x8180 | (unsigned)rcode);	/* QR, RD, RA */
	put16(p, 1);
	put16(p, (unsigned)an);
	put16(p, (unsigned)ns);
	put16(p, 0);
	putname(p, QNAME);
	put16(p, 1);	/* A */
	put16(p, 1);	/* IN */
}

/* An A record for the question's name (a pointer to it, at offset 12). */
static void
rr_a(struct pkt *p, uint32_t ttl, const char *a)
{
	struct in_addr in;

	assert_int_equal(inet_pton(AF_INET, a, &in), 1);
	put16(p, 0xc00c);
	put16(p, 1);
	put16(p, 1);
	put32(p, ttl);
	put16(p, 4);
	memcpy(p->b + p->n, &in, 4);
	p->n += 4;
}

static void
rr_with_name_data(struct pkt *p, unsigned type, uint32_t ttl, const char *data)
{
	int at;

	put16(p, 0xc00c);
	put16(p, type);
	put16(p, 1);
	put32(p, ttl);
	at = p->n;
	put16(p, 0);
	putname(p, data);
	p->b[at] = (unsigned char)((p->n - at - 2) >> 8);
	p->b[at + 1] = (unsigned char)(p->n - at - 2);
}

/* The zone's SOA, as an authority record (RFC 2308). */
static void
rr_soa(struct pkt *p, uint32_t ttl, uint32_t minimum)
{
	int at;

	putname(p, "bl.example");
	put16(p, 6);
	put16(p, 1);
	put32(p, ttl);
	at = p->n;
	put16(p, 0);
	putname(p, "ns.bl.example");
	putname(p, "hostmaster.bl.example");
	put32(p, 2026120601);
	put32(p, 3600);
	put32(p, 900);
	put32(p, 604800);
	put32(p, minimum);
	p->b[at] = (unsigned char)((p->n - at - 2) >> 8);
	p->b[at + 1] = (unsigned char)(p->n - at - 2);
}

static struct dnsreply
read_reply(int status, const struct pkt *p)
{
	struct dnsreply r;

	dnsreply_read(status, p ? p->b : NULL, p ? p->n : 0, &r);
	return r;
}

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

static void
test_reply_listed(void **state)
{
	struct pkt p;
	struct dnsreply r;

	(void)state;
	reply(&p, 0, 1, 0);
	rr_a(&p, 900, "127.0.0.2");
	r = read_reply(ARES_SUCCESS, &p);
	assert_int_equal(r.kind, DNSREPLY_LISTED);
	assert_int_equal(r.a, IP(127, 0, 0, 2));
	assert_int_equal(r.ttl, 900);

	/* several: the first 127/8 one, with its own TTL */
	reply(&p, 0, 2, 0);
	rr_a(&p, 60, "127.0.0.11");
	rr_a(&p, 900, "127.0.0.2");
	r = read_reply(ARES_SUCCESS, &p);
	assert_int_equal(r.kind, DNSREPLY_LISTED);
	assert_int_equal(r.a, IP(127, 0, 0, 11));
	assert_int_equal(r.ttl, 60);

	/* one outside 127/8 next to a 127/8 one: the listing stands */
	reply(&p, 0, 2, 0);
	rr_a(&p, 300, "192.0.2.1");
	rr_a(&p, 300, "127.0.0.4");
	r = read_reply(ARES_SUCCESS, &p);
	assert_int_equal(r.kind, DNSREPLY_LISTED);
	assert_int_equal(r.a, IP(127, 0, 0, 4));

	/* anywhere in 127/8 but 127.255.255/24 */
	reply(&p, 0, 1, 0);
	rr_a(&p, 300, "127.255.254.255");
	r = read_reply(ARES_SUCCESS, &p);
	assert_int_equal(r.kind, DNSREPLY_LISTED);
	assert_int_equal(r.a, IP(127, 255, 254, 255));

	/* through a CNAME in the reply (c-ares follows it) */
	reply(&p, 0, 2, 0);
	rr_with_name_data(&p, 5, 300, "x.bl.example");
	putname(&p, "x.bl.example");
	put16(&p, 1);
	put16(&p, 1);
	put32(&p, 120);
	put16(&p, 4);
	put32(&p, IP(127, 0, 0, 3));
	r = read_reply(ARES_SUCCESS, &p);
	assert_int_equal(r.kind, DNSREPLY_LISTED);
	assert_int_equal(r.a, IP(127, 0, 0, 3));
	assert_int_equal(r.ttl, 120);
}

static void
test_reply_not_listed(void **state)
{
	struct pkt p;
	struct dnsreply r;

	(void)state;
	/* NXDOMAIN: the SOA's TTL or its MINIMUM, whichever is lower (RFC 2308) */
	reply(&p, 3, 0, 1);
	rr_soa(&p, 600, 120);
	r = read_reply(ARES_ENOTFOUND, &p);
	assert_int_equal(r.kind, DNSREPLY_NOT_LISTED);
	assert_int_equal(r.ttl, 120);
	reply(&p, 3, 0, 1);
	rr_soa(&p, 60, 3600);
	assert_int_equal(read_reply(ARES_ENOTFOUND, &p).ttl, 60);
	/* no SOA: the fixed default */
	reply(&p, 3, 0, 0);
	r = read_reply(ARES_ENOTFOUND, &p);
	assert_int_equal(r.kind, DNSREPLY_NOT_LISTED);
	assert_int_equal(r.ttl, DNSREPLY_NEG_TTL);
	r = read_reply(ARES_ENOTFOUND, NULL);
	assert_int_equal(r.kind, DNSREPLY_NOT_LISTED);
	assert_int_equal(r.ttl, DNSREPLY_NEG_TTL);
	/* an NS record before the SOA in the authority section */
	reply(&p, 3, 0, 2);
	putname(&p, "bl.example");
	put16(&p, 2);
	put16(&p, 1);
	put32(&p, 86400);
	put16(&p, 2);
	put16(&p, 0xc00c);
	rr_soa(&p, 900, 45);
	assert_int_equal(read_reply(ARES_ENOTFOUND, &p).ttl, 45);

	/* NODATA: NOERROR and no answer */
	reply(&p, 0, 0, 1);
	rr_soa(&p, 300, 30);
	r = read_reply(ARES_ENODATA, &p);
	assert_int_equal(r.kind, DNSREPLY_NOT_LISTED);
	assert_int_equal(r.ttl, 30);
	/* NOERROR with records of another type only (a TXT), or a CNAME alone: no A, not listed */
	reply(&p, 0, 1, 0);
	rr_with_name_data(&p, 16, 300, "why");
	assert_int_equal(read_reply(ARES_SUCCESS, &p).kind, DNSREPLY_NOT_LISTED);
	reply(&p, 0, 1, 1);
	rr_with_name_data(&p, 5, 300, "elsewhere.example");
	rr_soa(&p, 500, 50);
	r = read_reply(ARES_SUCCESS, &p);
	assert_int_equal(r.kind, DNSREPLY_NOT_LISTED);
	assert_int_equal(r.ttl, 50);
}

static void
test_reply_unknown(void **state)
{
	struct pkt p;
	struct dnsreply r;

	(void)state;
	/* 127.255.255.x: the DNSBL refuses us, whatever else the reply holds */
	reply(&p, 0, 1, 0);
	rr_a(&p, 300, "127.255.255.254");
	r = read_reply(ARES_SUCCESS, &p);
	assert_int_equal(r.kind, DNSREPLY_DENIED);
	assert_int_equal(r.a, IP(127, 255, 255, 254));
	reply(&p, 0, 2, 0);
	rr_a(&p, 300, "127.0.0.2");
	rr_a(&p, 300, "127.255.255.252");
	r = read_reply(ARES_SUCCESS, &p);
	assert_int_equal(r.kind, DNSREPLY_DENIED);
	assert_int_equal(r.a, IP(127, 255, 255, 252));
	reply(&p, 0, 1, 0);
	rr_a(&p, 300, "127.255.255.0");
	assert_int_equal(read_reply(ARES_SUCCESS, &p).kind, DNSREPLY_DENIED);
	assert_false(dnsreply_usable(DNSREPLY_DENIED));

	/* only outside 127/8 (a resolver that answers NXDOMAIN with its own page) */
	reply(&p, 0, 2, 0);
	rr_a(&p, 300, "198.51.100.80");
	rr_a(&p, 300, "128.0.0.1");
	r = read_reply(ARES_SUCCESS, &p);
	assert_int_equal(r.kind, DNSREPLY_OUTSIDE);
	assert_int_equal(r.a, IP(198, 51, 100, 80));
	reply(&p, 0, 1, 0);
	rr_a(&p, 300, "126.255.255.255");
	assert_int_equal(read_reply(ARES_SUCCESS, &p).kind, DNSREPLY_OUTSIDE);

	/* rcodes and failures without a reply */
	reply(&p, 2, 0, 0);
	assert_int_equal(read_reply(ARES_ESERVFAIL, &p).kind, DNSREPLY_SERVFAIL);
	reply(&p, 5, 0, 0);
	assert_int_equal(read_reply(ARES_EREFUSED, &p).kind, DNSREPLY_REFUSED);
	reply(&p, 1, 0, 0);
	assert_int_equal(read_reply(ARES_EFORMERR, &p).kind, DNSREPLY_ERROR);
	reply(&p, 4, 0, 0);
	assert_int_equal(read_reply(ARES_ENOTIMP, &p).kind, DNSREPLY_ERROR);
	assert_int_equal(read_reply(ARES_ETIMEOUT, NULL).kind, DNSREPLY_TIMEOUT);
	assert_int_equal(read_reply(ARES_ECONNREFUSED, NULL).kind, DNSREPLY_ERROR);
	assert_int_equal(read_reply(ARES_ENOMEM, NULL).kind, DNSREPLY_ERROR);
	assert_int_equal(read_reply(ARES_SUCCESS, NULL).kind, DNSREPLY_ERROR);
	for (int k = DNSREPLY_TIMEOUT; k <= DNSREPLY_ERROR; k++)
		assert_false(dnsreply_usable((enum dnsreply_kind)k));
	assert_true(dnsreply_usable(DNSREPLY_LISTED));
	assert_true(dnsreply_usable(DNSREPLY_NOT_LISTED));

	/* a reply cut short inside its A record */
	reply(&p, 0, 1, 0);
	rr_a(&p, 300, "127.0.0.2");
	p.n -= 3;
	assert_int_equal(read_reply(ARES_SUCCESS, &p).kind, DNSREPLY_ERROR);
}

/*
 * A question is never an answer: our own query, come back (a socket of
 * c-ares's connected to itself when the local server is gone), is NOERROR
 * without records for c-ares 1.18, and must not read as "not listed".
 */
static void
test_reply_question(void **state)
{
	static const int statuses[] = { ARES_SUCCESS, ARES_ENODATA, ARES_ENOTFOUND };
	struct pkt p;

	(void)state;
	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		struct dnsreply r;

		reply(&p, 0, 0, 0);
		p.b[2] = 0x01;	/* the query's flags: RD only, QR clear */
		p.b[3] = 0x00;
		r = read_reply(statuses[i], &p);
		assert_int_equal(r.kind, DNSREPLY_NOT_REPLY);
		assert_false(dnsreply_usable(r.kind));
		assert_int_equal(r.ttl, 0);
		/* the same with an A record in it: still a question */
		reply(&p, 0, 1, 0);
		rr_a(&p, 900, "127.0.0.2");
		p.b[2] &= 0x7f;
		assert_int_equal(read_reply(statuses[i], &p).kind, DNSREPLY_NOT_REPLY);
		/* with QR set, the same bytes are the answer they say */
		p.b[2] |= 0x80;
		assert_int_equal(read_reply(ARES_SUCCESS, &p).kind, DNSREPLY_LISTED);
	}
}

static void
test_reply_ttl(void **state)
{
	struct pkt p;

	(void)state;
	/* capped at a day; a TTL with the top bit set means 0 (RFC 2181): not kept */
	reply(&p, 0, 1, 0);
	rr_a(&p, 10 * 86400, "127.0.0.2");
	assert_int_equal(read_reply(ARES_SUCCESS, &p).ttl, DNSREPLY_TTL_MAX);
	reply(&p, 0, 1, 0);
	rr_a(&p, 0x80000005u, "127.0.0.2");
	assert_int_equal(read_reply(ARES_SUCCESS, &p).ttl, 0);
	reply(&p, 0, 1, 0);
	rr_a(&p, 0, "127.0.0.2");
	assert_int_equal(read_reply(ARES_SUCCESS, &p).ttl, 0);
	reply(&p, 3, 0, 1);
	rr_soa(&p, 0x90000000u, 0x90000000u);
	assert_int_equal(read_reply(ARES_ENOTFOUND, &p).ttl, 0);
	reply(&p, 3, 0, 1);
	rr_soa(&p, 7 * 86400, 2 * 86400);
	assert_int_equal(read_reply(ARES_ENOTFOUND, &p).ttl, DNSREPLY_TTL_MAX);
}

/* Broken authority sections fall back to the default TTL; random bytes never crash the reader. */
static void
test_reply_malformed(void **state)
{
	struct pkt p, q;

	(void)state;
	reply(&p, 3, 0, 1);
	rr_soa(&p, 600, 120);
	for (int cut = 0; cut < p.n; cut++) {	/* every truncation */
		struct dnsreply r;

		q = p;
		q.n = cut;
		r = read_reply(ARES_ENOTFOUND, &q);
		assert_int_equal(r.kind, DNSREPLY_NOT_LISTED);
		assert_true(r.ttl == DNSREPLY_NEG_TTL || (cut == p.n && r.ttl == 120));
	}
	/* an SOA whose data runs past the end */
	q = p;
	q.b[q.n - 20 - 23 - 15 - 2] = 0xff;	/* rdlen's high byte */
	assert_int_equal(read_reply(ARES_ENOTFOUND, &q).kind, DNSREPLY_NOT_LISTED);
	/* a name made of a pointer loop, and reserved label types */
	reply(&p, 3, 0, 1);
	put16(&p, 0xc000 | (unsigned)p.n);
	assert_int_equal(read_reply(ARES_ENOTFOUND, &p).ttl, DNSREPLY_NEG_TTL);
	reply(&p, 3, 0, 1);
	p.b[p.n++] = 0x40;
	assert_int_equal(read_reply(ARES_ENOTFOUND, &p).ttl, DNSREPLY_NEG_TTL);

	rng_seed(13);
	for (int i = 0; i < 20000; i++) {
		struct dnsreply r;
		int n = (int)rng_below(200);

		reply(&p, 0, 1, 1);
		if (i % 2)
			rr_a(&p, 300, "127.0.0.2");
		for (int k = 12 + (int)rng_below(40); k < p.n && k < n; k++)
			p.b[k] = (unsigned char)rng();
		p.n = n < p.n ? n : p.n;
		r = read_reply(i % 3 ? ARES_SUCCESS : ARES_ENOTFOUND, &p);
		assert_true(r.kind <= DNSREPLY_ERROR);
		assert_true(r.ttl <= DNSREPLY_TTL_MAX);
	}
}

/* ---- the cache ---- */

static int
free_cache(void **state)
{
	dnscache_free(*state);
	*state = NULL;
	return 0;
}

static struct dnscache *
cache(void **state, uint32_t max)
{
	dnscache_free(*state);
	*state = dnscache_new(max);
	return *state;
}

static struct zone_answer
listed(uint32_t a)
{
	return (struct zone_answer){ .state = ZONE_LISTED, .a = a, .risk = 5, .spam = FEED_SCORE_NONE, .vol = 7 };
}

static int
has(struct dnscache *c, const char *addr, int64_t now)
{
	struct addr a = A(addr);
	struct zone_answer z;

	return dnscache_get(c, &a, now, &z);
}

static void
put(struct dnscache *c, const char *addr, uint32_t v, int64_t expires)
{
	struct addr a = A(addr);
	struct zone_answer z = listed(v);

	dnscache_put(c, &a, &z, expires);
}

static void
test_cache_get_put(void **state)
{
	struct dnscache *c = cache(state, 100);
	struct addr a = A("198.51.100.7"), b = A("2001:db8::7");
	struct zone_answer z = listed(IP(127, 0, 0, 3)), nl = { .state = ZONE_NOT_LISTED }, got;

	assert_false(dnscache_get(c, &a, 0, &got));
	dnscache_put(c, &a, &z, 1000);
	dnscache_put(c, &b, &nl, 1000);
	assert_int_equal(dnscache_size(c), 2);
	assert_true(dnscache_get(c, &a, 10, &got));
	assert_int_equal(got.state, ZONE_LISTED);
	assert_int_equal(got.a, IP(127, 0, 0, 3));
	assert_int_equal(got.risk, 5);
	assert_int_equal(got.spam, FEED_SCORE_NONE);
	assert_int_equal(got.vol, 7);
	assert_true(dnscache_get(c, &b, 10, &got));
	assert_int_equal(got.state, ZONE_NOT_LISTED);
	/* a fresher answer replaces the old one, in place */
	z.a = IP(127, 0, 0, 9);
	dnscache_put(c, &a, &z, 5000);
	assert_int_equal(dnscache_size(c), 2);
	assert_true(dnscache_get(c, &a, 4000, &got));
	assert_int_equal(got.a, IP(127, 0, 0, 9));
	/* the same bytes in another family are another key; bytes past an IPv4 address do not count */
	assert_false(has(c, "::c633:6407", 10));
	a.b[7] = 0x55;
	assert_true(dnscache_get(c, &a, 10, &got));
	assert_int_equal(dnscache_evictions(c), 0);
}

static void
test_cache_expiry(void **state)
{
	struct dnscache *c = cache(state, 10);

	put(c, "198.51.100.1", 2, 1000);
	put(c, "198.51.100.2", 2, 2000);
	assert_true(has(c, "198.51.100.1", 999));
	assert_false(has(c, "198.51.100.1", 1000));	/* expires at 1000: gone then */
	assert_int_equal(dnscache_size(c), 1);		/* and dropped */
	assert_false(has(c, "198.51.100.1", 999));	/* (even asked with an older clock) */
	assert_true(has(c, "198.51.100.2", 1999));
	assert_false(has(c, "198.51.100.2", 5000));
	assert_int_equal(dnscache_size(c), 0);
	/* the slots dropped are used again: ten fit without an eviction */
	for (int i = 0; i < 10; i++) {
		char t[32];

		snprintf(t, sizeof(t), "203.0.113.%d", i);
		put(c, t, 2, 9000);
	}
	assert_int_equal(dnscache_size(c), 10);
	assert_int_equal(dnscache_evictions(c), 0);
}

static void
test_cache_lru(void **state)
{
	struct dnscache *c = cache(state, 3);

	put(c, "198.51.100.1", 2, 1000);
	put(c, "198.51.100.2", 2, 1000);
	put(c, "198.51.100.3", 2, 1000);
	assert_true(has(c, "198.51.100.1", 0));	/* .1 used: .2 is now the least recently used */
	put(c, "198.51.100.4", 2, 1000);
	assert_int_equal(dnscache_evictions(c), 1);
	assert_false(has(c, "198.51.100.2", 0));
	assert_true(has(c, "198.51.100.3", 0));	/* order now (most recent first): .3 .4 .1 */
	put(c, "198.51.100.5", 2, 1000);		/* .1 goes */
	assert_false(has(c, "198.51.100.1", 0));
	assert_true(has(c, "198.51.100.4", 0));
	assert_true(has(c, "198.51.100.5", 0));
	assert_true(has(c, "198.51.100.3", 0));
	assert_int_equal(dnscache_size(c), 3);
	/* a replacement refreshes, and evicts nothing */
	put(c, "198.51.100.4", 3, 1000);	/* order: .4 .3 .5 */
	put(c, "198.51.100.6", 2, 1000);	/* .5 goes */
	assert_false(has(c, "198.51.100.5", 0));
	assert_int_equal(dnscache_evictions(c), 3);
	/* the smallest cache holds one */
	c = cache(state, 0);
	put(c, "198.51.100.1", 2, 1000);
	put(c, "198.51.100.2", 2, 1000);
	assert_false(has(c, "198.51.100.1", 0));
	assert_true(has(c, "198.51.100.2", 0));
}

/* Random operations against a plain LRU list, expiry included. */
static void
test_cache_model(void **state)
{
	enum { CAP = 16, KEYS = 40, OPS = 200000 };
	struct { int key; uint32_t v; int64_t exp; } model[CAP];
	int n = 0;
	struct dnscache *c = cache(state, CAP);
	int64_t now = 0;

	rng_seed(2026);
	for (int op = 0; op < OPS; op++) {
		int key = (int)rng_below(KEYS), at = -1;
		struct addr a = { .family = (uint8_t)(key % 2 ? 4 : 6) };
		struct zone_answer got;

		a.b[0] = 0x20;
		a.b[3] = (uint8_t)key;
		now += rng_below(3);
		for (int i = 0; i < n; i++)
			if (model[i].key == key)
				at = i;
		if (rng_below(2)) {
			int hit = dnscache_get(c, &a, now, &got), mhit = at >= 0 && model[at].exp > now;

			assert_int_equal(hit, mhit);
			if (at >= 0) {
				typeof(model[0]) e = model[at];

				memmove(&model[1], &model[0], (size_t)at * sizeof(model[0]));
				n--;
				if (mhit) {
					assert_int_equal(got.a, e.v);
					model[0] = e;	/* to the front */
					n++;
				} else
					memmove(&model[0], &model[1], (size_t)n * sizeof(model[0]));
			}
		} else {
			struct zone_answer z = listed((uint32_t)rng());
			int64_t exp = now + 1 + rng_below(60);

			if (at >= 0) {
				memmove(&model[at], &model[at + 1], (size_t)(n - at - 1) * sizeof(model[0]));
				n--;
			} else if (n == CAP)
				n--;	/* the least recently used */
			memmove(&model[1], &model[0], (size_t)n * sizeof(model[0]));
			model[0].key = key;
			model[0].v = z.a;
			model[0].exp = exp;
			n++;
			dnscache_put(c, &a, &z, exp);
		}
		assert_int_equal(dnscache_size(c), n);
	}
}

/* ---- dnsrep without questions ---- */

static struct zone_spec
zone(const char *name, const char *domain, const char *server)
{
	struct zone_spec z = { .risk = 10, .spam = FEED_SCORE_NONE, .vol = FEED_SCORE_NONE };

	snprintf(z.name, sizeof(z.name), "%s", name);
	snprintf(z.domain, sizeof(z.domain), "%s", domain);
	snprintf(z.server, sizeof(z.server), "%s", server);
	return z;
}

static void
new_fails(const struct zone_spec *z, const char *want)
{
	const struct zone_spec *zp[] = { z };
	char err[512] = "";

	assert_null(dnsrep_new(zp, 1, err, sizeof(err)));
	if (strstr(err, want) == NULL)
		fail_msg("error '%s' does not say '%s'", err, want);
}

static void
test_new_errors(void **state)
{
	struct zone_spec z = zone("bl", "bl.example", "not-an-address");
	const struct zone_spec *many[DNSREP_ZONES_MAX + 1];
	char err[512];

	(void)state;
	new_fails(&z, "zone bl: server 'not-an-address' is not an IPv4 or IPv6 address");
	z = zone("bl", "bl..example", "127.0.0.1");
	new_fails(&z, "zone bl: domain 'bl..example' is not a DNS name");
	z = zone("bl", "", "127.0.0.1");
	new_fails(&z, "is not a DNS name");
	z = zone("bl", "bl.example.", "127.0.0.1");
	new_fails(&z, "is not a DNS name");
	z = zone("bl", "bl example", "127.0.0.1");
	new_fails(&z, "is not a DNS name");
	z = zone("bl", "bl.example", "127.0.0.1");
	memset(z.domain, 'a', 200);
	z.domain[63] = z.domain[127] = z.domain[191] = '.';
	z.domain[200] = '\0';
	new_fails(&z, "too long for IPv6 questions");
	z = zone("bl", "bl.example", "127.0.0.1");
	z.timeout_ms = DNSREP_TIMEOUT_MAX + 1;
	new_fails(&z, "zone bl: timeout 60001 ms");
	z.timeout_ms = -5;
	new_fails(&z, "timeout -5 ms");
	z = zone("bl", "bl.example", "127.0.0.1");
	for (int i = 0; i <= DNSREP_ZONES_MAX; i++)
		many[i] = &z;
	assert_null(dnsrep_new(many, DNSREP_ZONES_MAX + 1, err, sizeof(err)));
	assert_non_null(strstr(err, "at most 16"));
}

struct got {
	int calls;
	struct dnsrep_answer ans;
};

static void
on_answer(void *arg, const struct dnsrep_answer *ans)
{
	struct got *g = arg;

	g->calls++;
	g->ans = *ans;
}

/* What dnsrep answers at once: no zones, and an address of no family; nothing is sent. */
static void
test_lookup_at_once(void **state)
{
	struct zone_spec z1 = zone("bl", "bl.example", "127.0.0.1"), z2 = zone("v6", "v6.example", "::1");
	struct zone_spec z3 = zone("sys", "sys.example", "");
	const struct zone_spec *zp[] = { &z1, &z2, &z3 };
	struct addr none = { 0 }, a = A("198.51.100.7");
	struct got g = { 0 };
	struct pollfd pfd[4];
	struct dnsrep_stats st;
	char err[512];
	struct dnsrep *d;

	(void)state;
	z2.port = 5353;
	z3.timeout_ms = 500;
	d = dnsrep_new(zp, 0, err, sizeof(err));
	assert_non_null(d);
	assert_int_equal(dnsrep_lookup(d, &a, 0, on_answer, &g), 1);
	assert_int_equal(g.calls, 1);
	assert_int_equal(g.ans.nzones, 0);
	dnsrep_free(d);

	d = dnsrep_new(zp, 3, err, sizeof(err));
	if (d == NULL)
		fail_msg("dnsrep_new: %s", err);
	assert_int_equal(dnsrep_next_deadline_ms(d), -1);
	assert_int_equal(dnsrep_pollfds(d, pfd, 4), 0);
	g.calls = 0;
	assert_int_equal(dnsrep_lookup(d, &none, 1000, on_answer, &g), 1);
	assert_int_equal(g.calls, 1);
	assert_int_equal(g.ans.nzones, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(g.ans.zone[i].state, ZONE_UNKNOWN);
		assert_int_equal(g.ans.zone[i].risk, FEED_SCORE_NONE);
		assert_int_equal(g.ans.zone[i].cached, 0);
	}
	st = dnsrep_stats(d);
	assert_int_equal(st.lookups, 1);
	assert_int_equal(st.errors, 3);
	assert_int_equal(st.queries, 0);
	assert_int_equal(st.in_flight, 0);
	assert_int_equal(dnsrep_next_deadline_ms(d), -1);
	dnsrep_process(d, 2000);	/* nothing to do, nothing called */
	assert_int_equal(g.calls, 1);
	dnsrep_free(d);
	dnsrep_free(NULL);

	/* A zone of one family: the other family's clients are "not listed" at once, never asked. */
	z1.family = 4;
	z2.family = 6;
	{
		const struct zone_spec *fam[] = { &z1, &z2 };
		struct addr v6 = A("2001:db8::7");

		d = dnsrep_new(fam, 1, err, sizeof(err));	/* only the IPv4 zone */
		assert_non_null(d);
		g.calls = 0;
		assert_int_equal(dnsrep_lookup(d, &v6, 0, on_answer, &g), 1);
		assert_int_equal(g.calls, 1);
		assert_int_equal(g.ans.zone[0].state, ZONE_NOT_LISTED);
		st = dnsrep_stats(d);
		assert_int_equal(st.queries, 0);
		assert_int_equal(st.not_listed, 1);
		assert_int_equal(st.other_family, 1);
		assert_int_equal(st.in_flight, 0);
		dnsrep_free(d);
		d = dnsrep_new(fam + 1, 1, err, sizeof(err));	/* only the IPv6 zone, asked about an IPv4 client */
		assert_non_null(d);
		assert_int_equal(dnsrep_lookup(d, &a, 0, on_answer, &g), 1);
		assert_int_equal(g.ans.zone[0].state, ZONE_NOT_LISTED);
		assert_int_equal(dnsrep_stats(d).queries, 0);
		dnsrep_free(d);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_qname_ipv4),
		cmocka_unit_test(test_qname_ipv6),
		cmocka_unit_test(test_qname_limits),
		cmocka_unit_test(test_reply_listed),
		cmocka_unit_test(test_reply_not_listed),
		cmocka_unit_test(test_reply_unknown),
		cmocka_unit_test(test_reply_question),
		cmocka_unit_test(test_reply_ttl),
		cmocka_unit_test(test_reply_malformed),
		cmocka_unit_test_teardown(test_cache_get_put, free_cache),
		cmocka_unit_test_teardown(test_cache_expiry, free_cache),
		cmocka_unit_test_teardown(test_cache_lru, free_cache),
		cmocka_unit_test_teardown(test_cache_model, free_cache),
		cmocka_unit_test(test_new_errors),
		cmocka_unit_test(test_lookup_at_once),
	};

	return cmocka_run_group_tests_name("dnszone", tests, NULL, NULL);
}
