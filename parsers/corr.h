/*
 * corr.h - bounded correlation table: queue ID (or session ID) -> client.
 *
 * MTAs name the client on one line and the message on another, joined by
 * an ID the MTA reuses. This table remembers the client of an ID with
 * hard limits: a fixed number of slots (the oldest entry is evicted when
 * full, and counted), and a time to live in event time (expired entries are
 * ignored and swept as new ones arrive). A flood of client= lines can
 * therefore never grow memory. Every operation is O(1). It is a key
 * table (common/keytab.h) whose payload is the entry below, kept in
 * insertion order: the rules' counters and the parsers' IDs share one
 * structure and one keyed hash.
 */
#ifndef MXG_CORR_H
#define MXG_CORR_H

#include <stdint.h>

#include "../common/addr.h"
#include "../common/span.h"

#define CORR_KEYMAX 31
#define CORR_HOSTMAX 63

#define CORR_EMITTED 0x01	/* the accepted-message event was produced */
#define CORR_LOCAL 0x02		/* generated locally (a bounce): never remote */
#define CORR_HELD 0x04		/* events wait for this ID's client address */
#define CORR_MSG 0x08		/* a message is announced, its event not yet produced */
#define CORR_ABORTED 0x10	/* the transaction was cut off: its closing line is no message */

/* What an ID's entry holds: corr_put returns it zeroed but for ts. */
struct corr_entry {
	int64_t ts;		/* event time of the line that created it */
	struct addr ip;
	uint16_t port;
	uint8_t flags;		/* CORR_* */
	uint8_t hostlen;	/* 0: no host name known */
	uint32_t aux[3];	/* module-private figures (OpenSMTPD: message ID, size, recipients) */
	char host[CORR_HOSTMAX];	/* last: read only when there is one */
};

/*
 * An entry as saved with the daemon's state (corr_export, corr_import):
 * the layout entries had before the table became a key table, so that
 * state saved by an earlier version is read back (parser.c checks the
 * size); the last three words are not used.
 */
struct corr_record {
	int64_t ts;
	struct addr ip;
	uint16_t port;
	uint8_t flags;
	uint8_t hostlen;
	uint8_t keylen;
	char key[CORR_KEYMAX];
	char host[CORR_HOSTMAX];
	uint32_t aux[3];
	uint32_t unused[3];
};

struct corr_stats {
	uint64_t inserted, evicted, expired, size;
};

struct corr_table;

struct corr_table *corr_new(uint32_t capacity, int64_t ttl);
void corr_free(struct corr_table *t);

/* The live entry for key at time now, or NULL. */
struct corr_entry *corr_get(struct corr_table *t, struct span key, int64_t now);
/*
 * A fresh entry for key (an existing one is replaced: IDs are reused),
 * with ts = now and everything else zero. NULL if key is empty or longer
 * than CORR_KEYMAX.
 */
struct corr_entry *corr_put(struct corr_table *t, struct span key, int64_t now);
/* Remove key; returns 1 if it was there. */
int corr_del(struct corr_table *t, struct span key);

struct corr_stats corr_stats(const struct corr_table *t);
/* The longest hash chain (a scan of every bucket: for tests). */
uint32_t corr_chain_max(const struct corr_table *t);

/* Copy up to max live entries, oldest first, into out; returns how many. */
size_t corr_export(struct corr_table *t, struct corr_record *out, size_t max);
/* Put entries back (as exported): the daemon's state across a restart. */
void corr_import(struct corr_table *t, const struct corr_record *in, size_t n);

#endif
