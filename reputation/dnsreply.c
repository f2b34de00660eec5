/*
 * dnsreply.c - the meaning of a DNS zone's reply (see dnsreply.h).
 *
 * The A records come from c-ares's ares_parse_a_reply (it checks that they
 * answer the question, following CNAMEs in the reply). The negative TTL is
 * read here: c-ares 1.18's ares_parse_soa_reply looks only at the answer
 * section, where an NXDOMAIN reply has nothing, and RFC 2308 puts the SOA
 * in the authority section; its TTL there is min(the SOA record's TTL,
 * the SOA's MINIMUM field), the last 32 bits of its data.
 *
 * A packet is read only if it is a reply (its QR bit set). c-ares 1.18
 * matches a packet to its query by ID and question alone, so our own
 * question, come back, passes for an answer: NOERROR without records,
 * "not listed". That happens when the zone's server is on this host and
 * gone: the kernel may give a new socket of c-ares's the server's free port
 * as its own, and a UDP socket connected to its own address receives what
 * it sends (seen in tests/sh/test_dnszone.sh, rbldnsd killed mid-storm:
 * 64 lookups "not listed", one window of questions).
 */
#include "dnsreply.h"

#include <ares.h>
#include <arpa/nameser.h>
#include <stddef.h>

#define ANSWERS_MAX 32		/* A records looked at (a DNSBL answers one or a few) */

static uint32_t
be16(const unsigned char *p)
{
	return (uint32_t)p[0] << 8 | p[1];
}

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The offset just past the (possibly compressed) name at off, or -1. */
static int
skip_name(const unsigned char *p, int len, int off)
{
	while (off < len) {
		unsigned l = p[off];

		if (l == 0)
			return off + 1;
		if ((l & 0xc0) == 0xc0)		/* a pointer ends the name */
			return off + 2 <= len ? off + 2 : -1;
		if (l & 0xc0)			/* 0x40, 0x80: label types nobody uses */
			return -1;
		off += 1 + (int)l;
	}
	return -1;
}

/* A TTL as RFC 2181 reads it (a value with the top bit set means 0), capped. */
static uint32_t
cap_ttl(uint32_t ttl)
{
	if (ttl & 0x80000000u)
		return 0;
	return ttl > DNSREPLY_TTL_MAX ? DNSREPLY_TTL_MAX : ttl;
}

/* The negative TTL the reply gives (its SOA in the authority section), or DNSREPLY_NEG_TTL. */
static uint32_t
negative_ttl(const unsigned char *p, int len)
{
	int off = NS_HFIXEDSZ;
	uint32_t qd, an, ns;

	if (p == NULL || len < NS_HFIXEDSZ)
		return DNSREPLY_NEG_TTL;
	qd = be16(p + 4);
	an = be16(p + 6);
	ns = be16(p + 8);
	for (uint32_t i = 0; i < qd; i++) {
		if ((off = skip_name(p, len, off)) < 0 || off + NS_QFIXEDSZ > len)
			return DNSREPLY_NEG_TTL;
		off += NS_QFIXEDSZ;
	}
	for (uint32_t i = 0; i < an + ns; i++) {
		uint32_t type, class, ttl, rdlen;

		if ((off = skip_name(p, len, off)) < 0 || off + NS_RRFIXEDSZ > len)
			return DNSREPLY_NEG_TTL;
		type = be16(p + off);
		class = be16(p + off + 2);
		ttl = be32(p + off + 4);
		rdlen = be16(p + off + 8);
		off += NS_RRFIXEDSZ;
		if (rdlen > (uint32_t)(len - off))
			return DNSREPLY_NEG_TTL;
		/* SOA data: two names (a byte each at least) and five 32-bit numbers, MINIMUM last. */
		if (i >= an && type == ns_t_soa && class == ns_c_in && rdlen >= 22) {
			uint32_t min = be32(p + off + rdlen - 4);

			return cap_ttl(ttl < min ? ttl : min);
		}
		off += (int)rdlen;
	}
	return DNSREPLY_NEG_TTL;
}

static void
read_answers(const unsigned char *abuf, int alen, struct dnsreply *r)
{
	struct ares_addrttl at[ANSWERS_MAX];
	int n = ANSWERS_MAX, st = ares_parse_a_reply(abuf, alen, NULL, at, &n);
	int listed = -1, outside = -1;

	/* No A for the name (another type, or a CNAME alone, which c-ares 1.18 calls success): NODATA. */
	if (st == ARES_ENODATA || (st == ARES_SUCCESS && n == 0)) {
		r->kind = DNSREPLY_NOT_LISTED;
		r->ttl = negative_ttl(abuf, alen);
		return;
	}
	if (st != ARES_SUCCESS) {
		r->kind = DNSREPLY_ERROR;
		return;
	}
	for (int i = 0; i < n; i++) {
		uint32_t a = be32((const unsigned char *)&at[i].ipaddr);

		/* The DNSBL's "you may not query us" voids the whole reply: it is never a listing. */
		if ((a & 0xffffff00u) == 0x7fffff00u) {
			r->kind = DNSREPLY_DENIED;
			r->a = a;
			return;
		}
		if ((a >> 24) == 127) {
			if (listed < 0)
				listed = i;
		} else if (outside < 0)
			outside = i;
	}
	if (listed >= 0) {
		r->kind = DNSREPLY_LISTED;
		r->a = be32((const unsigned char *)&at[listed].ipaddr);
		r->ttl = at[listed].ttl < 0 ? 0 : cap_ttl((uint32_t)at[listed].ttl);
	} else {
		r->kind = DNSREPLY_OUTSIDE;
		r->a = be32((const unsigned char *)&at[outside].ipaddr);
	}
}

void
dnsreply_read(int status, const unsigned char *abuf, int alen, struct dnsreply *r)
{
	*r = (struct dnsreply){ .kind = DNSREPLY_ERROR };
	if (abuf != NULL && alen > 2 && (abuf[2] & 0x80) == 0) {
		r->kind = DNSREPLY_NOT_REPLY;
		return;
	}
	switch (status) {
	case ARES_SUCCESS:
		if (abuf == NULL)
			return;
		read_answers(abuf, alen, r);
		return;
	case ARES_ENOTFOUND:	/* NXDOMAIN */
	case ARES_ENODATA:	/* NOERROR, no answer */
		r->kind = DNSREPLY_NOT_LISTED;
		r->ttl = negative_ttl(abuf, alen);
		return;
	case ARES_ETIMEOUT:
		r->kind = DNSREPLY_TIMEOUT;
		return;
	case ARES_ESERVFAIL:
		r->kind = DNSREPLY_SERVFAIL;
		return;
	case ARES_EREFUSED:
		r->kind = DNSREPLY_REFUSED;
		return;
	default:
		return;
	}
}
