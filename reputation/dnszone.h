/*
 * dnszone.h - DNS reputation zones (DNSBLs with return codes, score zones),
 * asked through c-ares without ever waiting (docs/REPUTATION.md, "DNS zones").
 *
 * For a client 203.0.113.7 and zone "bl.example" the question is the A
 * record of 7.113.0.203.bl.example (IPv6: the 32 nibbles of the address,
 * reversed, dot-separated). An answer 127.0.0.N means listed, and the
 * configuration maps N to scores. What is never "listed": NXDOMAIN or an
 * empty answer (not listed); SERVFAIL, REFUSED, a timeout, an answer
 * outside 127.0.0.0/8, and 127.255.255.N (the DNSBLs' "you may not query
 * us") — those are *unknown*, counted and warned about once per zone.
 * Answers, positive and negative, are cached for the zone's TTL (bounded
 * in memory, the least recently used go first).
 *
 * The caller's event loop drives it: dnsrep_pollfds() gives the sockets to
 * poll, dnsrep_process() reads what arrived and fires deadlines, and a
 * lookup's callback runs when every zone has answered, failed, or its
 * timeout has passed — never later, never twice.
 */
#ifndef MXG_DNSZONE_H
#define MXG_DNSZONE_H

#include <stddef.h>
#include <stdint.h>

#include "../common/addr.h"
#include "feed.h"

#define DNSREP_ZONES_MAX 16

struct zone_spec {
	char name[FEED_NAMEMAX + 1];
	char domain[254];		/* "bl.example" (no trailing dot) */
	char server[64];		/* a literal IPv4 or IPv6 address; "" = the system's resolvers */
	uint16_t port;			/* default 53 */
	int timeout_ms;			/* default 2000 */
	int8_t risk, spam, vol;		/* scores of a listing whose value has no mapping (FEED_SCORE_NONE: none) */
	struct feed_value values[FEED_VALUES_MAX];	/* 127.0.0.N -> scores */
	int nvalues;
	uint32_t cache_max;		/* answers kept (default 100,000) */
	char *at;			/* where it was declared, "FILE:LINE:COL" (NULL on the command line) */
};

enum zone_state {
	ZONE_UNKNOWN,		/* no usable answer (timeout, SERVFAIL, refused, 127.255.255.x, not 127/8) */
	ZONE_NOT_LISTED,	/* NXDOMAIN or no A record */
	ZONE_LISTED,
};

struct zone_answer {
	enum zone_state state;
	uint32_t a;		/* ZONE_LISTED: the first 127.0.0.N answered (host order) */
	int8_t risk, spam, vol;	/* ZONE_LISTED: its scores (FEED_SCORE_NONE where not given) */
	uint8_t cached;		/* it came from the cache */
};

/* Every zone's answer for one address, in the order the zones were given. */
struct dnsrep_answer {
	struct addr addr;
	int nzones;
	struct zone_answer zone[DNSREP_ZONES_MAX];
};

struct dnsrep_stats {
	uint64_t lookups;	/* dnsrep_lookup calls */
	uint64_t queries;	/* DNS questions sent */
	uint64_t cache_hits;	/* zone answers taken from the cache */
	uint64_t listed, not_listed;
	uint64_t timeouts, servfail, refused;	/* refused: REFUSED rcode or 127.255.255.x */
	uint64_t in_flight;	/* lookups waiting now */
	uint64_t cache_size;
};

struct dnsrep;

/*
 * The zones (specs must outlive it). NULL with a message in err if c-ares
 * cannot be set up (a bad server address, no resolver).
 */
struct dnsrep *dnsrep_new(const struct zone_spec *const *zones, int n, char *err, size_t errlen);
/* Ends every lookup still waiting (their callbacks are not called) and frees everything. */
void dnsrep_free(struct dnsrep *d);

typedef void (*dnsrep_fn)(void *arg, const struct dnsrep_answer *ans);

/*
 * Ask every zone about a. If every answer is in the cache, fn runs before
 * this returns, and the result is 1; otherwise the questions go out, the
 * result is 0 and fn runs later, from dnsrep_process(). now_ms: a
 * monotonic clock in milliseconds.
 */
int dnsrep_lookup(struct dnsrep *d, const struct addr *a, int64_t now_ms, dnsrep_fn fn, void *arg);

/* The sockets to poll (at most max; fd and events set), and when to call dnsrep_process at the latest. */
struct pollfd;
int dnsrep_pollfds(struct dnsrep *d, struct pollfd *pfd, int max);
int64_t dnsrep_next_deadline_ms(struct dnsrep *d);	/* -1: nothing waits */
/* Read what arrived, fire the deadlines that passed (callbacks run from here). */
void dnsrep_process(struct dnsrep *d, int64_t now_ms);

struct dnsrep_stats dnsrep_stats(const struct dnsrep *d);

/* The question's name for a in zone domain ("7.113.0.203.bl.example") into buf; its length, or -1 if too long. */
int dnsrep_qname(const struct addr *a, const char *domain, char *buf, size_t len);

#endif
