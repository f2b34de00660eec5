/*
 * dnscache.h - one DNS zone's answers, kept for the TTL the DNS gave them.
 *
 * At most a fixed number of entries; when full, the least recently used
 * goes. Every operation is O(1): a chained hash over slot numbers, keyed
 * by the process's SipHash secret (common/hash.h) because the addresses
 * are chosen by whoever connects, and a doubly linked recency list. An
 * expired entry is dropped when it is next looked at, or evicted when its
 * turn comes.
 */
#ifndef MXG_DNSCACHE_H
#define MXG_DNSCACHE_H

#include <stdint.h>

#include "../common/addr.h"
#include "dnszone.h"

#define DNSCACHE_MAX 10000000	/* entries at most, whatever is asked (about 56 bytes each) */

struct dnscache;

/* A cache of at most max entries (1..DNSCACHE_MAX; others are clamped). Slots cost memory only once used. */
struct dnscache *dnscache_new(uint32_t max);
void dnscache_free(struct dnscache *c);

/*
 * 1 and *ans if a is cached and has not expired at now_ms (it becomes the
 * most recently used), else 0 (an expired entry is dropped).
 */
int dnscache_get(struct dnscache *c, const struct addr *a, int64_t now_ms, struct zone_answer *ans);

/* Keep ans for a until expires_ms, replacing what a had; the least recently used goes if full. */
void dnscache_put(struct dnscache *c, const struct addr *a, const struct zone_answer *ans, int64_t expires_ms);

uint32_t dnscache_size(const struct dnscache *c);
/* Entries pushed out to make room (not counting expired ones dropped). */
uint64_t dnscache_evictions(const struct dnscache *c);

#endif
