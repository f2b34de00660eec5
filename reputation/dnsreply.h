/*
 * dnsreply.h - what a DNS zone's reply to "A of 7.113.0.203.bl.example?"
 * means: listed (and with which 127.0.0.N), not listed, or one of the
 * kinds of unknown; and for how long a usable answer may be kept. A pure
 * function of c-ares's status and the reply packet, so that every rule of
 * docs/REPUTATION.md ("DNS zones") is tested without a network.
 */
#ifndef MXG_DNSREPLY_H
#define MXG_DNSREPLY_H

#include <stdint.h>

#define DNSREPLY_NEG_TTL 300	/* NXDOMAIN/NODATA whose reply carries no SOA: seconds kept */
#define DNSREPLY_TTL_MAX 86400	/* no answer is kept longer, whatever its TTL */

enum dnsreply_kind {
	DNSREPLY_LISTED,	/* an A in 127.0.0.0/8 outside 127.255.255.0/24 */
	DNSREPLY_NOT_LISTED,	/* NXDOMAIN, or NOERROR without an A record (NODATA) */
	DNSREPLY_TIMEOUT,	/* no reply in time */
	DNSREPLY_SERVFAIL,
	DNSREPLY_REFUSED,	/* rcode REFUSED */
	DNSREPLY_DENIED,	/* an A in 127.255.255.0/24: the DNSBL refuses to answer us */
	DNSREPLY_OUTSIDE,	/* only A records outside 127.0.0.0/8 (a resolver rewriting NXDOMAIN?) */
	DNSREPLY_NOT_REPLY,	/* a packet without the QR bit: a question (our own, come back), never an answer */
	DNSREPLY_ERROR,		/* anything else: FORMERR, NOTIMP, a malformed reply, a socket error */
};

struct dnsreply {
	enum dnsreply_kind kind;
	uint32_t a;	/* LISTED, DENIED, OUTSIDE: the A that decided (host order) */
	uint32_t ttl;	/* LISTED, NOT_LISTED: seconds to keep the answer (0: do not keep) */
};

/*
 * The meaning of one reply: status is what c-ares's ares_query callback got
 * (ARES_SUCCESS, ARES_ENOTFOUND, ...), abuf/alen the reply packet (NULL/0
 * when there is none: a timeout, a socket error).
 */
void dnsreply_read(int status, const unsigned char *abuf, int alen, struct dnsreply *r);

/* 1 if the kind is an answer (listed or not), 0 if it is unknown. */
static inline int
dnsreply_usable(enum dnsreply_kind k)
{
	return k == DNSREPLY_LISTED || k == DNSREPLY_NOT_LISTED;
}

#endif
