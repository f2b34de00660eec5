/*
 * dmap.h - the decisions in force that an MTA looks up: client addresses
 * and prefixes (longest prefix first), HELO names, senders and sender
 * domains (without regard to ASCII case, as the rules count them).
 *
 * A key may be under several actions at once (a block and a defer from
 * two rules); a lookup returns the strongest still in force. Entries end
 * by themselves at their time; unban and flush take them out sooner.
 */
#ifndef MXG_DMAP_H
#define MXG_DMAP_H

#include <stdint.h>

#include "../common/addr.h"

/* What the MTA is told, strongest first. */
enum dmap_action { DM_BLOCK, DM_REJECT, DM_DEFER, DM_DISCARD, DM_HOLD, DM_TARPIT, DM_LIMIT, DM_NONE };

#define DMAP_KEYMAX 128		/* kind byte + the longest key the rules make (80) */

/* The namespace of a key: what the MTA's lookup is about. */
enum dmap_kind { DK_CLIENT, DK_HELO, DK_SENDER, DK_SENDER_DOMAIN };

struct dmap_hit {
	enum dmap_action action;
	int64_t until;
	char rule[40];
	uint32_t limit_n, limit_per;	/* DM_LIMIT */
	int over;			/* DM_LIMIT, at a lookup: limit_n messages within limit_per reached */
};

struct dmap;

/* capacity: keys held at most (the oldest-ending go first beyond it). */
struct dmap *dmap_new(uint32_t capacity);
void dmap_free(struct dmap *m);

/* -1 if the action is not one the MTA acts on ("log"). */
int dmap_action_of(const char *action);

/*
 * Record a decision; key is canonical ("203.0.113.7", "2001:db8:1::/48",
 * a HELO name...). 0 if the key does not fit its kind.
 */
int dmap_put(struct dmap *m, enum dmap_kind kind, const char *key, const struct dmap_hit *h);

/* Take a key out (all its actions); 1 if it was there. */
int dmap_del(struct dmap *m, enum dmap_kind kind, const char *key);
void dmap_clear(struct dmap *m);

/*
 * The strongest action in force at now for a client (its address or a
 * prefix holding it), or that the client source gives (below).
 */
int dmap_client(struct dmap *m, const struct addr *a, int64_t now, struct dmap_hit *out);

/*
 * A second source of answers for clients with no decision yet — the
 * daemon's "at-connect" policy over their reputation: 1 and *out if it has
 * one. It is asked at each client lookup, so it must answer from memory.
 * Map files are not written from it (they list decisions, not feeds).
 */
typedef int (*dmap_client_fn)(void *arg, const struct addr *a, int64_t now, struct dmap_hit *out);
void dmap_set_client_source(struct dmap *m, dmap_client_fn fn, void *arg);
/* The same for a word key (HELO name, sender, domain): exact, case-blind. */
int dmap_word(struct dmap *m, enum dmap_kind kind, const char *key, int64_t now, struct dmap_hit *out);

/*
 * Every client key with an action in force at now, strongest action each;
 * returns the earliest end among them (INT64_MAX if none): when the set
 * changes by itself.
 */
typedef void (*dmap_fn)(void *arg, const char *key, const struct dmap_hit *h);
int64_t dmap_foreach_client(struct dmap *m, int64_t now, dmap_fn fn, void *arg);

#define MAP_TARPIT_SECONDS 5	/* a tarpitted client's lookup pauses this long */

/*
 * What Postfix's access(5) is told for a decision: "REJECT 5.7.1 ...
 * rule NAME", "DEFER 4.7.1 ...", "DISCARD ...", "sleep 5", a DEFER for a
 * client over its limit; NULL for what the MTA is not to act on (a limit
 * not reached).
 */
const char *dmap_postfix_result(const struct dmap_hit *h, char *buf, size_t len);

/*
 * A message accepted from client a at time t: counted against the limit
 * (DM_LIMIT) of the key holding it, if any, so a lookup can tell when the
 * client is over its rate (then Postfix is told to defer it, until the
 * window frees).
 */
void dmap_count_message(struct dmap *m, const struct addr *a, int64_t t);
/* The same for a message's sender (DK_SENDER) or its domain (DK_SENDER_DOMAIN): a limit on that key counts it. */
void dmap_count_word(struct dmap *m, enum dmap_kind kind, const char *key, int64_t t);

/* The same in Sendmail's access words ("ERROR:5.7.1:550 ...", "DISCARD"); NULL if it has none. */
const char *dmap_sendmail_result(const struct dmap_hit *h, char *buf, size_t len);

/* Drop what has ended before now (a bounded sweep; call on each tick). */
void dmap_expire(struct dmap *m, int64_t now);

#endif
