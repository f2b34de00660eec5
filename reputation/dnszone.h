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
 * in memory, the least recently used go first); unknowns are not cached.
 * Lookups of one address while its question is out share that question.
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
#define DNSREP_TIMEOUT_MAX 60000
#define DNSREP_TIMEOUT_DEFAULT 2000
/*
 * Lookups waiting at most: one more is answered at once, its zones that
 * are not in the cache unknown (stats.overflow), so that a flood of new
 * clients cannot grow memory without bound.
 */
#define DNSREP_INFLIGHT_MAX 10000

struct zone_spec {
	char name[FEED_NAMEMAX + 1];
	char domain[254];		/* "bl.example" (no trailing dot) */
	char server[64];		/* a literal IPv4 or IPv6 address; "" = the system's resolvers */
	uint16_t port;			/* default (0) 53; ignored for the system's resolvers */
	int timeout_ms;			/* default (0) DNSREP_TIMEOUT_DEFAULT; at most DNSREP_TIMEOUT_MAX */
	int8_t risk, spam, vol;		/* scores of a listing whose value has no mapping (FEED_SCORE_NONE: none) */
	struct feed_value values[FEED_VALUES_MAX];	/* 127.0.0.N -> scores */
	int nvalues;
	uint32_t cache_max;		/* answers kept (default (0) 100,000; at most 10,000,000) */
	uint8_t family;			/* 4 or 6: the zone lists only that family (the other is "not listed", unasked); 0: both */
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

/*
 * Every zone answer a lookup gets is counted once, under one of listed,
 * not_listed (which includes the answers of a zone of the other family,
 * never asked: other_family counts those too),
 * not_listed, timeouts, servfail, refused, errors and overflow: their sum
 * is lookups times the number of zones.
 */
struct dnsrep_stats {
	uint64_t lookups;	/* dnsrep_lookup calls */
	uint64_t queries;	/* DNS questions sent (lookups of one address in flight share one) */
	uint64_t cache_hits;	/* zone answers taken from the cache (also counted as listed or not_listed) */
	uint64_t other_family;	/* "not listed" without a question: the zone lists the other family only */
	uint64_t listed, not_listed;
	uint64_t timeouts, servfail, refused;	/* refused: REFUSED rcode or 127.255.255.x */
	uint64_t errors;	/* other unknowns: an A outside 127/8, FORMERR, a malformed reply, a socket error */
	uint64_t overflow;	/* unknown at once: DNSREP_INFLIGHT_MAX lookups were waiting */
	uint64_t in_flight;	/* lookups waiting now */
	uint64_t cache_size;	/* entries, all zones */
};

struct dnsrep;

/*
 * The zones (specs must outlive it). NULL with a message in err if c-ares
 * cannot be set up or a spec is wrong (a bad server address or domain, a
 * timeout out of range). Zones with the same server, port and timeout
 * share one c-ares channel.
 */
struct dnsrep *dnsrep_new(const struct zone_spec *const *zones, int n, char *err, size_t errlen);
/* Ends every lookup still waiting (their callbacks are not called) and frees everything. Not from a callback. */
void dnsrep_free(struct dnsrep *d);

typedef void (*dnsrep_fn)(void *arg, const struct dnsrep_answer *ans);

/*
 * Ask every zone about a. If every answer is in the cache (or the lookup
 * cannot wait: DNSREP_INFLIGHT_MAX are waiting), fn runs before this
 * returns, and the result is 1; otherwise the questions go out, the
 * result is 0 and fn runs later, from dnsrep_process(). now_ms: a
 * monotonic clock in milliseconds, the one dnsrep_process is given.
 * A callback may call dnsrep_lookup; ans is valid during the call only.
 */
int dnsrep_lookup(struct dnsrep *d, const struct addr *a, int64_t now_ms, dnsrep_fn fn, void *arg);

/*
 * The sockets to poll (at most max of them, fd and events set; their
 * number is returned, a few per distinct server), and when to call
 * dnsrep_process at the latest (on now_ms's clock).
 */
struct pollfd;
int dnsrep_pollfds(struct dnsrep *d, struct pollfd *pfd, int max);
int64_t dnsrep_next_deadline_ms(struct dnsrep *d);	/* -1: nothing waits */
/*
 * Read what arrived (the sockets are polled again here, without waiting:
 * no revents are needed), fire the deadlines that passed, send what
 * waited for room; callbacks run from here. Not from a callback.
 */
void dnsrep_process(struct dnsrep *d, int64_t now_ms);

struct dnsrep_stats dnsrep_stats(const struct dnsrep *d);

/*
 * The question's name for a in zone domain ("7.113.0.203.bl.example"; IPv6:
 * 32 lower-case nibbles, the last first) into buf; its length, or -1 if it
 * does not fit in len bytes with its NUL or is longer than a DNS name may
 * be (253).
 */
int dnsrep_qname(const struct addr *a, const char *domain, char *buf, size_t len);

#endif
