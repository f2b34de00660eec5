/*
 * engine.h - the detection engine: events in, decisions out.
 *
 * For each event, every rule listening to its type checks its conditions,
 * derives its key (a client prefix, a HELO name, ...), updates that key's
 * sliding window and, when the measure reaches the threshold, decides. A
 * key already under an action of a rule is not decided again by that rule
 * until the action expires; each new decision for the same key lasts
 * longer (escalation), up to the rule's cap. Time is the events' time, so
 * a replay of old logs is deterministic.
 */
#ifndef MXG_ENGINE_H
#define MXG_ENGINE_H

#include <stdint.h>

#include "../common/hash.h"
#include "../common/outbuf.h"
#include "../parsers/event.h"
#include "conf.h"

#define DECISION_KEYMAX 80

/* The record between the rules and the actions; text form: decision_json(). */
struct decision {
	int64_t ts;			/* event time of the deciding event */
	const struct rule *rule;
	char key[DECISION_KEYMAX];	/* "203.0.113.66", "2001:db8:1:2::/64", a HELO name, "*" */
	enum action action;
	int64_t duration;		/* seconds, escalation applied */
	uint64_t value;			/* the measure that reached the threshold */
	uint32_t level;			/* 0: first decision for this key by this rule */
	struct addr ip;			/* the client of the deciding event (may be none) */
	/*
	 * The key as a network, when the rule counts clients (by client,
	 * by client ipv4 /N ipv6 /M): the address with its host bits clear
	 * and the prefix length (32 or 128 for one address). net.family 0
	 * for other keys. What enforcement takes (actions/enforce.h), so a
	 * decision's address is never read back from its text.
	 */
	struct addr net;
	int plen;
	enum ev_type type;		/* the deciding event's type */
	const struct rep_result *rep;	/* the client's reputation the rules saw, or NULL (not looked up) */
};

struct rule_stats {
	uint64_t events;	/* events that passed the rule's conditions */
	uint64_t decisions;
	uint64_t suppressed;	/* threshold reached while the key was already under action */
	uint64_t keys, keys_peak, evicted, expired;
};

struct engine;

typedef void (*decision_fn)(void *arg, const struct decision *d);

/* The engine keeps pointers into c: c must outlive it. */
struct engine *engine_new(const struct config *c);
void engine_free(struct engine *e);

/* Feed one event; decisions go to fn. */
void engine_event(struct engine *e, const struct event *ev, decision_fn fn, void *arg);

/*
 * After a reload: take over the state (windows, offenders, stats) of every
 * rule of `old` that still exists in `e` under the same name and counts
 * the same way (events, key, measure, window, max-keys, scope; a new
 * threshold, condition or action keeps the counts); `old` is then freed.
 * A rule that counted something and now counts differently starts from
 * zero: reset (if not NULL) is told its name and why.
 */
typedef void (*engine_reset_fn)(void *arg, const char *rule, const char *why);
void engine_adopt(struct engine *e, struct engine *old, engine_reset_fn reset, void *arg);

/*
 * A decision in force from before a restart: the key is under the rule's
 * action until `until`, after `level + 1` decisions. Returns 0 if the rule
 * is gone or the key does not fit it (the configuration changed).
 */
int engine_restore(struct engine *e, const char *rule, const char *key, int64_t until, uint32_t level);

/*
 * Rules with "scope cluster" count across the cluster's nodes
 * (cluster/counters.h). Each of their events still updates the rule's own
 * window here, and is also handed to the share function: when that takes
 * it (returns 1: the cluster's counters are reachable), the cluster decides
 * and the local window does not; when it cannot (Redis down), the local
 * window decides as for a local rule. What is handed over is hashed under
 * the cluster's key (ck), shared by every node, so that all of them name a
 * long key and fingerprint a value alike.
 */
struct engine_shared {
	int rule;			/* index in the configuration */
	const uint8_t *key;		/* the key bytes here (engine_cluster_decide takes them back) */
	size_t klen;
	const uint8_t *ckey;		/* the key bytes as the cluster names it */
	size_t cklen;
	int64_t ts;
	uint64_t add;			/* count: 1; sum: the field's value */
	uint64_t fp;			/* distinct: the value's fingerprint under the cluster's key */
	const struct event *ev;
};
typedef int (*engine_share_fn)(void *arg, const struct engine_shared *s);
void engine_set_cluster(struct engine *e, const struct hash_key *ck, engine_share_fn fn, void *arg);

/*
 * What the cluster's counters said of a key of a scope cluster rule, after
 * this node's update: value > 0, its count reached the threshold with it,
 * so decide as the rule would (unless the key is under the rule's action
 * already); value 0, the cluster could not count it (Redis refused the
 * update, or the link went down with it out), so the key's window here
 * decides, as a local rule's would have if it reached the threshold.
 * ip and type: the last event's.
 */
void engine_cluster_decide(struct engine *e, int rule, const uint8_t *key, size_t klen, uint64_t value, int64_t ts,
    const struct addr *ip, enum ev_type type, decision_fn fn, void *arg);

/* A key's bytes as decisions write it: "203.0.113.7", "2001:db8:1::/64", "*", or a string key's text. */
void engine_key_text(const struct rule *r, const uint8_t *k, size_t klen, char *out, size_t outlen);

/* Events skipped because their client is trusted. */
uint64_t engine_trusted(const struct engine *e);
struct rule_stats engine_rule_stats(const struct engine *e, int rule);
/* Approximate bytes of per-key state (tables at their peak). */
uint64_t engine_memory(const struct engine *e);

void decision_json(struct outbuf *ob, const struct decision *d);
/* One human line: why the decision was taken. */
int decision_reason(const struct decision *d, char *buf, size_t len);

/*
 * The counters with the daemon's state (state/store.h keeps them, one row
 * per key): at each commit the windows put and the keys removed since the
 * last one are written in the commit's transaction, so that a restart
 * goes on counting where the last commit was.
 *
 * The engine's hash key makes the fingerprints of distinct values and of
 * long keys: it is saved too, and set on a new engine before any event.
 */
struct hash_key engine_key(const struct engine *e);
void engine_set_key(struct engine *e, const struct hash_key *k);
/* How a rule counts, as text saved with its rows; and why a saved text is not r's way (NULL: it is). */
void engine_counting(const struct rule *r, char *out, size_t len);
const char *engine_counting_change(const struct rule *r, const char *saved);
/* Start noting what changes (the daemon; a replay does not save). */
void engine_track_changes(struct engine *e);
struct engine_saver {
	int (*put)(void *arg, const char *rule, const uint8_t *key, size_t klen, int64_t seen, const void *data,
	    size_t len);
	int (*del)(void *arg, const char *rule, const uint8_t *key, size_t klen);
	int (*clear)(void *arg, const char *rule);	/* every row of the rule */
	void *arg;
};
/* Write the changes since the last engine_saved: the rows written, -1 if a write failed (the changes stay noted). */
long engine_save_changes(struct engine *e, const struct engine_saver *sv);
/* They are committed. */
void engine_saved(struct engine *e);
/* A saved row back into rule number `rule` (its counting unchanged): -1 if the row is not a window. */
int engine_restore_window(struct engine *e, int rule, const uint8_t *key, size_t klen, int64_t seen, const void *data,
    size_t len);

#endif
