/*
 * store.h - the daemon's persistent state, in SQLite (WAL, transactions).
 *
 * What survives a restart or a kill -9: where each log was read up to, the
 * decisions in force (with their expiry), and the length of the daemon's
 * own output files, all committed together, so that after a crash reading
 * resumes exactly after the last committed line, and output written after
 * that commit is cut off: no line counted twice, none skipped.
 */
#ifndef MXG_STORE_H
#define MXG_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "../common/addr.h"
#include "../tail/follow.h"

struct store;

/* Opens (creating) DIR/state.db. NULL with a message in err on failure. */
struct store *store_open(const char *dir, char *err, size_t errlen);
void store_close(struct store *s);

/* A transaction around everything saved for one batch of lines. -1 on error (logged). */
int store_begin(struct store *s);
int store_commit(struct store *s);
/* Abandon the transaction in progress, if any (after a failed statement). */
void store_rollback(struct store *s);

/* 1 and *p if a position was saved for path, else 0. */
int store_get_position(struct store *s, const char *path, struct follow_pos *p);
int store_put_position(struct store *s, const char *path, const struct follow_pos *p);

/* A named counter (e.g. the committed length of an output file). */
int store_get_mark(struct store *s, const char *name, uint64_t *v);
int store_put_mark(struct store *s, const char *name, uint64_t v);

/* A named blob (the parser's correlation state). get: malloc'd copy, 0 if none. */
int store_put_blob(struct store *s, const char *name, const void *data, size_t len);
int store_get_blob(struct store *s, const char *name, void **data, size_t *len);

struct stored_decision {
	const char *rule, *key, *action;
	int64_t ts, until;
	uint64_t value;
	uint32_t level;
	const char *origin;	/* the cluster node that took it (docs/CLUSTER.md); NULL: this one */
	const char *reason;	/* why (the decision line's "reason"); NULL: not known (a peer's, an older row) */
	/*
	 * Not saved: a decision of this node's engine carries its key as a
	 * network (engine.h: net, plen) to enforcement; net.family 0 for
	 * one read back from the store, a peer's or a manual ban, whose key
	 * enforcement reads from its text.
	 */
	struct addr net;
	int plen;
};
int store_put_decision(struct store *s, const struct stored_decision *d);
/* Decisions still in force at `now`. */
long store_count_active(struct store *s, int64_t now);

/* Call fn for each decision in force at `now`, soonest expiry last. */
typedef void (*store_decision_fn)(void *arg, const struct stored_decision *d);
int store_list_active(struct store *s, int64_t now, store_decision_fn fn, void *arg);

/*
 * Call fn for each decision whose time ran out in (after, upto], soonest
 * first; not those released early (store_release marks them).
 */
int store_list_ended(struct store *s, int64_t after, int64_t upto, store_decision_fn fn, void *arg);

/* The latest end of key's decisions with this action in force at `now`; 0 if none (or on error). */
int64_t store_until(struct store *s, const char *key, const char *action, int64_t now);

/* End the decisions in force for key (all keys if NULL) now, marked released; returns how many. */
long store_release(struct store *s, const char *key, int64_t now);

/*
 * The cluster's outbox: what this node must still publish, numbered by its
 * own sequence (cluster/cluster.h), kept until the cluster took it.
 */
int store_outbox_put(struct store *s, uint64_t seq, const void *data, size_t len);
/* Forget every entry up to seq (published). */
int store_outbox_drop(struct store *s, uint64_t upto);
typedef void (*store_outbox_fn)(void *arg, uint64_t seq, const void *data, size_t len);
/* Each entry, in sequence order. */
int store_outbox_list(struct store *s, store_outbox_fn fn, void *arg);

/*
 * The rules' counters (rules/engine.h): one row per tracked key, written in
 * the commit's transaction for the keys that changed since the last one,
 * and each rule's way of counting, which must still be the configuration's
 * for its rows to be taken back at start.
 */
int store_put_window(struct store *s, const char *rule, const void *key, size_t klen, int64_t seen, const void *data,
    size_t len);
int store_del_window(struct store *s, const char *rule, const void *key, size_t klen);
/* Every row of a rule. */
int store_clear_windows(struct store *s, const char *rule);
/* A rule's rows, least recently seen first. */
typedef void (*store_window_fn)(void *arg, const void *key, size_t klen, int64_t seen, const void *data, size_t len);
int store_list_windows(struct store *s, const char *rule, store_window_fn fn, void *arg);
/* counting NULL: forget the rule. */
int store_put_window_rule(struct store *s, const char *rule, const char *counting);
/* (fn must not write to the store: the rows are being read) */
typedef void (*store_window_rule_fn)(void *arg, const char *rule, const char *counting);
int store_list_window_rules(struct store *s, store_window_rule_fn fn, void *arg);

#endif
