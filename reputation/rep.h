/*
 * rep.h - what mxguard knows about a client before it misbehaves: the
 * reputation feeds of the configuration, combined (docs/REPUTATION.md).
 *
 * Scores: risk 0-10 (how dangerous), spam 0-100 (how much of its mail is
 * spam), vol 0-100 (how much mail it sends); -1 where nothing is known.
 * Feeds combine by taking, per score, the highest of the feeds that give
 * it (each already multiplied by its feed's weight), and the answer keeps
 * which feed entry gave each score: a decision can say why.
 */
#ifndef MXG_REP_H
#define MXG_REP_H

#include <stdint.h>

#include "../common/addr.h"
#include "dnszone.h"
#include "feed.h"

#define REP_FEEDS_MAX 32
#define REP_UNKNOWN (-1)

enum rep_score { REP_RISK, REP_SPAM, REP_VOL, REP_NSCORES };

/* Where a score came from: a feed's entry (valid until the next rep_refresh), a zone's answer, or mxguard's own count. */
struct rep_source {
	const struct feed_spec *feed;	/* NULL: not a feed */
	const struct feed *version;
	uint32_t entry;
	uint32_t local;			/* vol from what mxguard saw (volume.h): the client's messages; 0: not */
	const struct zone_spec *zone;	/* a DNS zone's answer ... */
	uint32_t answer;		/* ... 127.0.0.N (host order) */
};

/* The line of the feed file the score came from. */
uint32_t rep_source_line(const struct rep_source *s);

struct rep_result {
	int8_t score[REP_NSCORES];	/* REP_UNKNOWN or the combined score */
	struct rep_source src[REP_NSCORES];
	uint32_t listed;		/* bit i: feed i has an entry for the address (see rep_feed_index) */
	uint32_t zlisted;		/* bit i: the i-th zone given to rep_merge_zones answered "listed" */
	const struct rep_db *db;	/* who answered (names for the JSON) */
	/* DNS zones asked (rep_merge_zones), in their order: */
	int nzones;
	const struct zone_spec *zone[DNSREP_ZONES_MAX];
	struct zone_answer zans[DNSREP_ZONES_MAX];
};

/*
 * Add the zones' answers for the address: a listing's scores count like a
 * feed's (the highest wins); "listed", "not listed" and "unknown" are kept
 * per zone for the JSON ("zones").
 */
void rep_merge_zones(struct rep_result *r, const struct zone_spec *const *zones, const struct dnsrep_answer *ans);

struct rep_db;

struct rep_db *rep_new(void);
void rep_free(struct rep_db *db);

/*
 * Add a feed and load it now. spec must outlive db. 0, or -1 with a
 * message in err (the feed is still added, empty: a later reload may
 * bring it).
 */
int rep_add(struct rep_db *db, const struct feed_spec *spec, char *err, size_t errlen);

/* The number of the feed named name (for "listed"), or -1. */
int rep_feed_index(const struct rep_db *db, const char *name);
int rep_nfeeds(const struct rep_db *db);
/* Feed i's version in use, or NULL (none could be read yet). */
const struct feed *rep_feed(const struct rep_db *db, int i);
/* Entries in feed i's version in use (0 if none could be read). */
size_t rep_feed_size(const struct rep_db *db, int i);

/*
 * Load again every feed whose file changed on disk. A new version replaces
 * the old one whole; one that cannot be read is reported through report()
 * ("FILE:LINE: message") and the old version stays in use. Returns how
 * many feeds were replaced.
 */
int rep_refresh(struct rep_db *db, void (*report)(void *arg, const char *msg), void *arg);

/*
 * mxguard's own volume counts (volume.h; not owned, may be NULL): where no
 * feed gives a vol, the client's local vol is used.
 */
struct volume;
void rep_set_volume(struct rep_db *db, struct volume *v);

/*
 * on: rep_refresh reads a changed feed in a thread of its own and swaps it
 * in at a later refresh (the daemon); off (default): at once (the tools).
 * rep_loading: 1 while such a thread reads.
 */
void rep_set_async(struct rep_db *db, int on);
int rep_loading(const struct rep_db *db);

/* The combined reputation of a at time now. */
void rep_lookup(const struct rep_db *db, const struct addr *a, int64_t now, struct rep_result *r);

/*
 * The result as JSON members (no braces): "risk":N|null,"spam":...,"vol":...,
 * "sources":{"risk":{"feed":"NAME","file":"PATH","line":N},...},"listed":["NAME",...]
 */
struct outbuf;
void rep_put_json(struct outbuf *ob, const struct rep_result *r);

/* "risk", "spam", "vol". */
const char *rep_score_name(enum rep_score s);

#endif
