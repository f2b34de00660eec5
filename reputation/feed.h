/*
 * feed.h - one reputation feed in memory: what the configuration says
 * about it (struct feed_spec) and one loaded version of its file (struct
 * feed): the entries with their final scores and an lpm index over them.
 *
 * A version is built whole from the file and never changed: a reload
 * builds a new one and the owner swaps the pointer (rep.c), so a lookup
 * sees the old feed or the new one, never half of each. Entries whose
 * `expires` has passed stop counting at once (a lookup steps down to the
 * next less specific entry), without waiting for a reload.
 */
#ifndef MXG_FEED_H
#define MXG_FEED_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../common/addr.h"
#include "feed_parse.h"
#include "lpm.h"

#define FEED_NAMEMAX 32
#define FEED_VALUES_MAX 16

/* Scores an rbldnsd value (127.0.0.N) stands for. */
struct feed_value {
	uint32_t a;		/* host order */
	int8_t risk, spam, vol;	/* FEED_SCORE_NONE: not given */
};

struct feed_spec {
	char name[FEED_NAMEMAX + 1];
	char *path;
	enum feed_format format;
	/* Scores for entries that give none themselves (lists, DROP, zone values without a mapping). */
	int8_t risk, spam, vol;
	/* Each score is multiplied by this (0 < weight <= 1) before feeds are combined. */
	double weight;
	/* "preload [risk >= N]": its entries (those with risk >= N, or all) are blocked at the firewall. */
	int preload;
	int8_t preload_risk;	/* FEED_SCORE_NONE: every entry */
	struct feed_value values[FEED_VALUES_MAX];
	int nvalues;
	char *at;		/* where it was declared, "FILE:LINE:COL" (NULL on the command line) */
};

/* An entry as lookups use it: final scores, expiry, origin. */
struct feed_item {
	int64_t expires;	/* 0: never */
	uint32_t line;
	int8_t risk, spam, vol;	/* FEED_SCORE_NONE: this feed says nothing about that score */
	uint8_t flags;		/* FEED_EXCLUDED, FEED_HOLDS_EXCLUSION */
};

#define FEED_EXCLUDED 1		/* an exclusion: not listed, whatever covers it */
#define FEED_HOLDS_EXCLUSION 2	/* an exclusion lies inside it: blocking it whole would block that too */

/* Which version of a file: a change of any of these is a new one. */
struct feed_stamp {
	dev_t dev;
	ino_t ino;
	off_t size;
	int64_t mtime_ns;
};

struct feed {
	const struct feed_spec *spec;
	struct feed_item *item;
	size_t n;
	struct lpm *index;
	struct lpm_prefix *pfx;		/* each entry's prefix, kept for a preloaded feed only (else NULL) */
	struct feed_stamp stamp;	/* the file this version was read from */
};

/* Read and index spec's file. NULL with "FILE:LINE: message" (or "FILE: message") in err. */
struct feed *feed_load(const struct feed_spec *spec, char *err, size_t errlen);
void feed_free(struct feed *f);

/* The stamp of the file at path now: 0, or -1 if it cannot be stat'ed. */
int feed_stamp(const char *path, struct feed_stamp *st);
int feed_stamp_eq(const struct feed_stamp *a, const struct feed_stamp *b);

/* What a feed says of an address: the scores, and which entry said it. */
struct feed_hit {
	int8_t risk, spam, vol;	/* FEED_SCORE_NONE: not given */
	uint32_t entry;		/* index into item[] */
};

/*
 * 1 and *h if an entry speaks for a at time now (the most specific one
 * that has not expired; an exclusion says nothing), else 0 (*h may be
 * written then too: do not read it). The scores
 * ride in the index next to the ranges, so an entry that cannot expire is
 * answered without touching item[].
 */
int feed_lookup(const struct feed *f, const struct addr *a, int64_t now, struct feed_hit *h);

#endif
