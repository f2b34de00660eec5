/*
 * counters.h - the windows of "scope cluster" rules, kept in Redis and
 * counted across every node (docs/CLUSTER.md, "Counting across nodes").
 *
 * A node does not send each event: what its events added in one tick is
 * gathered per rule and key (per bucket of the window: counts and sums
 * added up, distinct values as 64-bit fingerprints under the cluster's key),
 * and sent as one script call per key, all pipelined: one round trip per
 * tick, whatever the event rate. The next batch goes only when the last one
 * is answered. In Redis, a count or sum window is a hash of its buckets, a
 * distinct window one HyperLogLog per bucket (merged by PFCOUNT); the script
 * adds, drops what left the window, and if the total reached the threshold
 * it empties the window and says so: of the nodes whose updates meet there,
 * exactly one is told its update crossed, and that node decides (and shares
 * the decision like any other, cluster.h).
 *
 * The cluster's key (for fingerprints and long keys' hashes) is drawn by
 * the first node to connect and kept in Redis ("mxguard:key"): every node
 * must hash a value alike, and nobody outside can predict the fingerprints
 * (recipients are chosen by attackers; HyperLogLog's own hash is public).
 */
#ifndef MXG_COUNTERS_H
#define MXG_COUNTERS_H

#include <stddef.h>
#include <stdint.h>

#include "../common/hash.h"
#include "../rules/engine.h"
#include "redis.h"

#define COUNTERS_KEY_PREFIX "mxguard:w:"	/* then RULE ":" KEY */
#define COUNTERS_SECRET "mxguard:key"

struct counters;

/*
 * The cluster's count for a key reached the rule's threshold with this
 * node's update (value: the count); or, with value 0, the cluster could not
 * count the key's updates (Redis refused them, or the link went down with
 * them out): the node's own window must judge (engine_cluster_decide, engine.h).
 */
typedef void (*counters_decide_fn)(void *arg, int rule, const uint8_t *key, size_t klen, uint64_t value, int64_t ts,
    const struct addr *ip, enum ev_type type);

struct counters *counters_new(const struct redis_url *u, const struct config *conf, counters_decide_fn fn,
    void *arg);
void counters_free(struct counters *c);

/* 1 once the link is up, the script loaded and the cluster's key known. */
int counters_ready(const struct counters *c);
/* The cluster's key (valid when ready; changes only if Redis lost it). */
const struct hash_key *counters_key(const struct counters *c);
/* A number that changes whenever the cluster's key does (the engine takes the new one). */
uint64_t counters_key_version(const struct counters *c);

/*
 * One event of a scope cluster rule, gathered for the next batch. 0 if it
 * is not taken (not ready; or the batch is full, counted): the rule's own
 * window decides then.
 */
int counters_add(struct counters *c, const struct engine_shared *s);

/* A new configuration: what is gathered and what is in flight is forgotten (rule numbers change). */
void counters_reconfigure(struct counters *c, const struct config *conf);

/* Send the gathered batch now if none is in flight (replay does, at its own pace). */
void counters_flush(struct counters *c);
/* 1 while a batch is in flight or gathered updates wait. */
int counters_busy(const struct counters *c);

/*
 * For a caller without an event loop (replay): run the link until the
 * batch in flight is answered (until_ready: until the counters are ready),
 * at most timeout_ms. 1 if that happened.
 */
int counters_wait(struct counters *c, int until_ready, int timeout_ms);

/* Between lines of a long catch-up: take in the replies that came, and send the next batch if due (no wait). */
void counters_pump(struct counters *c);

struct pollfd;
int counters_pollfd(struct counters *c, struct pollfd *pfd);
int64_t counters_next_ms(const struct counters *c);
void counters_process(struct counters *c, short revents, int64_t now_ms);

struct counters_stats {
	const char *link;		/* "up", "connecting", "down (...)" */
	uint64_t updates;		/* events handed over */
	uint64_t calls;			/* script calls sent (one per rule and key per batch) */
	uint64_t batches;		/* round trips */
	uint64_t crossed;		/* thresholds this node's updates crossed */
	uint64_t dropped;		/* events not taken: batch full */
	uint64_t errors;		/* calls Redis refused or that were lost with the link */
	uint64_t waiting;		/* keys gathered for the next batch, and calls of the batch in flight */
	int64_t last_rtt_ms, max_rtt_ms;
};
struct counters_stats counters_stats(const struct counters *c);

#endif
